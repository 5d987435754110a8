"""Draw, upload or photograph an image (a garment for the shipped model): the preprocessing step
by step, then the model in use's prediction in its own classes."""

import streamlit as st

from ui.frame import ensure_navigation, stacking_columns

ensure_navigation()

from tinyvgg.calibration import is_unsure  # noqa: E402
from tinyvgg.datasets import FASHION, is_builtin  # noqa: E402
from tinyvgg.preprocess import NearlyEmpty, Preprocessed, PreprocessError, read_input  # noqa: E402
from ui import draw, styles  # noqa: E402
from ui.draw_inputs import CANVAS_PX, camera_ui, canvas_ui, upload_ui  # noqa: E402
from ui.figures.draw import input_preview, step_tile, top_k_bars  # noqa: E402
from ui.present import chart  # noqa: E402
from ui.resources import FILE_MB  # noqa: E402
from ui.state import DrawnInput, ModelInUse, drawing_model, set_drawn_input  # noqa: E402
from ui.why import link_params, why_ui  # noqa: E402

EXPLORER = "pages/explore.py"
SOURCE_KEY = "draw_source"  # the open tab: "Draw", "Upload" or "Camera"
GO_KEY = "draw_go_explore"  # set by the explore button's callback
TILE_PX = 150  # each preprocessing step's square tile


def _explore(drawn: DrawnInput, names: tuple[str, ...]) -> None:
    # A callback, so the click survives a rerun before the script reaches the button.
    set_drawn_input(drawn)
    st.session_state[GO_KEY] = link_params("draw", names)  # the explorer opens "why" as here


def show_prediction(pre: Preprocessed, label: str, current: ModelInUse) -> None:
    """The top 3 of the model in use, the input it saw, and the way to the explorer."""
    ans = draw.answer(pre, current)
    st.markdown(f"Prediction: **{ans.top[0][0]}** ({100 * ans.top[0][1]:.1f}%)")
    if is_unsure(ans.probs):
        st.warning(draw.unsure_sentence(ans.top, current.model.dataset == FASHION),
                   icon=":material/help:")  # fmt: skip
    left, right = st.columns([1, 1.2])
    chart(input_preview(pre.tensor, height=260), key="draw_preview", where=left)
    chart(top_k_bars(ans.top, height=260), key="draw_top3", where=right)
    st.caption(f"Model: {current.name} · input: {label}{draw.calibration_note(ans.temperature)}")
    drawn = DrawnInput(pre.tensor.detach().cpu().clone(), label)
    st.button("Explore layer by layer", type="primary", icon=":material/layers:",
              on_click=_explore, args=(drawn, current.model.classes))  # fmt: skip
    if st.toggle(
        "Why this class?",
        key="draw_why_open",
        help="Which pixels made the model choose its class: five ways, one exact.",
    ):
        with st.container(key="draw_why", border=True):
            why_ui("draw", current.key, current.model, ans.x, draw.input_key(drawn, ans),
                   ans.probs, quick=True)  # fmt: skip


def show_steps(pre: Preprocessed) -> None:
    """Each preprocessing step's image, with what it did: equal tiles that wrap to the screen
    (two a row on a phone, five or more on a laptop)."""
    st.html(styles.DRAW_STEPS)
    with st.container(key="draw_steps", horizontal=True, gap="medium"):
        for i, step in enumerate(pre.steps):
            (w, h), tile = step.size, st.container(width=TILE_PX)
            tile.image(step_tile(step.image, TILE_PX), output_format="PNG",
                       caption=f"{i + 1}. {step.name} · {w}×{h}")  # fmt: skip
            tile.caption(step.note)


if (why := st.session_state.pop(GO_KEY, None)) is not None:  # see ui.state.drawn_input()
    st.switch_page(EXPLORER, query_params={"source": "drawing", "layer": "input", **why})

current = drawing_model()
fashion = current.model.dataset == FASHION
thing = "a garment" if fashion else "one of the model's classes"
st.title("Draw or upload a garment" if fashion else "Draw or upload an image")
st.write(draw.intro(current.model, fashion))
# the canvas whole: with the sidebar open on a 1024 px screen, the prediction goes under it
inputs, outputs = stacking_columns(
    2, "draw_io", min_width=f"max(22rem, {CANVAS_PX + 20}px)", gap="large"
)
with inputs:
    draw_tab, upload_tab, camera_tab = st.tabs(
        ["Draw", "Upload", "Camera"], key=SOURCE_KEY, on_change="rerun"
    )
    with draw_tab:
        drawn = canvas_ui()
    with upload_tab:
        try:
            uploaded = upload_ui()
        except PreprocessError as e:  # over the size limit: shown with the prediction
            uploaded = e
    with camera_tab:  # only while open: the browser asks for the camera when it appears
        try:
            photo = camera_ui(thing) if camera_tab.open else None
        except PreprocessError as e:  # over the size limit: shown with the prediction
            photo = e

pre, label = None, ""
with outputs:
    st.subheader("Prediction")
    own = 0 if is_builtin(current.model.dataset) else current.model.config.input_shape
    auto_invert, fill = False, False
    if own:
        st.caption(f"Read as the images of {current.model.dataset} were: letterboxed to 28×28, "
                   "not inverted.")  # fmt: skip
    else:
        auto_invert = st.toggle("Invert dark-on-light images automatically", value=True,
                                key="draw_auto_invert", help=draw.invert_help(fashion))  # fmt: skip
        fill = st.toggle("Fill closed outlines", value=False, key="draw_fill",
                         help=draw.fill_help(fashion))  # fmt: skip
    hint = f"Draw {thing} on the canvas to see what the model makes of it."
    try:
        if draw_tab.open and drawn is not None:
            array, paper = drawn
            pre = read_input(array, own, auto_invert=auto_invert, fill_outlines=fill,
                             background=paper)  # fmt: skip
            label = "drawing"
        elif upload_tab.open:
            hint = (
                f"Upload a picture of {thing}, up to {FILE_MB} MB, to see what the model makes of "
                "it. A file shown in red was refused: point at it to see why."
            )
            if isinstance(uploaded, PreprocessError):
                raise uploaded
            if uploaded is not None:
                with st.spinner("Reading the image…"):
                    pre = draw.preprocess_file(uploaded[0], auto_invert, fill, own)
                label = f"upload: {uploaded[1]}"
        elif camera_tab.open:
            hint = f"Take a photo of {thing} to see what the model makes of it."
            if isinstance(photo, PreprocessError):
                raise photo
            if photo is not None:
                pre, label = draw.preprocess_file(photo, auto_invert, fill, own), "camera photo"
    except NearlyEmpty as e:  # nothing drawn yet, as far as the model could tell
        st.info(f"{e} {hint}")
    except PreprocessError as e:
        st.error(str(e))
    else:
        if pre is None:
            st.info(hint)
        else:
            show_prediction(pre, label, current)
            for note in pre.notes:
                st.info(note, icon=":material/info:")

if pre is not None:
    st.subheader("From your image to the model's input")
    show_steps(pre)
