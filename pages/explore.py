"""Layer explorer: step an input through every layer of the live TinyVGG."""

import streamlit as st

from ui.frame import ensure_navigation

ensure_navigation()

from tinyvgg.data import DataError  # noqa: E402
from ui.explore import guide, pane  # noqa: E402
from ui.explore import state as es  # noqa: E402
from ui.explore import view as ev  # noqa: E402
from ui.present import controls, presenting  # noqa: E402
from ui.resources import device_label  # noqa: E402
from ui.state import model_in_use  # noqa: E402
from ui.why import why_ui  # noqa: E402

if not presenting():  # on a projector the sidebar names the page: the maps need the room
    st.title("Layer explorer")
current = model_in_use()
st.session_state[es.K_LINK_PROBLEMS] = es.init_state(current.model)  # shown by the layer view
guide.welcome_ui(presenting(), current.model)

WHY_HELP = "Which pixels made the model choose its class: five ways, one of them exact."
if presenting():  # beside teacher mode's switch: the first screen keeps the maps whole
    st.sidebar.toggle("Why this class?", key="ex_why_open", help=WHY_HELP)


@st.fragment
def explorer() -> None:
    """Another input reruns only this part of the page (less for the browser to draw again);
    its own parts below rerun alone for what only they show."""
    # teacher mode: the input's name stands level with the prediction, not above a blank band
    top_left, top_right = (st.columns([3, 2], vertical_alignment="center") if presenting()
                           else st.columns([3, 1]))  # fmt: skip
    with top_left, controls("explore-input"):
        ev.input_ui(current.model)
    try:
        inp = es.current_input(current.model)
    except DataError as e:
        st.error(str(e))
        return
    tr = es.traced(current, inp)
    if presenting():  # the pickers are hidden: say what the input is
        top_left.subheader(ev.whole_names(inp.caption, current.model.classes))
    with top_right:
        ev.prediction_card(tr, inp)
        if not presenting():  # the sidebar says it too
            st.caption(f"{current.name} on {device_label()}")
    why_view(tr, inp)
    layer_view(tr, inp)


@st.fragment
def why_view(tr: es.Trace, inp: es.ExploreInput) -> None:
    """Its pickers rerun only this part of the page; closed, it costs nothing."""
    if not presenting():
        st.toggle("Why this class?", key="ex_why_open", help=WHY_HELP)
    if st.session_state.get("ex_why_open"):
        with st.container(key="ex_why", border=True):
            probs = tr.records[-1].output[0]
            why_ui("ex", current.key, current.model, inp.tensor, inp.key, probs)
    es.write_query(current.model)


@st.fragment
def layer_view(tr: es.Trace, inp: es.ExploreInput) -> None:
    """Stepping and cell picks rerun only this part of the page: less to send and repaint."""
    for problem in st.session_state.pop(es.K_LINK_PROBLEMS, []):  # gone after the first step
        st.warning(f"Ignored part of the link: {problem}")
    ev.overview_ui(tr)
    if st.query_params.get("pane") != "0" and pane.available():  # stepped in the page
        pane.pane_ui(tr, inp)
    else:  # Streamlit's own charts: where plotly.js cannot be served, and with ?pane=0
        layer = ev.stepper_ui()
        guide.lesson_ui(tr.records, layer, inp.true_label, current.model.classes)
        ev.layer_ui(tr, inp)
    es.write_query(current.model)


explorer()
