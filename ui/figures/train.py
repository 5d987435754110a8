"""Training figures: live curves, conv_1_1 kernels, the runs' comparison, confusion, gallery."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.colors as pc
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ui.figures.common import BARE_AXIS, DIVERGING, grid_shape

TRAIN_COLOUR, TEST_COLOUR = "#1f77b4", "#ff7f0e"
RIGHT, WRONG = "#1b7f3b", "#c62828"  # green and red titles in the gallery
TILE_PX, TITLE_PX = 118, 34  # a gallery image's height, and the two title lines above it


def curves(steps: Sequence[dict], epochs: Sequence[dict], steps_per_epoch: int) -> go.Figure:
    """Loss and accuracy against epochs: train running means per step event, test per epoch.

    Built without make_subplots: the live view redraws it every second.
    """
    x_train = [s["global_step"] / max(steps_per_epoch, 1) for s in steps]
    x_test = [e["epoch"] + 1 for e in epochs]
    traces = []
    for i, (key, test_key) in enumerate((("loss", "test_loss"), ("acc", "test_acc"))):
        axes = dict(xaxis=f"x{i + 1 if i else ''}", yaxis=f"y{i + 1 if i else ''}")
        traces += [
            go.Scatter(x=x_train, y=[s[key] for s in steps], mode="lines+markers", name="train",
                       legendgroup="train", showlegend=i == 0, marker_size=4,
                       line_color=TRAIN_COLOUR, **axes),
            go.Scatter(x=x_test, y=[e[test_key] for e in epochs], mode="lines+markers",
                       name="test", legendgroup="test", showlegend=i == 0, marker_size=9,
                       line_color=TEST_COLOUR, **axes),
        ]  # fmt: skip
    title = dict(xref="paper", yref="paper", y=1.0, yanchor="bottom", showarrow=False)
    x = dict(title_text="epoch", rangemode="tozero")
    return go.Figure(traces, dict(
        xaxis=dict(domain=[0, 0.46], **x), xaxis2=dict(domain=[0.54, 1], anchor="y2", **x),
        yaxis=dict(rangemode="tozero"), yaxis2=dict(range=[0, 100], anchor="x2"),
        annotations=[dict(text="Loss", x=0.23, **title),
                     dict(text="Accuracy (%)", x=0.77, **title)],
        height=320, margin=dict(l=10, r=10, t=40, b=10), uirevision="curves",
        legend=dict(orientation="h", y=-0.25),
    ))  # fmt: skip


@functools.lru_cache(maxsize=4)
def colour_table(name: str = DIVERGING, n: int = 256) -> np.ndarray:
    """(n, 3) uint8 colours along a plotly colour scale, for images drawn without plotly."""
    stops = pc.get_colorscale(name)
    at = np.array([s for s, _ in stops])
    rgb = np.array([pc.unlabel_rgb(c) for _, c in stops], dtype=float)
    x = np.linspace(0.0, 1.0, n)
    return np.stack([np.interp(x, at, rgb[:, i]) for i in range(3)], 1).round().astype(np.uint8)


def kernels_scale(weights: Any) -> float:
    """The symmetric colour scale of `kernels_image`: the largest |weight| of the kernels'
    first input channel, the one it draws (1 when all are 0)."""
    return float(torch.as_tensor(weights, dtype=torch.float32)[:, 0].abs().max()) or 1.0


def kernels_image(weights: Any, cell: int = 16, gap: int = 6, max_cols: int = 5) -> np.ndarray:
    """conv_1_1's kernels as one RGB picture (H, W, 3): blue < 0 < red on one symmetric scale.

    The live view shows this while training: an image costs the browser far less to redraw
    every second than a plotly figure.
    """
    w = torch.as_tensor(weights, dtype=torch.float32)[:, 0]  # (C, k, k)
    n, k = w.shape[0], w.shape[-1]
    rows, cols = grid_shape(n, max_cols)
    m = kernels_scale(weights)
    idx = ((w / m + 1) / 2 * 255).round().long().clamp(0, 255)  # (C, k, k) into the table
    table = colour_table()
    side = k * cell
    out = np.full((rows * (side + gap) - gap, cols * (side + gap) - gap, 3), 255, np.uint8)
    for c in range(n):
        r0, c0 = (c // cols) * (side + gap), (c % cols) * (side + gap)
        block = table[idx[c].numpy()]  # (k, k, 3)
        out[r0 : r0 + side, c0 : c0 + side] = block.repeat(cell, 0).repeat(cell, 1)
    return out


def comparison(rows: Sequence[dict]) -> go.Figure:
    """The notebook's bar chart: test accuracy per model."""
    names = [r["model_name"] for r in rows]
    accs = [r["model_acc"] for r in rows]
    fig = go.Figure(
        go.Bar(
            x=accs, y=names, orientation="h", text=[f"{a:.2f}%" for a in accs],
            textposition="auto", hovertemplate="%{y}: %{x:.2f}%<extra></extra>",
        )
    )  # fmt: skip
    fig.update_xaxes(title_text="test accuracy (%)", range=[0, 100])
    # "run 1<br>(sgd, lr 0.1, …)": the names' settings on a line of their own, so the
    # labels take half the width and a phone still has room for the bars
    short = [n.replace(" (", "<br>(", 1) for n in names]
    fig.update_yaxes(autorange="reversed", title_text="model_name", tickvals=names, ticktext=short)
    fig.update_layout(height=120 + 40 * len(rows), margin=dict(l=10, r=10, t=10, b=10))
    return fig


