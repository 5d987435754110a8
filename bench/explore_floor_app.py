"""The floor under bench/explore_latency.py: the same widgets and clicks, nothing to draw.

A Next button, a button per layer name, the sample box and the heading the benchmark waits
for, on a plain Streamlit page served with the app's own config. Its click-to-painted time
is what this machine's Streamlit and Chromium cost before the explorer draws anything.
With `?figure=1` the page also draws one figure per step, the explorer's clickable channel
grid of a (10, 28, 28) map: what a single plotly figure adds to that floor.
"""

import sys
from pathlib import Path

import streamlit as st
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ui.explore_state import LAYERS  # noqa: E402
from ui.figures.explore import channel_grid  # noqa: E402

st.session_state.setdefault("i", 0)
cols = st.columns(len(LAYERS))
for j, (col, name) in enumerate(zip(cols, LAYERS, strict=True)):
    if col.button(name, key=f"b{j}"):
        st.session_state.i = j
if st.button("Next ▶"):
    st.session_state.i = (st.session_state.i + 1) % len(LAYERS)
sample = st.number_input("Test image #", 0, 9999, 0)
st.query_params["sample"] = str(sample)
st.markdown(f"### {LAYERS[st.session_state.i]} · sample {sample}")
if st.query_params.get("figure") == "1":
    g = torch.Generator().manual_seed(st.session_state.i)
    fig = channel_grid(torch.randn(10, 28, 28, generator=g), LAYERS[st.session_state.i], 0)
    st.plotly_chart(fig, key="grid", theme=None, on_select=lambda: None, selection_mode="points")
