"""The explorer in Debian's Chromium: stepping, clicking a cell, a first deep link.

The tests whose links say `pane=0` drive the layer view drawn with Streamlit's own widgets
(the fallback where plotly.js cannot be served); test_pane.py drives the element that is the
default; the others pass on either."""

from __future__ import annotations

import re

import numpy as np
import plotly
import pytest
from playwright.sync_api import Page, expect

from harness.pages import expect_url, wait_idle, wait_settled
from harness.servers import streamlit_server
from tinyvgg.activations import by_name, trace
from tinyvgg.data import to_float
from tinyvgg.model import LAYER_NAMES, load_shipped

from .test_browser_draw import _reruns

SHAPES = {
    "input": "[1, 1, 28, 28]", "conv_1_1": "[1, 10, 28, 28]", "relu_1_1": "[1, 10, 28, 28]",
    "conv_1_2": "[1, 10, 28, 28]", "relu_1_2": "[1, 10, 28, 28]", "max_pool_1": "[1, 10, 14, 14]",
    "conv_2_1": "[1, 10, 14, 14]", "relu_2_1": "[1, 10, 14, 14]", "conv_2_2": "[1, 10, 14, 14]",
    "relu_2_2": "[1, 10, 14, 14]", "max_pool_2": "[1, 10, 7, 7]", "flatten": "[1, 490]",
    "linear": "[1, 10]", "softmax": "[1, 10]",
}  # fmt: skip


def _heading(page: Page):
    return page.get_by_role("heading", level=3).filter(has_text=" · ").first


def test_step_through_every_layer_with_next(page, app_url):
    page.goto(app_url + "/explore?sample=0&layer=input")
    expect(_heading(page)).to_contain_text("input · Input")
    for name in ["input", *LAYER_NAMES, "softmax"]:
        expect(_heading(page)).to_contain_text(f"{name} · ")
        expect(_heading(page)).to_contain_text(SHAPES[name])
        if name != "softmax":
            page.get_by_role("button", name="Next ▶").click()
    expect(page.get_by_role("button", name="Next ▶")).to_be_disabled()


def test_a_layer_s_name_in_the_strip_selects_it(page, app_url):
    """The strip's names are buttons: a click selects the layer, highlights only its name and
    puts it in the address; the tiles show each layer's thumbnail, kind, shape and parameters."""
    page.goto(app_url + "/explore?sample=0&layer=input")
    expect(_heading(page)).to_contain_text("input · Input")
    tiles = page.locator(".st-key-ex_strip .ls-tile")
    expect(tiles).to_have_count(14)
    expect(tiles.nth(6)).to_contain_text("Conv2d · [1, 10, 14, 14] · 910 params")
    page.wait_for_function("""() => {  // the thumbnails decode on their own schedule
        const i = document.querySelectorAll('.st-key-ex_strip .ls-tile img')[6];
        return i?.complete && i.naturalWidth > 0; }""")  # fmt: skip
    strip = page.locator(".st-key-ex_strip")
    strip.get_by_role("button", name="max_pool_1", exact=True).click()
    expect(_heading(page)).to_contain_text("max_pool_1 · MaxPool2d")
    expect(strip.locator("button[aria-pressed=true]")).to_have_text(["max_pool_1"])
    page.wait_for_function("() => location.search.includes('layer=max_pool_1')")
    page.get_by_role("button", name="Next ▶").click()  # the highlight follows a step
    expect(_heading(page)).to_contain_text("conv_2_1 · ")
    expect(strip.locator("button[aria-pressed=true]")).to_have_text(["conv_2_1"])


# What the large map and the channel grid show once a step's run has ended (its heading is there,
# the app idle) and the large map's title names `name`: its title, the value under each of its
# clickable cells, and the grid's values (NaN gaps left out); null until then.
SHOWN_AFTER_STEP = """(name) => {
  const h = [...document.querySelectorAll('h3')].some(e => e.textContent.startsWith(name + ' · '));
  const app = document.querySelector('[data-testid="stApp"]');
  if (!h || app.getAttribute('data-test-script-state') !== 'notRunning') return null;
  const plot = key => document.querySelector(`.st-key-${key} .js-plotly-plot`);
  const cells = plot('ex_cellmap'), grid = plot('ex_grid');
  if (!cells?._fullData || !grid?._fullData) return null;
  const title = cells.layout.title.text;
  if (!title.startsWith(name + ',')) return null;
  return {title, values: Array.from(cells._fullData[1].customdata),
          grid: grid._fullData[0].z.flatMap(row => Array.from(row)).filter(Number.isFinite)};
}"""


