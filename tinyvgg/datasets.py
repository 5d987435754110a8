"""Datasets TinyVGG trains on: one small type, and `load()` to get one by name or path.

Sources (`load(source)`):
- "fashion-mnist" (the default): tinyvgg.data finds it ($TINYVGG_DATA, Debian's package, then
  torchvision's download);
- "mnist", "kmnist": found the same way ($TINYVGG_MNIST, $TINYVGG_KMNIST, then the download);
- "shapes": a demo drawn on the fly (tinyvgg.shapes);
- a path to a folder of class folders, or to a .zip of one (tinyvgg.folders).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from tinyvgg import data


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
    split: str = "its own training and test sets"  # how train and test were told apart

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
# The built-in datasets: a source load() takes (lower case) -> the dataset's name.
BUILTIN = {"fashion-mnist": FASHION, "fashion": FASHION, "mnist": "MNIST", "kmnist": "KMNIST",
           "shapes": "shapes"}  # fmt: skip
NOT_FOUND = (
    "No dataset {source!r}: give fashion-mnist, mnist, kmnist or shapes, or the path of a "
    "folder (or .zip) holding one folder of images per class."
)


def is_builtin(name: str) -> bool:
    """Whether `name` is a built-in dataset's, as load() takes it or as `Dataset.name` says it."""
    return name.strip().lower() in BUILTIN or data.idx_source(name) is not None


def check_source(source: str) -> None:
    """DatasetError with one sentence unless `source` names a built-in dataset or an existing
    file or folder (whether it reads is for load() to find)."""
    if not isinstance(source, str) or not source.strip():
        raise DatasetError("The dataset is empty: give a dataset name or a path.")
    if not is_builtin(source) and not Path(source).expanduser().exists():
        raise DatasetError(NOT_FOUND.format(source=source))


def from_splits(source: str, train: data.Split, test: data.Split) -> Dataset:
    """The built-in IDX dataset `source` (fashion-mnist, mnist or kmnist) made of these splits:
    its name and class names, their images as (N, 1, 28, 28) views."""
    if (src := data.idx_source(source)) is None:
        raise DatasetError(
            f"Splits stand for fashion-mnist, mnist or kmnist only, not {source!r}; give the "
            "dataset itself instead."
        )
    return Dataset(src.name, src.classes, data.with_channels(train.images), train.labels,
                   data.with_channels(test.images), test.labels)  # fmt: skip


def load(source: str = "fashion-mnist", channels: int = 1, seed: int = 0) -> Dataset:
    """The dataset named `source` (see the module's docstring) or read from the folder or .zip
    at that path, with `channels` (1 or 3) for a folder's images and `seed` for its split and
    the shapes' drawing; DatasetError (or tinyvgg.data.DataError when a built-in one is missing)
    with one sentence otherwise."""
    check_source(source)
    if (src := data.idx_source(source)) is not None:
        train, test = (data.load_split(s, dataset=src.name) for s in ("train", "test"))
        return from_splits(src.name, train, test)
    if source.strip().lower() == "shapes":
        from tinyvgg.shapes import shapes

        return shapes(seed=seed)
    from tinyvgg import folders

    path = Path(source).expanduser()
    if path.is_dir():
        return folders.read_folder(path, channels=channels, seed=seed)
    return folders.read_zip(path, channels=channels, seed=seed)
