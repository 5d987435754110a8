"""Bring your own dataset: a folder, or a .zip of one, holding a folder of images per class.

Layout, as torchvision's ImageFolder reads it: `class_name/*.png`, classes sorted by name;
optionally wrapped in one top folder (zipping a folder adds one), optionally split into `train/`
and `test/` folders holding the same class folders, else split per class, seeded (`test_share`
of each class, at least one image, is held out). `__MACOSX/`, dotfiles, `Thumbs.db` and
`desktop.ini` are ignored; files that are not images, or fail to decode, are skipped and counted.
A zip is checked from its central directory before any member is read, and members are read
into memory, never extracted to disk.

`to_input` is the one conversion from any Pillow image to the model's uint8 (channels, 28, 28):
1. modes: 16-bit greyscale (I;16, I) is divided by 257 (convert("L") would clip it at 255);
   float (F) in [0, 1] is scaled by 255; 1-bit becomes L; CMYK, YCbCr, LAB, HSV become RGB;
2. transparency (LA, RGBA, PA, P with a transparent colour) is composited over the border's
   opaque colour or, where most of the border is transparent, over white behind dark ink and
   black behind light ink (white ink on a transparent icon must not vanish);
3. colour: Pillow's "L" (ITU-R 601-2 luma) for one channel, RGB for three;
4. letterbox: the longer side is resized to 28, aspect kept (a box reduction to within 3x, then
   Lanczos), centred on 28x28 of the background colour: the median of the outermost pixels.
It neither inverts nor stretches contrast: a dataset keeps its own look, and training learns it.
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from tinyvgg.datasets import Dataset, DatasetError

SIZE = 28  # the model's input side
MAX_UNCOMPRESSED = 200 * 2**20  # bytes a zip may unpack to: a class's photos, not a disk's worth
MAX_FILES = 20_000  # entries in a zip, files in a folder: decoding more would take minutes
MAX_PIXELS = 4096 * 4096  # per image, read from its header before decoding (12 MP photos fit)
MAX_TOTAL_PIXELS = 400_000_000  # decoded in all (JPEGs at their reduced size): a few seconds
MAX_RATIO, RATIO_FLOOR = 200, 2**20  # a member over 1 MB, compressed over 200:1, is a bomb's
MIN_PER_CLASS = 5  # fewer cannot be split into training and test images sensibly
MIN_CLASSES, MAX_CLASSES = 2, 100  # one class is no classifier; over 100 fit no chart
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
ARCHIVE_SUFFIXES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar")
IGNORED_NAMES = ("thumbs.db", "desktop.ini")
# Only these decoders run: Pillow's EPS plugin, say, would start Ghostscript on a crafted file.
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF")  # JPEG opens MPO too
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError)
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
Files = dict[str, Callable[[], bytes]]  # relative POSIX path -> a reader of the file's bytes


# ------------------------------------------------------------------------------ one image


def _flat_mode(im: Image.Image) -> Image.Image:
    """Any mode -> L, RGB or RGBA, scaling 16-bit and float greyscale instead of clipping."""
    if im.mode.startswith("I") or im.mode == "F":  # I;16, I;16B, I (16-bit), F (float)
        a = np.nan_to_num(np.asarray(im).astype(np.float64))
        a = a / 257 if im.mode != "F" else a * 255 if a.max() <= 1 else a  # 65535 -> 255
        return Image.fromarray(np.clip(a, 0, 255).round().astype(np.uint8))
    if im.mode in ("L", "RGB", "RGBA"):
        return im
    if im.has_transparency_data:  # LA, La, PA, RGBa, P with a transparent colour
        return im.convert("RGBA")
    try:
        return im.convert("L" if im.mode == "1" else "RGB")  # P, CMYK, YCbCr, LAB, HSV, ...
    except ValueError as e:
        raise DatasetError(f"Images in colour mode {im.mode} cannot be read.") from e


def _ring(a: np.ndarray) -> np.ndarray:
    """The outermost pixels of an (H, W[, K]) array, as (P, K)."""
    a = a.reshape(*a.shape[:2], -1)
    return np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])


def _composite(rgba: Image.Image) -> Image.Image:
    """RGBA -> RGB over the border's opaque colour, else over one that contrasts the ink."""
    a = np.asarray(rgba)  # (H, W, 4)
    ring = _ring(a)
    opaque = ring[ring[:, 3] >= 128, :3]
    if len(opaque) * 2 >= len(ring):
        colour = tuple(int(v) for v in np.median(opaque, axis=0).round())
    else:
        alpha = a[..., 3].astype(np.float64)
        ink = (np.asarray(rgba.convert("L")) * alpha).sum() / max(alpha.sum(), 1.0)
        colour = (0, 0, 0) if ink >= 128 else (255, 255, 255)
    base = Image.new("RGBA", rgba.size, (*colour, 255))
    return Image.alpha_composite(base, rgba).convert("RGB")


