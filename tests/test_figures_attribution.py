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
