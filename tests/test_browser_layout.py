"""Every page on a laptop or a classroom projector with the sidebar open (1024 and 1280 px),
and on a phone.

The sidebar takes about 300 px there, leaving the page a phone's width and a half; Streamlit
stacks columns only under 640 px. Nothing may be cut: no label ellipsised ("Start traini…",
"N… PageDown"), no canvas, plot or formula running past its column, no plot title past its
plot's edge or over another.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from harness.pages import wait_settled

# Text Streamlit shortens with an ellipsis when its box is too narrow, and what sticks out
# of its column (or the page) without a scroll bar to reach it.
PROBLEMS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const found = [];
  const parent = e => e.parentElement || e.getRootNode().host;  // out of a component's shadow
  const all = root => [...root.querySelectorAll('*')].flatMap(
      e => e.shadowRoot ? [e, ...all(e.shadowRoot)] : [e]);
  const name = e => (e.getAttribute('data-testid') || e.tagName.toLowerCase()) + ': '
      + (e.textContent || '').trim().slice(0, 40);
  for (const e of all(main)) {
    const box = e.getBoundingClientRect();
    if (!box.width || !e.checkVisibility()) continue;
    if (getComputedStyle(e).textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth)
      found.push('cut label ' + name(e));
    if (e.classList.contains('katex-display') && e.scrollWidth > e.clientWidth + 1)
      found.push(`formula cut by ${e.scrollWidth - e.clientWidth} px: ` + name(e));
    if (!['CANVAS', 'svg', 'PRE', 'TABLE'].includes(e.tagName)) continue;
    let up = parent(e), scrolls = false;
    while (up && up !== main && up.getAttribute('data-testid') !== 'stColumn') {
      if (['auto', 'scroll'].includes(getComputedStyle(up).overflowX)) scrolls = true;
      up = parent(up);
    }
    const right = (up || main).getBoundingClientRect().right;
    // a canvas to draw on must fit whole: the drawing component would scroll it sideways
    if ((!scrolls || e.tagName === 'CANVAS') && box.right > right + 2)
      found.push(`past its column by ${Math.round(box.right - right)} px: ` + name(e));
  }
  for (const plot of main.querySelectorAll('.js-plotly-plot')) {
    const edge = plot.getBoundingClientRect();
    const titles = [...plot.querySelectorAll('.gtitle, .annotation-text')]
        .map(t => [t.textContent.slice(0, 40), t.getBoundingClientRect()])
        .filter(([, b]) => b.width);
    const apart = (a, b) => a.right <= b.left + 1 || b.right <= a.left + 1
        || a.bottom <= b.top + 1 || b.bottom <= a.top + 1;
    for (const [text, box] of titles)
      if (box.left < edge.left - 1 || box.right > edge.right + 1)
        found.push('plot title cut: ' + text);
    // plotly's toolbar, laid out even while hidden (it shows on hover), clear of the title
    const bar = plot.querySelector('.modebar');
    const title = plot.querySelector('.gtitle');
    if (bar && title && bar.getBoundingClientRect().width && title.getBoundingClientRect().width
        && !apart(bar.getBoundingClientRect(), title.getBoundingClientRect()))
      found.push('toolbar over the title: ' + title.textContent.slice(0, 40));
    titles.forEach(([text, a], i) => titles.slice(i + 1).forEach(([other, b]) => {
      if (!apart(a, b)) found.push(`plot titles overlap: ${text} / ${other}`);
    }));
  }
  return [...new Set(found)];
}"""


def layout_problems(page: Page, lasting_s: float = 3.0) -> list[str]:
    """What is cut on the page once its run has ended and its layout has settled, and is still
    cut `lasting_s` later: a style can take effect a moment after the layout looked settled."""
    wait_settled(page)
    found = set(page.evaluate(PROBLEMS))
    deadline = time.monotonic() + lasting_s
    while found and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        found &= set(page.evaluate(PROBLEMS))
    return sorted(found)


PAGES = {
    "/explore?sample=0&layer=conv_2_1&cell=3,5,7": "conv_2_1 · Conv2d",  # the element
    "/explore?sample=0&layer=flatten&cell=300": "lands at index",
    "/explore?sample=0&layer=linear": "Class to explain",
    "/explore?pane=0&sample=0&layer=conv_2_1&cell=3,5,7": "conv_2_1[0, 3, 5, 7]",  # the fallback
    "/explore?sample=3&layer=conv_1_1&why=exact&target=Coat&versus=Pullover": "rounding: exact",
    "/atlas?layer=conv_1_1&channel=0": "conv_1_1, channel 0",
    "/draw": "Clear the canvas",
    "/playground": "The 2×2 max-pool from the notebook",
    "/train": "Stop training",
    "/home": "The layers",
}


@pytest.mark.parametrize(
    ("widths", "mode"),
    [((400,), ""), ((1024, 1280), ""), ((1024, 1280), "present=1")],
    ids=["phone", "laptop", "teacher"],
)
def test_nothing_is_cut(page: Page, app_url, widths, mode):
    """With the sidebar open on a laptop or projector (each page loaded at 1024 px, then the
    window widened to 1280), and on a phone (whose sidebar is folded away). Teacher mode's
    larger type (19 px) included: the prediction's class and the model's name wrap rather
    than end in "…"."""
    problems = {}
    for path, text in PAGES.items():
        page.set_viewport_size({"width": widths[0], "height": 800})
        page.goto(app_url + path + ("&" if "?" in path else "?") + mode)
        for width in widths:
            page.set_viewport_size({"width": width, "height": 800})
            if width > 640:
                expect(page.get_by_test_id("stSidebar")).to_be_visible()
            expect(page.get_by_text(text).first).to_be_visible()
            if found := layout_problems(page):
                problems[f"{path} at {width} px"] = found
    assert not problems, "\n".join(f"{p}: {', '.join(f)}" for p, f in problems.items())