def to_input(image: Image.Image, channels: int = 1) -> torch.Tensor:
    """Any Pillow image -> uint8 (channels, 28, 28), letterboxed (see the module docstring)."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, not {channels}")
    im = _flat_mode(image)
    im = (_composite(im) if im.mode == "RGBA" else im).convert("L" if channels == 1 else "RGB")
    fill = tuple(int(v) for v in np.median(_ring(np.asarray(im)), axis=0).round())  # (C,)
    w, h = im.size
    nw, nh = max(1, round(w * SIZE / max(w, h))), max(1, round(h * SIZE / max(w, h)))
    # reducing_gap: a box reduction to within 3x first, then Lanczos: fast, and as good.
    small = im.resize((nw, nh), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = Image.new(im.mode, (SIZE, SIZE), fill[0] if channels == 1 else fill)
    out.paste(small, ((SIZE - nw) // 2, (SIZE - nh) // 2))
    a = torch.from_numpy(np.array(out, dtype=np.uint8))  # (28, 28) or (28, 28, 3)
    return a[None] if channels == 1 else a.permute(2, 0, 1).contiguous()


class _Budget:
    """Pixels left to decode; one sentence once they run out."""

    def __init__(self) -> None:
        self.left = MAX_TOTAL_PIXELS

    def spend(self, pixels: int) -> None:
        self.left -= pixels
        if self.left < 0:
            raise DatasetError(
                f"The images hold over {MAX_TOTAL_PIXELS // 1_000_000:,} megapixels in all, more "
                "than this app decodes for one dataset; shrink them (the model sees 28×28) or "
                "use fewer."
            )


def _decode(data: bytes, channels: int, budget: _Budget | None = None) -> torch.Tensor | None:
    """An image file's bytes as the model's input, or None when they are no readable image;
    its pixels are taken from `budget` (DatasetError when it runs out) before decoding."""
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as im:
            if im.width * im.height > MAX_PIXELS:  # the header is read, the pixels are not yet
                return None
            if im.format in ("JPEG", "MPO"):
                im.draft(None, (2 * SIZE, 2 * SIZE))  # decode at 1/2..1/8 scale: 28 px suffice
            if budget is not None:
                budget.spend(im.width * im.height)
            im.load()
            return to_input(ImageOps.exif_transpose(im), channels)  # phones rotate by EXIF
    except DatasetError:
        if budget is not None and budget.left < 0:
            raise
        return None  # a colour mode Pillow cannot convert
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None  # Pillow's own guard (89 MP)
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001  a crafted file can make Pillow raise almost anything
        return None


# ------------------------------------------------------------------------------ a dataset


def _clean(name: str) -> str:
    """A path with '/' separators and no empty or '.' parts."""
    return "/".join(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))


def _ignored(path: str) -> bool:
    parts = path.split("/")
    return parts[-1].lower() in IGNORED_NAMES or any(
        p.startswith(".") or p == "__MACOSX" for p in parts
    )


def _layout(paths: list[str]) -> tuple[dict[str, dict[str, list[str]]], str, int]:
    """Image paths by split ("train", "test" or "all") and class, the wrapper folder's name,
    and the number of files outside any class folder."""
    parts = [p.split("/") for p in paths if p.lower().endswith(IMAGE_SUFFIXES)]
    outside, wrapper, cut = len(paths) - len(parts), "", 0
    while parts and min(map(len, parts)) - cut >= 3 and len({p[cut] for p in parts}) == 1:
        wrapper, cut = parts[0][cut], cut + 1  # zipping a folder wraps it in one more
    split = {"train", "test"} <= {p[cut].lower() for p in parts if len(p) - cut >= 3}
    groups: dict[str, dict[str, list[str]]] = {}
    for p in parts:
        rest = p[cut:]
        if split and len(rest) >= 3 and rest[0].lower() in ("train", "test"):
            key, cls = rest[0].lower(), rest[1]
        elif not split and len(rest) >= 2:
            key, cls = "all", rest[0]
        else:
            outside += 1
            continue
        groups.setdefault(key, {}).setdefault(cls, []).append("/".join(p))
    return groups, wrapper, outside


def _classes(groups: dict[str, dict[str, list[str]]]) -> tuple[str, ...]:
    """The class names, sorted, once the folders pass the checks that need no decoding."""
    if not groups:
        raise DatasetError(
            "No class folders with images were found; put each class's images in a folder "
            "named after the class (cats/1.png, dogs/1.png, ...) and zip those folders."
        )
    names = [set(g) for g in groups.values()]
    classes = tuple(sorted(set.union(*names)))
    if len(names) == 2 and names[0] != names[1]:
        odd = sorted(names[0] ^ names[1])[0]
        raise DatasetError(f"The class {odd!r} is in only one of train/ and test/; put it in both.")
    if len(classes) < MIN_CLASSES:
        raise DatasetError(
            f"Only one class folder was found ({classes[0]!r}); a classifier needs at least "
            f"{MIN_CLASSES} classes, each in a folder of its own."
        )
    if len(classes) > MAX_CLASSES:
        raise DatasetError(
            f"There are {len(classes)} class folders, more than the limit of {MAX_CLASSES}; "
            "merge or remove some classes."
        )
    return classes


def _check_counts(classes: tuple[str, ...], labels: dict[str, list[int]], n_files: int) -> None:
    """Enough readable images in every class (and some in each of train/ and test/)."""
    if not any(labels.values()):
        raise DatasetError(
            f"None of the {n_files} image files could be read; check that they are PNG, JPEG, "
            "BMP, GIF, WebP or TIFF pictures."
        )
    for i, cls in enumerate(classes):
        n = sum(ls.count(i) for ls in labels.values())
        if n < MIN_PER_CLASS:
            raise DatasetError(
                f"The class {cls!r} has only {n} readable image(s); each class needs at least "
                f"{MIN_PER_CLASS}, so add images to it or remove its folder."
            )
        for key in set(labels) - {"all"}:
            if i not in labels[key]:
                raise DatasetError(f"The class {cls!r} has no readable images in {key}/; add some.")


def split_indices(
    labels: torch.Tensor, n_classes: int, seed: int, share: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded, stratified (train, test) indices: `share` of each class, at least one, held out."""
    g = torch.Generator().manual_seed(seed)
    keep = torch.ones(len(labels), dtype=torch.bool)
    for c in range(n_classes):
        idx = (labels == c).nonzero().flatten()
        n_test = min(len(idx) - 1, max(1, round(len(idx) * share)))
        keep[idx[torch.randperm(len(idx), generator=g)[:n_test]]] = False
    return keep.nonzero().flatten(), (~keep).nonzero().flatten()


