"""The kernel slide as a figure: a conv kernel or pooling window on its padded input.

`slide_figure(x, layer, channel, frame)` draws frame `frame` of tinyvgg.slide (which output
cell, and the exact arithmetic behind it). Works for any nn.Conv2d (groups=1, zero padding) or
nn.MaxPool2d. Coordinates are the input's own: padding sits at rows/columns < 0 or >= H/W.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import torch
from torch import nn

from tinyvgg.explain import ConvCell, PoolCell, padding_sides
from tinyvgg.slide import Layer, SlideStep, frame_cell, frame_count, multiply_add, slide_step
from ui.figures.common import DIVERGING, colour_range

__all__ = ["Layer", "SlideStep", "frame_cell", "frame_count", "multiply_add", "slide_figure",
           "slide_step"]  # fmt: skip
WINDOW = "#ff8c00"  # the kernel / window and the cell being written
# Padding and not-yet-written cells: the background, a pale sand in no map's colour scale (grey
# and red-blue, as everywhere in the app).
PAD_COLOUR = "#eadcae"
ROW_PX, MID_PX, GAP_PX = 300, 150, 60  # input maps, their arithmetic below, the gap
HOVER = "row %{y}, col %{x}: %{z:.4f}"
MAX_IN_SHOWN = 3  # input channels drawn for a conv; the text gives every channel's sum


def _scale(t: torch.Tensor) -> dict:
    """The app's colour scale for this map: grey for one-signed values, red-blue for signed."""
    return colour_range(t)


