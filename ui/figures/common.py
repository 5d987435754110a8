"""Shared figure pieces: colour scales, a greyscale image, a grid of feature maps."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import plotly.colors
import plotly.graph_objects as go
import torch

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


def rgb_array(chw: torch.Tensor) -> np.ndarray:
    """A (3, H, W) input as (H, W, 3) uint8 colours: values in [0, 1] as they are, others (a
    random tensor) scaled from their minimum to their maximum."""
    t = chw.detach().cpu().float()
    lo, hi = float(t.min()), float(t.max())
    if lo < 0 or hi > 1:
        t = (t - lo) / (hi - lo if hi > lo else 1.0)
    return (t * 255).round().byte().permute(1, 2, 0).contiguous().numpy()


def figure(data: list[dict], layout: dict) -> go.Figure:
    """A Figure from plain trace and layout dicts, built without plotly's per-property checks.

    Building through `go.Heatmap(...)` and `update_layout(...)` validates every property and
    took most of the explorer's server time per click (about 9 ms for a mosaic against 0.6 ms
    this way). The dicts here are fixed by this module and checked by its tests; the result is
    an ordinary Figure (`fig.data[0].z`, `fig.layout.meta`, `add_trace` all work). The one
    thing validation would have done for these dicts, turning a colour scale's name into its
    colours (plotly.js knows no "Greys_r"), is done here.
    """
    data = [
        dict(t, colorscale=_named_scale(t["colorscale"]))
        if isinstance(t.get("colorscale"), str) else t
        for t in data
    ]  # fmt: skip
    return go.Figure({"data": data, "layout": layout}, _validate=False)


@functools.cache
def _named_scale(name: str) -> list:
    return plotly.colors.get_colorscale(name)


BARE_AXIS = dict(showgrid=False, zeroline=False, ticks="")  # nothing drawn across the cells


def _axes(**extra) -> dict:
    """Axis settings for a map: no ticks, no grid; rows top to bottom, square cells."""
    x = dict(constrain="domain", showticklabels=False, **BARE_AXIS)
    y = dict(x, scaleanchor="x")
    return {"xaxis": {**x, **extra.get("x", {})}, "yaxis": {**y, **extra.get("y", {})}}


def _title(title: str | None) -> dict:
    return {"title": {"text": title}} if title else {}


SUBTITLE_PX = 20  # a title's second line


def subtitled(title: str, how: str) -> str:
    """A title with a smaller second line: how to read or use the figure. Two short lines fit
    a phone where one long one was cut off at both ends."""
    return f"{title}<br><sup>{how}</sup>"


def _extra_lines(title: str | None) -> int:
    """Pixels a map adds for its title's lines after the first (its cells keep their size)."""
    return SUBTITLE_PX * title.count("<br>") if title else 0


def image_spec(hw: torch.Tensor, title: str | None = None, height: int = 280) -> tuple[dict, dict]:
    """(trace, layout) of `image`, for builders that add to it."""
    trace = dict(
        type="heatmap", z=hw.detach().cpu().float().numpy(),
        hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>", **colour_range(hw),
    )  # fmt: skip
    extra = _extra_lines(title)
    top, height = (30 if title else 4) + extra, height + extra
    layout = dict(
        _axes(y={"autorange": "reversed"}), height=height, **_title(title),
        width=natural_width(tuple(hw.shape), height, top), margin=dict(l=4, r=4, t=top, b=4),
    )  # fmt: skip
    return trace, layout


def image(hw: torch.Tensor, title: str | None = None, height: int = 280) -> go.Figure:
    """A single (H, W) map, rows top to bottom, value on hover."""
    trace, layout = image_spec(hw, title, height)
    return figure([trace], layout)


def grid_shape(n: int, max_cols: int = 5) -> tuple[int, int]:
    """(rows, columns) for n tiles, at most `max_cols` a row."""
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


@dataclass(frozen=True)
class Mosaic:
    """Channels tiled into one array, a blank (NaN) row and column between tiles."""

    z: np.ndarray  # (R, C) float32, NaN in the gaps
    who: np.ndarray  # (R, C, 3) channel, row, column under each cell (-1 in the gaps)
    origins: list[tuple[int, int]]  # top-left (row, column) of each channel's tile
    tile: tuple[int, int]  # (h, w) cells of a tile


