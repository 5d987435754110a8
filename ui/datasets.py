"""Datasets in the app: the built-in ones shared by every session, a session's uploads its own.

A model names its dataset (`model.dataset`); `test_set(model)` finds that dataset's test images
for the pages: Fashion-MNIST's from `ui.resources.test_split`, another built-in one loaded once
per server, an uploaded one from this session only (uploads live in `st.session_state`, in
memory, and go when the session ends; no other session can reach them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import PurePosixPath

import streamlit as st
import torch

from tinyvgg import datasets
from tinyvgg.data import CLASS_NAMES, DataError
from tinyvgg.datasets import Dataset, DatasetError
from tinyvgg.folders import read_zip
from tinyvgg.model import TinyVGG
from ui.figures import dataset as figs
from ui.memo import digest
from ui.present import chart

UPLOADS_KEY = "datasets"  # dict[str, Dataset]: this session's uploaded datasets, by name
MAX_UPLOADS = 3  # uploaded datasets a session keeps (up to ~50 MB of images each)
BUILTIN = {"Fashion-MNIST": "fashion-mnist", "MNIST": "mnist", "KMNIST": "kmnist",
           "shapes": "shapes"}  # fmt: skip  # a dataset's name -> its source for datasets.load


RETRY_S = 60.0  # a built-in dataset that could not be had is tried again after this long
_FAILED: dict[str, tuple[float, str]] = {}  # source -> (when, the sentence): shared by sessions


@st.cache_resource(show_spinner="Loading the dataset (downloaded on first use)…", max_entries=4)
def _builtin(source: str) -> Dataset:
    return datasets.load(source)


def builtin(source: str) -> Dataset:
    """A built-in dataset (see BUILTIN), loaded once per server and shared read-only. DataError
    when it cannot be had; that is remembered for RETRY_S, so that a page showing it does not
    try a download that cannot work again on every rerun."""
    failed = _FAILED.get(source)
    if failed is not None and time.monotonic() - failed[0] < RETRY_S:
        raise DataError(failed[1])
    try:
        return _builtin(source)
    except DataError as e:
        _FAILED[source] = (time.monotonic(), str(e))
        raise


def uploads() -> dict[str, Dataset]:
    """This session's uploaded datasets, by name."""
    return st.session_state.setdefault(UPLOADS_KEY, {})


def add_upload(data: Dataset) -> None:
    """Keep an uploaded dataset in this session, its MAX_UPLOADS newest at most (the runs trained
    on an older one lose their test images, and say so)."""
    held = uploads()
    held.pop(data.name, None)
    held[data.name] = data
    while len(held) > MAX_UPLOADS:
        held.pop(next(iter(held)))


def find(name: str) -> Dataset | None:
    """The dataset of that name: this session's upload, else a built-in one; None if neither."""
    if name in uploads():
        return uploads()[name]
    if name in BUILTIN:
        return builtin(BUILTIN[name])
    return None


