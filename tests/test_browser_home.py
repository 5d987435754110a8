"""The app in Debian's Chromium: it serves, and a first deep link goes through app.py."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from harness.pages import expect_url
from harness.servers import streamlit_server
from ui.frame import TITLE


def test_root_opens_the_explorer_at_its_own_address(page, app_url):
    page.goto(app_url + "/")
    expect(page.get_by_role("heading", name="Layer explorer")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/explore"))
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("hidden_units=10")
    expect(sidebar).to_contain_text("Device")


def test_about_page(page, app_url):
    page.goto(app_url + "/home")
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav")).to_contain_text("Explore layers")


def test_first_request_is_a_deep_link(page, real_data):
    with streamlit_server() as url:
        page.goto(url + "/home?x=1")
        expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
        # app.py ran: its navigation (not Streamlit's page-folder one) and its sidebar are there
        expect(page.get_by_test_id("stSidebar")).to_contain_text("Model in use")
        # Streamlit's page-folder navigation would list the entry script as a page named "app"
        expect(page.get_by_role("link", name="app", exact=True)).to_have_count(0)
        expect_url(page, "x=1")


def test_a_bad_checkpoint_s_error_shows_while_the_upload_panel_is_open(page, app_url):
    page.goto(app_url + "/home")
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("button", name="Upload a checkpoint").click()
    panel = page.get_by_test_id("stPopoverBody")
    panel.locator("input[type=file]").set_input_files(
        {"name": "bad.pt", "mimeType": "application/octet-stream", "buffer": b"not a checkpoint"}
    )
    error = sidebar.get_by_test_id("stAlert").filter(has_text="bad.pt")
    expect(error).to_be_visible()
    expect(panel).to_be_visible()  # still open: the error must not be under it
    on_top = """e => { const r = e.getBoundingClientRect();
        return e.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }"""
    # the panel moves to its anchor's new place a frame or more after the error comes: up to 5 s
    error.evaluate(f"""e => new Promise(done => {{ const t0 = performance.now();
        const f = () => ({on_top})(e) || performance.now() - t0 > 5000 ? done()
                                                                         : requestAnimationFrame(f);
        f(); }})""")  # fmt: skip
    assert error.evaluate(on_top), "the upload panel covers the error"