def _crop(lo: int, n: int, centre: int, view: int) -> tuple[int, int]:
    """[start, stop) of at most `view` cells from lo..lo+n-1, around `centre`."""
    if n <= view:
        return lo, lo + n
    start = min(max(centre - view // 2, lo), lo + n - view)
    return start, start + view


def _heatmap(z: np.ndarray, rows: range, cols: range, scale: dict, xa: str, ya: str):
    return go.Heatmap(
        z=z.astype(np.float32),
        x=list(cols),
        y=list(rows),
        xaxis=xa,
        yaxis=ya,
        showscale=False,
        hovertemplate=HOVER + "<extra></extra>",
        hoverongaps=False,
        **scale,
    )


def _padded(hw: torch.Tensor, rows: range, cols: range) -> np.ndarray:
    """The crop rows×cols of an (H, W) map in input coordinates, NaN where it is padding."""
    h, w = hw.shape
    z = np.full((len(rows), len(cols)), np.nan, dtype=np.float32)
    r0, r1 = max(rows.start, 0), min(rows.stop, h)
    c0, c1 = max(cols.start, 0), min(cols.stop, w)
    if r0 < r1 and c0 < c1:
        z[r0 - rows.start : r1 - rows.start, c0 - cols.start : c1 - cols.start] = hw[
            r0:r1, c0:c1
        ].numpy()
    return z


def _box(refs: dict, r: float, c: float, h: float, w: float, **line) -> dict:
    """A rectangle around cells r..r+h-1, c..c+w-1 (added all at once: add_shape is slow)."""
    return dict(
        type="rect", x0=c - 0.5, x1=c + w - 0.5, y0=r - 0.5, y1=r + h - 0.5, line=line, **refs
    )


def _window_boxes(win, refs: dict) -> list[dict]:
    boxes = [_box(refs, r, c, 1, 1, color=WINDOW, width=2) for r in win.rows for c in win.cols]
    span_h, span_w = win.rows[-1] - win.rows[0] + 1, win.cols[-1] - win.cols[0] + 1
    if span_h * span_w > len(win.rows) * len(win.cols):  # dilated: outline the span too
        boxes.append(
            _box(refs, win.rows[0], win.cols[0], span_h, span_w, color=WINDOW, width=1, dash="dot")
        )
    return boxes


def slide_figure(
    x: torch.Tensor,
    layer: Layer,
    channel: int,
    frame: int,
    *,
    out: torch.Tensor | None = None,
    in_channels: list[int] | None = None,
    view: int = 40,
) -> go.Figure:
    """Frame `frame`: the window on each drawn input channel, padded, with its products x·w
    (conv) or values (pool) below, and the output filled up to the cell being written, which is
    outlined. Maps larger than `view` cells are cropped around the window.

    Traces, in order: each drawn input channel's map and its arithmetic, then the output.
    """
    x = x[:1].detach().cpu().float()
    step = slide_step(x, layer, channel, frame)
    if out is None:
        with torch.inference_mode():
            out = layer(x)
    is_conv = isinstance(layer, nn.Conv2d)
    shown = (in_channels or list(range(min(x.shape[1], MAX_IN_SHOWN)))) if is_conv else [channel]
    padded = any(p for side in padding_sides(layer) for p in side)
    axes, layout = _layout(step, shown, is_conv, padded)
    rows, cols = _input_crop(x, layer, step, view)
    data, shapes = [], []
    for n, k in enumerate(shown):
        (xa, ya), (xm, ym) = axes["in"][n], axes["mid"][n]
        data.append(_heatmap(_padded(x[0, k], rows, cols), rows, cols, _scale(x[0, k]), xa, ya))
        shapes += _input_shapes(x[0, k], layer, step, xa, ya)
        _show_only(layout, xa, ya, rows, cols)
        data.append(_middle(step.cell, k, _scale(x[0, k])).update(xaxis=xm, yaxis=ym))
    out_hw = out[0, channel].detach().cpu().float()
    scale = _scale(out_hw) if is_conv else _scale(x[0, channel])  # a max keeps its colour
    trace, box, (o_rows, o_cols) = _output(out_hw, scale, step, view, *axes["out"])
    data.append(trace)
    shapes.append(box)
    _show_only(layout, *axes["out"], o_rows, o_cols)
    title = f"frame {frame + 1} of {step.frames}: out[0, {channel}, {step.row}, {step.col}]"
    title = f"{title} = {step.value:.4f}"
    if len(rows) < x.shape[-2] or len(cols) < x.shape[-1]:  # say what is left out
        h, w = x.shape[-2:]
        title += (f"<br><sup>{h}×{w} input: showing rows {rows.start}…{rows.stop - 1}, "
                  f"columns {cols.start}…{cols.stop - 1}, around the window</sup>")  # fmt: skip
    layout.update(
        shapes=shapes,
        height=ROW_PX + MID_PX + GAP_PX + 104,
        margin=dict(l=10, r=36, t=84, b=10),
        plot_bgcolor=PAD_COLOUR,
        showlegend=False,
        title=dict(text=title, font_size=15),
    )
    return go.Figure(data=data, layout=layout)


def _axis(name: str, domain: list[float], anchor: str, **kw) -> dict:
    return {name: dict(domain=domain, anchor=anchor, showgrid=False, zeroline=False,
                       constrain="domain", **kw)}  # fmt: skip


def _layout(step: SlideStep, shown: list[int], is_conv: bool, padded: bool) -> tuple[dict, dict]:
    """Input channels side by side over their arithmetic; the output on the right, full height.

    Laid out by hand: make_subplots took most of a tick.
    """
    n = len(shown)
    widths = [1.0] * n + [max(1.0, n * 0.9)]
    gap = 0.05 / n
    edges = [0.0]
    for w in widths:
        edges.append(edges[-1] + w / sum(widths))
    total = ROW_PX + MID_PX + GAP_PX
    top, bottom = [(MID_PX + GAP_PX) / total, 1.0], [0.0, MID_PX / total]
    axes: dict = {"in": [], "mid": []}
    layout: dict = {"annotations": []}
    for k in range(2 * n + 1):  # x1..xn inputs, x(n+1) output, x(n+2).. the arithmetic
        s = "" if k == 0 else str(k + 1)
        col = k if k <= n else k - n - 1
        x_dom = [edges[col] + gap / 2, edges[col + 1] - gap / 2]
        y_dom = [0.0, 1.0] if k == n else (top if k < n else bottom)
        mid = k > n
        ticks = {"dtick": 1} if mid else {}  # the window's own rows and columns
        layout |= _axis(f"xaxis{s}", x_dom, f"y{s}", **ticks)
        # the output's rows are numbered on its right, clear of the input panel beside it
        layout |= _axis(f"yaxis{s}", y_dom, f"x{s}", autorange="reversed", scaleanchor=f"x{s}",
                        showticklabels=col == 0 or k == n,
                        **({"side": "right"} if k == n else {}), **ticks)  # fmt: skip
        kind = "out" if k == n else ("mid" if mid else "in")
        if kind == "out":
            axes["out"] = (f"x{s}", f"y{s}")
            text = f"output channel {step.channel}"
        else:
            axes[kind].append((f"x{s}", f"y{s}"))
            c = shown[col]
            # two short lines: a panel can be 90 px wide (a phone, or beside an open sidebar)
            text = (f"input ch {c}<br>{'padded' if padded else 'no padding'}" if kind == "in" else
                    f"x×w<br>Σ = {step.cell.channel_sums[c]:.4f}" if is_conv else
                    "the window's<br>values")  # fmt: skip
        # placed on the panel's own axes: a panel kept square is shorter than its domain, and
        # a title at the domain's top floated over a blank band
        layout["annotations"].append(dict(
            text=text, x=0.5, y=1, xref=f"x{s} domain", yref=f"y{s} domain", yshift=3,
            xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=13, color="#333"),
        ))  # fmt: skip
    return axes, layout


def _input_crop(x, layer: Layer, step: SlideStep, view: int) -> tuple[range, range]:
    """Rows and columns (input coordinates, padding included) drawn around the window."""
    (top, bottom), (left, right) = padding_sides(layer)
    win, (h, w) = step.cell.window, x.shape[-2:]
    rows = range(*_crop(-top, h + top + bottom, (win.rows[0] + win.rows[-1]) // 2, view))
    cols = range(*_crop(-left, w + left + right, (win.cols[0] + win.cols[-1]) // 2, view))
    return rows, cols


def _input_shapes(hw: torch.Tensor, layer, step: SlideStep, xa: str, ya: str) -> list[dict]:
    """The input's edge dashed (when padded) and a box on every tap of the window."""
    refs = {"xref": xa, "yref": ya}
    (top, bottom), (left, right) = padding_sides(layer)
    edge = []
    if top or bottom or left or right:
        edge = [_box(refs, 0, 0, *hw.shape, color="#555", width=1, dash="dash")]
    return edge + _window_boxes(step.cell.window, refs)


def _output(out_hw: torch.Tensor, scale: dict, step: SlideStep, view: int, xa: str, ya: str):
    """The output written up to this frame (later cells blank), and a box on the current cell."""
    ho, wo = out_hw.shape
    rows, cols = range(*_crop(0, ho, step.row, view)), range(*_crop(0, wo, step.col, view))
    written = out_hw.clone().reshape(-1)
    written[step.frame + 1 :] = float("nan")  # cells after this one are not written yet
    z = written.reshape(ho, wo)[rows.start : rows.stop, cols.start : cols.stop].numpy()
    box = _box({"xref": xa, "yref": ya}, step.row, step.col, 1, 1, color=WINDOW, width=3)
    return _heatmap(z, rows, cols, scale, xa, ya), box, (rows, cols)


def _show_only(layout: dict, xa: str, ya: str, rows: range, cols: range) -> None:
    """Axis ranges of the crop (the input's edge box would widen them), rows top to bottom."""
    layout[xa.replace("x", "xaxis")] |= dict(
        range=[cols.start - 0.5, cols.stop - 0.5], dtick=max(1, math.ceil(len(cols) / 8))
    )
    layout[ya.replace("y", "yaxis")] |= dict(
        range=[rows.stop - 0.5, rows.start - 0.5],
        autorange=False,
        dtick=max(1, math.ceil(len(rows) / 8)),
    )


def _middle(cell: ConvCell | PoolCell, k: int, in_scale: dict) -> go.Heatmap:
    """The window's arithmetic as a small grid: products x·w (conv) or values, max outlined."""
    if isinstance(cell, ConvCell):
        z = cell.products[k].float() + 0.0  # 0 × a negative weight: 0.000, not -0.000
        text = [[f"{v:.3f}" for v in row] for row in z.tolist()]
        custom = np.stack([cell.patch[k].numpy(), cell.kernel[k].numpy()], axis=-1)
        hover = "x %{customdata[0]:.4f} × w %{customdata[1]:.4f} = %{z:.4f}"
        m = max(float(z.abs().max()), 1e-6)
        scale = {"colorscale": DIVERGING, "zmin": -m, "zmax": m}
    else:
        z = cell.values.float().masked_fill(~cell.window.inside, float("nan"))
        text = [
            [
                ("max " if (a, b) == cell.argmax else "") + (f"{v:.3f}" if v == v else "pad")
                for b, v in enumerate(row)
            ]
            for a, row in enumerate(z.tolist())
        ]
        custom = np.zeros((*z.shape, 2))
        hover = "%{z:.4f}"
        scale = in_scale  # the input's colours: the max is the same colour in all three
    return go.Heatmap(
        z=z.numpy(),
        text=text,
        texttemplate="%{text}" if z.numel() <= 49 else "",
        customdata=custom,
        hovertemplate=hover + "<extra></extra>",
        showscale=False,
        **scale,
    )
