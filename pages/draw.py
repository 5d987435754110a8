"""Draw, upload or photograph a garment: the preprocessing step by step, then a prediction."""

import streamlit as st

from ui.frame import ensure_navigation, stacking_columns

ensure_navigation()

from tinyvgg.calibration import UNSURE_BELOW, is_unsure, temperature_of  # noqa: E402
from tinyvgg.predict import probabilities, top_k  # noqa: E402
from tinyvgg.preprocess import (  # noqa: E402
    NearlyEmpty,
    Preprocessed,
    PreprocessError,
    preprocess,
)
from ui import styles  # noqa: E402
from ui.draw_inputs import CANVAS_PX, camera_ui, canvas_ui, upload_ui  # noqa: E402
from ui.figures.draw import input_preview, step_tile, top_k_bars  # noqa: E402
from ui.present import chart  # noqa: E402
from ui.resources import app_device  # noqa: E402
from ui.state import DrawnInput, drawing_model, set_drawn_input  # noqa: E402
from ui.why import link_params, why_ui  # noqa: E402

EXPLORER = "pages/explore.py"
SOURCE_KEY = "draw_source"  # the open tab: "Draw", "Upload" or "Camera"
GO_KEY = "draw_go_explore"  # set by the explore button's callback
TILE_PX = 150  # each preprocessing step's square tile


@st.cache_resource(max_entries=4, ttl=900, show_spinner=False)
def _preprocess_file(data: bytes, auto_invert: bool, fill: bool) -> Preprocessed:
    # Kept as is (not pickled like cache_data would): a photo's steps are megabytes; read-only.
    return preprocess(data, auto_invert=auto_invert, fill_outlines=fill)


def _explore(drawn: DrawnInput) -> None:
    # A callback, so the click survives a rerun before the script reaches the button.
    set_drawn_input(drawn)
    st.session_state[GO_KEY] = link_params("draw")  # the explorer opens "why" as it is here


def show_prediction(pre: Preprocessed, label: str) -> None:
    """The top 3 of the model in use, the input it saw, and the way to the explorer."""
    current = drawing_model()
    temperature = temperature_of(current.metrics)
    probs = probabilities(current.model, pre.tensor, app_device(), temperature)
    top = top_k(probs, 3)
    st.markdown(f"Prediction: **{top[0][0]}** ({100 * top[0][1]:.1f}%)")
    if is_unsure(probs):
        st.warning(unsure_sentence(top), icon=":material/help:")
    left, right = st.columns([1, 1.2])
    chart(input_preview(pre.tensor, height=260), key="draw_preview", where=left)
    chart(top_k_bars(top, height=260), key="draw_top3", where=right)
    calibration = (
        f" · probabilities calibrated (temperature {temperature:.2f}, fitted on held-out "
        "training images)"
        if temperature != 1.0
        else ""
    )
    st.caption(f"Model: {current.name} · input: {label}{calibration}")
    drawn = DrawnInput(pre.tensor.detach().cpu().clone(), label)
    st.button("Explore layer by layer", type="primary", icon=":material/layers:",
              on_click=_explore, args=(drawn,))  # fmt: skip
    if st.toggle(
        "Why this class?",
        key="draw_why_open",
        help="Which pixels made the model choose its class: five ways, one exact.",
    ):
        with st.container(key="draw_why", border=True):
            why_ui("draw", current.key, current.model, drawn.tensor, drawn.key, probs, quick=True)


def unsure_sentence(top: list[tuple[str, float]]) -> str:
    """What the page says when the top class is under UNSURE_BELOW."""
    (best, p), *others = top
    alternatives = " or ".join(f"{name} ({100 * q:.0f}%)" for name, q in others)
    return (
        f"The model is unsure: its best guess, {best}, has only {100 * p:.0f}% (under "
        f"{100 * UNSURE_BELOW:.0f}%, its guesses on drawings are right only about one time in "
        f"three). It could as well be {alternatives}. A bolder, larger drawing that fills the "
        "canvas, or one more detail (a collar, laces, a handle), often settles it."
    )


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

st.title("Draw or upload a garment")
st.write(
    "Draw a garment, upload a picture or take a photo. The page turns it into the 28×28 greyscale "
    "image the model was trained on (a light garment on black, filling the frame), step by step, "
    "and shows what the model makes of it."
)
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
        photo = camera_ui() if camera_tab.open else None

pre, label = None, ""
with outputs:
    st.subheader("Prediction")
    auto_invert = st.toggle(
        "Invert dark-on-light images automatically",
        value=True,
        key="draw_auto_invert",
        help="Fashion-MNIST garments are light on black. When the garment is darker than its "
        "background, the image is inverted. Turn this off for a photo of a light garment that "
        "already has a dark background.",
    )
    fill = st.toggle(
        "Fill closed outlines",
        value=False,
        key="draw_fill",
        help="Fill the inside of a closed outline with ink, so an outline looks like the "
        "dataset's solid garments. It helps the model trained on photos only; the model for "
        "drawings learned outlines, and filling hides inner lines such as a zip or a collar.",
    )
    hint = "Draw a garment on the canvas to see what the model makes of it."
    try:
        if draw_tab.open and drawn is not None:
            array, paper = drawn
            pre = preprocess(array, auto_invert=auto_invert, background=paper, fill_outlines=fill)
            label = "drawing"
        elif upload_tab.open:
            hint = (
                f"Upload a picture of a garment, up to {st.get_option('server.maxUploadSize')} "
                "MB, to see what the model makes of it. A file shown in red was refused: point at "
                "it to see why."
            )
            if isinstance(uploaded, PreprocessError):
                raise uploaded
            if uploaded is not None:
                with st.spinner("Reading the image…"):
                    pre = _preprocess_file(uploaded[0], auto_invert, fill)
                label = f"upload: {uploaded[1]}"
        elif camera_tab.open:
            hint = "Take a photo of a garment to see what the model makes of it."
            if photo is not None:
                pre, label = _preprocess_file(photo, auto_invert, fill), "camera photo"
    except NearlyEmpty as e:  # nothing drawn yet, as far as the model could tell
        st.info(f"{e} {hint}")
    except PreprocessError as e:
        st.error(str(e))
    else:
        if pre is None:
            st.info(hint)
        else:
            show_prediction(pre, label)
            for note in pre.notes:
                st.info(note, icon=":material/info:")

if pre is not None:
    st.subheader("From your image to the model's input")
    show_steps(pre)
