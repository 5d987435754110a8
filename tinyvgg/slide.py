"""The kernel slide: a conv kernel or pooling window moving over its padded input, frame by frame.

Frame f writes output cell (i, j) = divmod(f, W_out), row by row as the output fills. Each
frame's arithmetic comes from tinyvgg.explain (conv_cell / pool_cell), so its value is the real
layer's output at that position (the tests check every frame). Works for any nn.Conv2d
(groups=1, zero padding) or nn.MaxPool2d: stride, padding ("same"/"valid" included), dilation,
rectangular kernels. Shapes: x is (1, C, H, W).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from tinyvgg.explain import ConvCell, PoolCell, conv_cell, output_hw, pool_cell

Layer = nn.Conv2d | nn.MaxPool2d


def frame_count(x: torch.Tensor, layer: Layer) -> int:
    """One frame per output position: H_out × W_out."""
    h, w = output_hw(layer, tuple(x.shape[-2:]))
    return h * w


def frame_cell(x: torch.Tensor, layer: Layer, frame: int) -> tuple[int, int]:
    """The output (row, column) that frame `frame` writes."""
    return divmod(frame, output_hw(layer, tuple(x.shape[-2:]))[1])


@dataclass(frozen=True)
class SlideStep:
    """One frame of the kernel slide: which output cell, and its exact arithmetic."""

    frame: int
    frames: int
    channel: int  # output channel
    row: int
    col: int
    cell: ConvCell | PoolCell  # the exact arithmetic behind out[0, channel, row, col]

    @property
    def value(self) -> float:
        """The output cell's value."""
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
    n = cell.patch.shape[0]
    over = f"all {n} input channels" if n > 1 else "its 1 input channel"
    lines = [f"out[0, {c}, {i}, {j}] = Σ x·w over {where}, {over}, + bias{on_pad}"]
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
