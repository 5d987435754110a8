"""Shared figure builders: the numbers on screen are the tensor's numbers."""

import numpy as np
import torch

from ui.figures.common import colour_range, feature_maps, image


def test_feature_maps_carry_every_channel_exactly():
    t = torch.randn(10, 7, 7)
    fig = feature_maps(t)
    (heat,) = fig.data  # one mosaic of all channels
    z, who = np.asarray(heat.z), np.asarray(heat.customdata)
    (h, w), origins = fig.layout.meta["tile"], fig.layout.meta["origins"]
    assert (h, w) == (7, 7) and len(origins) == 10
    for c, (r0, c0) in enumerate(origins):
        np.testing.assert_array_equal(z[r0 : r0 + h, c0 : c0 + w], t[c].numpy())
        assert (who[r0 + 2, c0 + 5] == [c, 2, 5]).all()  # hover names channel, row, column
    assert np.isnan(z[7, 0]) and (who[7, 0] == -1).all()  # the gap between tile rows
    assert heat.zmid == 0.0  # signed values: diverging around zero


def test_feature_maps_every_kth_cell_at_its_real_index():
    t = torch.randn(2, 10, 9)
    fig = feature_maps(t, step=3)
    z, who = np.asarray(fig.data[0].z), np.asarray(fig.data[0].customdata)
    np.testing.assert_array_equal(z[:4, :3], t[0, ::3, ::3].numpy())
    assert (who[1, 2] == [0, 3, 6]).all()


def test_colour_ranges():
    assert colour_range(torch.tensor([0.0, 2.0]))["colorscale"] == "Greys_r"
    signed = colour_range(torch.tensor([-1.0, 3.0]))
    assert signed["zmin"] == -3.0 and signed["zmax"] == 3.0 and signed["zmid"] == 0.0
    flat = colour_range(torch.zeros(3))
    assert flat["zmax"] > flat["zmin"]


def test_image_is_the_tensor():
    t = torch.rand(28, 28)
    np.testing.assert_array_equal(np.asarray(image(t).data[0].z), t.numpy())


def test_feature_maps_know_the_width_that_keeps_cells_square():
    """`layout.width` is the tiles' width at the figure's height plus the colour bar: drawn at
    that width the bar stands by the tiles."""
    from ui.figures.common import COLOURBAR_PX

    fig = feature_maps(torch.rand(10, 28, 28), title="t", cell_px=84)
    rows, cols = np.asarray(fig.data[0].z).shape  # 2 x 5 tiles, one blank cell between
    assert (rows, cols) == (2 * 29 - 1, 5 * 29 - 1)
    m = fig.layout.margin
    cell = (fig.layout.height - m.t - m.b) / rows
    tiles = fig.layout.width - COLOURBAR_PX - m.l - m.r
    assert abs(tiles - cols * cell) <= 1
