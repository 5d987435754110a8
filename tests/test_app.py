"""The app's frame and home page through Streamlit's AppTest (no browser)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tinyvgg.device import describe, pick_device
from ui.frame import TITLE

APP = "../app.py"  # AppTest resolves paths against this file


def test_home_shows_title_model_and_device():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == TITLE
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "TinyVGG" in sidebar and "hidden_units=10" in sidebar
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert describe(pick_device()) in captions
    assert any("Device" in m.label for m in at.metric)
