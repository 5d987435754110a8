"""Fashion-MNIST, MNIST and KMNIST: class names, finding the data, and tensor-resident batches.

Where a dataset comes from, in order (its `IdxSource` names the variable and the folders):
1. its environment variable (`$TINYVGG_DATA` for Fashion-MNIST, `$TINYVGG_MNIST`,
   `$TINYVGG_KMNIST`): a folder with the four IDX files, gzipped or not;
2. for Fashion-MNIST, Debian's package `dataset-fashion-mnist` (`/usr/share/datasets/...`);
3. torchvision's `FashionMNIST`/`MNIST`/`KMNIST(..., download=True)` into the user cache folder.
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
import re
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
# As torchvision's MNIST.classes and KMNIST.classes spell them (tests/test_datasets.py checks).
MNIST_CLASSES: tuple[str, ...] = (
    "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
    "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
)  # fmt: skip
KMNIST_CLASSES: tuple[str, ...] = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
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


@dataclass(frozen=True)
class IdxSource:
    """A dataset stored as the four IDX files of MNIST's layout, and where to look for it."""

    name: str  # as shown, and as a model's `dataset`: "Fashion-MNIST"
    folder: str  # torchvision's class, and its folder under a root: "FashionMNIST"
    env: str  # the variable that names a folder holding its four files
    classes: tuple[str, ...]
    download_mb: int  # about what torchvision downloads
    debian: bool = False  # Debian packages it in DEBIAN_DIR

    def how_to_get(self, cache: Path) -> str:
        """What to do when no source has it, as one sentence."""
        ways = [f"set {self.env} to a folder with the four IDX files (gzipped or not)"]
        if self.debian:
            ways.append("install Debian's package (`sudo apt-get install dataset-fashion-mnist`)")
        ways.append(f"connect to the internet so torchvision can download it (about "
                    f"{self.download_mb} MB) into {cache}")  # fmt: skip
        count = {2: "two", 3: "three"}[len(ways)]
        return f"{self.name} was not found. Get it one of {count} ways: {'; or '.join(ways)}."


FASHION = IdxSource("Fashion-MNIST", "FashionMNIST", "TINYVGG_DATA", CLASS_NAMES, 30, debian=True)
MNIST = IdxSource("MNIST", "MNIST", "TINYVGG_MNIST", MNIST_CLASSES, 12)
KMNIST = IdxSource("KMNIST", "KMNIST", "TINYVGG_KMNIST", KMNIST_CLASSES, 21)
_ALIASES = {"fashionmnist": FASHION, "fashion": FASHION, "mnist": MNIST, "kmnist": KMNIST}


def idx_source(name: str) -> IdxSource | None:
    """The IDX dataset `name` names, in any case and spelling ("fashion-mnist", "Fashion-MNIST",
    "fashion", "mnist", "KMNIST"); None for any other name, a path among them."""
    return _ALIASES.get(re.sub(r"[-_ ]", "", name.strip().lower()))


class DataError(RuntimeError):
    """The dataset cannot be found or read; the message says what to do."""


@dataclass(frozen=True)
class Split:
    """One split of a dataset, as stored: uint8 images and their labels."""

    images: torch.Tensor  # (N, 28, 28) uint8 as in an IDX file, or (N, C, 28, 28)
    labels: torch.Tensor  # (N,) int64

    def __len__(self) -> int:
        return len(self.labels)


