"""The channel atlas in Debian's Chromium: the page from the sidebar, its images and bars."""

from __future__ import annotations

from playwright.sync_api import expect

from harness.pages import expect_url

T = 60_000  # ms: the first build of the atlas, on a busy 2-core machine


def _images_loaded(page, n: int) -> None:
    imgs = page.get_by_test_id("stMain").get_by_test_id("stImage").locator("img")
    expect(imgs).to_have_count(n, timeout=T)
    page.wait_for_function(
        """n => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stImage"] img')]
                .filter(i => i.complete && i.naturalWidth > 0).length === n""",
        arg=n, timeout=T,
    )  # fmt: skip


def test_the_atlas_from_the_sidebar_then_one_channel(page, app_url):
    page.goto(app_url + "/explore?sample=0")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Channel atlas").click()
    expect(page.get_by_role("heading", name="Channel atlas")).to_be_visible(timeout=T)
    expect(page.get_by_role("heading", name="conv_2_1, channel 9")).to_be_visible(timeout=T)
    _images_loaded(page, 10 * 18)  # ten channels, their 9 strongest and 9 most negative
    bars = page.locator(".js-plotly-plot g.barlayer g.trace")
    expect(bars).to_have_count(10, timeout=T)  # a trace per class
    page.goto(app_url + "/atlas?layer=max_pool_2&channel=3")
    expect(page.get_by_role("heading", name="max_pool_2, channel 3")).to_be_visible(timeout=T)
    _images_loaded(page, 9)
    expect(page.get_by_text("#", exact=False).first).to_be_visible()
    expect_url(page, "channel=3", "layer=max_pool_2")
