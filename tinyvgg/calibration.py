"""Honest confidence: expected calibration error, and temperature scaling to lower it.

    T = fit_temperature(logits, labels)          # on held-out images, never the test set
    probs = torch.softmax(logits / T, dim=1)      # the same argmax, softer or sharper odds
    ece(probs, labels)                            # 15 equal-width bins of the top probability

Temperature scaling (Guo et al., 2017) divides every logit by one number T > 0 fitted to
minimise the negative log-likelihood: it changes how sure the model says it is, never what it
answers.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.nn import functional as F

BINS = 15
T_RANGE = (0.05, 20.0)  # temperatures searched
# The draw page calls a top class under this probability unsure. On bench/drawings.py (3,600
# drawings, the shipped sketch model calibrated, 2026-12-05) 12.5% of the answers were under
# it and right about half the time, those above it 85% of the time (bench/README.md).
UNSURE_BELOW = 0.6


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


def temperature_of(metrics: dict[str, Any] | None) -> float:
    """A checkpoint's fitted temperature (metrics["temperature"]), or 1.0 where it has none
    or holds something that is not a positive finite number."""
    t = (metrics or {}).get("temperature")
    if isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) and t > 0:
        return float(t)
    return 1.0


def is_unsure(probs: torch.Tensor, below: float = UNSURE_BELOW) -> bool:
    """True when the top class of one (classes,) probability vector is under `below`."""
    return float(probs.max()) < below


@torch.inference_mode()
def logits_of(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """The model's logits (N, classes) for images `x` (N, C, H, W), float32 on the CPU."""
    was_training = model.training
    model.eval()
    out = [model(x[i : i + batch_size]).float().cpu() for i in range(0, len(x), batch_size)]
    model.train(was_training)
    return torch.cat(out) if out else torch.zeros(0)
