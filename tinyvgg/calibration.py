"""Honest confidence: expected calibration error, and temperature scaling to lower it.

    T = fit_temperature(logits, labels)          # on held-out images, never the test set
    probs = torch.softmax(logits / T, dim=1)      # the same argmax, softer or sharper odds
    ece(probs, labels)                            # 15 equal-width bins of the top probability

Temperature scaling (Guo et al., 2017) divides every logit by one number T > 0 fitted to
minimise the negative log-likelihood: it changes how sure the model says it is, never what it
answers.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

BINS = 15
T_RANGE = (0.05, 20.0)  # temperatures searched


def ece(probs: torch.Tensor, labels: torch.Tensor, bins: int = BINS) -> float:
    """Expected calibration error of (N, classes) probabilities: the top probability's gap to
    the accuracy, in `bins` equal-width bins over (0, 1], weighted by each bin's share."""
    conf, pred = probs.float().max(dim=1)
    right = (pred == labels).float()
    # bin b holds confidences in (b / bins, (b + 1) / bins]
    which = (conf * bins).ceil().clamp(1, bins).long() - 1
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += float(mask.float().mean() * (conf[mask].mean() - right[mask].mean()).abs())
    return total


def nll(logits: torch.Tensor, labels: torch.Tensor, temperature: float) -> float:
    """Mean negative log-likelihood of the labels under softmax(logits / temperature)."""
    return float(F.cross_entropy(logits.double() / temperature, labels))


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, iters: int = 60) -> float:
    """The T in T_RANGE that minimises `nll`: golden-section search on log T (the NLL is
    unimodal in it), to about 1e-6 relative."""
    lo, hi = (torch.tensor(T_RANGE, dtype=torch.float64).log()).tolist()
    g = (5**0.5 - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa = nll(logits, labels, float(torch.tensor(a).exp()))
    fb = nll(logits, labels, float(torch.tensor(b).exp()))
    for _ in range(iters):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll(logits, labels, float(torch.tensor(a).exp()))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(logits, labels, float(torch.tensor(b).exp()))
    return float(torch.tensor((lo + hi) / 2).exp())


def calibrated(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """softmax(logits / temperature) along the last dimension."""
    return torch.softmax(logits / temperature, dim=-1)
