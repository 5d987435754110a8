"""Home: what this app is, the model and device in use, and where to go."""

import streamlit as st

from tinyvgg.model import LAYER_NAMES
from ui.frame import PAGES, TITLE, ensure_navigation
from ui.resources import device_label, model_summary
from ui.state import model_in_use

ensure_navigation()
current = model_in_use()

st.title(TITLE)
st.write(
    "Step a Fashion-MNIST garment, a random tensor or your own drawing through every layer of a "
    "live TinyVGG, see each feature map and the exact arithmetic behind any cell, and train "
    "your own model in a few seconds."
)
left, right = st.columns(2)
left.metric("Model", current.name)
left.caption(model_summary(current.model, current.metrics))
right.metric("Device", device_label().split(" ")[0])
right.caption(device_label())

st.subheader("The layers")
st.code(" → ".join(["input", *LAYER_NAMES, "softmax"]), language=None, wrap_lines=True)
with st.expander("The model in PyTorch"):
    st.code(repr(current.model), language="python")

st.subheader("Pages")
for path, title, _url, icon in PAGES:
    st.page_link(path, label=title, icon=icon)
