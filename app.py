"""TinyVGG CNN Explainer: `streamlit run app.py`. Entry point and navigation only."""

import streamlit as st

from ui import present
from ui.frame import ICON, PAGES, TITLE, page_style, sidebar
from ui.resources import use_app_threads
from ui.state import note_page

st.set_page_config(page_title=TITLE, page_icon=ICON, layout="wide")
use_app_threads()  # before any page's tensors


def start() -> None:
    """`/` opens the explorer at its own address, so every link reads `/explore?...`."""
    st.switch_page("pages/explore.py", query_params=st.query_params.to_dict())


pages = [st.Page(start, title="Start", default=True, visibility="hidden")]
pages += [st.Page(path, title=title, url_path=url, icon=icon) for path, title, url, icon in PAGES]
page = st.navigation(pages)
note_page(page.url_path)
present.apply()
page_style()
sidebar()
page.run()
