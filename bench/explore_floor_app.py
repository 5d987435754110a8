"""The floor under bench/explore_latency.py: the same widgets and clicks, nothing to draw.

A Next button, a button per layer name, the sample box and the heading the benchmark waits
for, on a plain Streamlit page served with the app's own config. Its click-to-painted time
is what this machine's Streamlit and Chromium cost before the explorer draws anything.
`?figure=` adds figures drawn per step, on (10, 28, 28) maps:
- `1`: the explorer's clickable channel grid, what a single plotly figure adds to that floor;
- `3`: the three maps of a conv layer's step (input grid, clickable output grid, clickable
  cell map), each through `st.plotly_chart`, as the explorer draws them;
- `own`: the same three figures in a small component of our own that keeps its charts and
  updates them with `Plotly.react`, instead of Streamlit's chart element, which mounts a
  chart afresh whenever its figure changes. Plotly.js comes from `$FLOOR_PLOTLY_JS` (a URL
  the benchmark serves); the page sets `window.__drawnAt` once plotly has drawn all three.
"""

import json
import os
import sys
from pathlib import Path

import streamlit as st
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ui.explore_state import LAYERS  # noqa: E402
from ui.explore_view import TILE_PX  # noqa: E402
from ui.figures.explore import cell_map, channel_grid  # noqa: E402

OWN_JS = """
export default function ({ data, parentElement }) {
  const draw = () => {
    const holders = [...parentElement.children];
    data.figures.forEach((f, i) => {
      if (!holders[i]) holders[i] = parentElement.appendChild(document.createElement('div'));
    });
    Promise.all(data.figures.map((f, i) => window.Plotly.react(
      holders[i], f.data, f.layout, {displayModeBar: false},
    ))).then(() => { window.__drawnAt = performance.now(); });
  };
  window.__plotly ??= new Promise(resolve => {
    const s = document.createElement('script');
    s.src = data.src;
    s.onload = resolve;
    document.head.appendChild(s);
  });
  window.__plotly.then(draw);
}
"""


def step_figures(i: int) -> list:
    maps = torch.randn(2, 10, 28, 28, generator=torch.Generator().manual_seed(i))
    return [
        channel_grid(maps[0], f"input of {LAYERS[i]}", 0, TILE_PX),
        channel_grid(maps[1], f"output: {LAYERS[i]}", 0, TILE_PX),
        cell_map(maps[1, 0], f"{LAYERS[i]}, channel 0", (3, 4)),
    ]


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
i, mode = st.session_state.i, st.query_params.get("figure")
pick = dict(theme=None, on_select=lambda: None, selection_mode="points")
if mode == "1":
    g = torch.Generator().manual_seed(i)
    fig = channel_grid(torch.randn(10, 28, 28, generator=g), LAYERS[i], 0)
    st.plotly_chart(fig, key="grid", **pick)
elif mode == "3":
    before, grid, cells = step_figures(i)
    left, right = st.columns(2)
    left.plotly_chart(before, key="before", theme=None, width="content")
    right.plotly_chart(grid, key="grid", width="content", **pick)
    st.plotly_chart(cells, key="cells", width="content", **pick)
elif mode == "own":
    own = st.components.v2.component("floor_own_plots", js=OWN_JS, isolate_styles=False)
    figures = [json.loads(f.to_json()) for f in step_figures(i)]
    own(key="own", data={"figures": figures, "src": os.environ["FLOOR_PLOTLY_JS"]})
