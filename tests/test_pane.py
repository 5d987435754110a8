"""The explorer's layer view, one element (ui/explore/pane.py, the default): what it draws
for each layer, against the trace, and stepping it in Chromium."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from playwright.sync_api import Page, expect
from streamlit.testing.v1 import AppTest

from harness.apptest import components
from harness.pages import expect_url, wait_idle, wait_settled
from harness.servers import streamlit_server
from tinyvgg.activations import by_name, trace
from tinyvgg.data import to_float
from tinyvgg.model import TinyVGGConfig, build_model, load_shipped
from ui.explore import pane
from ui.explore.state import LAYERS, ExploreInput, Trace, scale_cell

from .test_browser_explore import BAR_AND_LABELS, _click, check_bar_and_labels
from .test_browser_present import check_first_screen


@pytest.fixture(scope="module")
def tr(traced):
    model, _, records = traced
    return Trace(("random-weights", "randn"), records, model)


INPUT = ExploreInput(None, "randn", "torch.randn(1, 28, 28), seed 42", source="random")


def test_each_layer_shows_its_heading_maps_and_words_at_its_own_cell(tr):
    origin = ((4, 20, 13), (28, 28))  # picked on a 28×28 layer
    for name in LAYERS:
        data = pane.layer_data(tr, INPUT, name, origin, lesson=True)
        rec = by_name(tr.records)[name]
        assert data["heading"].startswith(f"{name} · {rec.kind} · {rec.shape_text}")
        shape = by_name(tr.records)["max_pool_2"].shape if name == "flatten" else rec.shape
        assert tuple(data["cell"]) == scale_cell((4, 20, 13), (28, 28), shape), name
        figs = {k: json.loads(v) for k, v in data["figs"].items()}
        expected = (
            {"prev"}
            if name == "input"
            else ({"prev", "out", "cells"} if rec.output.dim() == 4 else {"prev", "out"})
        )
        if rec.kind in ("MaxPool2d", "Linear"):  # pool's window, linear's contributions
            expected |= {"extra"}
        if rec.kind == "Conv2d":  # drawn when its switch is on
            expected |= {"kernels"}
        assert set(figs) == expected, name
        assert data["note"], name  # the lesson is on
        if name != "input":
            assert '<div class="words-ok">✓ equals the activation' in data["words"], name
    assert "torch.randn" in pane.layer_data(tr, INPUT, "input", origin, False)["words"]
    assert pane.layer_data(tr, INPUT, "conv_1_1", origin, lesson=False)["note"] == ""


def test_a_grid_s_hover_is_left_to_the_page_only_where_the_page_can_work_it_out(tr):
    data = pane.layer_data(tr, INPUT, "conv_2_1", ((0, 3, 4), (14, 14)), lesson=False)
    grid = json.loads(data["figs"]["out"])
    assert grid["layout"]["meta"]["who"] and grid["data"][0].get("customdata") is None
    assert grid["data"][1]["customdata"] == list(range(10))  # the click points keep theirs
    rows = json.loads(pane.layer_data(tr, INPUT, "flatten", ((0, 3, 4), (7, 7)), False)
                      ["figs"]["out"])  # fmt: skip
    assert "who" not in (rows["layout"].get("meta") or {})  # no tiles: sent as it is


def test_a_map_holds_its_layer_s_values(tr):
    data = pane.layer_data(tr, INPUT, "relu_2_1", ((2, 3, 4), (14, 14)), lesson=False)
    cells = json.loads(data["figs"]["cells"])
    z = np.asarray(cells["data"][0]["z"]["bdata"] if isinstance(cells["data"][0]["z"], dict)
                   else cells["data"][0]["z"])  # fmt: skip
    assert z.size  # a map, drawn from the figure the layer view draws too
    assert cells["layout"]["shapes"][0]["x0"] == 4 - 0.5  # the picked cell, outlined


STEPPED = """([name, url]) => {
  const root = document.querySelector('.pane');
  const out = root?.querySelector('[data-fig="out"]');
  if (!root || !root.querySelector('h3').textContent.startsWith(name + ' · ')) return null;
  if (!out?._fullData || !location.search.includes('layer=' + name)) return null;
  const z = out._fullData[0].z.map(row => Array.from(row, v => Number.isFinite(v) ? v : null));
  return {z, meta: out.layout.meta};
}"""


def _grid(shown) -> np.ndarray:
    """The channel grid's values, tile by tile, as (C, H, W)."""
    z, meta = np.array(shown["z"], dtype=float), shown["meta"]
    h, w = meta["tile"]
    return np.stack([z[r : r + h, c : c + w] for r, c in meta["origins"]])


