"""The kernel slide: a conv kernel or pooling window moving over its padded input.

Frame f writes output cell (i, j) = divmod(f, W_out), row by row as the output fills. What a
frame shows comes from tinyvgg.explain (conv_cell / pool_cell), so each frame's value is the
real layer's output at that position (the tests check every frame). Works for any nn.Conv2d
(groups=1, zero padding) or nn.MaxPool2d: stride, padding ("same"/"valid" included), dilation,
rectangular kernels. Coordinates are the input's own: padding sits at rows/columns < 0 or >= H/W.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from torch import nn

from tinyvgg.explain import ConvCell, PoolCell, conv_cell, output_hw, padding_sides, pool_cell
from ui.figures.common import DIVERGING, colour_range

Layer = nn.Conv2d | nn.MaxPool2d
WINDOW = "#ff8c00"  # the kernel / window and the cell being written
PAD_COLOUR = "#b4b4b4"  # padding and not-yet-written cells: the background, mid grey
ROW_PX, MID_PX, GAP_PX = 300, 150, 60  # input maps, their arithmetic below, the gap
HOVER = "row %{y}, col %{x}: %{z:.4f}"
MAX_IN_SHOWN = 3  # input channels drawn for a conv; the text gives every channel's sum


def frame_count(x: torch.Tensor, layer: Layer) -> int:
    """One frame per output position: H_out × W_out."""
    h, w = output_hw(layer, tuple(x.shape[-2:]))
    return h * w


def frame_cell(x: torch.Tensor, layer: Layer, frame: int) -> tuple[int, int]:
    """The output (row, column) that frame `frame` writes."""
    return divmod(frame, output_hw(layer, tuple(x.shape[-2:]))[1])


@dataclass(frozen=True)
class SlideStep:
    frame: int
    frames: int
    channel: int  # output channel
    row: int
    col: int
    cell: ConvCell | PoolCell  # the exact arithmetic behind out[0, channel, row, col]

    @property
    def value(self) -> float:
        return self.cell.value


def slide_step(x: torch.Tensor, layer: Layer, channel: int, frame: int) -> SlideStep:
    """Frame `frame` of the slide of `layer` over x (1, C, H, W), for output `channel`."""
    n = frame_count(x, layer)
    if not 0 <= frame < n:
        raise IndexError(f"frame {frame} is outside 0..{n - 1}")
    i, j = frame_cell(x, layer, frame)
    explain = conv_cell if isinstance(layer, nn.Conv2d) else pool_cell
    return SlideStep(frame, n, channel, i, j, explain(x[:1], layer, channel, i, j))


def _f(v: float) -> str:
    return f"{v:.4f}" if v >= 0 else f"({v:.4f})"


def multiply_add(step: SlideStep, max_terms: int = 27) -> str:
    """The arithmetic of this frame as lines of text, every term when there are few."""
    c, i, j, cell = step.channel, step.row, step.col, step.cell
    where = f"input rows {cell.window.rows}, columns {cell.window.cols}"
    if isinstance(cell, PoolCell):
        vals = ", ".join(
            "pad" if not ok else f"{v:.4f}"
            for v, ok in zip(
                cell.values.flatten().tolist(), cell.window.inside.flatten().tolist(), strict=True
            )
        )
        a, b = cell.argmax
        return (
            f"out[0, {c}, {i}, {j}] = max over {where}\n= max({vals})\n= {cell.value:.4f}"
            f"  (window row {a}, column {b})"
        )
    pads = int((~cell.window.inside).sum()) * cell.patch.shape[0]
    on_pad = f"  ({pads} taps on padding: x = 0)" if pads else ""
    lines = [
        f"out[0, {c}, {i}, {j}] = Σ x·w over {where}, all {cell.patch.shape[0]} input "
        f"channels, + bias{on_pad}"
    ]
    full = cell.patch.numel() <= max_terms
    for k in range(cell.patch.shape[0]):
        terms = (
            " + ".join(
                f"{_f(x)}×{_f(w)}"
                for x, w in zip(
                    cell.patch[k].flatten().tolist(), cell.kernel[k].flatten().tolist(), strict=True
                )
            )
            if full or k == 0
            else f"Σ {cell.patch[k].numel()} products"
        )
        lines.append(f"  channel {k}: {terms} = {cell.channel_sums[k]:.4f}")
    lines.append(f"  bias: {cell.bias:.4f}")
    lines.append(f"= {cell.value:.4f}")
    return "\n".join(lines)


def _scale(t: torch.Tensor) -> dict:
    """common's colour scales, but not grey for one-signed maps: grey means padding here."""
    scale = colour_range(t)
    return scale if scale["colorscale"] == DIVERGING else {**scale, "colorscale": "Viridis"}