def test_a_step_shows_the_new_layer_s_values(page, app_url, real_data):
    """After Next, the maps on screen come to hold the new layer's values (checked against the
    model's own forward pass), never the previous layer's."""
    records = by_name(trace(load_shipped()[0], to_float(real_data[1].images[:1])))
    page.goto(app_url + "/explore?pane=0&sample=0&layer=conv_1_1&cell=0,0,0")
    names = ["conv_1_1", "relu_1_1", "conv_1_2", "relu_1_2", "max_pool_1", "conv_2_1"]
    for k, name in enumerate(names):
        if k:
            page.get_by_role("button", name="Next ▶").click()
        shown = page.wait_for_function(SHOWN_AFTER_STEP, arg=name, timeout=60_000).json_value()
        out = records[name].output[0]  # (C, H, W)
        assert shown["title"].startswith(f"{name}, channel 0"), (name, shown["title"])
        assert np.allclose(shown["values"], out[0].flatten().numpy(), atol=1e-5), name
        grid = np.sort(np.asarray(shown["grid"], dtype=float))
        assert np.allclose(grid, np.sort(out.flatten().numpy()), atol=1e-5), name


def test_the_maps_stay_mounted_through_the_steps(page, app_url):
    """A step redraws the maps in the charts already on the page (Plotly.react), so nothing is
    mounted afresh: the same plot elements hold the new layer's figures."""
    page.goto(app_url + "/explore?pane=0&sample=0&layer=conv_1_1&cell=0,0,0")
    page.wait_for_function(SHOWN_AFTER_STEP, arg="conv_1_1", timeout=60_000)
    for key in ("ex_prev", "ex_grid", "ex_cellmap"):
        page.locator(f".st-key-{key} .js-plotly-plot").evaluate("gd => { gd.__marked = 1; }")
    page.get_by_role("button", name="Next ▶").click()
    page.wait_for_function(SHOWN_AFTER_STEP, arg="relu_1_1", timeout=60_000)
    for key in ("ex_prev", "ex_grid", "ex_cellmap"):
        plot = page.locator(f".st-key-{key} .js-plotly-plot")
        assert plot.evaluate("gd => gd.__marked") == 1, key
    # plotly.js came once, from the app's static folder
    sources = page.evaluate("() => [...document.scripts].map(s => s.src).filter(Boolean)")
    assert [s for s in sources if "plotly" in s] == [
        f"{app_url}/app/static/plotly-{plotly.__version__}.min.js"
    ]


def test_a_map_opens_full_screen(page, app_url):
    """As st.plotly_chart's toolbar does: the map's own button fills the screen, and the map
    is drawn at the screen's size; the same button brings it back."""
    page.goto(app_url + "/explore?pane=0&sample=0&layer=conv_1_2&cell=0,0,0")
    chart = page.locator(".st-key-ex_cellmap")
    expect(chart.locator(".js-plotly-plot .hm")).to_have_count(1, timeout=60_000)
    wait_settled(page)  # what comes later in the page can still resize the map's column
    small = chart.locator(".main-svg").first.bounding_box()
    chart.hover()
    chart.get_by_role("button", name="Full screen").click()
    page.wait_for_function("() => document.fullscreenElement?.classList.contains('kept-plot')")
    page.wait_for_function(
        "w => document.querySelector('.st-key-ex_cellmap .main-svg').getBoundingClientRect()"
        ".width > w", arg=small["width"] * 1.5)  # fmt: skip
    chart.get_by_role("button", name="Full screen").click()
    page.wait_for_function("() => !document.fullscreenElement")
    page.wait_for_function(
        "w => Math.abs(document.querySelector('.st-key-ex_cellmap .main-svg')"
        ".getBoundingClientRect().width - w) < 2", arg=small["width"])  # fmt: skip


