"""Shared figure builders: the numbers on screen are the tensor's numbers."""

import numpy as np
import torch

from ui.figures.common import colour_range, feature_maps, image


def test_feature_maps_carry_every_channel_exactly():
    t = torch.randn(10, 7, 7)
    fig = feature_maps(t)
    heatmaps = [tr for tr in fig.data if tr.type == "heatmap"]
    assert len(heatmaps) == 10
    for c, tr in enumerate(heatmaps):
        np.testing.assert_array_equal(np.asarray(tr.z), t[c].numpy())
    assert fig.layout.coloraxis.cmid == 0.0  # signed values: diverging around zero


def test_colour_ranges():
    assert colour_range(torch.tensor([0.0, 2.0]))["colorscale"] == "Greys_r"
    signed = colour_range(torch.tensor([-1.0, 3.0]))
    assert signed["zmin"] == -3.0 and signed["zmax"] == 3.0 and signed["zmid"] == 0.0
    flat = colour_range(torch.zeros(3))
    assert flat["zmax"] > flat["zmin"]


def test_image_is_the_tensor():
    t = torch.rand(28, 28)
    np.testing.assert_array_equal(np.asarray(image(t).data[0].z), t.numpy())
