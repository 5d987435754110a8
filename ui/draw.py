"""What the draw page says and computes: its words, the cached reading of a file, and the
model's answer to an input. `pages/draw.py` reads the widgets and renders."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch

from tinyvgg.calibration import UNSURE_BELOW, temperature_of
from tinyvgg.datasets import is_builtin
from tinyvgg.model import TinyVGG
from tinyvgg.predict import probabilities, top_k
from tinyvgg.preprocess import Preprocessed, read_input
from ui.resources import app_device
from ui.state import DrawnInput, ModelInUse


@st.cache_resource(max_entries=4, ttl=900, show_spinner=False)
def preprocess_file(data: bytes, auto_invert: bool, fill: bool, own: int = 0) -> Preprocessed:
    """A file or photo read as the page reads it. Kept as is (not pickled like cache_data
    would): a photo's steps are megabytes; read-only."""
    return read_input(data, own, auto_invert=auto_invert, fill_outlines=fill)


@dataclass(frozen=True)
class Answer:
    """The model in use's answer to a preprocessed input."""

    x: torch.Tensor  # (C, 28, 28): the input as the model takes it, grey in each channel
    probs: torch.Tensor  # (classes,), calibrated with `temperature`
    top: list[tuple[str, float]]  # the top 3 (class, probability)
    temperature: float


def answer(pre: Preprocessed, current: ModelInUse) -> Answer:
    """The calibrated probabilities and top 3 of the model in use for `pre`."""
    temperature = temperature_of(current.metrics)
    c = current.model.config.input_shape
    x = pre.tensor if pre.tensor.shape[0] == c else pre.tensor.repeat(c, 1, 1)
    probs = probabilities(current.model, x, app_device(), temperature)
    return Answer(x, probs, top_k(probs, 3, current.model.classes), temperature)


def input_key(drawn: DrawnInput, ans: Answer) -> str:
    """The cache key of the input the model was given: the drawing's, and its channel count
    when the model takes it repeated into several."""
    c = len(ans.x)
    return drawn.key if c == 1 else f"{drawn.key}x{c}"


def calibration_note(temperature: float) -> str:
    """The caption's part on calibration ("" for none)."""
    if temperature == 1.0:
        return ""
    return (f" · probabilities calibrated (temperature {temperature:.2f}, fitted on held-out "
            "training images)")  # fmt: skip


def unsure_sentence(top: list[tuple[str, float]], fashion: bool) -> str:
    """What the page says when the top class is under UNSURE_BELOW; what was measured on
    drawings of garments (and the details that tell them apart) only for a Fashion-MNIST
    model."""
    (best, p), *others = top
    alternatives = " or ".join(f"{name} ({100 * q:.0f}%)" for name, q in others)
    measured = (", its guesses on drawings are right only about half the time"
                if fashion else "")  # fmt: skip
    detail = ", or one more detail (a collar, laces, a handle)," if fashion else ""
    return (
        f"The model is unsure: its best guess, {best}, has only {100 * p:.0f}% (under "
        f"{100 * UNSURE_BELOW:.0f}%{measured}). It could as well be {alternatives}. A bolder, "
        f"larger drawing that fills the canvas{detail} often settles it."
    )


def intro(model: TinyVGG, fashion: bool) -> str:
    """What the page does, for the model in use."""
    if fashion:
        return (
            "Draw a garment, upload a picture or take a photo. The page turns it into the 28×28 "
            "greyscale image the model was trained on (a light garment on black, filling the "
            "frame), step by step, and shows what the model makes of it."
        )
    names = model.classes
    which = (f"one of its {len(names)} classes" if len(names) > 8
             else f"a {', '.join(names[:-1])} or {names[-1]}")  # fmt: skip
    channels = model.config.input_shape
    if not is_builtin(model.dataset):
        colour = "colour" if channels == 3 else "greyscale"
        return (
            f"Draw {which} for the model trained on {model.dataset}, upload a picture or take a "
            f"photo. The page reads it as that dataset's images were read (a {colour} 28×28 "
            "image, letterboxed, its background taken from its border, not inverted) and "
            "shows what the model makes of it."
        )
    grey = "" if channels == 1 else f", repeated in each of its {channels} channels"
    return (
        f"Draw {which} for the model trained on {model.dataset}, upload a picture or take a "
        f"photo. The page turns it into a 28×28 greyscale image (light ink on black, filling "
        f"the frame{grey}), step by step, and shows what the model makes of it."
    )


def invert_help(fashion: bool) -> str:
    """The help of the automatic inversion's switch."""
    if fashion:
        return ("Fashion-MNIST garments are light on black. When the garment is darker than its "
                "background, the image is inverted. Turn this off for a photo of a light garment "
                "that already has a dark background.")  # fmt: skip
    return ("The model's input is light ink on black. When the ink is darker than its "
            "background, the image is inverted. Turn this off for a light picture that already "
            "has a dark background.")  # fmt: skip


def fill_help(fashion: bool) -> str:
    """The help of the switch that fills closed outlines."""
    if fashion:
        return ("Fill the inside of a closed outline with ink, so an outline looks like the "
                "dataset's solid garments. It helps the model trained on photos only; the model "
                "for drawings learned outlines, and filling hides inner lines such as a zip or a "
                "collar.")  # fmt: skip
    return ("Fill the inside of a closed outline with ink, so that an outline becomes a solid "
            "shape.")  # fmt: skip
