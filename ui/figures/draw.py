"""Figures for the draw page: step thumbnails, the model's 28x28 input, top-k probabilities."""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from PIL import Image, ImageOps

from ui.figures.common import SEQUENTIAL, figure, image_spec

CHECKER = 8  # px: the checkerboard behind transparent pixels
MAT = (236, 236, 236)  # around a step's picture in its square tile: a light grey, not the paper


def _checkerboard(size: tuple[int, int]) -> Image.Image:
    w, h = size
    board = Image.new("RGB", (w, h), (170, 170, 170))  # mid greys: black and white ink show
    for y in range(0, h, CHECKER):
        for x in range((y // CHECKER % 2) * CHECKER, w, 2 * CHECKER):
            board.paste((120, 120, 120), (x, y, min(x + CHECKER, w), min(y + CHECKER, h)))
    return board


def thumbnail(im: Image.Image, box: int = 160) -> Image.Image:
    """A display copy that fits in box x box: transparency on a checkerboard, small images
    enlarged with hard pixel edges so a 28x28 image shows its 784 pixels."""
    has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
    im = im.convert("RGBA" if has_alpha else "RGB")
    factor = box // max(im.size)
    if factor >= 2:  # whole-pixel enlargement: every source pixel an equal square
        im = im.resize((im.width * factor, im.height * factor), Image.Resampling.NEAREST)
    else:
        im = ImageOps.contain(im, (box, box), Image.Resampling.BILINEAR)
    if has_alpha:
        board = _checkerboard(im.size).convert("RGBA")
        im = Image.alpha_composite(board, im).convert("RGB")
    return im


def step_tile(im: Image.Image, box: int = 160) -> Image.Image:
    """`thumbnail(im, box)` centred on a box x box light-grey mat: every step the same square,
    whatever its shape (a cropped garment is wide or tall, the model's input 28x28)."""
    small = thumbnail(im, box)
    tile = Image.new("RGB", (box, box), MAT)
    tile.paste(small, ((box - small.width) // 2, (box - small.height) // 2))
    return tile


def input_preview(x: torch.Tensor, height: int = 300) -> go.Figure:
    """The (C, 28, 28) input exactly as the model sees it (a colour one in grey, its channels'
    mean), a value on hover per pixel."""
    trace, layout = image_spec(x.mean(0), title="28×28 input", height=height)
    trace = {k: v for k, v in trace.items() if k != "zmid"}
    return figure([dict(trace, zmin=0.0, zmax=1.0, colorscale=SEQUENTIAL, showscale=False)], layout)


def top_k_bars(top: list[tuple[str, float]], height: int = 220) -> go.Figure:
    """Horizontal bars, most likely class on top, probabilities in percent."""
    names = [name for name, _ in top][::-1]
    probs = [100 * p for _, p in top][::-1]
    fig = go.Figure(
        go.Bar(
            x=probs,
            y=names,
            orientation="h",
            text=[f"{p:.1f}%" for p in probs],
            # never turned on its side in a thin bar: inside a long bar, beside a short one
            textposition=["inside" if p >= 25 else "outside" for p in probs],
            textangle=0,
            insidetextanchor="end",
            cliponaxis=False,
            marker_color=["#3b6fd8"] * (len(probs) - 1) + ["#1f3f8f"],
            hovertemplate="%{y}: %{x:.2f}%<extra></extra>",
        )
    )
    fig.update_xaxes(range=[0, 100], title="probability (%)")
    fig.update_layout(height=height, margin=dict(l=4, r=4, t=30, b=4), title="Top classes")
    return fig