def test_page_down_and_page_up_step_through_the_layers(page, app_url):
    """A presenter's clicker (PageDown / PageUp) steps the layers as Next and Prev do; the same
    keys in a text box stay the text box's."""
    sent: list = []  # what the page sends: a press that steps asks for a rerun
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
    page.goto(app_url + "/explore?pane=0&sample=7&layer=conv_1_1")
    expect(_heading(page)).to_contain_text("conv_1_1 · ")
    wait_idle(page)
    # Streamlit binds a button's shortcut a moment after the page has drawn (measured here: a
    # PageDown in the first second or two after loading does nothing, a later one steps);
    # so the first step presses again until a press has asked for a rerun, and only then one
    # press a step, its step waited for however slow the machine is
    for _ in range(20):
        asked = _reruns(sent)
        page.keyboard.press("PageDown")
        page.wait_for_timeout(1_000)
        if _reruns(sent) > asked:
            break
    expect(_heading(page)).to_contain_text("relu_1_1 · ", timeout=60_000)
    wait_idle(page)
    page.keyboard.press("PageDown")
    expect(_heading(page)).to_contain_text("conv_1_2 · ")
    wait_idle(page)
    page.keyboard.press("PageUp")
    expect(_heading(page)).to_contain_text("relu_1_1 · ")
    wait_idle(page)
    box = page.get_by_label("Test image #")
    box.click()
    asked = _reruns(sent)
    page.keyboard.press("PageDown")  # the text box's: no step
    page.wait_for_timeout(1_000)
    wait_idle(page)
    assert _reruns(sent) == asked, "PageDown in the text box asked for a rerun"
    box.blur()
    page.keyboard.press("PageDown")  # the page's: exactly one step from relu_1_1
    expect(_heading(page)).to_contain_text("conv_1_2 · ")
    wait_idle(page)
    expect(_heading(page)).to_contain_text("conv_1_2 · ")
    expect_url(page, "layer=conv_1_2")


def strip_rows(page: Page) -> list[int]:
    """How many layers each row of the overview strip holds, top to bottom."""
    tiles = page.locator(".st-key-ex_strip .ls-tile")
    expect(tiles).to_have_count(14)
    page.wait_for_function("""() => getComputedStyle(document.querySelector(
        '.st-key-ex_strip .ls-strip')).display === 'grid'""")  # the strip's style is in
    measure = """() => [...document.querySelectorAll('.st-key-ex_strip .ls-tile')]
        .map(c => Math.round(c.getBoundingClientRect().y))"""
    tops, before = page.evaluate(measure), None
    for _ in range(50):  # all at once, once the page has stopped moving
        if tops == before:
            break
        page.wait_for_timeout(300)
        tops, before = page.evaluate(measure), tops
    return [tops.count(t) for t in sorted(set(tops))]


def test_layer_strip_fits_the_screen(page, app_url):
    """Seven layers a row on a laptop and on a 1920 px screen (not 10 and a row of 4); on a
    phone several a row (not 14 stacked full-width tiles), with whole names."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(app_url + "/explore?sample=0&layer=conv_1_1")
    assert strip_rows(page) == [7, 7]
    page.set_viewport_size({"width": 1920, "height": 1080})
    assert strip_rows(page) == [7, 7]
    page.set_viewport_size({"width": 400, "height": 800})
    rows = strip_rows(page)
    assert len(rows) <= 4 and min(rows[:-1]) >= 3, rows
    buttons = page.locator(".st-key-ex_strip button")
    for k in range(14):
        assert buttons.nth(k).evaluate("b => b.scrollWidth <= b.clientWidth + 1")


def test_conv_arithmetic_is_whole_on_a_wide_screen(page, app_url):
    """At 1920 px every input channel's block (patch × kernel = products → sum) is whole: a
    grid of fixed-width columns used to put two a row and cut off the second one's sum."""
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(app_url + "/explore?sample=7&layer=conv_1_2&cell=3,5,7")
    sums = page.locator(".ar-grid .ar-sum")  # the last thing in each block
    expect(sums).to_have_count(10)
    wait_settled(page)  # the grid's style (and font) can land after its blocks
    right = page.locator(".ar-grid").evaluate("g => g.getBoundingClientRect().right")
    for k in range(10):
        cut = sums.nth(k).evaluate("d => d.getBoundingClientRect().right") - right
        assert cut <= 1, f"input channel {k}'s sum is cut off by {cut:.0f} px"