def test_next_and_page_down_draw_the_next_layer_in_the_page(page, app_url, real_data):
    records = by_name(trace(load_shipped()[0], to_float(real_data[1].images[:1])))
    page.goto(app_url + "/explore?sample=0&layer=conv_1_1&cell=0,5,5")
    steps = [("conv_1_1", None), ("relu_1_1", "next"), ("conv_1_2", "key"), ("relu_1_2", "next")]
    for name, how in steps:
        if how == "next":
            page.locator(".pane-next").click()
        elif how == "key":
            page.keyboard.press("PageDown")
        shown = page.wait_for_function(STEPPED, arg=[name, app_url], timeout=60_000).json_value()
        assert np.allclose(_grid(shown), records[name].output[0].numpy(), atol=1e-5), name
    hover = page.locator('.pane [data-fig="out"]').evaluate("""gd => {
      const [r0, c0] = gd.layout.meta.origins[3];
      return [gd._fullData[0].customdata[r0 + 2][c0 + 5], gd._fullData[0].customdata[0][0]];
    }""")
    assert hover == [[3, 2, 5], [0, 0, 0]]  # channel, row, column, worked out in the page
    page.locator(".pane-prev").click()
    page.wait_for_function(STEPPED, arg=["conv_1_2", app_url], timeout=60_000)
    assert "pane=" not in page.url  # the default: the address needs no switch


INPUT_SHOWN = """() => document.querySelector('.pane h3')?.textContent.startsWith('input · ')
  && document.querySelector('.pane [data-fig="prev"]')?._fullData"""
COUNT_DRAWS = """() => {
  window.__draws = [];
  if (window.__counting) return;
  window.__counting = true;
  const react = Plotly.react;
  Plotly.react = function (gd, ...rest) {
    window.__draws.push([gd.dataset.fig, !gd._fullLayout]);  // the map, and whether it is new
    return react.call(this, gd, ...rest);
  };
}"""


def test_a_step_draws_each_map_once_and_keeps_the_maps_it_hides(page, app_url):
    """Every map of the new layer is shown before any is drawn (a map drawn before its
    neighbour appeared was drawn again at its new width), and a map the layer hides stays on
    the page, so the next layer that shows it updates it instead of making a new plot."""

    def at_input():
        page.wait_for_function(INPUT_SHOWN, timeout=60_000)
        wait_idle(page)

    def next_to_conv() -> list:
        page.evaluate(COUNT_DRAWS)
        page.locator(".pane-next").click()
        page.wait_for_function(STEPPED, arg=["conv_1_1", app_url], timeout=60_000)
        wait_idle(page)
        page.wait_for_timeout(500)  # a resize's redraw would come by now
        return sorted(page.evaluate("() => window.__draws"))

    page.goto(app_url + "/explore?sample=0&layer=input")
    at_input()
    assert next_to_conv() == [["cells", True], ["out", True], ["prev", False]]
    page.locator(".pane-prev").click()
    at_input()
    assert next_to_conv() == [["cells", False], ["out", False], ["prev", False]]


def test_a_click_on_a_channel_picks_it(page, app_url):
    page.goto(app_url + "/explore?sample=0&layer=conv_1_1&cell=0,5,5")
    page.wait_for_function(STEPPED, arg=["conv_1_1", app_url], timeout=60_000)
    grid = page.locator('.pane [data-fig="out"]')
    grid.scroll_into_view_if_needed()
    centre = grid.evaluate("""gd => {
      const [r, c] = gd.layout.meta.origins[3], [h, w] = gd.layout.meta.tile;
      const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
      return [box.left + xa._offset + xa.l2p(c + (w - 1) / 2),
              box.top + ya._offset + ya.l2p(r + (h - 1) / 2)];
    }""")
    page.mouse.click(*centre)
    page.wait_for_function("() => location.search.includes('cell=3%2C')", timeout=30_000)
    page.wait_for_function(
        """() => document.querySelector('.pane [data-fig="cells"]')
      ?.layout?.title?.text?.startsWith('conv_1_1, channel 3')""",
        timeout=30_000,
    )


