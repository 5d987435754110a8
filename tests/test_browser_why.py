"""'Why this class?' in Debian's Chromium: the overlay drawn for a sample, a random tensor and
a drawing; the draw page's top 3 one click away; teacher mode's larger map."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from harness.pages import expect_url

from .test_browser_draw import T, _draw_trousers, _open


def _overlay(page: Page, key: str):
    """The section's map once plotly has drawn it: both heatmaps (the input in grey, the
    evidence over it) and the colour bar of the evidence's scale."""
    plot = page.locator(f".st-key-{key} .js-plotly-plot").first
    expect(plot.locator("g.hm image")).to_have_count(2, timeout=T)
    expect(plot.locator("g.colorbar")).to_have_count(1, timeout=T)
    return plot


def test_the_map_is_drawn_for_a_sample_and_a_random_tensor(page, app_url):
    page.goto(app_url + "/explore?sample=5&why=ig&target=Trouser&versus=Dress")
    plot = _overlay(page, "ex_why")
    expect(plot.locator("g.g-gtitle")).to_contain_text("Integrated Gradients")
    expect(plot.locator("g.g-gtitle")).to_contain_text("why Trouser and not Dress")
    expect(page.locator(".st-key-ex_why")).to_contain_text("with ")  # "… with 50 steps."
    page.goto(app_url + "/explore?source=random&seed=3&why=gradcam")
    plot = _overlay(page, "ex_why")
    expect(plot.locator("g.g-gtitle")).to_contain_text("Grad-CAMwhy ")  # two lines
    # closed, the section goes, and the link with it
    page.get_by_text("Why this class?", exact=True).click()
    expect(page.locator(".st-key-ex_why")).to_have_count(0, timeout=T)
    page.wait_for_function("() => !location.search.includes('why=')", timeout=T)


def test_a_drawing_why_then_the_same_in_the_explorer(page, app_url):
    _open(page, app_url)
    _draw_trousers(page)
    expect(page.get_by_text("Prediction:", exact=False)).to_be_visible(timeout=T)
    page.get_by_text("Why this class?", exact=True).click()
    plot = _overlay(page, "draw_why")
    expect(plot.locator("g.g-gtitle")).to_contain_text("Exact decompositionwhy ")
    third = page.locator(".st-key-draw_why").get_by_role("button").nth(2)  # the top 3's third
    name = third.inner_text().split(" · ")[0]
    third.click()
    expect(plot.locator("g.g-gtitle")).to_contain_text(f"why {name}", timeout=T)
    page.get_by_role("button", name="Explore layer by layer").click()
    expect(page.get_by_role("heading", name="Layer explorer")).to_be_visible(timeout=T)
    plot = _overlay(page, "ex_why")
    expect(plot.locator("g.g-gtitle")).to_contain_text(f"Exact decompositionwhy {name}")
    expect_url(page, "why=exact", "source=drawing")


def test_teacher_mode_shows_the_map_larger(page, app_url):
    heights = []
    for present in ("0", "1"):
        page.goto(app_url + f"/explore?sample=2&why=saliency&present={present}")
        plot = _overlay(page, "ex_why")
        heights.append(plot.bounding_box()["height"])
    assert heights[1] >= 1.3 * heights[0], heights
