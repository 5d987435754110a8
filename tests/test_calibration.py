"""Calibration: ECE by its definition, and a temperature that really minimises the NLL."""

import pytest
import torch

from tinyvgg.calibration import calibrated, ece, fit_temperature, nll


def test_ece_by_hand():
    # two bins used: 0.95 (right, wrong) and 0.55 (right); 15 bins of width 1/15
    probs = torch.tensor([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45]])
    labels = torch.tensor([0, 1, 0])
    want = (2 / 3) * abs(0.95 - 0.5) + (1 / 3) * abs(0.55 - 1.0)
    assert ece(probs, labels) == pytest.approx(want, abs=1e-6)
    assert ece(torch.eye(4), torch.arange(4)) == 0.0  # sure and right: calibrated


def test_fitted_temperature_minimises_the_nll_and_keeps_the_answers():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (2000,), generator=g)
    logits = torch.randn(2000, 10, generator=g)
    logits[torch.arange(2000), labels] += 2.0  # right more often than not...
    sharp = logits * 4.0  # ...but far too sure of it
    t = fit_temperature(sharp, labels)
    assert t == pytest.approx(4.0 * fit_temperature(logits, labels), rel=1e-4)  # undone exactly
    for other in (t * 0.9, t * 1.1, 1.0):
        assert nll(sharp, labels, t) <= nll(sharp, labels, other)
    before = ece(calibrated(sharp), labels)
    after = ece(calibrated(sharp, t), labels)
    assert after < before / 2
    assert torch.equal(calibrated(sharp, t).argmax(1), sharp.argmax(1))
    torch.testing.assert_close(calibrated(sharp, t).sum(1), torch.ones(2000))