def test_the_page_opens_the_element_at_the_linked_layer_and_cell(real_data):
    at = AppTest.from_file("../app.py", default_timeout=90)
    for k, v in {"pane": "1", "layer": "max_pool_1", "sample": "0", "cell": "2,3,4"}.items():
        at.query_params[k] = v
    at.switch_page("pages/explore.py").run()
    assert not at.exception
    ((key, data),) = components(at, "tinyvgg_layer_pane")
    assert key == "ex_pane" and data["selected"] == "max_pool_1"
    assert data["names"] == list(LAYERS)
    sent = {layer["name"]: layer for layer in data["current"]}
    assert list(sent) == ["relu_1_2", "max_pool_1", "conv_2_1"]  # the layer and beside it
    assert sent["max_pool_1"]["cell"] == [2, 3, 4]
    assert not [b for b in at.button if b.label == "Next ▶"]  # the element steps
    assert at.query_params["pane"] == "1" and at.query_params["layer"] == "max_pool_1"
    at.session_state["ex_layer"] = "conv_2_1"  # a step: the page has two of its three layers
    at.run()
    ((_, data),) = components(at, "tinyvgg_layer_pane")
    assert [layer["name"] for layer in data["current"]] == ["relu_2_1"]  # each sent once
    at.session_state["ex_cell"] = (1, 2, 2)  # another cell: each layer drawn again for it
    at.run()
    ((_, after),) = components(at, "tinyvgg_layer_pane")
    assert after["key"] != data["key"]
    assert [layer["name"] for layer in after["current"]] == ["max_pool_1", "conv_2_1", "relu_2_1"]


def test_a_map_opens_full_screen_and_the_input_layer_says_what_it_holds(page, app_url):
    page.goto(app_url + "/explore?sample=0&layer=conv_1_2&cell=0,0,0")
    page.wait_for_function(STEPPED, arg=["conv_1_2", app_url], timeout=60_000)
    wrap = page.locator('.pane [data-slot="cells"]')
    svg = "document.querySelector('.pane [data-fig=cells] .main-svg')"
    small = wrap.locator(".main-svg").first.bounding_box()["width"]
    wrap.hover()
    wrap.get_by_role("button", name="Full screen").click()
    page.wait_for_function("() => document.fullscreenElement?.dataset.slot === 'cells'")
    page.wait_for_function(f"w => {svg}.getBoundingClientRect().width > w", arg=small * 1.5)
    wrap.get_by_role("button", name="Exit full screen").click()
    page.wait_for_function("() => !document.fullscreenElement")
    page.wait_for_function(f"w => Math.abs({svg}.getBoundingClientRect().width - w) < 2",
                           arg=small)  # fmt: skip
    page.keyboard.press("Home")  # out of the map: the keys step the layers
    for _ in range(3):
        page.locator(".pane-prev").click()
    page.wait_for_function("() => document.querySelector('.pane h3').textContent"
                           ".startsWith('input · ')")  # fmt: skip
    words = page.locator(".pane-words")
    expect(words).to_contain_text("The image as the model sees it")
    expect(words).to_contain_text("min 0.0000 · max")


def test_teacher_mode_draws_the_large_map_larger(page, app_url):
    heights = []
    for present in ("1", "0"):  # teacher mode last off: the browser keeps the choice
        page.goto(app_url + f"/explore?present={present}&sample=0&layer=relu_1_1&cell=1,2,3")
        page.wait_for_function(STEPPED, arg=["relu_1_1", app_url], timeout=60_000)
        heights.append(page.locator('.pane [data-fig="cells"]').evaluate(
            "gd => gd._fullLayout.height"))  # fmt: skip
    assert heights[0] == pytest.approx(heights[1] * 1.35, abs=1)  # ui.present.SCALE


def test_the_cell_pickers_pick_a_cell_of_the_layer_shown(page, app_url):
    page.goto(app_url + "/explore?sample=0&layer=max_pool_1&cell=0,5,5")
    page.wait_for_function(STEPPED, arg=["max_pool_1", app_url], timeout=60_000)
    boxes = page.locator(".pane-pick input")
    assert [boxes.nth(k).get_attribute("max") for k in range(3)] == ["9", "13", "13"]
    assert [boxes.nth(k).input_value() for k in range(3)] == ["0", "5", "5"]
    boxes.nth(0).fill("4")
    boxes.nth(2).fill("12")
    boxes.nth(2).press("Enter")
    page.wait_for_function("() => location.search.includes('cell=4%2C5%2C12')", timeout=30_000)
    page.wait_for_function(
        """() => document.querySelector('.pane [data-fig="cells"]')
      ?.layout?.title?.text?.startsWith('max_pool_1, channel 4')""",
        timeout=30_000,
    )
    expect(page.locator(".pane-words")).to_contain_text("max_pool_1[0, 4, 5, 12]")


