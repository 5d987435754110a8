"""Training figures: live curves, conv_1_1 kernels, the runs' comparison, confusion, gallery."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ui.figures.common import feature_maps, grid_shape

TRAIN_COLOUR, TEST_COLOUR = "#1f77b4", "#ff7f0e"
RIGHT, WRONG = "#1b7f3b", "#c62828"  # green and red titles in the gallery


def curves(steps: Sequence[dict], epochs: Sequence[dict], steps_per_epoch: int) -> go.Figure:
    """Loss and accuracy against epochs: train running means per step event, test per epoch."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy (%)"))
    x_train = [s["global_step"] / max(steps_per_epoch, 1) for s in steps]
    x_test = [e["epoch"] + 1 for e in epochs]
    for col, key, test_key in ((1, "loss", "test_loss"), (2, "acc", "test_acc")):
        fig.add_trace(
            go.Scatter(
                x=x_train, y=[s[key] for s in steps], mode="lines+markers", name="train",
                legendgroup="train", showlegend=col == 1, marker_size=4,
                line_color=TRAIN_COLOUR,
            ),
            row=1, col=col,
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=x_test, y=[e[test_key] for e in epochs], mode="lines+markers", name="test",
                legendgroup="test", showlegend=col == 1, marker_size=9,
                line_color=TEST_COLOUR,
            ),
            row=1, col=col,
        )  # fmt: skip
    fig.update_xaxes(title_text="epoch", rangemode="tozero")
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_yaxes(range=[0, 100], row=1, col=2)
    fig.update_layout(
        height=320, margin=dict(l=10, r=10, t=40, b=10), uirevision="curves",
        legend=dict(orientation="h", y=-0.25),
    )  # fmt: skip
    return fig


def kernels(weights: Any) -> go.Figure:
    """conv_1_1's 3x3 kernels, one small map each, on one colour scale."""
    w = torch.as_tensor(weights, dtype=torch.float32)  # (C, 1, 3, 3)
    names = [str(c) for c in range(w.shape[0])]
    fig = feature_maps(w[:, 0], max_cols=5, cell_px=60, names=names)
    fig.update_layout(coloraxis_colorbar=dict(thickness=10, len=0.9))
    return fig


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
    fig.update_yaxes(autorange="reversed", title_text="model_name")
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
    max_cols: int = 6,
) -> go.Figure:
    """Test images titled `Pred | Truth`, green when right and red when wrong."""
    n = len(images)
    rows, cols = grid_shape(max(n, 1), max_cols)
    titles = [f"{class_names[p]} | {class_names[t]}" for p, t in zip(preds, labels, strict=True)]
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=titles or None, horizontal_spacing=0.02,
        vertical_spacing=0.1 / max(rows, 1) + 0.03,
    )  # fmt: skip
    for i in range(n):
        fig.add_trace(
            go.Heatmap(
                z=images[i].float().numpy(), colorscale="gray", showscale=False,
                zmin=0, zmax=255, hovertemplate="%{z}<extra></extra>",
            ),
            row=i // cols + 1, col=i % cols + 1,
        )  # fmt: skip
    for note, p, t in zip(fig.layout.annotations, preds, labels, strict=False):
        note.font = dict(size=11, color=RIGHT if p == t else WRONG)
    for i in range(n):  # square pixels: each y axis keeps to its own x axis
        fig.update_yaxes(scaleanchor=f"x{i + 1 if i else ''}", row=i // cols + 1, col=i % cols + 1)
    fig.update_yaxes(autorange="reversed", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(height=rows * 150 + 20, margin=dict(l=4, r=4, t=24, b=4))
    return fig