def _crop(lo: int, n: int, centre: int, view: int) -> tuple[int, int]:
    """[start, stop) of at most `view` cells from lo..lo+n-1, around `centre`."""
    if n <= view:
        return lo, lo + n
    start = min(max(centre - view // 2, lo), lo + n - view)
    return start, start + view


def _heatmap(z: np.ndarray, rows: range, cols: range, scale: dict, hover: str) -> go.Heatmap:
    return go.Heatmap(
        z=z.astype(np.float32),
        x=list(cols),
        y=list(rows),
        showscale=False,
        hovertemplate=hover + "<extra></extra>",
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


def _refs(fig: go.Figure, row: int, col: int) -> dict:
    sub = fig.get_subplot(row, col)
    x, y = sub.xaxis.plotly_name.replace("axis", ""), sub.yaxis.plotly_name.replace("axis", "")
    return {"xref": x, "yref": y}


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
    outlined. Maps larger than `view` cells are cropped around the window."""
    x = x[:1].detach().cpu().float()
    step = slide_step(x, layer, channel, frame)
    if out is None:
        with torch.inference_mode():
            out = layer(x)
    is_conv = isinstance(layer, nn.Conv2d)
    shown = (in_channels or list(range(min(x.shape[1], MAX_IN_SHOWN)))) if is_conv else [channel]
    fig = _layout(step, shown, is_conv)
    rows, cols = _input_crop(x, layer, step, view)
    shapes: list[dict] = []
    for n, k in enumerate(shown):
        shapes += _input_panel(fig, x[0, k], layer, step, rows, cols, n + 1)
        fig.add_trace(_middle(step.cell, k, _scale(x[0, k])), row=2, col=n + 1)
    out_hw = out[0, channel].detach().cpu().float()
    scale = _scale(out_hw) if is_conv else _scale(x[0, channel])  # a max keeps its colour
    shapes += _output_panel(fig, out_hw, scale, step, view, len(shown) + 1)
    fig.update_yaxes(autorange="reversed", showgrid=False, zeroline=False, constrain="domain")
    fig.update_xaxes(showgrid=False, zeroline=False, constrain="domain")
    fig.for_each_yaxis(lambda ax: ax.update(scaleanchor=ax.anchor))  # square cells
    for c in range(2, len(shown) + 1):  # one set of row numbers per row of panels
        fig.update_yaxes(showticklabels=False, col=c)
    fig.update_xaxes(dtick=1, row=2)  # the window's own rows and columns
    fig.update_yaxes(dtick=1, row=2)
    fig.update_annotations(font=dict(size=13, color="#333"))
    title = f"frame {frame + 1} of {step.frames}: out[0, {channel}, {step.row}, {step.col}]"
    fig.update_layout(
        shapes=shapes,
        height=ROW_PX + MID_PX + GAP_PX + 90,
        margin=dict(l=10, r=10, t=70, b=10),
        plot_bgcolor=PAD_COLOUR,
        showlegend=False,
        title=dict(text=f"{title} = {step.value:.4f}", font_size=15),
    )
    return fig


def _layout(step: SlideStep, shown: list[int], is_conv: bool) -> go.Figure:
    """Input channels side by side over their arithmetic; the output on the right, full height."""
    n = len(shown)
    titles = [f"input ch {k}, padded" for k in shown] + [f"output channel {step.channel}"]
    if is_conv:
        titles += [f"x×w, Σ = {step.cell.channel_sums[k]:.4f}" for k in shown]
    else:
        titles.append("the window's values")
    total = ROW_PX + MID_PX + GAP_PX
    return make_subplots(
        rows=2,
        cols=n + 1,
        specs=[[{}] * n + [{"rowspan": 2}], [{}] * n + [None]],
        row_heights=[ROW_PX / total, MID_PX / total],
        column_widths=[1] * n + [max(1.0, n * 0.9)],
        subplot_titles=titles,
        horizontal_spacing=0.05 / n,
        vertical_spacing=GAP_PX / total,
    )


def _input_crop(x, layer: Layer, step: SlideStep, view: int) -> tuple[range, range]:
    """Rows and columns (input coordinates, padding included) drawn around the window."""
    (top, bottom), (left, right) = padding_sides(layer)
    win, (h, w) = step.cell.window, x.shape[-2:]
    rows = range(*_crop(-top, h + top + bottom, (win.rows[0] + win.rows[-1]) // 2, view))
    cols = range(*_crop(-left, w + left + right, (win.cols[0] + win.cols[-1]) // 2, view))
    return rows, cols


def _input_panel(fig, hw: torch.Tensor, layer, step, rows, cols, col: int) -> list[dict]:
    """One input channel with the padding grey, the input's edge dashed, the window's taps."""
    fig.add_trace(_heatmap(_padded(hw, rows, cols), rows, cols, _scale(hw), HOVER), row=1, col=col)
    _show_only(fig, 1, col, rows, cols)
    refs = _refs(fig, 1, col)
    (top, bottom), (left, right) = padding_sides(layer)
    edge = []
    if top or bottom or left or right:
        edge = [_box(refs, 0, 0, *hw.shape, color="#555", width=1, dash="dash")]
    return edge + _window_boxes(step.cell.window, refs)


def _output_panel(fig, out_hw: torch.Tensor, scale: dict, step: SlideStep, view: int,
                  col: int) -> list[dict]:  # fmt: skip
    """The output written up to this frame (later cells blank), the current cell outlined."""
    ho, wo = out_hw.shape
    rows, cols = range(*_crop(0, ho, step.row, view)), range(*_crop(0, wo, step.col, view))
    written = out_hw.clone().reshape(-1)
    written[step.frame + 1 :] = float("nan")  # cells after this one are not written yet
    z = written.reshape(ho, wo)[rows.start : rows.stop, cols.start : cols.stop].numpy()
    fig.add_trace(_heatmap(z, rows, cols, scale, HOVER), row=1, col=col)
    _show_only(fig, 1, col, rows, cols)
    return [_box(_refs(fig, 1, col), step.row, step.col, 1, 1, color=WINDOW, width=3)]


def _show_only(fig: go.Figure, row: int, col: int, rows: range, cols: range) -> None:
    """Axis ranges of the crop (the input's edge box would widen them), rows top to bottom."""
    fig.update_xaxes(range=[cols.start - 0.5, cols.stop - 0.5], row=row, col=col)
    fig.update_yaxes(range=[rows.stop - 0.5, rows.start - 0.5], autorange=False, row=row, col=col)


def _middle(cell: ConvCell | PoolCell, k: int, in_scale: dict) -> go.Heatmap:
    """The window's arithmetic as a small grid: products x·w (conv) or values, max outlined."""
    if isinstance(cell, ConvCell):
        z = cell.products[k].float()
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