def test_pool_shows_its_window_and_linear_any_class(tr):
    pool = pane.layer_data(tr, INPUT, "max_pool_1", ((1, 4, 6), (14, 14)), lesson=False)
    window = json.loads(pool["figs"]["extra"])
    assert window["data"][0]["type"] == "heatmap" and pool["classes"] is None
    logits = by_name(tr.records)["linear"].output[0]
    pred = int(logits.argmax())
    linear = pane.layer_data(tr, INPUT, "linear", ((0, 0, 0), None), lesson=False)
    assert linear["cls"] == pred and linear["classes"][pred].endswith(" (predicted)")
    other = (pred + 1) % 10
    chosen = pane.layer_data(tr, INPUT, "linear", ((0, 0, 0), None), lesson=False, cls=other)
    assert f"logit[{tr.model.classes[other]}]" in chosen["words"]
    assert f"<strong>{float(logits[other]):.6f}</strong>" in chosen["words"]
    assert json.loads(chosen["figs"]["extra"])["data"]  # the contributions chart


def test_a_conv_layer_s_kernels_outline_the_picked_channel_s_whatever_the_input(tr):
    from ui.explore.explain import kernels_figure

    def kernels(t: Trace, c: int) -> str:
        data = pane.layer_data(t, INPUT, "conv_2_1", ((c, 3, 4), (14, 14)), lesson=False)
        return data["figs"]["kernels"]

    x = torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(5))
    other = Trace((tr.key[0], "rand"), trace(tr.model, x), tr.model)  # the same model
    want = kernels_figure("conv_2_1", tr.model.layer("conv_2_1"), 3).to_json()
    assert kernels(tr, 3) == kernels(other, 3) == want
    assert kernels(tr, 7) == kernels_figure("conv_2_1", tr.model.layer("conv_2_1"), 7).to_json()


def test_the_class_box_explains_another_class(page, app_url):
    page.goto(app_url + "/explore?sample=0&layer=linear")
    page.wait_for_function("() => document.querySelector('.pane h3')?.textContent"
                           ".startsWith('linear · ')", timeout=60_000)  # fmt: skip
    box = page.locator(".pane-class")
    expect(box).to_be_visible()
    box.select_option("2")
    expect(page.locator(".pane-words")).to_contain_text("logit[Pullover]", timeout=30_000)
    expect(page.locator('.pane [data-slot="extra"]')).to_be_visible()


def test_teacher_mode_s_large_number_and_the_kernels_switch(page, app_url):
    page.goto(app_url + "/explore?present=1&sample=0&layer=conv_1_2&cell=2,3,4")
    page.wait_for_function(STEPPED, arg=["conv_1_2", app_url], timeout=60_000)
    metric = page.locator(".pane-metric")
    expect(metric).to_be_visible()
    expect(metric).to_contain_text("conv_1_2[0, 2, 3, 4]")
    switch = page.locator(".pane-kernels")
    expect(switch).to_contain_text("Show the kernels (weight [10, 10, 3, 3], bias [10])")
    kernels = page.locator('.pane [data-slot="kernels"]')
    expect(kernels).to_be_hidden()
    switch.locator("input").check()
    expect(kernels).to_be_visible()
    page.wait_for_function("""() => document.querySelector('.pane [data-fig="kernels"]')
      ?.layout?.title?.text?.startsWith('conv_1_2: kernel 2')""")
    page.locator(".pane-next").click()  # relu: no kernels, no switch
    page.wait_for_function(STEPPED, arg=["relu_1_2", app_url], timeout=60_000)
    expect(switch).to_be_hidden()
    expect(kernels).to_be_hidden()
    expect(page.locator(".pane-class-box")).to_be_hidden()
    page.goto(app_url + "/explore?present=0&sample=0&layer=conv_1_2")
    page.wait_for_function(STEPPED, arg=["conv_1_2", app_url], timeout=60_000)
    expect(page.locator(".pane-metric")).to_be_hidden()


def test_an_rgb_input_comes_in_its_colours_too():
    model = build_model(TinyVGGConfig(input_shape=3), seed=3).eval()
    x = torch.rand(3, 28, 28, generator=torch.Generator().manual_seed(0))
    rgb = Trace(("rgb", "rand"), trace(model, x), model)
    data = pane.layer_data(rgb, INPUT, "input", ((0, 0, 0), None), lesson=False)
    picture, caption = data["picture"]  # in its colours, under its name
    assert picture.startswith("data:image/png;base64,") and caption == INPUT.caption
    assert "its 3 channels" in json.loads(data["figs"]["prev"])["layout"]["title"]["text"]
    grey = pane.layer_data(Trace(("g", "r"), trace(build_model(seed=3).eval(), x[:1]),
                                 build_model(seed=3).eval()), INPUT, "input",
                           ((0, 0, 0), None), lesson=False)  # fmt: skip
    assert "picture" not in grey