def mosaic(chw: torch.Tensor, cols: int, step: int = 1) -> Mosaic:
    """Tile (C, H, W) into one array; `step` keeps every k-th row and column (real indices)."""
    chw = chw.detach().cpu().float()
    n, h0, w0 = chw.shape
    rows_idx, cols_idx = np.arange(0, h0, step), np.arange(0, w0, step)
    h, w = len(rows_idx), len(cols_idx)
    n_rows = math.ceil(n / cols)
    z = np.full((n_rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan, np.float32)
    who = np.full((*z.shape, 3), -1, np.int32)
    ii, jj = np.meshgrid(rows_idx, cols_idx, indexing="ij")
    origins = []
    for c in range(n):
        r0, c0 = (c // cols) * (h + 1), (c % cols) * (w + 1)
        z[r0 : r0 + h, c0 : c0 + w] = chw[c, ::step, ::step].numpy()
        who[r0 : r0 + h, c0 : c0 + w] = np.stack([np.full_like(ii, c), ii, jj], axis=-1)
        origins.append((r0, c0))
    return Mosaic(z, who, origins, (h, w))


def feature_maps_spec(
    chw: torch.Tensor,
    title: str | None = None,
    max_cols: int = 5,
    cell_px: int = 150,
    names: list[str] | None = None,
    step: int = 1,
) -> tuple[dict, dict]:
    """(trace, layout) of `feature_maps`, for builders that add to it."""
    n = chw.shape[0]
    rows, cols = grid_shape(n, max_cols)
    m = mosaic(chw, cols, step)
    scale = colour_range(chw)
    who = m.who.astype(np.int16) if m.who.max() < 2**15 else m.who
    heat = dict(
        type="heatmap", z=m.z, customdata=who, **scale, xgap=0, ygap=0, hoverongaps=False,
        hovertemplate="channel %{customdata[0]}, row %{customdata[1]}, "
        "col %{customdata[2]}: %{z:.4f}<extra></extra>",
    )  # fmt: skip
    labels = names or [str(c) for c in range(n)]
    notes = [
        dict(x=c0 - 0.5, y=r0 - 0.5, text=labels[c], showarrow=False, xanchor="left",
             yanchor="top", font=dict(size=10, color="#222"), bgcolor="rgba(255,255,255,0.7)")
        for c, (r0, c0) in enumerate(m.origins)
    ]  # fmt: skip
    extra = _extra_lines(title)
    height, top = rows * cell_px + 60 + extra, (40 if title else 8) + extra
    layout = dict(
        _axes(x={"range": [-0.5, m.z.shape[1] - 0.5]}, y={"range": [m.z.shape[0] - 0.5, -0.5]}),
        annotations=notes, height=height, width=natural_width(m.z.shape, height, top),
        **_title(title), margin=dict(l=4, r=4, t=top, b=4), plot_bgcolor="rgba(0,0,0,0)",
        meta={"origins": m.origins, "tile": list(m.tile), "channels": n},
    )  # fmt: skip
    return heat, layout


COLOURBAR_PX = 100  # a colour bar with its tick labels, and the gap before it


def natural_width(shape: tuple[int, int], height: int, top: int, bottom: int = 4) -> int:
    """The width at which a map of `shape` cells fills `height` with square cells, its colour
    bar beside it: drawn at this width (`width="content"`) the bar stays by the tiles on a
    wide screen instead of across the empty half of a stretched chart."""
    cell = (height - top - bottom) / shape[0]
    return round(shape[1] * cell) + COLOURBAR_PX + 8


def feature_maps(
    chw: torch.Tensor,
    title: str | None = None,
    max_cols: int = 5,
    cell_px: int = 150,
    names: list[str] | None = None,
    step: int = 1,
) -> go.Figure:
    """Every channel of a (C, H, W) map in one figure, on one shared colour scale.

    One heatmap of all channels tiled (a mosaic) rather than a subplot per channel: 4x
    cheaper for the browser to draw, and the shared scale is plain to see. Hover names the
    channel, row and column; `layout.meta` records where each tile sits.
    """
    heat, layout = feature_maps_spec(chw, title, max_cols, cell_px, names, step)
    return figure([heat], layout)
