"""Figures for the layer explorer: thumbnails, clickable maps, kernels, cell arithmetic, bars."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from PIL import Image

from tinyvgg.explain import PoolCell, Span
from ui.figures.common import (
    BARE_AXIS,
    colour_range,
    feature_maps_spec,
    figure,
    image_spec,
    rgb_array,
    subtitled,
)

HIGHLIGHT = "#f5a623"


def thumbnail_png(t: torch.Tensor, size: int = 72) -> bytes:
    """A small greyscale PNG of a layer output: a mosaic of channels, or a strip for vectors."""
    t = t.detach().cpu().float()[0]  # drop the batch dim: (C, H, W) or (F,)
    if t.dim() == 3:
        c = t.shape[0]
        cols = int(np.ceil(np.sqrt(c)))
        rows = int(np.ceil(c / cols))
        h, w = t.shape[1:]
        mosaic = torch.full((rows * (h + 1) - 1, cols * (w + 1) - 1), float(t.min()))
        for k in range(c):
            r, q = divmod(k, cols)
            mosaic[r * (h + 1) : r * (h + 1) + h, q * (w + 1) : q * (w + 1) + w] = t[k]
        t = mosaic
    else:
        n = t.shape[0]
        width = 49 if n > 49 else n
        t = torch.nn.functional.pad(t, (0, (-n) % width)).reshape(-1, width)
        t = t.repeat_interleave(max(1, width // (4 * t.shape[0])), dim=0)  # not a hairline
    lo, hi = float(t.min()), float(t.max())
    arr = ((t - lo) / (hi - lo if hi > lo else 1.0) * 255).round().byte().numpy()
    img = Image.fromarray(arr)  # (H, W) uint8: greyscale
    scale = max(1, size // max(img.size))
    img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def rgb_png(chw: torch.Tensor, size: int = 168) -> bytes:
    """A (3, H, W) input as an RGB PNG about `size` pixels wide, in `rgb_array`'s colours."""
    img = Image.fromarray(rgb_array(chw))
    scale = max(1, size // max(img.size))
    img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _overlay(x, y, size: int, hover: str, customdata=None) -> dict:
    # Plotly's selection does not fire on heatmaps: near-transparent points on top do, and a
    # click reports the point's trace number and x/y. Hover must stay on (not "skip"): plotly
    # picks the clicked point from its hover. Hover and selection search every point, but the
    # browser draws only `maxdisplayed` of them: the 784 SVG markers of a 28×28 map took two
    # thirds of its drawing time, for points no one sees.
    return dict(
        type="scatter", x=x, y=y, customdata=customdata, mode="markers",
        marker=dict(size=size, symbol="square", opacity=0.01, color="black", maxdisplayed=1),
        hovertemplate=hover, showlegend=False,
    )  # fmt: skip


def _outline(i0: float, j0: float, h: int, w: int, width: int) -> dict:
    """A rectangle around cells (i0..i0+h-1, j0..j0+w-1) of a heatmap."""
    return dict(type="rect", x0=j0 - 0.5, x1=j0 + w - 0.5, y0=i0 - 0.5, y1=i0 + h - 0.5,
                line=dict(color=HIGHLIGHT, width=width))  # fmt: skip


CLICKABLE = dict(clickmode="event+select", dragmode=False, hovermode="closest")


def channel_grid(chw: torch.Tensor, title: str, channel: int, cell_px: int = 150) -> go.Figure:
    """All channels of a layer's output; click a tile to pick its channel (outlined).

    One overlay point per tile centre (its customdata is the channel) keeps the figure light.
    """
    heat, layout = feature_maps_spec(chw, title=title, cell_px=cell_px)
    (h, w), origins = layout["meta"]["tile"], layout["meta"]["origins"]
    xs = [c0 + (w - 1) / 2 for _, c0 in origins]
    ys = [r0 + (h - 1) / 2 for r0, _ in origins]
    dots = _overlay(xs, ys, 90, "channel %{customdata}<extra>click to pick</extra>",
                    customdata=list(range(len(origins))))  # fmt: skip
    r0, c0 = origins[channel]
    return figure([heat, dots], dict(layout, shapes=[_outline(r0, c0, h, w, 4)], **CLICKABLE))


def outline_spans(fig: go.Figure, spans: list[Span]) -> go.Figure:
    """`fig` (a channel grid, or one map) with each (channel, rows, columns) span outlined."""
    origins = fig.layout.meta["origins"] if fig.layout.meta else [(0, 0)]
    shapes = []
    for k, (r0, r1), (c0, c1) in spans:
        top, left = origins[k]
        shapes.append(_outline(top + r0, left + c0, r1 - r0 + 1, c1 - c0 + 1, 2))
    if shapes:  # assigned whole: add_shape's checks cost 4 ms a figure
        fig.layout.shapes = shapes
    return fig


def cell_map(hw: torch.Tensor, title: str, cell: tuple[int, int]) -> go.Figure:
    """One channel, large, with every cell clickable; the picked cell outlined."""
    h, w = hw.shape
    heat, layout = image_spec(hw, title=title, height=360)
    heat = dict(heat, hoverinfo="skip", hovertemplate=None)
    ii, jj = np.meshgrid(np.arange(h, dtype=np.int16), np.arange(w, dtype=np.int16), indexing="ij")
    values = hw.detach().cpu().float().numpy().ravel()
    dots = _overlay(jj.ravel(), ii.ravel(), max(6, 300 // max(h, w)),
                    "row %{y}, col %{x}: %{customdata:.4f}<extra>click for the "
                    "arithmetic</extra>", customdata=values)  # fmt: skip
    i, j = cell
    return figure([heat, dots], dict(layout, shapes=[_outline(i, j, 1, 1, 3)], **CLICKABLE))


def flat_vector(vec: torch.Tensor, chw: tuple[int, int, int], title: str, index: int,
                source: str = "max_pool_2") -> go.Figure:  # fmt: skip
    """The flattened vector (C·H·W,) drawn a row per channel of `source` (C, H, W): every
    cell clickable, its index and origin on hover, position `index` outlined."""
    c, h, w = chw
    rows = vec.detach().cpu().float().reshape(c, h * w)
    title = subtitled(title, f"a row per channel of {source} (click a cell)")
    heat, layout = image_spec(rows, title=title, height=22 * c + 40)
    heat = dict(heat, hoverinfo="skip", hovertemplate=None)
    k = np.arange(c * h * w)
    ch, rest = np.divmod(k, h * w)
    ii, jj = np.divmod(rest, w)
    origin = [f"{source}[{a},{b},{d}]" for a, b, d in zip(ch, ii, jj, strict=True)]
    data = list(zip(k.tolist(), origin, rows.flatten().tolist(), strict=True))
    dots = _overlay(rest.astype(np.int16), ch.astype(np.int16), 8,
                    "index %{customdata[0]} = %{customdata[1]}: %{customdata[2]:.4f}"
                    "<extra>click for where it comes from</extra>", customdata=data)  # fmt: skip
    ticks = dict(tickvals=list(range(c)), ticktext=[str(a) for a in range(c)])
    layout["yaxis"] = dict(layout["yaxis"], showticklabels=True, **ticks)
    layout["margin"] = dict(layout["margin"], l=24)  # room for the channel numbers
    layout["width"] += 20
    i, j = divmod(index, h * w)
    return figure([heat, dots], dict(layout, shapes=[_outline(i, j, 1, 1, 3)], **CLICKABLE))


def kernels(weight: torch.Tensor, title: str, channel: int | None = None) -> go.Figure:
    """A conv layer's weights (out, in, kh, kw) as one heatmap: a row per output channel;
    `channel`'s row (the kernel that makes that output channel) outlined."""
    w = weight.detach().cpu().float()
    o, i, kh, kw = w.shape
    grid = torch.full((o * (kh + 1) - 1, i * (kw + 1) - 1), float("nan"))
    for a in range(o):
        for b in range(i):
            grid[a * (kh + 1) : a * (kh + 1) + kh, b * (kw + 1) : b * (kw + 1) + kw] = w[a, b]
    scale = colour_range(w)
    fig = go.Figure(go.Heatmap(z=grid.numpy(), hovertemplate="%{z:.4f}<extra></extra>", **scale))
    fig.update_yaxes(
        autorange="reversed", scaleanchor="x", title="output channel",
        tickvals=[a * (kh + 1) + kh // 2 for a in range(o)], ticktext=list(range(o)), **BARE_AXIS,
    )  # fmt: skip
    fig.update_xaxes(
        title="input channel", tickvals=[b * (kw + 1) + kw // 2 for b in range(i)],
        ticktext=list(range(i)), **BARE_AXIS,
    )  # fmt: skip
    fig.update_layout(title=title, height=max(220, 26 * o * (kh + 1) // 3 + 80),
                      margin=dict(l=40, r=10, t=40, b=40))  # fmt: skip
    if channel is not None:
        fig.add_shape(_outline(channel * (kh + 1), 0, kh, i * (kw + 1) - 1, 3))
    return fig


def pool_window(cell: PoolCell) -> go.Figure:
    """The pooling window with its maximum outlined."""
    z = cell.values.tolist()
    fig = go.Figure(
        go.Heatmap(
            z=[[v if np.isfinite(v) else None for v in row] for row in z],
            text=[[f"{v:.4f}" if np.isfinite(v) else "pad" for v in row] for row in z],
            texttemplate="%{text}", hoverinfo="skip", colorscale="Greys_r", showscale=False,
        )
    )  # fmt: skip
    a, b = cell.argmax
    fig.add_shape(type="rect", x0=b - 0.5, x1=b + 0.5, y0=a - 0.5, y1=a + 0.5,
                  line=dict(color=HIGHLIGHT, width=4))  # fmt: skip
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False, **BARE_AXIS)
    fig.update_xaxes(showticklabels=False, **BARE_AXIS)
    fig.update_layout(height=220, width=260, margin=dict(l=4, r=4, t=4, b=4))
    return fig


# Bar charts name every class under its bar; the margins grow to fit the names and ticks
# (with plotly's own theme, as the explorer's input side uses, fixed margins cut them off).
BAR_AXES = dict(xaxis=dict(automargin=True), yaxis=dict(automargin=True))


def _bar_layout(height: int, title: str | None) -> dict:
    return dict(height=height, margin=dict(l=4, r=4, t=40 if title else 10, b=4),
                title=dict(text=title or "", x=0.5, xanchor="center"), **BAR_AXES)  # fmt: skip


def probabilities(
    probs: torch.Tensor,
    names: Sequence[str],
    true_label: int | None = None,
    title: str | None = None,
) -> go.Figure:
    """Softmax output as bars, one per class name; the prediction and the truth marked."""
    p = probs.reshape(-1).detach().cpu().double().numpy()
    pred = int(p.argmax())
    colours = [HIGHLIGHT if k == pred else "#8aa4d6" for k in range(len(p))]
    fig = go.Figure(
        go.Bar(x=list(names), y=p, marker_color=colours, text=[f"{v:.1%}" for v in p],
               textposition="outside", hovertemplate="%{x}: %{y:.6f}<extra></extra>")
    )  # fmt: skip
    if true_label is not None:
        fig.add_annotation(x=names[true_label], y=p[true_label], text="truth",
                           showarrow=True, arrowhead=2, ay=-40)  # fmt: skip
    fig.update_layout(_bar_layout(300, title))
    fig.update_yaxes(range=[0, 1.15], tickformat=".0%")
    return fig


def logits(values: torch.Tensor, names: Sequence[str], title: str | None = None) -> go.Figure:
    """The linear layer's outputs, a bar per class name."""
    z = values.reshape(-1).detach().cpu().double().numpy()
    colours = np.where(z >= 0, "#d6604d", "#4393c3")
    fig = go.Figure(go.Bar(x=list(names), y=z, marker_color=colours,
                           hovertemplate="%{x}: %{y:.6f}<extra></extra>"))  # fmt: skip
    fig.update_layout(_bar_layout(300, title))
    return fig


def contributions(products: torch.Tensor, top: list[int], labels: list[str]) -> go.Figure:
    """The features pushing the predicted class's logit most, as horizontal bars."""
    vals = [float(products[k]) for k in top][::-1]
    fig = go.Figure(go.Bar(x=vals, y=labels[::-1], orientation="h",
                           marker_color=["#d6604d" if v >= 0 else "#4393c3" for v in vals],
                           hovertemplate="%{y}: %{x:.5f}<extra></extra>"))  # fmt: skip
    fig.update_layout(height=40 + 24 * len(vals), margin=dict(l=4, r=4, t=10, b=4), **BAR_AXES)
    return fig