def test_the_slide_and_atlas_switches_stay_under_the_element(page, app_url):
    page.goto(app_url + "/explore?sample=0&layer=conv_1_1&cell=2,3,4")
    page.wait_for_function(STEPPED, arg=["conv_1_1", app_url], timeout=60_000)
    more = page.locator(".st-key-ex_pane_more")
    slide = more.get_by_role("switch", name="Animate the kernel sliding over the padded input")
    atlas = more.get_by_role("switch", name="What excites the picked channel across the test set?")
    expect(slide).to_be_enabled()
    slide.click(force=True)
    expect(more).to_contain_text("Output channel 2: the window moves over input")
    page.locator(".pane-next").click()
    page.wait_for_function(STEPPED, arg=["relu_1_1", app_url], timeout=60_000)
    expect(more).not_to_contain_text("Output channel 2")
    expect(more).to_contain_text("The conv layers have a kernel to slide: step to one.")
    atlas.click(force=True)  # relu_1_1 has channels: its atlas
    link = more.get_by_role("link", name="Every channel of relu_1_1 in the atlas")
    expect(link).to_be_visible(timeout=60_000)
    for _ in range(11):
        page.keyboard.press("PageDown")
    page.wait_for_function(
        """() => location.search.includes('layer=softmax') && document
      .querySelector('.pane h3').textContent.startsWith('softmax · ')""",
        timeout=60_000,
    )
    expect(more).to_contain_text("The layers up to max_pool_2 have channels to look up")


def _map(page: Page, slot: str):
    return page.locator(f'.pane-map[data-slot="{slot}"]')


def test_a_click_on_a_tile_then_a_cell_picks_it_and_its_arithmetic_checks_out(page, app_url):
    page.goto(app_url + "/explore?sample=0&layer=conv_1_2&cell=0,0,0")
    page.wait_for_function(STEPPED, arg=["conv_1_2", app_url], timeout=60_000)
    words = page.locator(".pane-words")
    expect(words).to_contain_text("conv_1_2[0, 0, 0, 0]")
    # channel 2's tile starts at column 2 * (28 + 1) of the mosaic; click its centre
    _click(page, _map(page, "out"), 0, 58 + 13.5, 13.5, "channel 2")
    expect(words).to_contain_text("conv_1_2[0, 2, 0, 0]")
    wait_idle(page)
    _click(page, _map(page, "cells"), 0, 15, 12, "row 12, col 15")
    expect(words).to_contain_text("conv_1_2[0, 2, 12, 15]")
    expect(words).to_contain_text("✓ equals the activation")
    # every one of the 784 cells answers a click, but the browser draws none of their points
    assert _map(page, "cells").locator("path.point").count() <= 1
    expect_url(page, "cell=2,12,15")


def test_a_click_on_the_flattened_vector_picks_its_source_cell(page, app_url):
    """Flatten's output, a row per channel: a click on index 300 names max_pool_2[6, 0, 6]."""
    page.goto(app_url + "/explore?sample=0&layer=flatten&cell=0,0,0")
    page.wait_for_function(STEPPED, arg=["flatten", app_url], timeout=60_000)
    words = page.locator(".pane-words")
    expect(words).to_contain_text("lands at index 0·49 + 0·7 + 0 = 0")
    _click(page, _map(page, "out"), 0, 6, 6, "index 300 = max_pool_2[6,0,6]")
    expect(words).to_contain_text("lands at index 6·49 + 0·7 + 6 = 300")
    expect(words).to_contain_text("✓ equals the activation")
    expect_url(page, "cell=6,0,6")


