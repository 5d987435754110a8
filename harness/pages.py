"""Playwright helpers for the app's pages, shared by the browser tests and the benchmarks."""

from __future__ import annotations

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
