"""A dataset at a glance: a few images of every class, a row each, named on the left."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch

from ui.figures.common import BARE_AXIS

GAP = 2  # pixels between images
MAX_ROWS = 20  # classes drawn; a caption says when there are more


def example_indices(labels: torch.Tensor, n_classes: int, per_class: int) -> list[list[int]]:
    """The first `per_class` indices of each class, in class order (fewer where it has fewer)."""
    return [(labels == c).nonzero().flatten()[:per_class].tolist() for c in range(n_classes)]


def mosaic(images: torch.Tensor, rows: list[list[int]], per_class: int) -> np.ndarray:
    """(H, W, 3) uint8: the images (N, C, 28, 28) uint8 at `rows`' indices, a row per class,
    white between and where a class has fewer than `per_class`."""
    c, h, w = images.shape[1:]
    out = np.full((len(rows) * (h + GAP) - GAP, per_class * (w + GAP) - GAP, 3), 255, np.uint8)
    for r, idx in enumerate(rows):
        for k, i in enumerate(idx):
            tile = images[i].permute(1, 2, 0).numpy()
            out[r * (h + GAP) : r * (h + GAP) + h, k * (w + GAP) : k * (w + GAP) + w] = (
                tile if c == 3 else np.repeat(tile, 3, axis=2)
            )
    return out


def examples(
    images: torch.Tensor, labels: torch.Tensor, classes: Sequence[str], per_class: int = 8
) -> go.Figure:
    """The first `per_class` images of each class (up to MAX_ROWS classes), a row each."""
    shown = min(len(classes), MAX_ROWS)
    rows = example_indices(labels, shown, per_class)
    picture = mosaic(images, rows, per_class)
    side = images.shape[-1] + GAP
    fig = go.Figure(go.Image(z=picture, hoverinfo="skip"))
    fig.update_xaxes(**BARE_AXIS, showticklabels=False)
    fig.update_yaxes(**BARE_AXIS, tickvals=[r * side + (side - GAP) / 2 for r in range(shown)],
                     ticktext=list(classes[:shown]))  # fmt: skip
    fig.update_layout(height=40 + 34 * shown, margin=dict(l=10, r=10, t=10, b=10))
    return fig
