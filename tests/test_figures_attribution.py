"""Attribution figures: the map drawn as it is (never rescaled), on a scale centred at zero."""

import numpy as np
import torch

from ui.figures.attribution import EVIDENCE, overlay, scale_text, shares_grid


def test_overlay_draws_the_map_unscaled_over_the_input():
    x = torch.rand(28, 28, generator=torch.Generator().manual_seed(0))
    a = torch.randn(28, 28, generator=torch.Generator().manual_seed(1)) * 0.01
    fig = overlay(x, a, "why Coat")
    grey, evidence = fig.data
    np.testing.assert_array_equal(grey.z, x.numpy())
    np.testing.assert_array_equal(evidence.z, a.numpy())  # the values themselves
    np.testing.assert_array_equal(evidence.customdata, x.numpy())  # the pixel on hover
    m = float(a.abs().max())
    assert (evidence.zmin, evidence.zmid, evidence.zmax) == (-m, 0.0, m)
    assert fig.layout.meta["scale"] == m
    assert "%{z:.4g} logit" in evidence.hovertemplate and grey.hoverinfo == "skip"
    assert not grey.showscale and evidence.colorbar.title.text == "logit"
    # clear at zero: the garment shows through where the map has nothing to say
    assert tuple(EVIDENCE[2]) == (0.5, "rgba(247, 247, 247, 0.0)")
    assert fig.layout.yaxis.autorange == "reversed"  # row 0 on top, as the image


def test_a_flat_map_still_draws():
    fig = overlay(torch.zeros(28, 28), torch.zeros(28, 28))
    assert fig.data[1].zmax > 0 > fig.data[1].zmin


def test_scale_text_and_the_shares_grid():
    a = torch.tensor([[-0.5, 0.25], [0.0, 0.125]])
    assert scale_text(a) == "colours from −0.5 to +0.5 logit, clear at 0"
    shares = torch.randn(10, 7, 7)
    fig = shares_grid(shares, "shares")
    assert fig.layout.meta["channels"] == 10
    z = np.asarray(fig.data[0].z, dtype=np.float64)
    assert abs(np.nansum(z) - float(shares.double().sum())) < 1e-4  # every share, as it is
    assert fig.data[0].zmid == 0.0


def test_an_rgb_input_shows_in_its_colours_under_the_map():
    x = torch.zeros(3, 28, 28)
    x[0, :, :14] = 1.0  # red on the left, half blue on the right
    x[2, :, 14:] = 0.5
    a = torch.randn(28, 28, generator=torch.Generator().manual_seed(1))
    under, evidence = overlay(x, a, "why Circle").data
    assert under.type == "image" and under.hoverinfo == "skip"
    z = np.asarray(under.z)
    assert z.shape == (28, 28, 3)
    assert tuple(z[0, 0]) == (255, 0, 0) and tuple(z[27, 27]) == (0, 0, 128)
    np.testing.assert_array_equal(evidence.z, a.numpy())
    np.testing.assert_array_equal(evidence.customdata, x.permute(1, 2, 0).numpy())
    assert "%{customdata[2]:.3f}" in evidence.hovertemplate  # each channel's value on hover
    # a tensor outside [0, 1] (the random input) is drawn from its minimum to its maximum
    under = overlay(x * 4 - 1, a).data[0]
    assert np.asarray(under.z).min() == 0 and np.asarray(under.z).max() == 255