@pytest.mark.parametrize("width", [1400, 1920])
def test_colour_bars_and_channel_numbers_stand_where_plotly_would_put_them(page, app_url, width):
    """Each map's HTML colour bar by its cells (not across an empty band on a wide screen),
    every tick label on the bar at its value, round values covering the scale, and each
    grid's channel numbers on their tiles' corners."""
    page.set_viewport_size({"width": width, "height": 1080})
    page.goto(app_url + "/explore?sample=7&layer=conv_1_2&cell=3,5,7")
    page.wait_for_function(STEPPED, arg=["conv_1_2", app_url], timeout=60_000)
    wait_settled(page)
    for slot in ("prev", "out", "cells"):
        chart = _map(page, slot)
        check_bar_and_labels(chart.evaluate(BAR_AND_LABELS), slot, grid=slot != "cells")
        gap = chart.evaluate("""c => c.querySelector('.colorbar').getBoundingClientRect().left
            - c.querySelector('.hm image').getBoundingClientRect().right""")
        assert 0 < gap < 60, f"{slot}: the colour bar is {gap:.0f} px from the cells"


def test_a_layer_the_page_lacks_is_sent_again(page, app_url):
    """A run cut short by the next one can leave the page without a layer the server counts as
    sent: the page asks for it, once, and draws it."""
    page.goto(app_url + "/explore?sample=0&layer=conv_1_1&cell=0,5,5")
    page.wait_for_function(STEPPED, arg=["conv_1_1", app_url], timeout=60_000)
    wait_idle(page)
    page.evaluate("""() => {
      const root = document.querySelector('.pane');
      delete window.__paneReceived[root.__data.key].relu_1_1;
    }""")
    page.locator(".pane-next").click()
    page.wait_for_function(STEPPED, arg=["relu_1_1", app_url], timeout=60_000)
    expect(page.locator(".pane")).not_to_have_class(re.compile("pane-waiting"))


def test_a_link_s_warning_goes_once_the_element_steps(page, app_url):
    """What a link asked for that cannot be shown is said once: a step in the element (a rerun
    of the layer view alone) leaves the warning behind."""
    page.goto(app_url + "/explore?sample=99999&layer=conv_1_1&cell=3,99,5")
    warnings = page.get_by_test_id("stAlertContentWarning")
    expect(warnings.filter(has_text="sample must be")).to_have_count(1)
    expect(warnings.filter(has_text="cell=3,99,5 is not there")).to_have_count(1)
    wait_idle(page)
    page.locator(".pane-next").click()
    page.wait_for_function(STEPPED, arg=["relu_1_1", app_url], timeout=60_000)
    wait_idle(page)
    expect(warnings).to_have_count(0)


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (1280, 720), (1920, 1080)])
def test_teacher_mode_fits_a_projector_in_the_element(page, app_url, width, height):
    """Teacher mode on a 720p and a 1080p projector: the layer's input and output maps whole on
    the first screen, after Next too; there and beside the open sidebar of a 1024 px one
    every text on the first screen 18 px or more, no layer's name, shape or class broken."""
    page.set_viewport_size({"width": width, "height": height})
    page.goto(app_url + "/explore?sample=0&layer=conv_2_1&present=1")  # an Ankle boot
    for layer in ("conv_2_1", "relu_2_1"):
        page.wait_for_function(STEPPED, arg=[layer, app_url], timeout=60_000)
        wait_settled(page)
        maps = [_map(page, slot).locator(".js-plotly-plot") for slot in ("prev", "out")]
        check_first_screen(page, maps if width > 1024 else [], height, layer)
        page.locator(".pane-next").click()


def test_the_key_hints_show_where_there_are_keys(browser, app_url):
    """PageUp and PageDown beside Prev and Next, but not on a phone or a tablet (nor in a
    phone's width), where they mean nothing; the buttons' names stay Prev and Next."""
    for touch, width, shown in ((True, 1400, 0), (False, 1400, 2), (False, 400, 0)):
        context = browser.new_context(viewport={"width": width, "height": 1000},
                                      has_touch=touch, is_mobile=touch)  # fmt: skip
        page = context.new_page()
        page.goto(app_url + "/explore?sample=0&layer=conv_1_1")
        expect(page.get_by_role("button", name="Next ▶", exact=True)).to_be_visible()
        expect(page.locator(".pane-step kbd:visible")).to_have_count(shown)
        context.close()


def test_a_deep_link_as_the_first_request_to_a_fresh_server(page, real_data):
    with streamlit_server() as url:
        page.goto(url + "/explore?sample=123&layer=conv_2_1&cell=3,5,7")
        page.wait_for_function(STEPPED, arg=["conv_2_1", url], timeout=60_000)
        expect(page.locator(".pane-words")).to_contain_text("conv_2_1[0, 3, 5, 7]")
        expect(page.get_by_role("link", name="app", exact=True)).to_have_count(0)
        expect(page.get_by_test_id("stSidebar")).to_contain_text("Model in use")
