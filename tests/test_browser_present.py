"""Teacher mode in Chromium: controls hidden, figures taller, model and device still shown
(`pane=0`: in the layer view drawn with Streamlit's own widgets; test_pane.py has the
element's)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from harness.pages import expect_url, wait_settled
from tinyvgg.data import CLASS_NAMES


def _map_height(page, key: str) -> float:
    chart = page.locator(f".st-key-{key} .js-plotly-plot").first
    chart.wait_for()
    return chart.bounding_box()["height"]


def test_present_mode_on_the_explorer(page, app_url):
    page.goto(app_url + "/explore?pane=0&sample=3&layer=conv_1_1")
    expect(page.get_by_text("Test image #")).to_be_visible()
    normal = _map_height(page, "ex_cellmap")

    page.goto(app_url + "/explore?pane=0&sample=3&layer=conv_1_1&present=1")
    expect(page.get_by_role("heading", name="test image 3: Trouser")).to_be_visible()
    expect(page.get_by_role("heading", name="Layer explorer")).to_be_hidden()  # room for maps
    expect(page.get_by_text("Test image #")).to_be_hidden()  # the input pickers
    expect(page.get_by_role("button", name="Next ▶")).to_be_visible()  # stepping stays
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("Model in use")
    expect(sidebar).to_contain_text("Device:")
    expect(sidebar.get_by_text("Upload a checkpoint")).to_be_hidden()
    assert _map_height(page, "ex_cellmap") > 1.2 * normal  # the large map grows
    picked = page.get_by_test_id("stMetric").filter(has_text="conv_1_1[0, ")  # for the back row
    expect(picked).to_be_visible()
    assert float(picked.get_by_test_id("stMetricValue").inner_text()) != 0
    page.get_by_role("button", name="Next ▶").click()  # it stays on while stepping
    expect(page.get_by_text("relu_1_1 · ReLU")).to_be_visible()
    expect_url(page, "present=1")


def test_present_mode_puts_the_input_name_level_with_the_prediction(page, app_url):
    """With the pickers hidden, the input's name and the model's answer share one line."""
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(app_url + "/explore?sample=3&layer=conv_1_2&present=1")
    name = page.get_by_role("heading", name="test image 3: Trouser")
    answer = page.get_by_role("heading", name="→ Trouser")
    expect(name).to_be_visible()
    expect(answer).to_be_visible()
    wait_settled(page)
    found = page.evaluate(LEVEL, ["test image 3: Trouser", "→ Trouser"])
    deadline = time.monotonic() + 10  # a busy machine may still be laying out the first run
    while abs(found["name"] - found["answer"]) >= 40 and time.monotonic() < deadline:
        time.sleep(0.25)
        found = page.evaluate(LEVEL, ["test image 3: Trouser", "→ Trouser"])
    assert abs(found["name"] - found["answer"]) < 40, found


# The middles of the two headings, and (to say why when they differ) what stands above each in
# its column: every visible element's test id or key class and height.
LEVEL = r"""([name, answer]) => {
  const heading = text => [...document.querySelectorAll('[data-testid="stMain"] h3')]
    .find(h => h.innerText.replace(/\u00a0/g, ' ').startsWith(text));
  const mid = h => { const b = h.getBoundingClientRect(); return b.y + b.height / 2; };
  const column = h => [...h.closest('[data-testid="stColumn"]').querySelectorAll(
      '[data-testid="stElementContainer"], [data-testid="stVerticalBlock"]')]
    .filter(e => e.getBoundingClientRect().height > 0)
    .map(e => `${[...e.classList].find(c => c.startsWith('st-key-')) || e.dataset.testid}:` +
                `${Math.round(e.getBoundingClientRect().y)}+${Math.round(e.getBoundingClientRect().height)}`);
  const [n, a] = [heading(name), heading(answer)];
  if (!n || !a) return {name: -1e6, answer: 1e6, missing: [!n && name, !a && answer]};
  const row = n.closest('[data-testid="stHorizontalBlock"]');
  return {name: mid(n), answer: mid(a), left: column(n), right: column(a),
          align: row && getComputedStyle(row).alignItems, same_row: row && row.contains(a)};
}"""


# Every text of the page's own (not inside a chart) that is on the first screen: its size, and
# whether a layer's name, a shape or the predicted class is broken over two lines.
FIRST_SCREEN_TEXT = r"""(classes) => {
  const main = document.querySelector('[data-testid="stMain"]');
  const out = {small: [], broken: []};
  const walk = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let t = walk.nextNode(); t; t = walk.nextNode()) {
    const e = t.parentElement, text = t.textContent.trim();
    if (!text || e.closest('svg, .js-plotly-plot, [data-testid="stSidebar"]')) continue;
    const box = e.getBoundingClientRect();
    if (!box.width || !e.checkVisibility() || box.top >= innerHeight || box.bottom <= 0) continue;
    const size = parseFloat(getComputedStyle(e).fontSize);
    if (size < 18) out.small.push(`${size}px: ${text.slice(0, 30)}`);
    const whole = /^(\[[\d, ]+\]|[a-z]+_\d_\d|max_pool_\d|flatten|linear|softmax|input)$/;
    const lines = new Set([...(() => { const r = document.createRange(); r.selectNodeContents(t);
      return r.getClientRects(); })()].map(r => Math.round(r.top))).size;
    if (whole.test(text) && lines > 1) out.broken.push(text);
    for (const name of classes) {  // a class name inside a longer text, whole as well
      const at = t.textContent.replace(/ /g, ' ').indexOf(name);
      if (at < 0) continue;
      const r = document.createRange(); r.setStart(t, at); r.setEnd(t, at + name.length);
      if (new Set([...r.getClientRects()].map(b => Math.round(b.top))).size > 1)
        out.broken.push(name);
    }
  }
  return out;
}"""


def check_first_screen(page, maps: list, height: int, layer: str) -> None:
    """`maps` whole on the first screen (`height` px), every text there 18 px or more and no
    layer's name, shape or class broken over two lines; a busy machine may still be applying
    the styles, so each is given 10 s."""
    deadline = time.monotonic() + 10
    for chart in maps:
        box = chart.bounding_box()
        while not (box["y"] >= 0 and box["y"] + box["height"] <= height) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.25)
            box = chart.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, (layer, box)
    found = page.evaluate(FIRST_SCREEN_TEXT, list(CLASS_NAMES))
    while (found["small"] or found["broken"]) and time.monotonic() < deadline:
        time.sleep(0.25)
        found = page.evaluate(FIRST_SCREEN_TEXT, list(CLASS_NAMES))
    assert not found["small"] and not found["broken"], found


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (1280, 720), (1920, 1080)])
def test_teacher_mode_fits_a_projector(page, app_url, width, height):
    """On a 720p and a 1080p projector, teacher mode shows the selected layer's input and output
    maps whole on the first screen, after Next too; on those and on a 1024 px one beside the
    open sidebar every text there is 18 px or more, and no layer's name, shape or class is
    broken over two lines."""
    page.set_viewport_size({"width": width, "height": height})
    page.goto(app_url + "/explore?pane=0&sample=0&layer=conv_2_1&present=1")  # an Ankle boot
    for layer in ("conv_2_1", "relu_2_1"):
        expect(page.get_by_role("heading", name=f"{layer} · ", exact=False)).to_be_visible()
        wait_settled(page)
        maps = [page.locator(f".st-key-{key} .js-plotly-plot").first
                for key in ("ex_prev", "ex_grid")]  # fmt: skip
        check_first_screen(page, maps if width > 1024 else [], height, layer)
        buttons = page.locator(".st-key-ex_strip button")
        expect(buttons).to_have_count(14)
        for k in range(14):  # whole names, not cut off
            assert buttons.nth(k).evaluate("b => b.scrollWidth <= b.clientWidth + 1")
        page.get_by_role("button", name="Next ▶").click()


def test_teacher_mode_has_a_switch_and_survives_a_reload_and_a_typed_address(page, app_url):
    page.goto(app_url + "/explore?sample=3&layer=conv_1_2")
    switch = page.get_by_test_id("stSidebar").get_by_text("Teacher mode")
    expect(switch).to_be_visible()
    expect(page.get_by_role("heading", name="conv_1_2 · Conv2d", exact=False)).to_be_visible()
    expect(page.locator("html")).not_to_have_css("font-size", "19px")
    switch.click()
    expect(page.locator("html")).to_have_css("font-size", "19px")
    page.reload()  # F5: a new session
    expect(page.locator("html")).to_have_css("font-size", "19px")
    page.goto(app_url + "/draw")  # a typed address
    expect(page.get_by_role("heading", name="Draw or upload a garment")).to_be_visible()
    expect(page.locator("html")).to_have_css("font-size", "19px")
    page.get_by_test_id("stSidebar").get_by_text("Teacher mode").click()  # and off again
    expect(page.locator("html")).not_to_have_css("font-size", "19px")
    page.goto(app_url + "/home")  # typed: off is kept as well
    expect(page.get_by_test_id("stSidebar").get_by_text("Teacher mode")).to_be_visible()
    wait_settled(page)
    expect(page.locator("html")).not_to_have_css("font-size", "19px")
