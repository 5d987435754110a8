"""Fashion-MNIST: class names, finding the data, and tensor-resident batches.

Where the data comes from, in order:
1. `$TINYVGG_DATA`: a folder with the four IDX files, gzipped or not;
2. Debian's package `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist/`);
3. torchvision's `FashionMNIST(..., download=True)` into the user cache folder.
Sources 1 and 2 are laid out (decompressed) in torchvision's folder layout under the cache, so
one reader serves all three: `read_idx`, which gives what torchvision's reader gives without
importing torchvision (a second of every process's start); torchvision downloads.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import math
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

# As torchvision's FashionMNIST.classes spells them (tests/test_data.py checks).
CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")


def class_names(n: int) -> tuple[str, ...]:
    """The names of a model's n classes: Fashion-MNIST's for 10, else "class 0", "class 1"..."""
    return CLASS_NAMES if n == len(CLASS_NAMES) else tuple(f"class {i}" for i in range(n))


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def find_class(text: str, names: tuple[str, ...] = CLASS_NAMES) -> int | None:
    """A class's index from its name in any case, with any spaces or signs between words
    ("ankle boot", "Ankle_boot", "ankle+boot"), a part of a name split by '/' ("top"), or its
    index; None when nothing matches."""
    text = text.strip()
    if text.isdigit():
        return int(text) if int(text) < len(names) else None
    wanted = _letters(text)
    for i, name in enumerate(names):
        if wanted and wanted in (_letters(name), *map(_letters, name.split("/"))):
            return i
    return None


FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SIZES = {"train": 60_000, "test": 10_000}

HOW_TO_GET = (
    "Fashion-MNIST was not found. Get it one of three ways: set TINYVGG_DATA to a folder with "
    "the four IDX files (gzipped or not); or install Debian's package "
    "(`sudo apt-get install dataset-fashion-mnist`); or connect to the internet so torchvision "
    "can download it (about 30 MB) into {cache}."
)


class DataError(RuntimeError):
    """The dataset cannot be found or read; the message says what to do."""


@dataclass(frozen=True)
class Split:
    """One split of the dataset, as stored: uint8 images and their labels."""

    images: torch.Tensor  # (N, 28, 28) uint8, as stored in the IDX file
    labels: torch.Tensor  # (N,) int64

    def __len__(self) -> int:
        return len(self.labels)


def cache_dir() -> Path:
    """Per-user cache: $TINYVGG_CACHE, else $XDG_CACHE_HOME/tinyvgg, else ~/.cache/tinyvgg."""
    if os.environ.get("TINYVGG_CACHE"):
        return Path(os.environ["TINYVGG_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinyvgg"


def _find(folder: Path, name: str) -> Path | None:
    for candidate in (name, name + ".gz", f"FashionMNIST/raw/{name}"):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def _layout(source: Path) -> Path | None:
    """A torchvision root whose FashionMNIST/raw holds `source`'s four files uncompressed."""
    found = {n: _find(source, n) for pair in FILES.values() for n in pair}
    if not all(found.values()):
        return None
    key = hashlib.sha1(str(source.resolve()).encode()).hexdigest()[:12]
    root = cache_dir() / "sources" / key
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, path in found.items():
        target = raw / name
        stamp = f"{path.resolve()}:{path.stat().st_size}:{path.stat().st_mtime_ns}"
        stamp_file = raw / f".{name}.source"
        if target.is_file() and stamp_file.is_file() and stamp_file.read_text() == stamp:
            continue
        # Write beside the target, then rename: the app and a training worker may race here.
        with tempfile.TemporaryDirectory(dir=raw) as tmp:
            made = Path(tmp) / name
            if path.suffix == ".gz":
                with gzip.open(path) as src, open(made, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            else:
                shutil.copyfile(path, made)
            os.replace(made, target)
        stamp_file.write_text(stamp)
    return root


def _download_root() -> Path:
    return cache_dir() / "download"


def dataset_root(download: bool = True) -> Path:
    """The torchvision root to read from, preparing it from the first source that has data."""
    env = os.environ.get("TINYVGG_DATA")
    if env:
        root = _layout(Path(env).expanduser())
        if root is None:
            raise DataError(
                f"TINYVGG_DATA={env} does not hold the four Fashion-MNIST IDX files "
                f"({', '.join(n for p in FILES.values() for n in p)}, gzipped or not)."
            )
        return root
    if DEBIAN_DIR.is_dir() and (root := _layout(DEBIAN_DIR)) is not None:
        return root
    root = _download_root()
    if (root / "FashionMNIST" / "raw" / FILES["test"][0]).is_file():
        return root
    if download and os.environ.get("TINYVGG_NO_DOWNLOAD") != "1":
        from torchvision import datasets  # only here: importing it takes a second

        try:
            for train in (True, False):
                datasets.FashionMNIST(str(root), train=train, download=True)
            return root
        except Exception as e:  # no network, proxy, disk full: one message covers them
            raise DataError(HOW_TO_GET.format(cache=root) + f" (Download failed: {e})") from e
    raise DataError(HOW_TO_GET.format(cache=root))


def load_split(split: str = "train", download: bool = True) -> Split:
    """One split as uint8 images (N, 28, 28) and int64 labels, read once per process."""
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    return _read_split(split, dataset_root(download))


def read_idx(path: Path) -> torch.Tensor:
    """An IDX file of unsigned bytes (big-endian header: 0, 0, 0x08, ndim, then ndim sizes) as a
    uint8 tensor of that shape. ValueError names what is wrong with a file that is not one."""
    raw = path.read_bytes()
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08":
        raise ValueError(f"{path.name} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    start = 4 + 4 * ndim
    if len(raw) < start:
        raise ValueError(f"{path.name} ends inside its header")
    shape = struct.unpack(f">{ndim}I", raw[4:start])
    if len(raw) - start != math.prod(shape):
        raise ValueError(f"{path.name} holds {len(raw) - start} bytes for a {list(shape)} array")
    return torch.frombuffer(bytearray(raw[start:]), dtype=torch.uint8).view(*shape)


@functools.lru_cache(maxsize=4)
def _read_split(split: str, root: Path) -> Split:
    raw = root / "FashionMNIST" / "raw"
    try:
        images, labels = (read_idx(raw / name) for name in FILES[split])
    except (OSError, ValueError) as e:
        raise DataError(f"The Fashion-MNIST files under {root} could not be read ({e}).") from e
    labels = labels.long()
    if images.dtype != torch.uint8 or images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise DataError(f"The Fashion-MNIST {split} files under {root} have the wrong shape.")
    if labels.min() < 0 or labels.max() >= len(CLASS_NAMES):
        raise DataError(f"The Fashion-MNIST {split} labels under {root} are out of range.")
    return Split(images, labels)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """(N, 28, 28) uint8 -> (N, 1, 28, 28) float in [0, 1], exactly as `ToTensor()` scales."""
    return images.unsqueeze(1).float().div(255)


def subset_indices(n_total: int, subset: int | None, seed: int) -> torch.Tensor:
    """A fixed random subset of indices (all of them, in order, when subset is None)."""
    if subset is None or subset >= n_total:
        return torch.arange(n_total)
    if subset < 1:
        raise ValueError("subset must be at least 1")
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(n_total, generator=g)[:subset].sort().values


@dataclass
class DeviceData:
    """A split resident on the training device, ready to be sliced into batches."""

    x: torch.Tensor  # (N, 1, 28, 28) float on device
    y: torch.Tensor  # (N,) int64 on device

    @classmethod
    def from_split(
        cls,
        split: Split,
        device: torch.device,
        indices: torch.Tensor | None = None,
        memory_format: torch.memory_format = torch.contiguous_format,
    ) -> DeviceData:
        """The split (or its `indices`) as float images on `device`, as ToTensor() scales."""
        images, labels = split.images, split.labels
        if indices is not None:
            images, labels = images[indices], labels[indices]
        # Move uint8 (4x smaller) first, then scale on the device.
        x = to_float(images.to(device)).contiguous(memory_format=memory_format)
        return cls(x, labels.to(device))

    def __len__(self) -> int:
        return len(self.y)

    def batches(
        self, batch_size: int, generator: torch.Generator | None = None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Slices in a fresh random order when a generator is given, else in order."""
        n = len(self)
        if generator is None:
            for i in range(0, n, batch_size):
                yield self.x[i : i + batch_size], self.y[i : i + batch_size]
            return
        order = torch.randperm(n, generator=generator).to(self.x.device)
        for i in range(0, n, batch_size):
            idx = order[i : i + batch_size]
            yield self.x.index_select(0, idx), self.y.index_select(0, idx)
