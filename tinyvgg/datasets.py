"""Datasets TinyVGG trains on: one small type, and `load()` to get one by name or path.

Sources (`load(source)`):
- "fashion-mnist" (the default): tinyvgg.data finds it ($TINYVGG_DATA, Debian's package, then
  torchvision's download);
- "mnist", "kmnist": found the same way (see tinyvgg.data);
- "shapes": a demo drawn on the fly (tinyvgg.shapes);
- a path to a folder of class folders, or to a .zip of one (tinyvgg.folders).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch


class DatasetError(ValueError):
    """A dataset the user gave cannot be used; the message is one sentence saying what to do."""


@dataclass(frozen=True, repr=False, eq=False)
class Dataset:
    """A dataset's name, class names and uint8 train and test tensors."""

    name: str
    classes: tuple[str, ...]
    train_images: torch.Tensor  # (N, C, 28, 28) uint8
    train_labels: torch.Tensor  # (N,) int64
    test_images: torch.Tensor  # (M, C, 28, 28) uint8
    test_labels: torch.Tensor  # (M,) int64
    skipped: int = 0  # files that were not readable images

    @property
    def channels(self) -> int:
        """1 for greyscale, 3 for RGB."""
        return self.train_images.shape[1]

    def counts(self, split: str = "train") -> list[int]:
        """Images per class in one split ("train" or "test"), in class order."""
        labels = self.train_labels if split == "train" else self.test_labels
        return torch.bincount(labels, minlength=len(self.classes)).tolist()

    def summary(self) -> str:
        """The classes and their images per split, a line each."""
        rows = zip(self.classes, self.counts("train"), self.counts("test"), strict=True)
        return "\n".join([repr(self), *(f"  {c}: {a} train, {b} test" for c, a, b in rows)])

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, {len(self.classes)} classes, {self.channels} channel(s), "
            f"train {len(self.train_labels)}, test {len(self.test_labels)}, "
            f"skipped {self.skipped})"
        )


FASHION = "Fashion-MNIST"
BUILTIN = {"fashion-mnist": FASHION, "fashion": FASHION, "shapes": "shapes"}


def _fashion() -> Dataset:
    from tinyvgg.data import CLASS_NAMES, load_split

    train, test = load_split("train"), load_split("test")
    return Dataset(FASHION, CLASS_NAMES, train.images.unsqueeze(1), train.labels,
                   test.images.unsqueeze(1), test.labels)  # fmt: skip


def load(source: str = "fashion-mnist", channels: int = 1, seed: int = 0) -> Dataset:
    """The dataset named `source` (see the module's docstring) or read from the folder or .zip
    at that path; DatasetError (or tinyvgg.data.DataError when a built-in one is missing) with
    one sentence otherwise."""
    key = source.strip().lower()
    if key in ("fashion-mnist", "fashion", "fashionmnist"):
        return _fashion()
    if key == "shapes":
        from tinyvgg.shapes import shapes

        return shapes(seed=seed)
    path = Path(source).expanduser()
    if path.is_dir() or path.is_file():
        from tinyvgg import folders

        if path.is_dir():
            return folders.read_folder(path, channels=channels, seed=seed)
        return folders.read_zip(path, channels=channels, seed=seed)
    raise DatasetError(
        f"No dataset {source!r}: give fashion-mnist, mnist, kmnist or shapes, or the path of a "
        "folder (or .zip) holding one folder of images per class."
    )