def test_conv_arithmetic_fits_a_phone_without_scrolling(page, app_url):
    """On a 400 px phone each block wraps (patch × kernel =, then products → sum) instead
    of running past the screen's edge, where the sum could only be reached by scrolling."""
    page.set_viewport_size({"width": 400, "height": 900})
    page.goto(app_url + "/explore?sample=7&layer=conv_2_1&cell=3,5,7")
    sums = page.locator(".ar-grid .ar-sum")
    expect(sums).to_have_count(10)
    wait_settled(page)  # the grid's style (and font) can land after its blocks
    grid = page.locator(".ar-grid")
    assert grid.evaluate("g => g.scrollWidth <= g.clientWidth + 1"), "the blocks scroll sideways"
    right = grid.evaluate("g => g.getBoundingClientRect().right")
    for k in range(10):
        assert sums.nth(k).evaluate("d => d.getBoundingClientRect().right") <= right + 1


def test_kernel_slide_spans_the_page_with_whole_labels(page, app_url):
    """The explorer's kernel slide spans the page under the map and the arithmetic, and its
    First, Back, Play and Step read in full (five controls in one row of the arithmetic's
    column used to cut them to "F…", "B…", and the panels' titles ran into each other)."""
    page.goto(app_url + "/explore?sample=7&layer=conv_2_1&cell=3,0,0")
    page.get_by_text("Animate the kernel sliding").click()
    names = ["First", "Back", "Play", "Step"]
    for name in names:
        expect(page.get_by_role("button", name=name, exact=True)).to_be_visible()
    wait_idle(page)
    for name in names:
        button = page.get_by_role("button", name=name, exact=True)
        label = button.get_by_test_id("stMarkdownContainer")  # ellipsised when too narrow
        assert label.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), f"{name} is cut off"
    # the slide's panels take the page's width, under the map and the arithmetic
    slide = page.locator('[class*="st-key-ex_slide_conv_2_1_3_figure"]')
    expect(slide.locator(".js-plotly-plot")).to_be_visible()
    main = page.get_by_test_id("stMainBlockContainer").evaluate("m => m.clientWidth")
    assert slide.evaluate("e => e.getBoundingClientRect().width") > 0.85 * main


def test_channel_grids_keep_their_colour_bars_by_the_tiles_on_a_wide_screen(page, app_url):
    """At 1920 px each half of the page is wider than a grid of tiles: the grids (and the
    large channel map) are drawn at their own width, so the colour bar stands by the cells,
    not across an empty band."""
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(app_url + "/explore?pane=0&sample=7&layer=conv_1_2&cell=3,5,7")
    for key in ("ex_prev", "ex_grid", "ex_cellmap"):
        expect(page.locator(f".st-key-{key} .colorbar")).to_have_count(1)
    wait_settled(page)  # a kept map draws again when its column is resized
    for key in ("ex_prev", "ex_grid", "ex_cellmap"):
        chart = page.locator(f".st-key-{key}")
        gap = chart.evaluate("""c => c.querySelector('.colorbar').getBoundingClientRect().left
            - c.querySelector('.hm image').getBoundingClientRect().right""")
        assert 0 < gap < 60, f"{key}: the colour bar is {gap:.0f} px from the tiles"


# The HTML colour bar and tile labels of a kept map, against plotly's own axes and scale:
# where each tick label sits on the bar for its value, and where each label sits on its tile.
BAR_AND_LABELS = """c => {
  const gd = c.querySelector('.js-plotly-plot'), heat = gd._fullData[0];
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, at = gd.getBoundingClientRect();
  const bar = c.querySelector('.colorbar').getBoundingClientRect();
  const ticks = [...c.querySelectorAll('.kept-plot-tick')].map(t => {
    const b = t.getBoundingClientRect();
    return [t.textContent, (bar.bottom - (b.top + b.bottom) / 2) / bar.height];
  });
  const labels = [...c.querySelectorAll('.kept-plot-label')].map(t => {
    const b = t.getBoundingClientRect();
    return [t.textContent, b.left - at.left, b.top - at.top];
  });
  const corners = gd.layout.annotations === undefined ? [] : gd._fullLayout.meta.origins.map(
    ([r0, c0]) => [xa._offset + xa.l2p(c0 - 0.5), ya._offset + ya.l2p(r0 - 0.5)]);
  return {zmin: heat.zmin, zmax: heat.zmax, plotly_bar: gd.querySelectorAll('g.colorbar').length,
          ticks, labels, corners, plotly_labels: gd.querySelectorAll('.annotation').length};
}"""


