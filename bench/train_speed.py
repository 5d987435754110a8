"""The notebook's training loop against `fit()`, side by side in one process.

    python bench/train_speed.py [--epochs 1] [--device auto] [--tuned-reference]

Reference: torchvision FashionMNIST with ToTensor(), DataLoader batch 32 with shuffle, per-batch
`.item()` accuracy, SGD lr 0.1, a test pass per epoch (learnpytorch.io 03, model_2).
Prints one JSON line: both times, both test accuracies and ratio = reference_s / fit_s.
Neither time includes reading the dataset from disk (the reference builds its datasets before
its clock starts; `fit()` gets the splits already read); both include turning the images into
float batches, the training steps and a test pass per epoch.

On the CPU, fit() first tells glibc to keep freed memory for reuse (`keep_freed_memory`), which
the notebook does not do; `--tuned-reference` does it before the reference too, to show how much
of the ratio that setting alone accounts for.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets
from torchvision.transforms import ToTensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tinyvgg.data import dataset_root, load_split  # noqa: E402
from tinyvgg.device import describe, keep_freed_memory, pick_device  # noqa: E402
from tinyvgg.model import build_model  # noqa: E402
from tinyvgg.train import TrainConfig, fit  # noqa: E402


def accuracy_fn(y_true: torch.Tensor, y_pred: torch.Tensor) -> float:
    """The notebook's accuracy in percent."""
    correct = torch.eq(y_true, y_pred).sum().item()
    return (correct / len(y_pred)) * 100


def reference(epochs: int, device: torch.device) -> tuple[float, float]:
    """The notebook's loop; returns (seconds, final test accuracy in percent)."""
    root = str(dataset_root())
    train_data = datasets.FashionMNIST(root, train=True, download=False, transform=ToTensor())
    test_data = datasets.FashionMNIST(root, train=False, download=False, transform=ToTensor())
    torch.manual_seed(42)
    train_loader = DataLoader(train_data, batch_size=32, shuffle=True)
    test_loader = DataLoader(test_data, batch_size=32, shuffle=False)
    model = build_model(seed=42).to(device)  # same init as the notebook's torch.manual_seed(42)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(params=model.parameters(), lr=0.1)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        train_loss, train_acc = 0, 0
        for X, y in train_loader:
            X, y = X.to(device), y.to(device)
            y_pred = model(X)
            loss = loss_fn(y_pred, y)
            train_loss += loss
            train_acc += accuracy_fn(y_true=y, y_pred=y_pred.argmax(dim=1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        test_loss, test_acc = 0, 0
        model.eval()
        with torch.inference_mode():
            for X, y in test_loader:
                X, y = X.to(device), y.to(device)
                test_pred = model(X)
                test_loss += loss_fn(test_pred, y)
                test_acc += accuracy_fn(y_true=y, y_pred=test_pred.argmax(dim=1))
        test_acc /= len(test_loader)
    return time.perf_counter() - start, test_acc


def main() -> None:
    """Run both loops and print one JSON line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--device", default="auto")
    p.add_argument("--tuned-reference", action="store_true", help="keep_freed_memory() first")
    args = p.parse_args()
    device = pick_device(args.device)
    if args.tuned_reference and device.type == "cpu":
        keep_freed_memory()
    ref_s, ref_acc = reference(args.epochs, device)
    cfg = TrainConfig(epochs=args.epochs, lr=0.1, batch_size=32, seed=42, device=str(device))
    train, test = load_split("train"), load_split("test")
    start = time.perf_counter()
    result = fit(cfg, train=train, test=test)
    fit_s = time.perf_counter() - start
    fit_acc = result.results["model_acc"]
    print(json.dumps({
        "device": describe(device), "epochs": args.epochs,
        "reference_s": round(ref_s, 2), "fit_s": round(fit_s, 2),
        "reference_test_acc": round(ref_acc, 2), "fit_test_acc": round(fit_acc, 2),
        "ratio": round(ref_s / fit_s, 2), "tuned_reference": args.tuned_reference,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
