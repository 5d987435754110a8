"""Home: what this app is, the model and device in use, and where to go."""

import streamlit as st

from tinyvgg.model import LAYER_NAMES
from ui.frame import PAGES, TITLE, ensure_navigation
from ui.resources import device_label, model_summary, shipped_model

ensure_navigation()
model, metrics = shipped_model()

st.title(TITLE)
st.write(
    "Step a Fashion-MNIST garment, a random tensor or your own drawing through every layer of a "
    "live TinyVGG, see each feature map and the exact arithmetic behind any cell, and train "
    "your own model in a few seconds."
)
left, right = st.columns(2)
left.metric("Model", f"TinyVGG-{model.config.hidden_units}")
left.caption(model_summary(model, metrics))
right.metric("Device", device_label().split(" ")[0])
right.caption(device_label())

st.subheader("The layers")
st.code(" → ".join(["input", *LAYER_NAMES, "softmax"]), language=None)
with st.expander("The model in PyTorch"):
    st.code(repr(model), language="python")

st.subheader("Pages")
for path, title, _url, icon in PAGES:
    st.page_link(path, label=title, icon=icon)
