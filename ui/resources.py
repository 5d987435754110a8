"""Things shared read-only by every session: the device and the shipped model."""

from __future__ import annotations

import logging
import os
from typing import Any

import streamlit as st
import torch

from tinyvgg.data import Split, load_split
from tinyvgg.device import describe, pick_device
from tinyvgg.model import TinyVGG, count_params, load_shipped

log = logging.getLogger(__name__)
THREADS_ENV = "TINYVGG_APP_THREADS"

# Uploads: single images and checkpoints up to FILE_MB each (the uploaders say so and the server
# checks), dataset zips up to ui.datasets.UPLOAD_MB; server.maxUploadSize is the larger of them.
FILE_MB = 5


@st.cache_resource(show_spinner=False)
def app_device() -> torch.device:
    """The device this server runs models on ($TINYVGG_DEVICE or the best available)."""
    return pick_device()


@st.cache_resource(show_spinner="Loading the pretrained TinyVGG…")
def shipped_model() -> tuple[TinyVGG, dict[str, Any]]:
    """The pretrained model, on the app's device, in eval mode; never modified by a page."""
    model, metrics = load_shipped()
    model = model.to(app_device()).eval()
    for p in model.parameters():
        p.requires_grad_(False)  # read-only: shared by every session
    return model, metrics


@st.cache_resource(show_spinner="Loading the pretrained TinyVGG for drawings…")
def sketch_model() -> tuple[TinyVGG, dict[str, Any]]:
    """The shipped sketch model (the draw page's), as `shipped_model` shares the other."""
    model, metrics = load_shipped("sketch")
    model = model.to(app_device()).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, metrics


def model_summary(model: TinyVGG, metrics: dict[str, Any]) -> str:
    """One line: hidden units, parameters and test accuracy when known."""
    acc = metrics.get("model_acc")
    acc_txt = f", {acc:.2f}% test accuracy" if isinstance(acc, (int, float)) else ""
    return (
        f"TinyVGG, hidden_units={model.config.hidden_units}, "
        f"{count_params(model):,} parameters{acc_txt}"
    )


def app_threads() -> int:
    """Torch threads for the server's own work: $TINYVGG_APP_THREADS, else one.

    A click's work is small tensors (a trace, a layer's figures, a map's attribution), done
    side by side with other students' clicks and, on a laptop, the browser drawing the page.
    Torch's threads spin-wait for each other when there are more of them than free cores: in
    the explorer another sample took p50 197-226 ms with two threads against 130-134 ms with
    one on a 2-core machine, 2026-12-07. Training runs in worker processes with threads of
    their own (`TINYVGG_RUN_THREADS`).
    """
    raw = os.environ.get(THREADS_ENV, "").strip()
    if raw:
        if raw.isdigit() and int(raw) > 0:
            return int(raw)
        log.warning("%s=%r is not a whole number of at least 1; using 1", THREADS_ENV, raw)
    return 1


def use_app_threads() -> None:
    """Torch's threads to `app_threads()`, for this script run and the threads started after
    it (each run is a thread of its own: app.py calls this at the top of every run)."""
    n = app_threads()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def device_label() -> str:
    """e.g. 'cpu (2 threads)'."""
    return describe(app_device())


@st.cache_resource(show_spinner="Loading Fashion-MNIST (downloaded once, about 30 MB)…")
def test_split() -> Split:
    """The 10k test images as uint8, shared by every session. Raises DataError if unavailable."""
    return load_split("test")
