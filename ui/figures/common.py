"""Shared figure pieces: colour scales, a greyscale image, a grid of feature maps."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

SEQUENTIAL = "Greys_r"  # non-negative maps: black 0 to white max, like the garments
DIVERGING = "RdBu_r"  # signed maps: blue negative, white 0, red positive


def colour_range(t: torch.Tensor) -> dict:
    """One colour scale for a whole tensor: diverging around 0 when it has both signs."""
    lo, hi = float(t.min()), float(t.max())
    if lo < 0 < hi:
        m = max(-lo, hi)
        return {"colorscale": DIVERGING, "zmin": -m, "zmax": m, "zmid": 0.0}
    if hi <= lo:
        hi = lo + 1e-6
    return {"colorscale": SEQUENTIAL, "zmin": lo, "zmax": hi}


def image(hw: torch.Tensor, title: str | None = None, height: int = 280) -> go.Figure:
    """A single (H, W) map, rows top to bottom, value on hover."""
    fig = go.Figure(
        go.Heatmap(
            z=hw.detach().cpu().float().numpy(),
            hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>",
            **colour_range(hw),
        )
    )
    fig.update_yaxes(
        autorange="reversed", scaleanchor="x", constrain="domain", showticklabels=False
    )
    fig.update_xaxes(constrain="domain", showticklabels=False)
    fig.update_layout(height=height, margin=dict(l=4, r=4, t=30 if title else 4, b=4), title=title)
    return fig


def grid_shape(n: int, max_cols: int = 5) -> tuple[int, int]:
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def feature_maps(
    chw: torch.Tensor,
    title: str | None = None,
    max_cols: int = 5,
    cell_px: int = 150,
    names: list[str] | None = None,
) -> go.Figure:
    """Every channel of a (C, H, W) map in one figure, on one shared colour scale."""
    chw = chw.detach().cpu().float()
    n = chw.shape[0]
    rows, cols = grid_shape(n, max_cols)
    names = names or [f"channel {c}" for c in range(n)]
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=names, horizontal_spacing=0.02,
        vertical_spacing=0.08 / max(rows, 1) + 0.02,
    )  # fmt: skip
    scale = colour_range(chw)
    for c in range(n):
        fig.add_trace(
            go.Heatmap(
                z=chw[c].numpy(),
                coloraxis="coloraxis",
                customdata=[[c] * chw.shape[2]] * chw.shape[1],
                hovertemplate="channel %{customdata}, row %{y}, col %{x}: %{z:.4f}<extra></extra>",
            ),
            row=c // cols + 1,
            col=c % cols + 1,
        )
    coloraxis = {"colorscale": scale["colorscale"], "cmin": scale["zmin"], "cmax": scale["zmax"]}
    if "zmid" in scale:
        coloraxis["cmid"] = 0.0
    fig.update_layout(
        coloraxis=coloraxis,
        height=rows * cell_px + 60,
        margin=dict(l=4, r=4, t=50 if title else 24, b=4),
        title=title,
    )
    for k in range(n):  # each map square, anchored to its own x axis
        suffix = "" if k == 0 else str(k + 1)
        fig.update_layout({f"yaxis{suffix}": dict(scaleanchor=f"x{suffix}", constrain="domain"),
                           f"xaxis{suffix}": dict(constrain="domain")})  # fmt: skip
    fig.update_yaxes(autorange="reversed", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    fig.update_annotations(font_size=11)
    return fig