def test_colour_bars_and_channel_numbers_are_drawn_where_plotly_would(page, app_url):
    """A map's colour bar and its tiles' channel numbers are HTML over the plot (plotly drew
    them in a third of a step's time each): every tick label sits on the bar at its value,
    the values are round and cover the scale, and each number sits on its tile's corner."""
    page.goto(app_url + "/explore?pane=0&sample=7&layer=conv_1_2&cell=3,5,7")
    for key in ("ex_prev", "ex_grid", "ex_cellmap"):
        expect(page.locator(f".st-key-{key} .kept-plot-tick").first).to_be_attached()
    wait_settled(page)  # a kept map draws again when its column is resized
    for key in ("ex_prev", "ex_grid", "ex_cellmap"):
        chart = page.locator(f".st-key-{key}")
        check_bar_and_labels(chart.evaluate(BAR_AND_LABELS), key, grid=key != "ex_cellmap")


def check_bar_and_labels(got: dict, key: str, grid: bool) -> None:
    """`BAR_AND_LABELS`'s findings for map `key`: no bar or numbers drawn by plotly too, round
    tick values covering the scale, each on the bar at its value; on a `grid`, a number per
    channel on its tile's corner."""
    assert got["plotly_bar"] == 0 and got["plotly_labels"] == 0, key  # not drawn twice
    lo, hi = got["zmin"], got["zmax"]
    values = [float(text.replace("−", "-")) for text, _ in got["ticks"]]
    assert len(values) >= 2 and values == sorted(values), (key, got["ticks"])
    step = values[1] - values[0]
    mantissa = step / 10 ** np.floor(np.log10(step))
    assert any(abs(mantissa - m) < 1e-6 for m in (1, 2, 5)), (key, step)  # a round step
    assert lo <= values[0] < lo + step and hi - step < values[-1] <= hi, (key, lo, hi, values)
    for v, (_, where) in zip(values, got["ticks"], strict=True):
        assert where == pytest.approx((v - lo) / (hi - lo), abs=0.02), (key, v)
    if grid:  # the grids: a number per channel on its tile's corner
        assert [t for t, _, _ in got["labels"]] == [str(k) for k in range(10)], key
        for (_, x, y), (cx, cy) in zip(got["labels"], got["corners"], strict=True):
            assert abs(x - cx) <= 2 and abs(y - cy) <= 2, (key, x, y, cx, cy)


def _click(page: Page, chart, axis: int, x: float, y: float, label_text: str) -> None:
    """Click data point (x, y) of subplot `axis` (0 = the first) using plotly's own mapping.

    Plotly picks the clicked point from its hover label, so hover first and wait for the
    label (retrying while the page still moves under the mouse).
    """
    plot = chart.locator(".js-plotly-plot").first
    label = chart.locator(".hoverlayer .hovertext")
    for _ in range(10):
        plot.scroll_into_view_if_needed()
        xy = plot.evaluate(
            """(gd, [k, x, y]) => {
                const s = k === 0 ? '' : String(k + 1);
                const xa = gd._fullLayout['xaxis' + s], ya = gd._fullLayout['yaxis' + s];
                return [xa._offset + xa.d2p(x), ya._offset + ya.d2p(y)];
            }""",
            [axis, x, y],
        )
        box = plot.bounding_box()
        px, py = box["x"] + xy[0], box["y"] + xy[1]
        page.mouse.move(px - 3, py - 3)
        page.mouse.move(px, py)
        try:
            expect(label).to_contain_text(label_text, timeout=2_000)
        except AssertionError:
            continue
        page.mouse.click(px, py)
        return
    raise AssertionError(f"could not hover {label_text!r}")


