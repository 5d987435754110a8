"""TinyVGG CNN Explainer: `streamlit run app.py`. Entry point and navigation only."""

import streamlit as st

from ui.frame import ICON, PAGES, TITLE, sidebar

st.set_page_config(page_title=TITLE, page_icon=ICON, layout="wide")
pages = [
    st.Page(path, title=title, url_path=url, icon=icon, default=i == 0)
    for i, (path, title, url, icon) in enumerate(PAGES)
]
page = st.navigation(pages)
sidebar()
page.run()
