"""Receptive fields: the input pixels a cell of any layer up to max_pool_2 depends on.

Computed from the layers' geometry (kernel, stride, padding, dilation) by walking back through
`tinyvgg.explain.source_cells`, and cached per geometry: 3×3 for conv_1_1, 16×16 inside the
image for max_pool_2 (clipped at the border).
"""

from __future__ import annotations

from functools import cache

import torch
from torch import nn

from tinyvgg.explain import source_cells
from tinyvgg.model import LAYER_NAMES, TinyVGG

Span = tuple[int, int]  # first and last row (or column), inclusive


def receptive_field(
    model: TinyVGG, layer: str, i: int, j: int, image_hw: tuple[int, int] = (28, 28)
) -> tuple[Span, Span]:
    """The input rows and columns (first, last) that cell (i, j) of `layer` depends on,
    clipped at the border: 3×3 for conv_1_1, 16×16 inside the image for max_pool_2."""
    return _fields(_layer_kinds(model), layer, image_hw)[i][j]


def _layer_kinds(model: TinyVGG) -> tuple:
    """The geometry of the layers up to max_pool_2, hashable for the cache."""
    geo = []
    for name, m in model.named_layers():
        if isinstance(m, nn.Conv2d):
            geo.append((name, "conv", m.kernel_size, m.stride, m.padding, m.dilation))
        elif isinstance(m, nn.MaxPool2d):
            geo.append((name, "pool", m.kernel_size, m.stride, m.padding, m.dilation))
        elif isinstance(m, nn.ReLU):
            geo.append((name, "relu"))
    return tuple(geo)


@cache
def _fields(geo: tuple, layer: str, image_hw: tuple[int, int]) -> list[list]:
    if layer not in [g[0] for g in geo]:
        raise ValueError(f"{layer} has no receptive field; it is not one of "
                         f"{', '.join(LAYER_NAMES[:10])}.")  # fmt: skip
    layers, hws, hw = [], [], image_hw
    for g in geo:  # rebuild each layer on its own, to walk back through source_cells
        if g[1] == "conv":
            m = nn.Conv2d(1, 1, g[2], g[3], g[4], g[5], bias=False)
        elif g[1] == "pool":
            m = nn.MaxPool2d(g[2], g[3], g[4], g[5])
        else:
            m = nn.ReLU()
        hws.append(hw)
        layers.append(m)
        if g[1] != "relu":
            with torch.no_grad():
                hw = tuple(m(torch.zeros(1, 1, *hw)).shape[-2:])
        if g[0] == layer:
            break
    out_hw = hw
    fields = []
    for i in range(out_hw[0]):
        row = []
        for j in range(out_hw[1]):
            rows, cols = (i, i), (j, j)
            for m, in_hw in zip(reversed(layers), reversed(hws), strict=True):
                first = source_cells(m, (1, *in_hw), 0, rows[0], cols[0])[0]
                last = source_cells(m, (1, *in_hw), 0, rows[1], cols[1])[0]
                rows, cols = (first[1][0], last[1][1]), (first[2][0], last[2][1])
            row.append((rows, cols))
        fields.append(row)
    return fields