def confusion(cm: torch.Tensor, class_names: Sequence[str]) -> go.Figure:
    """Counts per (true, predicted) class pair, the diagonal being the right answers."""
    z = cm.tolist()
    fig = go.Figure(
        go.Heatmap(
            z=z, x=list(class_names), y=list(class_names), colorscale="Blues",
            text=z, texttemplate="%{text}", showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_xaxes(title_text="predicted", side="bottom", tickangle=-35)
    fig.update_yaxes(title_text="true", autorange="reversed")
    fig.update_layout(height=520, margin=dict(l=10, r=10, t=10, b=10))
    return fig


def gallery(
    images: torch.Tensor,
    preds: Sequence[int],
    labels: Sequence[int],
    class_names: Sequence[str],
    max_cols: int = 4,
) -> go.Figure:
    """Test images, (N, 28, 28) or (N, C, 28, 28) uint8 (colour when C is 3), titled with the
    model's class: "✓ Coat" in green when right, "✗ Shirt" in red over the true class ("is
    Coat") when wrong. Two short lines fit a column a quarter of a phone wide, where "Ankle
    boot | Ankle boot" ran into its neighbours."""
    n = len(images)
    rows, cols = grid_shape(max(n, 1), max_cols)
    titles = [
        f"✓ {class_names[p]}" if p == t else f"✗ {class_names[p]}<br>is {class_names[t]}"
        for p, t in zip(preds, labels, strict=True)
    ]
    height = rows * (TILE_PX + TITLE_PX) + 20
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=titles or None, horizontal_spacing=0.02,
        vertical_spacing=TITLE_PX / (height - TITLE_PX) if rows > 1 else 0,
    )  # fmt: skip
    if images.dim() == 4 and images.shape[1] == 1:
        images = images[:, 0]
    for i in range(n):
        if images.dim() == 4:  # colour: its pixels as they are, RGB on hover
            trace = go.Image(z=images[i].permute(1, 2, 0).numpy(),
                             hovertemplate="%{z}<extra></extra>")  # fmt: skip
        else:
            trace = go.Heatmap(z=images[i].float().numpy(), colorscale="gray", showscale=False,
                               zmin=0, zmax=255, hovertemplate="%{z}<extra></extra>")  # fmt: skip
        fig.add_trace(trace, row=i // cols + 1, col=i % cols + 1)
    for note, p, t in zip(fig.layout.annotations, preds, labels, strict=False):
        note.font = dict(size=11, color=RIGHT if p == t else WRONG)
    for i in range(n):  # square pixels: each y axis keeps to its own x axis
        fig.update_yaxes(scaleanchor=f"x{i + 1 if i else ''}", row=i // cols + 1, col=i % cols + 1)
    fig.update_yaxes(autorange="reversed", showticklabels=False, **BARE_AXIS)
    fig.update_xaxes(showticklabels=False, **BARE_AXIS)
    fig.update_layout(height=height, margin=dict(l=4, r=4, t=TITLE_PX - 4, b=4))
    return fig
