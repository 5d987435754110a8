"""The exact arithmetic behind one output cell of conv, ReLU, max-pool, flatten, linear, softmax.

Every function takes the layer's live input tensor and the layer itself, and returns plain
tensors and numbers; tests check each against PyTorch computing the same cell.
Shapes: x is (1, C, H, W); (c, i, j) is an output channel, row and column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


def pair(v) -> tuple[int, int]:
    """A layer's int-or-pair setting (kernel_size, stride, padding, dilation) as a pair."""
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def stride_of(layer: nn.Conv2d | nn.MaxPool2d):
    """A layer's stride; a max-pool given none strides by its kernel size, as PyTorch does."""
    return layer.stride if layer.stride is not None else layer.kernel_size


def conv_pads(padding, kernel_size, dilation=1) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) zero padding of a conv's settings, as PyTorch pads:
    "valid" is none, "same" pads d(k - 1) per axis with the odd one bottom/right."""
    if padding == "same":
        k, d = pair(kernel_size), pair(dilation)
        totals = [d[a] * (k[a] - 1) for a in range(2)]
        return tuple((t // 2, t - t // 2) for t in totals)  # type: ignore[return-value]
    top, left = (0, 0) if padding == "valid" else pair(padding)
    return (top, top), (left, left)


def conv_padding(layer: nn.Conv2d) -> tuple[int, int]:
    """(top, left) zero padding, resolving "same" and "valid" as PyTorch does."""
    (top, _), (left, _) = conv_pads(layer.padding, layer.kernel_size, layer.dilation)
    return top, left


def output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                ceil_mode: bool = False) -> int:  # fmt: skip
    """⌊(size + 2p − d(k − 1) − 1) / s⌋ + 1, the formula PyTorch's docs give for both layers."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (math.ceil if ceil_mode else math.floor)(span / stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:  # the last window must start inside
        out -= 1
    return out


@dataclass(frozen=True)
class Window:
    """Where a kernel or pooling window sits over the input for one output cell."""

    rows: list[int]  # input row under each kernel row (outside [0, H) means padding)
    cols: list[int]  # input column under each kernel column
    inside: torch.Tensor  # (kh, kw) bool: True where the window covers real input


def window(x_hw: tuple[int, int], i: int, j: int, kernel, stride, pad, dilation) -> Window:
    """Where the kernel sits for output cell (i, j)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(pair, (kernel, stride, pad, dilation))
    rows = [i * sh - ph + a * dh for a in range(kh)]
    cols = [j * sw - pw + b * dw for b in range(kw)]
    r = torch.tensor([0 <= v < x_hw[0] for v in rows])
    c = torch.tensor([0 <= v < x_hw[1] for v in cols])
    return Window(rows, cols, r[:, None] & c[None, :])


def _gather(x_chw: torch.Tensor, win: Window, fill: float) -> torch.Tensor:
    """(C, kh, kw) values of x under the window, `fill` where it covers padding."""
    out = torch.full((x_chw.shape[0], len(win.rows), len(win.cols)), fill, dtype=x_chw.dtype)
    for a, r in enumerate(win.rows):
        for b, c in enumerate(win.cols):
            if win.inside[a, b]:
                out[:, a, b] = x_chw[:, r, c]
    return out


@dataclass(frozen=True)
class ConvCell:
    """A conv output cell as arithmetic: patch × kernel per input channel, plus the bias."""

    channel: int
    row: int
    col: int
    window: Window
    patch: torch.Tensor  # (C_in, kh, kw) input under the kernel, 0 in the padding
    kernel: torch.Tensor  # (C_in, kh, kw) this output channel's weights
    products: torch.Tensor  # patch * kernel
    channel_sums: torch.Tensor  # (C_in,) sum of products per input channel
    bias: float
    value: float  # sum(channel_sums) + bias, in float64


def conv_cell(x: torch.Tensor, layer: nn.Conv2d, c: int, i: int, j: int) -> ConvCell:
    """The multiply-add that produced output (c, i, j) of `layer` applied to x (1, C_in, H, W)."""
    if layer.groups != 1 or layer.padding_mode != "zeros":
        raise ValueError("only groups=1 and zero padding are explained")
    x_chw = x[0].detach().cpu().double()
    win = window(tuple(x_chw.shape[1:]), i, j, layer.kernel_size, layer.stride,
                 conv_padding(layer), layer.dilation)  # fmt: skip
    patch = _gather(x_chw, win, 0.0)
    kernel = layer.weight[c].detach().cpu().double()
    products = patch * kernel
    sums = products.sum(dim=(1, 2))
    bias = float(layer.bias[c].detach()) if layer.bias is not None else 0.0
    value = float(sums.sum()) + bias
    return ConvCell(c, i, j, win, patch, kernel, products, sums, bias, value)


@dataclass(frozen=True)
class PoolCell:
    """A max-pool output cell: the window's values and which one is the largest."""

    channel: int
    row: int
    col: int
    window: Window
    values: torch.Tensor  # (kh, kw) input under the window, -inf in the padding
    argmax: tuple[int, int]  # position of the maximum inside the window
    value: float


def pool_cell(x: torch.Tensor, layer: nn.MaxPool2d, c: int, i: int, j: int) -> PoolCell:
    """The window whose maximum became output (c, i, j) of `layer` applied to x (1, C, H, W)."""
    x_chw = x[0, c : c + 1].detach().cpu()
    stride = stride_of(layer)
    win = window(tuple(x_chw.shape[1:]), i, j, layer.kernel_size, stride, layer.padding,
                 layer.dilation)  # fmt: skip
    values = _gather(x_chw, win, float("-inf"))[0]
    flat = int(values.argmax())
    a, b = divmod(flat, values.shape[1])
    return PoolCell(c, i, j, win, values, (a, b), float(values[a, b]))


