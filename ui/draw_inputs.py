"""The draw page's three inputs: the canvas, the file uploader and the camera.

Each returns what the page preprocesses, or None while there is nothing to use yet.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from tinyvgg.preprocess import FORMAT_NAMES, check_file_size
from ui import styles
from ui.resources import FILE_MB
from ui.state import entered_page

CANVAS_PX = 320
PAPER = {"White": (255, 255, 255), "Black": (0, 0, 0)}
HEX = {"Black": "#000000", "White": "#ffffff"}  # ink choices, black first
TOOLS = {"Freehand": "freedraw", "Line": "line", "Rectangle": "rect", "Circle": "circle",
         "Polygon": "polygon"}  # fmt: skip
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]
SAVED_KEY = "draw_saved"  # the canvas's drawing as sent: (Fabric's JSON, RGBA array), kept
INITIAL_KEY = "draw_initial"  # the JSON the canvas was given when the page was entered


def _flip_ink() -> None:  # new paper: ink in the contrasting colour, so strokes show
    st.session_state["draw_ink"] = "White" if st.session_state["draw_paper"] == "Black" else "Black"


def _clear() -> None:  # a new key gives a new, empty canvas
    st.session_state["draw_clears"] = st.session_state.get("draw_clears", 0) + 1
    st.session_state[SAVED_KEY] = st.session_state[INITIAL_KEY] = None


def canvas_ui() -> tuple[np.ndarray, tuple[int, int, int]] | None:
    """The canvas and its tools; (RGBA array, paper colour) once something is drawn.

    The paper is a colour behind the canvas, which the canvas does not send back: its pixels
    arrive as ink on a transparent background, and the page composites them onto the paper.
    """
    c1, c2 = st.columns(2)
    paper = c1.radio("Paper", list(PAPER), key="draw_paper", on_change=_flip_ink, horizontal=True)
    ink = c2.radio("Ink", [*HEX, "Eraser"], key="draw_ink", horizontal=True)
    c3, c4 = st.columns(2)
    tool = c3.selectbox("Tool", list(TOOLS), key="draw_tool", help="Shapes are filled with ink.")
    width = c4.slider("Brush width", 2, 60, 22, key="draw_brush")
    colour = HEX[paper] if ink == "Eraser" else HEX[ink]
    clears = st.session_state.setdefault("draw_clears", 0)
    st.html(styles.paper(HEX[paper]))
    saved = st.session_state.get(SAVED_KEY)
    if entered_page():  # back from another page: the drawing is still there
        st.session_state[INITIAL_KEY] = saved[0] if saved else None
    result = st_canvas(
        fill_color=colour, stroke_width=width, stroke_color=colour,
        height=CANVAS_PX, width=CANVAS_PX, initial_drawing=st.session_state.get(INITIAL_KEY),
        drawing_mode=TOOLS[tool], return_image_data=True, key=f"draw_canvas_{clears}",
    )  # fmt: skip
    drawn = (result.json_data, result.image_data)
    if result.image_data is None and st.session_state.get(INITIAL_KEY) is not None:
        drawn = saved  # restored: its pixels come with the next stroke; until then, the last
    elif result.image_data is not None:
        st.session_state[SAVED_KEY] = drawn
    st.caption(
        "Undo, redo and reset are in the canvas's toolbar (hover over its top right). The eraser "
        "paints with the paper's colour; a polygon closes when you click its first point again."
    )
    st.button("Clear the canvas", icon=":material/delete:", on_click=_clear)
    if not (drawn[0] or {}).get("objects") or drawn[1] is None:
        return None
    return drawn[1], PAPER[paper]


def upload_ui() -> tuple[bytes, str] | None:
    """The file uploader; (bytes, file name), or PreprocessError for a file over the limit
    (FILE_MB: the server's own limit is a dataset zip's)."""
    up = st.file_uploader(
        f"An image file: {FORMAT_NAMES} (an animated image gives its first frame), up to "
        f"{FILE_MB} MB",
        type=UPLOAD_TYPES,
        key="draw_upload",
        max_upload_size=FILE_MB,
    )
    if up is None:
        return None
    check_file_size(up.size, FILE_MB)
    return up.getvalue(), up.name


def camera_ui(thing: str) -> bytes | None:
    """The camera, asking for a photo of `thing` ("a garment"); call it only while its tab is
    open (the browser asks when it appears)."""
    st.caption(
        "Browsers allow the camera only on localhost or over HTTPS; on a plain-HTTP address, "
        "take the photo with another app and upload it. A plain background works best."
    )
    photo = st.camera_input(f"Take a photo of {thing}", key="draw_camera")
    if photo is not None:
        check_file_size(photo.size, FILE_MB)  # the server takes up to a dataset's size
    return photo.getvalue() if photo is not None else None
