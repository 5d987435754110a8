"""The playground's figures carry the tensors' own numbers."""

from __future__ import annotations

import numpy as np
import torch

from tinyvgg.playground import maxpool_demo
from ui.figures.playground import MAX_MAPS, kernels, maps
from ui.figures.playground import maxpool_demo as demo_figure


def test_maps_are_the_channels():
    t = torch.randn(20, 9, 7)
    fig = maps(t)
    assert len(fig.data) == MAX_MAPS
    for c, tr in enumerate(fig.data):
        np.testing.assert_array_equal(np.asarray(tr.z), t[c].numpy())


def test_large_maps_show_every_kth_cell_at_its_real_index():
    t = torch.randn(2, 300, 260)
    tr = maps(t).data[1]
    xs, ys = list(tr.x), list(tr.y)
    assert xs[1] - xs[0] == 3 and ys[1] - ys[0] == 3  # ceil(300 / 128)
    np.testing.assert_array_equal(np.asarray(tr.z), t[1, ::3, ::3].numpy())


def test_kernels_tile_every_weight():
    torch.manual_seed(0)
    w = torch.randn(4, 3, 2, 5)
    tr = kernels(w).data[0]
    z, who = np.asarray(tr.z, dtype=np.float64), np.asarray(tr.customdata)
    for r in range(z.shape[0]):
        for c in range(z.shape[1]):
            o, i, a, b = who[r, c]
            if o < 0:
                assert np.isnan(z[r, c])  # the gap between kernels
            else:
                assert z[r, c] == float(w[o, i, a, b])
    assert np.count_nonzero(~np.isnan(z)) == w.numel()


def test_the_demo_figure_outlines_0_3367():
    x, out = maxpool_demo()
    fig = demo_figure(x, out)
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), x[0, 0].numpy())
    assert fig.data[1].text[0][0] == "0.3367"
    box = fig.layout.shapes[0]
    assert (box.x0 + 0.5, box.y0 + 0.5) == (0, 0)  # the top-left cell holds the maximum
