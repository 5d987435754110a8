"""The app in Debian's Chromium: it serves, and a first deep link goes through app.py."""

from __future__ import annotations

from playwright.sync_api import expect

from ui.frame import TITLE

from .servers import streamlit_server


def test_home_in_a_browser(page, app_url):
    page.goto(app_url + "/")
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("hidden_units=10")
    expect(sidebar).to_contain_text("Device")


def test_first_request_is_a_deep_link(page, real_data):
    with streamlit_server() as url:
        page.goto(url + "/home?x=1")
        expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
        # app.py ran: its navigation (not Streamlit's page-folder one) and its sidebar are there
        expect(page.get_by_test_id("stSidebar")).to_contain_text("Model in use")
        # Streamlit's page-folder navigation would list the entry script as a page named "app"
        expect(page.get_by_role("link", name="app", exact=True)).to_have_count(0)
        assert "x=1" in page.url
