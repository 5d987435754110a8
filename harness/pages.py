"""Playwright helpers for the app's pages, shared by the browser tests and the benchmarks."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

# The training chart's number of points (-1 before it exists).
POINTS_JS = """() => {
  const g = document.querySelector('.st-key-train_curves .js-plotly-plot');
  return g && g.data ? g.data[0].x.length : -1;
}"""
LONG = 120_000  # ms: a busy 2-core machine starting a worker


def open_train_page(page: Page, url: str) -> None:
    """Go to /train and wait for its heading."""
    page.goto(url + "/train")
    expect(page.get_by_role("heading", name="Train a TinyVGG")).to_be_visible(timeout=LONG)


def choose(page: Page, label: str, option: str) -> None:
    """Pick a selectbox option; a click that lands during a rerun is tried again."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label)
    for attempt in range(4):
        box.click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            if attempt == 3:
                raise
    expect(box.get_by_role("combobox")).to_have_value(option)


def settled_points(page: Page, tries: int = 10) -> int:
    """The training chart's number of points once two reads 1.5 s apart (longer than the live
    view's 1 s refresh) agree: a run's last draw can come a moment after its sentences."""
    shown = page.evaluate(POINTS_JS)
    for _ in range(tries):
        time.sleep(1.5)
        shown, before = page.evaluate(POINTS_JS), shown
        if shown == before and shown > 0:
            break
    return shown


def expect_url(page: Page, *parts: str, timeout: float = 10_000) -> None:
    """Until the address holds every one of `parts` (commas decoded): the app writes it at the
    end of its run, which can come a moment after what the run drew (the idle check can pass
    before Streamlit's running indicator shows)."""
    try:
        page.wait_for_function(
            "parts => parts.every(p => decodeURIComponent(location.href).includes(p))",
            arg=list(parts), timeout=timeout)  # fmt: skip
    except PlaywrightTimeout:
        raise AssertionError(f"{parts} not all in {page.url}") from None


def wait_idle(page: Page) -> None:
    """Until the app has finished its run: Streamlit's running indicator is gone and the app's
    script state is back to `notRunning` (the indicator shows a moment after a run starts).
    Only a run that has begun is waited for: after an action, first await what it draws."""
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)
    expect(page.get_by_test_id("stApp")).to_have_attribute(
        "data-test-script-state", "notRunning")  # fmt: skip


# Resolves once every plotly chart has drawn and the page's layout (its height, and the place,
# size and content width of every chart, canvas, formula and column) has stayed the same for
# `frames` animation frames in a row, with the fonts loaded; or after `limit` ms.
SETTLED_JS = """([frames, limit]) => new Promise(resolve => {
  const main = document.querySelector('[data-testid="stMain"]');
  const watched = '.js-plotly-plot, canvas, .katex-display, [data-testid="stColumn"]';
  const layout = () => {
    if ([...document.querySelectorAll('.js-plotly-plot')].some(p => !p._fullLayout)) return null;
    const boxes = [...main.querySelectorAll(watched)].map(e => {
      const b = e.getBoundingClientRect();
      return [b.x, b.y, b.width, b.height, e.scrollWidth].map(Math.round).join(',');
    });
    return document.fonts.status + main.scrollHeight + boxes.join(';');
  };
  const start = performance.now();
  let last = null, same = 0;
  const tick = () => {
    const now = layout();
    same = now !== null && now === last ? same + 1 : 0;
    last = now;
    if (same >= frames || performance.now() - start > limit) resolve(same >= frames);
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})"""


def wait_settled(page: Page, frames: int = 12, limit_ms: int = 15_000) -> bool:
    """Until the app's run has ended and its layout has stopped moving; False on `limit_ms`."""
    wait_idle(page)
    return page.evaluate(SETTLED_JS, [frames, limit_ms])
