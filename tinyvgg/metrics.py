"""Predictions on a whole split, the confusion matrix, and which examples a gallery shows."""

from __future__ import annotations

import torch

from tinyvgg.data import DeviceData


def predict(model: torch.nn.Module, data: DeviceData, batch_size: int = 256) -> torch.Tensor:
    """The predicted class of every image in `data`, (N,) int64 on the CPU."""
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        preds = [model(x).argmax(dim=1) for x, _ in data.batches(batch_size)]
    model.train(was_training)
    return torch.cat(preds).cpu() if preds else torch.zeros(0, dtype=torch.long)


def confusion_matrix(preds: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """(n_classes, n_classes) counts: row = true class, column = predicted class."""
    preds, labels = preds.long().cpu(), labels.long().cpu()
    if preds.shape != labels.shape:
        raise ValueError(f"{len(preds)} predictions for {len(labels)} labels.")
    flat = labels * n_classes + preds
    return torch.bincount(flat, minlength=n_classes * n_classes).view(n_classes, n_classes)


def pick_examples(
    preds: torch.Tensor, labels: torch.Tensor, n: int, mistakes_only: bool = False, seed: int = 0
) -> torch.Tensor:
    """Up to `n` indices, in a fixed random order; only wrong predictions when asked."""
    pool = torch.arange(len(labels))
    if mistakes_only:
        pool = pool[preds.long().cpu() != labels.long().cpu()]
    order = torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))
    return pool[order[:n]]
