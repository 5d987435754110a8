"""Evaluation: the notebook's results dict, predictions, the confusion matrix, gallery picks.

    python -m tinyvgg.evaluate [--checkpoint PATH] [--data PATH_OR_NAME] [--device auto]

The command prints the notebook's results dict on a dataset's test set as one JSON line: by
default the model's own dataset's (Fashion-MNIST's 10k for the shipped model and a notebook
`state_dict`) when it is a built-in one; a model trained on a folder or .zip needs `--data`.
PATH may be the shipped checkpoint (the default), one written by `python -m tinyvgg.train`, or a
notebook `state_dict`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import torch
import torch.nn.functional as F

from tinyvgg import datasets
from tinyvgg.data import DataError, DeviceData, Split, idx_source, load_split
from tinyvgg.datasets import DatasetError
from tinyvgg.device import DeviceError, pick_device
from tinyvgg.model import SHIPPED_CHECKPOINT, CheckpointError, TinyVGG, load_checkpoint


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


def split_to_score(model: TinyVGG, source: str | None = None) -> Split:
    """The test images to score `model` on: those of `source` (a dataset's name or path, read
    with the model's channels), by default of the model's own dataset when it is a built-in
    one; DatasetError (or DataError) with one sentence when there is none to use."""
    if source is None:
        if not datasets.is_builtin(model.dataset):
            raise DatasetError(
                f"The model learned {model.dataset!r}, which is not a built-in dataset; give "
                "its folder or .zip with --data."
            )
        source = model.dataset
    c, k = model.config.input_shape, model.config.output_shape
    if (src := idx_source(source)) is not None:  # the test split alone: no need to read train
        name, classes, test = src.name, src.classes, load_split("test", dataset=src.name)
        channels = 1
    else:
        data = datasets.load(source, channels=c)
        name, classes, channels = data.name, data.classes, data.channels
        test = Split(data.test_images, data.test_labels)
    if len(classes) != k or channels != c:
        raise DatasetError(
            f"{name} has {len(classes)} classes in {channels} channel(s), but the model has "
            f"{k} outputs for {c} channel(s); give the dataset it learned with --data."
        )
    return test


def main(argv: list[str] | None = None) -> int:
    """Evaluate a checkpoint from the command line; prints the results dict as JSON."""
    p = argparse.ArgumentParser(
        prog="python -m tinyvgg.evaluate",
        description="Evaluate a checkpoint on its dataset's test set.",
    )
    p.add_argument("--checkpoint", default=str(SHIPPED_CHECKPOINT))
    p.add_argument("--data", default=None,
                   help="fashion-mnist, mnist, kmnist, shapes, or a folder or .zip of class "
                        "folders (default: the model's own, when built in)")  # fmt: skip
    p.add_argument("--device", default=None, help="auto, cuda, mps or cpu")
    p.add_argument("--name", default=None, help="model_name in the results")
    args = p.parse_args(argv)
    try:
        device = pick_device(args.device)
        model, metrics = load_checkpoint(args.checkpoint)
        test = DeviceData.from_split(split_to_score(model, args.data), device)
    except (CheckpointError, DataError, DatasetError, DeviceError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    name = args.name or metrics.get("model_name") or type(model).__name__
    print(json.dumps(evaluate(model.to(device), test, name=name)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
