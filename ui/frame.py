"""The frame every page shares: page config, navigation and the sidebar."""

from __future__ import annotations

import streamlit as st

from ui.resources import device_label, model_summary, shipped_model

TITLE = "TinyVGG CNN Explainer"
ICON = "🧥"

# Page files and their URL paths; app.py builds the navigation from this list.
PAGES = [
    ("pages/home.py", "Home", "home", ":material/home:"),
]


def ensure_navigation() -> None:
    """Route a first deep link on a fresh server through app.py's navigation.

    With page files in a folder named `pages/`, Streamlit runs them directly (its older
    multipage mode) until some session has called `st.navigation`, so the very first request
    to `/explore` would bypass app.py. Switching that mode off and rerunning makes Streamlit
    run app.py, which resolves the same URL path to the same page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def sidebar() -> None:
    """The model and device in use, on every page."""
    model, metrics = shipped_model()
    with st.sidebar:
        st.caption("Model in use")
        st.markdown(f"**Pretrained** · {model_summary(model, metrics)}")
        st.caption(f"Device: **{device_label()}**")