Progress = Callable[[int, int], None]  # (files read, files in all)


def _build(
    name: str, files: Files, channels: int, seed: int, share: float, progress: Progress | None
) -> Dataset:
    """Check, decode and split the files into a dataset, calling `progress` now and then."""
    if channels not in (1, 3) or not 0 < share < 1:
        raise ValueError(f"need channels 1 or 3 and 0 < test_share < 1, not {channels}, {share}")
    if len(files) > MAX_FILES:
        raise DatasetError(
            f"There are {len(files):,} files, over the limit of {MAX_FILES:,}; use fewer "
            "images per class."
        )
    groups, wrapper, skipped = _layout(sorted(files))
    classes = _classes(groups)
    images: dict[str, list[torch.Tensor]] = {k: [] for k in groups}
    labels: dict[str, list[int]] = {k: [] for k in groups}
    budget, done, total = _Budget(), 0, sum(len(v) for g in groups.values() for v in g.values())
    for key, by_class in groups.items():
        for i, path in ((i, p) for i, c in enumerate(classes) for p in by_class.get(c, [])):
            x = _decode(files[path](), channels, budget)  # one file's bytes in memory at a time
            done += 1
            if progress is not None and (done % 100 == 0 or done == total):
                progress(done, total)
            skipped += x is None
            if x is not None:
                images[key].append(x)
                labels[key].append(i)
    _check_counts(classes, labels, sum(len(v) for g in groups.values() for v in g.values()))
    x = {k: torch.stack(v) for k, v in images.items()}  # (N, C, 28, 28) uint8
    y = {k: torch.tensor(v, dtype=torch.int64) for k, v in labels.items()}
    split = "its train/ and test/ folders"
    if "all" in groups:
        split = f"a seeded {1 - share:.0%}/{share:.0%} split of each class"
        tr, te = split_indices(y["all"], len(classes), seed, share)
        x = {"train": x["all"][tr], "test": x["all"][te]}
        y = {"train": y["all"][tr], "test": y["all"][te]}
    return Dataset(name or wrapper or "dataset", classes, x["train"], y["train"], x["test"],
                   y["test"], skipped, split)  # fmt: skip