@dataclass(frozen=True)
class ReluCell:
    """A ReLU output cell: max(0, x), and how much of its map ReLU zeroed."""

    before: float
    after: float
    zeroed: int  # cells of the whole map that ReLU set to zero (they were negative)
    total: int


def relu_cell(before: torch.Tensor, c: int, i: int, j: int) -> ReluCell:
    """max(0, x) at (c, i, j) of the ReLU's input (1, C, H, W), and how much it zeroed."""
    x = float(before[0, c, i, j])
    return ReluCell(x, max(0.0, x), int((before < 0).sum()), before.numel())


Span = tuple[int, tuple[int, int], tuple[int, int]]  # channel, (first, last) row, (first, last) col


def source_cells(layer: nn.Module, in_chw: tuple[int, int, int], c: int, i: int, j: int
                 ) -> list[Span]:  # fmt: skip
    """The input cells output (c, i, j) of `layer` is computed from, padding left out: the
    kernel's window on every input channel for a Conv2d, the window on channel c for a
    MaxPool2d, the same cell for a ReLU; [] for other layers (none reads a single cell)."""
    hw = in_chw[1:]
    if isinstance(layer, nn.ReLU):
        return [(c, (i, i), (j, j))]
    if isinstance(layer, nn.Conv2d):
        pad, channels = conv_padding(layer), range(in_chw[0])
    elif isinstance(layer, nn.MaxPool2d):
        pad, channels = layer.padding, [c]
    else:
        return []
    win = window(hw, i, j, layer.kernel_size, stride_of(layer), pad, layer.dilation)
    rows = (max(win.rows[0], 0), min(win.rows[-1], hw[0] - 1))
    cols = (max(win.cols[0], 0), min(win.cols[-1], hw[1] - 1))
    return [(k, rows, cols) for k in channels]


def flatten_index(chw: tuple[int, int, int], c: int, i: int, j: int) -> int:
    """Where cell (c, i, j) of a (C, H, W) map lands in the flattened vector."""
    _, h, w = chw
    return (c * h + i) * w + j


def unflatten_index(chw: tuple[int, int, int], k: int) -> tuple[int, int, int]:
    """The (c, i, j) whose value sits at position k of the flattened vector."""
    _, h, w = chw
    c, rest = divmod(k, h * w)
    return (c, *divmod(rest, w))


@dataclass(frozen=True)
class Contributions:
    """A logit as bias + Σ weight × feature, with the largest contributions first."""

    cls: int
    logit: float  # bias + sum(products), float64
    bias: float
    products: torch.Tensor  # (F,) weight[cls] * features
    top: list[int]  # feature indices by |product|, largest first


def linear_contributions(
    features: torch.Tensor, layer: nn.Linear, cls: int, n: int = 10
) -> Contributions:
    """How each input feature (1, F) pushes the logit of class `cls` up or down."""
    x = features.reshape(-1).detach().cpu().double()
    w = layer.weight[cls].detach().cpu().double()
    products = w * x
    bias = float(layer.bias[cls].detach()) if layer.bias is not None else 0.0
    top = products.abs().argsort(descending=True)[:n].tolist()
    return Contributions(cls, float(products.sum()) + bias, bias, products, top)


@dataclass(frozen=True)
class SoftmaxSteps:
    """softmax(z) step by step, in float64: each a (classes,) tensor but the sum."""

    logits: torch.Tensor  # z
    shifted: torch.Tensor  # z - max z (the largest becomes 0: exp cannot overflow)
    exps: torch.Tensor  # exp(z - max z)
    total: float  # their sum
    probs: torch.Tensor  # exps / total


def softmax_steps(logits: torch.Tensor) -> SoftmaxSteps:
    """Softmax written out in float64: z, z − max z, exp, their sum and the probabilities."""
    z = logits.reshape(-1).detach().cpu().double()
    shifted = z - z.max()
    e = torch.exp(shifted)
    total = e.sum()
    return SoftmaxSteps(z, shifted, e, float(total), e / total)


def softmax(logits: torch.Tensor) -> torch.Tensor:
    """exp(z - max) / sum(exp(z - max)) in float64, written out as the page shows it."""
    return softmax_steps(logits).probs


def padding_sides(layer: nn.Conv2d | nn.MaxPool2d) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) padding; "same" puts an odd extra row/column last."""
    if isinstance(layer, nn.Conv2d):
        return conv_pads(layer.padding, layer.kernel_size, layer.dilation)
    top, left = pair(layer.padding)
    return (top, top), (left, left)


def output_hw(layer: nn.Conv2d | nn.MaxPool2d, hw: tuple[int, int]) -> tuple[int, int]:
    """(H_out, W_out) that `layer` makes from an (H, W) input, by `output_size` per axis."""
    stride = stride_of(layer)
    k, s, d = pair(layer.kernel_size), pair(stride), pair(layer.dilation)
    ceil = bool(getattr(layer, "ceil_mode", False))
    out = []
    for a, (before, after) in enumerate(padding_sides(layer)):
        # an uneven split pads `before` on both sides and adds the difference to the size
        out.append(output_size(hw[a] + after - before, k[a], s[a], before, d[a], ceil))
    return out[0], out[1]
