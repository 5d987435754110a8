"""Teacher mode in Chromium: controls hidden, figures taller, model and device still shown."""

from __future__ import annotations

from playwright.sync_api import expect

from harness.pages import wait_settled

from .test_browser_explore import strip_rows


def _map_height(page) -> float:
    chart = page.locator(".st-key-ex_grid .js-plotly-plot").first
    chart.wait_for()
    return chart.bounding_box()["height"]


def test_present_mode_on_the_explorer(page, app_url):
    page.goto(app_url + "/explore?sample=3&layer=conv_1_1")
    expect(page.get_by_text("Test image #")).to_be_visible()
    normal = _map_height(page)

    page.goto(app_url + "/explore?sample=3&layer=conv_1_1&present=1")
    expect(page.get_by_role("heading", name="Layer explorer")).to_be_visible()
    expect(page.get_by_text("Test image #")).to_be_hidden()  # the input pickers
    expect(page.get_by_role("button", name="Next ▶")).to_be_visible()  # stepping stays
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("Model in use")
    expect(sidebar).to_contain_text("Device:")
    expect(sidebar.get_by_text("Upload a checkpoint")).to_be_hidden()
    assert _map_height(page) > 1.2 * normal
    page.get_by_role("button", name="Next ▶").click()  # it stays on while stepping
    expect(page.get_by_text("relu_1_1 · ReLU")).to_be_visible()
    assert "present=1" in page.url


def test_present_mode_strip_is_one_row_and_the_maps_are_on_the_first_screen(page, app_url):
    """A 1080p projector: all fourteen layers in one row of the strip, whole names, and the
    selected layer's maps starting on the first screen (no scrolling after Next)."""
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(app_url + "/explore?sample=3&layer=conv_1_2&present=1")
    grid = page.locator(".st-key-ex_grid .js-plotly-plot").first
    grid.wait_for()
    buttons = page.locator('[class*="st-key-ex_pick_"] button')
    expect(buttons).to_have_count(14)
    assert strip_rows(page) == [14]
    for k in range(14):  # whole names, not cut off
        assert buttons.nth(k).evaluate("b => b.scrollWidth <= b.clientWidth + 1")
    assert grid.bounding_box()["y"] < 1080 - 150


def test_present_mode_puts_the_input_name_level_with_the_prediction(page, app_url):
    """With the pickers hidden, the input's name sits beside the prediction card's middle,
    not at its top above a blank band."""
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(app_url + "/explore?sample=3&layer=conv_1_2&present=1")
    name = page.get_by_role("heading", name="test image 3: Trouser")
    card = page.get_by_test_id("stMetric")
    expect(name).to_be_visible()
    expect(card).to_be_visible()
    wait_settled(page)
    box = page.get_by_test_id("stColumn").filter(has=card).first.bounding_box()
    mid = name.bounding_box()["y"] + name.bounding_box()["height"] / 2
    assert abs(mid - (box["y"] + box["height"] / 2)) < 40, (mid, box)


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