def test_set(model: TinyVGG) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The test images (N, C, 28, 28) uint8 and labels of the model's dataset; None when the
    session does not hold it (a checkpoint uploaded without its dataset)."""
    return test_set_of(model.dataset, model.classes, model.config.input_shape)


def test_set_of(
    name: str, classes: tuple[str, ...], channels: int
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """`test_set` for a dataset named so, with those classes and input channels."""
    if name == datasets.FASHION:
        from ui.resources import test_split

        if classes != CLASS_NAMES or channels != 1:  # named so, but not Fashion-MNIST's model
            return None
        split = test_split()
        return split.images.unsqueeze(1), split.labels
    try:
        found = find(name)
    except DataError:
        return None
    if found is None or found.classes != classes or found.channels != channels:
        return None
    return found.test_images, found.test_labels


# ------------------------------------------------------------------ the train page's picker

PICK_KEY = "train_dataset"  # the radio: one of CHOICES
ZIP_KEY = "train_zip"  # the file uploader
RGB_KEY = "train_rgb"  # read an upload in colour
CHOSEN_KEY = "train_upload_name"  # the name of the upload the page trains on, once it reads
UPLOAD_ERROR_KEY = "train_upload_error"
READ_KEY = "train_upload_read"  # (file id, colour): the upload read last, read once
FINGERPRINTS_KEY = "train_upload_digests"  # {dataset name: its zip's digest}
OWN = "Your own images (.zip)"
CHOICES = {"Fashion-MNIST": "fashion-mnist", "MNIST": "mnist", "KMNIST": "kmnist",
           "Shapes (a demo)": "shapes", OWN: None}  # fmt: skip
UPLOAD_MB = 50  # a dataset's zip; single images and checkpoints keep their own, smaller limit
ZIP_HELP = (
    "A folder of images per class, zipped: `cats/1.png`, `cats/2.jpg`, `dogs/…`. Optionally "
    "split into `train/` and `test/` folders holding the same class folders; otherwise a "
    "fifth of each class (seeded) is kept for testing. PNG, JPEG, BMP, GIF, WebP or TIFF, any "
    "size; each is letterboxed to 28×28. At least 5 images per class, 2 to 100 classes."
)


def _upload_name(file_name: str, channels: int, fingerprint: str) -> str:
    """A name for an upload: its file's, never a built-in dataset's (an upload named "MNIST" is
    not MNIST), " (RGB)" when read in colour, and another one ("leaves (2)") when the session
    holds different images under that name already (runs trained on those keep them)."""
    stem = PurePosixPath(file_name).stem.strip()[:60] or "upload"
    stem = f"{stem} (upload)" if datasets.is_builtin(stem) or stem in BUILTIN else stem
    stem += " (RGB)" if channels == 3 else ""
    seen = st.session_state.setdefault(FINGERPRINTS_KEY, {})  # name -> its bytes' digest
    name, n = stem, 1
    while seen.get(name, fingerprint) != fingerprint:
        n += 1
        name = f"{stem} ({n})"
    seen[name] = fingerprint
    return name


def read_upload(file_name: str, data: bytes, channels: int, progress=None) -> Dataset:
    """The uploaded zip as a dataset; raises DatasetError with one sentence."""
    if len(data) > UPLOAD_MB * 2**20:
        raise DatasetError(
            f"The file is {len(data) / 2**20:.1f} MB, over the {UPLOAD_MB} MB limit for datasets; "
            "use fewer or smaller images."
        )
    name = _upload_name(file_name, channels, digest(data))
    return read_zip(data, channels=channels, name=name, progress=progress)


def chosen() -> Dataset | str | None:
    """What the page trains on: a built-in dataset's source name, an uploaded Dataset, or None
    (own images chosen but none read yet)."""
    choice = st.session_state.get(PICK_KEY, next(iter(CHOICES)))
    if CHOICES.get(choice) is not None:
        return CHOICES[choice]
    return uploads().get(st.session_state.get(CHOSEN_KEY) or "")


def _read_chosen_upload() -> None:
    """Read the uploader's zip (with a progress bar) once per file and colour setting; the
    dataset joins the session's uploads and is chosen, or its sentence is kept."""
    up, rgb = st.session_state.get(ZIP_KEY), bool(st.session_state.get(RGB_KEY))
    if up is None:  # removed, or never given: nothing chosen
        st.session_state[CHOSEN_KEY] = st.session_state[UPLOAD_ERROR_KEY] = None
        st.session_state[READ_KEY] = None
        return
    if st.session_state.get(READ_KEY) == (up.file_id, rgb):
        return
    st.session_state[READ_KEY] = (up.file_id, rgb)
    st.session_state[CHOSEN_KEY] = st.session_state[UPLOAD_ERROR_KEY] = None
    bar = st.progress(0.0, text=f"Reading {up.name}…")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Reading {up.name}: {done:,} of {total:,} files")

    try:
        data = read_upload(up.name, up.getvalue(), 3 if rgb else 1, progress)
    except DatasetError as e:
        st.session_state[UPLOAD_ERROR_KEY] = f"{up.name}: {e}"
    except Exception as e:  # noqa: BLE001  anything else a crafted file causes: one sentence
        st.session_state[UPLOAD_ERROR_KEY] = (
            f"{up.name}: the archive could not be read ({type(e).__name__}); zip the class "
            "folders again."
        )
    else:
        add_upload(data)
        st.session_state[CHOSEN_KEY] = data.name
    finally:
        bar.empty()


def picker(on_change: Callable[[], None] | None = None) -> Dataset | None:
    """The dataset radio, the zip uploader, and a summary of the chosen dataset; the chosen
    dataset, or None when it cannot be used (the page says why). `on_change` runs when the
    choice or the upload changes."""
    st.radio("Dataset", list(CHOICES), key=PICK_KEY, horizontal=True, on_change=on_change)
    source = CHOICES[st.session_state[PICK_KEY]]
    if source is None:
        st.file_uploader("A .zip of your images, a folder per class", type=["zip"], key=ZIP_KEY,
                         help=ZIP_HELP, max_upload_size=UPLOAD_MB, on_change=on_change)  # fmt: skip
        st.toggle("Colour images (RGB)", key=RGB_KEY, on_change=on_change,
                  help="Read the images in colour: the model gets 3 input channels.")  # fmt: skip
        _read_chosen_upload()
        if error := st.session_state.get(UPLOAD_ERROR_KEY):
            st.error(error)
            return None
        found = chosen()
        if found is None:
            st.info(f"Upload a .zip (up to {UPLOAD_MB} MB) with a folder of images per class.")
            return None
    else:
        try:
            found = builtin(source)
        except (DataError, DatasetError) as e:
            st.error(str(e))
            return None
    summary(found)
    return found


def summary(data: Dataset) -> None:
    """Classes, images per class, the split, and a grid of examples per class."""
    n_train, n_test = len(data.train_labels), len(data.test_labels)
    colour = "colour (RGB)" if data.channels == 3 else "greyscale"
    skipped = (f" {data.skipped:,} file(s) were skipped (not images, or outside the class folders)."
               if data.skipped else "")  # fmt: skip
    st.caption(
        f"**{data.name}**: {len(data.classes)} classes, {colour} 28×28 images; "
        f"{n_train:,} for training and {n_test:,} for testing ({data.split}).{skipped}"
    )
    with st.expander("Classes and examples", expanded=data.name not in BUILTIN):
        rows = [{"class": c, "training images": a, "test images": b}
                for c, a, b in zip(data.classes, data.counts("train"), data.counts("test"),
                                   strict=True)]  # fmt: skip
        left, right = st.columns([2, 3])
        left.table(rows, border="horizontal", hide_index=True)
        fig = figs.examples(data.train_images, data.train_labels, data.classes)
        chart(fig, key="train_dataset_examples", where=right)
        if len(data.classes) > figs.MAX_ROWS:
            right.caption(f"The first {figs.MAX_ROWS} of {len(data.classes)} classes.")
