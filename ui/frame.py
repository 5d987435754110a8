"""The frame every page shares: page config, navigation and the sidebar."""

from __future__ import annotations

import streamlit as st

from ui import state, styles
from ui.present import controls, toggle_ui
from ui.resources import FILE_MB, device_label, model_summary

TITLE = "TinyVGG CNN Explainer"
ICON = "🧥"

# (page file, title, URL path, icon); app.py builds the navigation from this list, in order.
PAGES = [
    ("pages/explore.py", "Explore layers", "explore", ":material/layers:"),
    ("pages/atlas.py", "Channel atlas", "atlas", ":material/grid_view:"),
    ("pages/draw.py", "Draw or upload", "draw", ":material/draw:"),
    ("pages/playground.py", "Layer playground", "playground", ":material/tune:"),
    ("pages/train.py", "Train", "train", ":material/model_training:"),
    ("pages/home.py", "About", "home", ":material/info:"),
]


def page_style() -> None:
    """Styles every page relies on (app.py runs this before the page)."""
    st.html(styles.STACK)


def stacking_columns(spec, key: str, min_width: str | None = None, **kwargs) -> list:
    """`st.columns` that stack when the page is too narrow for each to keep 20rem (or
    `min_width`, a CSS length), rather than squeeze what is in them."""
    if min_width is not None:
        st.html(styles.stack_min(key, min_width))
    return st.container(key=f"stack_{key}").columns(spec, **kwargs)


def ensure_navigation() -> None:
    """Route a first deep link on a fresh server through app.py's navigation.

    With page files in a folder named `pages/`, Streamlit runs them directly (its older
    multipage mode) until some session has called `st.navigation`, so the very first request
    to `/explore` would bypass app.py. Switching that mode off and rerunning makes Streamlit
    run app.py, which resolves the same URL path to the same page. Every page calls this first.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def _on_upload() -> None:
    upload = st.session_state.get("checkpoint_upload")
    if upload is not None and upload.size > FILE_MB * 2**20:
        st.session_state["checkpoint_error"] = (
            f"{upload.name}: the file is {upload.size / 2**20:.1f} MB, over the {FILE_MB} MB "
            "limit for checkpoints."
        )
    elif upload is not None:
        st.session_state["checkpoint_error"] = state.load_upload(upload.name, upload.getvalue())


def model_picker() -> None:
    """Which model every page uses: pretrained, untrained, trained here, or uploaded."""
    options = state.model_options()
    if (pending := st.session_state.pop(state.PENDING_MODEL_KEY, None)) in options:
        st.session_state[state.MODEL_KEY] = pending
    if st.session_state.get(state.MODEL_KEY) not in options:
        st.session_state[state.MODEL_KEY] = state.PRETRAINED
    st.selectbox("Model", options, key=state.MODEL_KEY, format_func=state.model_label)
    # an upload's error goes above the button (the open upload panel covers what is below
    # it), in a container that is always there: the panel keeps its place and stays open
    with st.container():
        if error := st.session_state.get("checkpoint_error"):
            st.error(error)
    with st.popover("Upload a checkpoint", width="stretch"):
        st.file_uploader(
            "A .pt/.pth file: this app's checkpoint or a notebook state_dict",
            type=["pt", "pth"],
            key="checkpoint_upload",
            on_change=_on_upload,
            max_upload_size=FILE_MB,
        )


def sidebar() -> None:
    """The model picker, and the model and device in use, on every page."""
    with st.sidebar:
        with controls("model"):
            model_picker()
        current = state.drawing_model() if state.on_draw_page() else state.model_in_use()
        st.caption("Model in use", help=state.DRAWING_WHY if current.name == state.DRAWING
                   else None)  # fmt: skip
        st.markdown(f"**{current.name}** · {model_summary(current.model, current.metrics)}")
        st.caption(f"Device: **{device_label()}**")
        toggle_ui()