def cache_dir() -> Path:
    """Per-user cache: $TINYVGG_CACHE, else $XDG_CACHE_HOME/tinyvgg, else ~/.cache/tinyvgg."""
    if os.environ.get("TINYVGG_CACHE"):
        return Path(os.environ["TINYVGG_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinyvgg"


def _find(folder: Path, name: str, src: IdxSource) -> Path | None:
    for candidate in (name, name + ".gz", f"{src.folder}/raw/{name}"):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def _layout(source: Path, src: IdxSource) -> Path | None:
    """A torchvision root whose `src.folder`/raw holds `source`'s four files uncompressed."""
    found = {n: _find(source, n, src) for pair in FILES.values() for n in pair}
    if not all(found.values()):
        return None
    key = hashlib.sha1(str(source.resolve()).encode()).hexdigest()[:12]
    root = cache_dir() / "sources" / key
    raw = root / src.folder / "raw"
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
                with gzip.open(path) as src_file, open(made, "wb") as dst:
                    shutil.copyfileobj(src_file, dst)
            else:
                shutil.copyfile(path, made)
            os.replace(made, target)
        stamp_file.write_text(stamp)
    return root


def _download_root() -> Path:
    return cache_dir() / "download"


def _source(dataset: str) -> IdxSource:
    if (src := idx_source(dataset)) is None:
        raise ValueError(f"dataset must be fashion-mnist, mnist or kmnist, not {dataset!r}")
    return src


def dataset_root(download: bool = True, dataset: str = "fashion-mnist") -> Path:
    """The torchvision root to read `dataset` from (fashion-mnist, mnist or kmnist), preparing
    it from the first source that has its files."""
    src = _source(dataset)
    env = os.environ.get(src.env)
    if env:
        root = _layout(Path(env).expanduser(), src)
        if root is None:
            raise DataError(
                f"{src.env}={env} does not hold the four {src.name} IDX files "
                f"({', '.join(n for p in FILES.values() for n in p)}, gzipped or not)."
            )
        return root
    if src.debian and DEBIAN_DIR.is_dir() and (root := _layout(DEBIAN_DIR, src)) is not None:
        return root
    root = _download_root()
    if (root / src.folder / "raw" / FILES["test"][0]).is_file():
        return root
    if download and os.environ.get("TINYVGG_NO_DOWNLOAD") != "1":
        from torchvision import datasets  # only here: importing it takes a second

        try:
            for train in (True, False):
                getattr(datasets, src.folder)(str(root), train=train, download=True)
            return root
        except Exception as e:  # no network, proxy, disk full: one message covers them
            raise DataError(f"{src.how_to_get(root)} (The download failed: {_reason(e)}.)") from e
    raise DataError(src.how_to_get(root))


def _reason(e: BaseException) -> str:
    """A failed download's cause on one line: torchvision's message lists each mirror it tried
    ("Tried URL, got:" then "<urlopen error ...>"); the last such error says why."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    errors = [line.strip("<>") for line in lines if line.startswith("<")]
    return (errors or lines or [type(e).__name__])[-1].rstrip(".:")


def load_split(
    split: str = "train", download: bool = True, dataset: str = "fashion-mnist"
) -> Split:
    """One split of `dataset` (fashion-mnist, mnist or kmnist) as uint8 images (N, 28, 28) and
    int64 labels, read once per process."""
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    src = _source(dataset)
    return _read_split(split, dataset_root(download, dataset), src)


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


@functools.lru_cache(maxsize=6)
def _read_split(split: str, root: Path, src: IdxSource) -> Split:
    raw = root / src.folder / "raw"
    try:
        images, labels = (read_idx(raw / name) for name in FILES[split])
    except (OSError, ValueError) as e:
        raise DataError(f"The {src.name} files under {root} could not be read ({e}).") from e
    labels = labels.long()
    if images.dtype != torch.uint8 or images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise DataError(f"The {src.name} {split} files under {root} have the wrong shape.")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(src.classes)):
        raise DataError(f"The {src.name} {split} labels under {root} are out of range.")
    return Split(images, labels)


def with_channels(images: torch.Tensor) -> torch.Tensor:
    """(N, 28, 28) -> (N, 1, 28, 28), a view; (N, C, 28, 28) as it is."""
    return images.unsqueeze(1) if images.dim() == 3 else images


def to_float(images: torch.Tensor) -> torch.Tensor:
    """(N, 28, 28) or (N, C, 28, 28) uint8 -> (N, C, 28, 28) float in [0, 1], exactly as
    `ToTensor()` scales."""
    return with_channels(images).float().div(255)


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

    x: torch.Tensor  # (N, C, 28, 28) float on device
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
