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
from tinyvgg.data import DataError
from tinyvgg.datasets import Dataset, DatasetError
from tinyvgg.folders import read_zip
from tinyvgg.model import TinyVGG
from ui.figures import dataset as figs
from ui.memo import digest, memo
from ui.present import chart

UPLOADS_KEY = "datasets"  # dict[str, Dataset]: this session's uploaded datasets, by name
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
    """Keep an uploaded dataset in this session (a newer one of the same name replaces it)."""
    uploads()[data.name] = data


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


def _upload_name(file_name: str) -> str:
    """A name for an upload that no built-in dataset has (an upload named "MNIST" is not it)."""
    stem = PurePosixPath(file_name).stem.strip() or "upload"
    return f"{stem} (upload)" if stem in BUILTIN or stem.lower() in datasets.BUILTIN else stem


def read_upload(file_name: str, data: bytes, channels: int) -> Dataset:
    """The uploaded zip as a dataset, read once per session for the same bytes; raises
    DatasetError with one sentence."""
    if len(data) > UPLOAD_MB * 2**20:
        raise DatasetError(
            f"The file is {len(data) / 2**20:.1f} MB, over the {UPLOAD_MB} MB limit for datasets; "
            "use fewer or smaller images."
        )
    name = _upload_name(file_name)
    return memo(("dataset upload", digest(data), channels, name),
                lambda: read_zip(data, channels=channels, name=name))  # fmt: skip


def chosen() -> Dataset | str | None:
    """What the page trains on: a built-in dataset's source name, an uploaded Dataset, or None
    (own images chosen but none read yet)."""
    choice = st.session_state.get(PICK_KEY, next(iter(CHOICES)))
    if CHOICES.get(choice) is not None:
        return CHOICES[choice]
    return uploads().get(st.session_state.get(CHOSEN_KEY) or "")


def _on_zip(changed: Callable[[], None] | None = None) -> None:
    """The uploader's callback: read the zip, keep it in the session, or keep its error."""
    st.session_state[UPLOAD_ERROR_KEY] = None
    st.session_state[CHOSEN_KEY] = None
    if changed is not None:
        changed()
    up = st.session_state.get(ZIP_KEY)
    if up is None:
        return
    try:
        data = read_upload(up.name, up.getvalue(), 3 if st.session_state.get(RGB_KEY) else 1)
    except DatasetError as e:
        st.session_state[UPLOAD_ERROR_KEY] = f"{up.name}: {e}"
        return
    add_upload(data)
    st.session_state[CHOSEN_KEY] = data.name


def picker(on_change: Callable[[], None] | None = None) -> Dataset | None:
    """The dataset radio, the zip uploader, and a summary of the chosen dataset; the chosen
    dataset, or None when it cannot be used (the page says why). `on_change` runs when the
    choice or the upload changes."""
    st.radio("Dataset", list(CHOICES), key=PICK_KEY, horizontal=True, on_change=on_change)
    source = CHOICES[st.session_state[PICK_KEY]]
    if source is None:
        st.file_uploader("A .zip of your images, a folder per class", type=["zip"], key=ZIP_KEY,
                         help=ZIP_HELP, max_upload_size=UPLOAD_MB, on_change=_on_zip,
                         args=(on_change,))  # fmt: skip
        st.toggle("Colour images (RGB)", key=RGB_KEY, on_change=_on_zip, args=(on_change,),
                  help="Read the images in colour: the model gets 3 input channels.")  # fmt: skip
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
    skipped = f" {data.skipped:,} file(s) were not images and were skipped." if data.skipped else ""
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