def read_folder(
    path: str | os.PathLike,
    channels: int = 1,
    seed: int = 0,
    test_share: float = 0.2,
    progress: Progress | None = None,
) -> Dataset:
    """A dataset from a folder of class folders (the layout is in the module docstring)."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(f"There is no folder at {root}; give a folder of class folders.")
    files: Files = {}
    for folder, _, names in os.walk(root):  # symlinked folders are not followed
        for n in names:
            rel = (Path(folder) / n).relative_to(root).as_posix()
            if not _ignored(rel):
                files[rel] = (Path(folder) / n).read_bytes
    return _build(root.resolve().name, files, channels, seed, test_share, progress)


# ------------------------------------------------------------------------------ a zip


def _bomb(what: str) -> DatasetError:
    return DatasetError(
        f"The archive is refused as a possible decompression bomb ({what}); zip fewer images."
    )


def _check_member(info: zipfile.ZipInfo) -> None:
    """Refuse a member that is unsafe or unreadable, from its central directory entry alone."""
    name, shown = info.filename.replace("\\", "/"), repr(info.filename[:80])  # "..\\" hides too
    if name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in name.split("/"):
        raise DatasetError(
            f"The archive holds an unsafe path ({shown}) that leads outside its folder; zip the "
            "class folders again."
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise DatasetError(
            f"The archive holds a symbolic link ({shown}); zip the images themselves, not links."
        )
    if info.flag_bits & 0x1:
        raise DatasetError(
            f"The archive is password-protected ({shown} is encrypted); zip it again without one."
        )
    if info.compress_type not in _COMPRESSIONS:
        raise DatasetError(
            f"The archive compresses {shown} in a way that cannot be read here; zip it again with "
            "ordinary compression."
        )
    if info.file_size > max(RATIO_FLOOR, MAX_RATIO * info.compress_size):
        raise _bomb(f"{shown} is compressed over {MAX_RATIO} to 1")
    if not _ignored(_clean(name)) and name.lower().endswith(ARCHIVE_SUFFIXES):
        raise DatasetError(
            f"The archive holds another archive ({shown}); unpack it and zip its class folders "
            "directly."
        )


def _reader(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    """A reader of one member's bytes, capped at its declared size (b'' when damaged)."""

    def read() -> bytes:
        try:
            with zf.open(info) as f:
                data = f.read(info.file_size + 1)  # one byte more unmasks a size that lied
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
            return b""  # a damaged member is skipped and counted, like an unreadable image
        if len(data) > info.file_size:
            raise _bomb(f"{info.filename[:80]!r} unpacks to more than it declares")
        return data

    return read


def _members(zf: zipfile.ZipFile) -> Files:
    """Readers of the members to use, once the whole central directory has passed the checks."""
    infos = zf.infolist()
    if len(infos) > MAX_FILES:
        raise DatasetError(
            f"The archive holds {len(infos):,} files, over the limit of {MAX_FILES:,}; use fewer "
            "images per class."
        )
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        raise _bomb(f"{total / 2**20:,.1f} MB unpacked, over {MAX_UNCOMPRESSED / 2**20:,.0f} MB")
    for info in infos:
        _check_member(info)
    names = {i: _clean(i.filename) for i in infos if not i.is_dir()}
    return {n: _reader(zf, i) for i, n in names.items() if n and not _ignored(n)}


def _entries(data: bytes) -> int | None:
    """The entry count in a zip's end-of-central-directory record (65,535 when a zip64 record
    holds the real one, always more than the limit); None where there is no such record."""
    tail = bytes(data[-(2**16 + 22) :])
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    return struct.unpack("<H", tail[at + 10 : at + 12])[0]


def read_zip(
    data: bytes | str | os.PathLike,
    channels: int = 1,
    seed: int = 0,
    test_share: float = 0.2,
    name: str | None = None,
    progress: Progress | None = None,
) -> Dataset:
    """A dataset from a .zip of class folders (its bytes or its path), checked before reading;
    `progress(files read, files in all)` is called now and then while the images decode."""
    if not isinstance(data, bytes | bytearray):
        path = Path(data).expanduser()
        if not path.is_file():
            raise DatasetError(f"There is no file at {path}; give the path of a .zip file.")
        name, data = name or path.stem, path.read_bytes()
    if (n := _entries(data)) is not None and n > MAX_FILES + MAX_CLASSES * 3:
        raise DatasetError(  # before ZipFile reads a directory of that many entries
            f"The archive holds {n:,} files, over the limit of {MAX_FILES:,}; use fewer images "
            "per class."
        )
    try:
        if bytes(data[:2]) != b"PK":
            raise zipfile.BadZipFile("no zip signature")
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
        raise DatasetError(
            "This file is not a .zip archive; zip the folder of class folders and upload the .zip."
        ) from e
    with zf:
        return _build(name or "", _members(zf), channels, seed, test_share, progress)
