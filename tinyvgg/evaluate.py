"""Evaluation: the notebook's results dict, predictions, the confusion matrix, gallery picks.

    python -m tinyvgg.evaluate [--checkpoint PATH] [--device auto]

The command prints the notebook's results dict on the 10k Fashion-MNIST test set as one JSON
line. PATH may be the shipped checkpoint (the default), one written by `python -m tinyvgg.train`,
or a notebook `state_dict`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import torch
import torch.nn.functional as F

from tinyvgg.data import DataError, DeviceData, load_split
from tinyvgg.device import DeviceError, pick_device
from tinyvgg.model import SHIPPED_CHECKPOINT, CheckpointError, load_checkpoint


def score(
    model: torch.nn.Module, data: DeviceData, batch_size: int = 256
) -> tuple[float, float, torch.Tensor]:
    """(mean cross-entropy, accuracy in percent, predicted class per image) in one pass over
    `data`; the predictions are (N,) int64 on the CPU.

    Means are over images; the notebook averages per-batch means, which differs slightly when
    the last batch is short. Batches of 256 keep a forward pass in the CPU's caches.
    """
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=data.x.device)
    preds = []
    with torch.inference_mode():
        for x, y in data.batches(batch_size):
            logits = model(x)
            loss_sum += F.cross_entropy(logits, y, reduction="sum")
            preds.append(logits.argmax(dim=1))
    model.train(was_training)
    pred = torch.cat(preds) if preds else torch.zeros(0, dtype=torch.long, device=data.y.device)
    n = max(len(data), 1)
    correct = (pred == data.y).sum().item()
    return loss_sum.item() / n, 100.0 * correct / n, pred.cpu()


def results_dict(name: str, loss: float, acc: float) -> dict[str, Any]:
    """The notebook's results dict."""
    return {"model_name": name, "model_loss": loss, "model_acc": acc}


def evaluate(
    model: torch.nn.Module, data: DeviceData, batch_size: int = 256, name: str | None = None
) -> dict[str, Any]:
    """The notebook's results dict: mean cross-entropy and accuracy (percent) over `data`."""
    loss, acc, _ = score(model, data, batch_size)
    return results_dict(name or type(model).__name__, loss, acc)


def predict(model: torch.nn.Module, data: DeviceData, batch_size: int = 256) -> torch.Tensor:
    """The predicted class of every image in `data`, (N,) int64 on the CPU."""
    return score(model, data, batch_size)[2]


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


# ---------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """Evaluate a checkpoint from the command line; prints the results dict as JSON."""
    p = argparse.ArgumentParser(
        prog="python -m tinyvgg.evaluate",
        description="Evaluate a checkpoint on the 10k Fashion-MNIST test set.",
    )
    p.add_argument("--checkpoint", default=str(SHIPPED_CHECKPOINT))
    p.add_argument("--device", default=None, help="auto, cuda, mps or cpu")
    p.add_argument("--name", default=None, help="model_name in the results")
    args = p.parse_args(argv)
    try:
        device = pick_device(args.device)
        model, metrics = load_checkpoint(args.checkpoint)
        test = DeviceData.from_split(load_split("test"), device)
    except (CheckpointError, DataError, DeviceError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    name = args.name or metrics.get("model_name") or type(model).__name__
    print(json.dumps(evaluate(model.to(device), test, name=name)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