def test_click_a_cell_and_see_its_arithmetic(page, app_url):
    page.goto(app_url + "/explore?pane=0&sample=0&layer=conv_1_2&cell=0,0,0")
    expect(page.get_by_text("conv_1_2[0, 0, 0, 0]")).to_be_visible()
    wait_idle(page)
    # channel 2's tile starts at column 2 * (28 + 1) of the mosaic; click its centre
    _click(page, page.locator(".st-key-ex_grid"), 0, 58 + 13.5, 13.5, "channel 2")
    expect(page.get_by_text("conv_1_2[0, 2, 0, 0]")).to_be_visible()
    wait_idle(page)
    _click(page, page.locator(".st-key-ex_cellmap"), 0, 15, 12, "row 12, col 15")
    expect(page.get_by_text("conv_1_2[0, 2, 12, 15]")).to_be_visible()
    expect(page.get_by_text(re.compile(r"✓ equals the activation"))).to_be_visible()
    # every one of the 784 cells answers a click, but the browser draws none of their points
    assert page.locator(".st-key-ex_cellmap path.point").count() <= 1
    expect(page.get_by_text("Page not found")).to_have_count(0)
    expect_url(page, "cell=2,12,15")


def test_click_a_cell_of_the_flattened_vector(page, app_url):
    """Flatten's output, a row per channel: a click on index 300 names max_pool_2[6, 0, 6]."""
    page.goto(app_url + "/explore?pane=0&sample=0&layer=flatten&cell=0,0,0")
    expect(page.get_by_text("lands at index 0·49 + 0·7 + 0 = 0")).to_be_visible()
    wait_idle(page)
    _click(page, page.locator(".st-key-ex_flat"), 0, 6, 6, "index 300 = max_pool_2[6,0,6]")
    expect(page.get_by_text("max_pool_2[0, 6, 0, 6]")).to_be_visible()
    expect(page.get_by_text("lands at index 6·49 + 0·7 + 6 = 300")).to_be_visible()
    expect(page.get_by_text(re.compile(r"✓ equals the activation"))).to_be_visible()
    expect_url(page, "cell=6,0,6")


def test_deep_link_as_the_first_request_to_a_fresh_server(page, real_data):
    with streamlit_server() as url:
        page.goto(url + "/explore?pane=0&sample=123&layer=conv_2_1&cell=3,5,7")
        expect(_heading(page)).to_contain_text("conv_2_1 · Conv2d", timeout=60_000)
        expect(page.get_by_text("conv_2_1[0, 3, 5, 7]")).to_be_visible()
        expect(page.get_by_role("link", name="app", exact=True)).to_have_count(0)
        expect(page.get_by_test_id("stSidebar")).to_contain_text("Model in use")
        page.goto(url + "/explore?pane=0&source=random&seed=42&layer=relu_1_1")
        expect(_heading(page)).to_contain_text("relu_1_1 · ReLU")
        expect(page.get_by_text("torch.randn(1, 28, 28), seed 42")).to_be_visible()


def test_a_link_s_warning_goes_once_the_user_steps(page, app_url):
    """What a link asked for that cannot be shown is said once: stepping to the next layer
    (a rerun of the layer view alone) leaves the warning behind."""
    page.goto(app_url + "/explore?sample=99999&layer=conv_1_1&cell=3,99,5")
    warnings = page.get_by_test_id("stAlertContentWarning")
    expect(warnings.filter(has_text="sample must be")).to_have_count(1)
    expect(warnings.filter(has_text="cell=3,99,5 is not there")).to_have_count(1)
    wait_idle(page)
    page.get_by_role("button", name="Next ▶").click()
    expect(_heading(page)).to_contain_text("relu_1_1 · ")
    wait_idle(page)
    expect(warnings).to_have_count(0)


def test_a_touch_screen_shows_no_key_hints(browser, app_url):
    """PageUp and PageDown beside Prev and Next mean nothing on a phone or a tablet."""
    for touch, shown in ((True, 0), (False, 2)):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, has_touch=touch,
                                      is_mobile=touch)  # fmt: skip
        page = context.new_page()
        page.goto(app_url + "/explore?pane=0&sample=0&layer=conv_1_1")
        expect(page.get_by_role("button", name=re.compile("Next"))).to_be_visible()
        expect(page.locator(".st-key-ex_stepper kbd:visible")).to_have_count(shown)
        context.close()
