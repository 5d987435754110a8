"""Figures for the training replay: a snapshot's kernels, feature maps and top 3, and the run's
curves with the snapshot's step marked."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go
import torch

from ui.figures.common import DIVERGING, feature_maps, feature_maps_spec, figure
from ui.figures.draw import top_k_bars
from ui.figures.train import curves

MARK_COLOUR = "#d62728"  # the snapshot's step on the curves


def step_label(step: int, epoch: int) -> str:
    """e.g. 'step 400 · epoch 2' (epochs counted from 1, as the progress bar counts them)."""
    return f"step {step:,} · epoch {epoch + 1}"


def _layout(n: int) -> tuple[int, int]:
    """(tiles a row, px a row of tiles) for n channels: 5 a row up to 10, then wider rows."""
    cols = 5 if n <= 10 else min(16, max(8, math.ceil(math.sqrt(n))))
    rows = math.ceil(n / cols)
    return cols, 120 if rows <= 2 else max(40, 480 // rows)


def kernels(weight: torch.Tensor, label: str, scale: float | None = None) -> go.Figure:
    """conv_1_1's kernels (C, in, 3, 3) as tiles on one diverging scale, titled with the step;
    with several input channels (RGB) a row per kernel, a tile per input channel.

    `scale` fixes the colours at -scale..scale (the largest weight over the whole run), so that
    scrubbing shows the weights grow rather than each snapshot stretched to its own range.
    """
    w = weight.detach().cpu().float()
    c_in = w.shape[1]
    w = w.flatten(0, 1)  # (C * in, 3, 3): kernel k's input channels side by side
    cols, cell_px = _layout(w.shape[0]) if c_in == 1 else (c_in, 120)
    heat, layout = feature_maps_spec(w, f"conv_1_1's kernels at {label}", cols, cell_px)
    if scale:
        heat.update(colorscale=DIVERGING, zmin=-scale, zmax=scale, zmid=0.0)
    return figure([heat], layout)


def kernel_scale(weights: Sequence[torch.Tensor]) -> float:
    """The largest |weight| over conv_1_1's weights at every snapshot: one scale for a run."""
    return max((float(w.abs().max()) for w in weights), default=0.0)


def maps(chw: torch.Tensor, layer: str, label: str) -> go.Figure:
    """One input's feature maps (C, H, W) at `layer`, titled with the layer and the step."""
    cols, cell_px = _layout(chw.shape[0])
    return feature_maps(chw, f"{layer} at {label}", max_cols=cols, cell_px=cell_px)


def top3(top: list[tuple[str, float]], label: str) -> go.Figure:
    """The model's three most likely classes for the input at this snapshot."""
    fig = top_k_bars(top, height=240)
    fig.update_layout(title=f"Top 3 at {label}")
    return fig


def curves_at(
    steps: Sequence[dict],
    epochs: Sequence[dict],
    steps_per_epoch: int,
    step: int,
    loss: float | None,
    acc: float | None,
) -> go.Figure:
    """The run's loss and accuracy curves (ui.figures.train.curves) with a vertical line at the
    snapshot's step on both, and its running train loss and accuracy as a point."""
    fig = curves(steps, epochs, steps_per_epoch)
    x = step / max(steps_per_epoch, 1)
    line = dict(color=MARK_COLOUR, dash="dot", width=2)
    for axis in ("", "2"):
        fig.add_shape(type="line", x0=x, x1=x, y0=0, y1=1, xref=f"x{axis}",
                      yref=f"y{axis} domain", line=line)  # fmt: skip
    for axis, value, name in (("", loss, "loss"), ("2", acc, "accuracy")):
        if value is not None:
            fig.add_trace(go.Scatter(
                x=[x], y=[value], mode="markers", name="this snapshot", legendgroup="snap",
                showlegend=axis == "", marker=dict(color=MARK_COLOUR, size=12, symbol="diamond"),
                xaxis=f"x{axis}", yaxis=f"y{axis}",
                hovertemplate=f"step {step:,}: running train {name} %{{y:.4g}}<extra></extra>",
            ))  # fmt: skip
    fig.update_layout(meta={"step": step}, uirevision="replay")
    return fig
