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
    assert fig.layout.meta["channels"] == MAX_MAPS
    z = np.asarray(fig.data[0].z)
    (h, w) = fig.layout.meta["tile"]
    for c, (r0, c0) in enumerate(fig.layout.meta["origins"]):
        np.testing.assert_array_equal(z[r0 : r0 + h, c0 : c0 + w], t[c].numpy())


def test_large_maps_show_every_kth_cell_at_its_real_index():
    t = torch.randn(2, 300, 260)
    fig = maps(t)  # every 3rd cell: ceil(300 / 128)
    z, who = np.asarray(fig.data[0].z), np.asarray(fig.data[0].customdata)
    (h, w), (r0, c0) = fig.layout.meta["tile"], fig.layout.meta["origins"][1]
    np.testing.assert_array_equal(z[r0 : r0 + h, c0 : c0 + w], t[1, ::3, ::3].numpy())
    assert (who[r0 + 1, c0 + 1] == [1, 3, 3]).all()  # hover gives the real indices


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
    assert tr.showscale is not False and tr.colorbar.title.text == "weight"  # a key to the colours
    assert tr.zmin == -tr.zmax == -float(w.abs().max())  # signed: diverging around 0


def test_the_demo_figure_outlines_0_3367():
    x, out = maxpool_demo()
    fig = demo_figure(x, out)
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), x[0, 0].numpy())
    assert fig.data[1].text[0][0] == "0.3367"
    box = fig.layout.shapes[0]
    assert (box.x0 + 0.5, box.y0 + 0.5) == (0, 0)  # the top-left cell holds the maximum
