"""The way in: a first-visit welcome, and the guided lesson, one short note per layer.

Each note is true for any input and any TinyVGG, and its numbers come from the live trace
(`note` is a pure function of it, tested against PyTorch). While the lesson is on, the explorer
shows the selected layer's note above its maps; Next and PageDown step it as they step the
layers. The welcome shows once a session, never in teacher mode.
"""

from __future__ import annotations

import streamlit as st
import torch

from tinyvgg.activations import LayerRecord, by_name, layer_input
from tinyvgg.data import class_names
from tinyvgg.datasets import FASHION
from tinyvgg.model import TinyVGG

K_LESSON = "ex_lesson"  # the lesson toggle
K_WELCOMED = "ex_welcomed"  # the welcome was dismissed in this session

WELCOME = """**Welcome.** This app opens up a real convolutional network, TinyVGG, trained on
{trained}, so that you can see every number it computes.

- **Explore layers** (this page): step an image through each layer; click any cell to see the
  exact arithmetic that made it. Start here.
- **Draw or upload**: your own {own}, and what the model makes of it.
- **Layer playground**: one convolution and one max-pool, with every setting to try.
- **Train**: train your own TinyVGG and watch it learn."""


def welcome(model: TinyVGG) -> str:
    """The welcome, about the model in use's dataset."""
    if model.dataset == FASHION:
        return WELCOME.format(trained="Fashion-MNIST's 28×28 pictures of clothes", own="garment")
    return WELCOME.format(trained=f"{model.dataset}'s 28×28 images", own="drawing")


def _strongest(out: torch.Tensor) -> tuple[int, int, int, float]:
    """(channel, row, column, value) of the largest activation of a (1, C, H, W) output."""
    k = int(out[0].argmax())
    c, rest = divmod(k, out.shape[2] * out.shape[3])
    i, j = divmod(rest, out.shape[3])
    return c, i, j, float(out[0, c, i, j])


def _input(rec: LayerRecord) -> str:
    x = rec.output
    zeros, c = int((x == 0).sum()), x.shape[1]
    channels = "1 channel" if c == 1 else f"{c} channels"
    return (
        f"This is all the model gets: {channels} of 28×28 = {x.numel():,} numbers, from "
        f"{float(x.min()):.2f} to {float(x.max()):.2f}; {zeros:,} of them are exactly 0. "
        "Every layer after this one is arithmetic on these numbers, and you can check each "
        "step: pick a layer, then click a cell."
    )


def _conv(rec: LayerRecord, before: LayerRecord) -> str:
    c_in, (_, c_out, h, w) = before.output.shape[1], rec.output.shape
    c, i, j, v = _strongest(rec.output)
    reads = ("the image" if c_in == 1 else f"the image's {c_in} channels" if before.name == "input"
             else f"all {c_in} maps of {before.name}")  # fmt: skip
    return (
        f"{c_out} kernels of 3×3 slide over {reads}, each making one {h}×{w} map: every cell "
        f"is {9 * c_in} multiplications, summed, plus a bias. Red is positive, blue negative. "
        f"The strongest response here is channel {c} at row {i}, column {j} ({v:.2f}): that "
        "kernel found what it looks for there. Click it to see the sum."
    )


def _relu(rec: LayerRecord, before: LayerRecord) -> str:
    n = before.output.numel()
    zeroed = int((before.output < 0).sum())
    return (
        f"ReLU keeps every positive number and turns every negative one into 0: here {zeroed:,} "
        f"of {n:,} cells ({zeroed / n:.0%}) became 0. Only what the kernels found (the red) "
        "goes on; the shape does not change."
    )


def _pool(rec: LayerRecord, before: LayerRecord) -> str:
    (_, _, h, w), (_, _, h2, w2) = before.output.shape, rec.output.shape
    kept = int((rec.output > 0).sum())
    return (
        f"Each 2×2 window keeps only its largest value: {h}×{w} becomes {h2}×{w2}, a quarter "
        f"of the cells, and the strongest responses survive ({kept:,} of {rec.output.numel():,} "
        "cells are above 0). The next layers see a smaller picture of where things were found."
    )


def _flatten(rec: LayerRecord, before: LayerRecord) -> str:
    c, h, w = before.output.shape[1:]
    nonzero = int((rec.output != 0).sum())
    return (
        f"The {c} maps of {h}×{w} are laid end to end: {rec.output.shape[1]:,} numbers, "
        f"channel after channel, row by row. {nonzero:,} of them are not 0. Nothing is "
        "computed here; only the shape changes, so that a linear layer can read them."
    )


def _linear(rec: LayerRecord, names: tuple[str, ...]) -> str:
    z = rec.output[0]
    top = z.argsort(descending=True)[:2].tolist()
    then = (f", then {names[top[1]]} ({float(z[top[1]]):.2f})"
            if len(top) > 1 else "")  # fmt: skip
    return (
        f"Each of the {z.numel()} classes has one weight per number of flatten, and a bias: "
        f"its score (a logit) is Σ weight × number + bias. The highest score is "
        f"{names[top[0]]} ({float(z[top[0]]):.2f}){then}. Pick a class to see which numbers "
        "pushed it up."
    )


def _softmax(rec: LayerRecord, truth: int | None, names: tuple[str, ...]) -> str:
    p = rec.output[0]
    k = int(p.argmax())
    said = f"{names[k]} gets {float(p[k]):.1%}, so that is the model's answer" + (
        "." if truth is None else f": {'right' if truth == k else f'wrong, it is {names[truth]}'}."
    )
    return (
        "Softmax turns the scores into probabilities: each is exp(score) over the sum of all "
        f"{_count(p.numel())} exps, so they are positive and add up to {float(p.sum()):.2f}. "
        f"{said}"
    )


def _count(n: int) -> str:
    """'ten' for 10: small numbers in words, as in a sentence."""
    words = ("zero one two three four five six seven eight nine ten eleven twelve").split()
    return words[n] if n < len(words) else str(n)


def note(
    records: list[LayerRecord],
    layer: str,
    truth: int | None = None,
    names: tuple[str, ...] | None = None,
) -> str:
    """What to notice in `layer` for this trace, in a few sentences with its own numbers;
    `names` are the model's classes (without them, `tinyvgg.data.class_names`'s)."""
    rec = by_name(records)[layer]
    if layer == "input":
        return _input(rec)
    before = layer_input(records, layer)
    kind = rec.kind
    if kind == "Conv2d":
        return _conv(rec, before)
    if kind == "ReLU":
        return _relu(rec, before)
    if kind == "MaxPool2d":
        return _pool(rec, before)
    if kind == "Flatten":
        return _flatten(rec, before)
    names = names or class_names(rec.output.shape[-1])  # used by the last two only
    if kind == "Linear":
        return _linear(rec, names)
    return _softmax(rec, truth, names)


def _start_lesson() -> None:
    st.session_state[K_WELCOMED] = True
    st.session_state[K_LESSON] = True
    st.session_state["ex_layer"] = "input"


def welcome_ui(presenting: bool, model: TinyVGG) -> None:
    """What this is and where to start, once a session (a projector shows none)."""
    if presenting or st.session_state.get(K_WELCOMED):
        return
    with st.container(border=True, key="ex_welcome"):
        st.markdown(welcome(model))
        with st.container(horizontal=True):
            st.button("Start the guided lesson", type="primary", icon=":material/school:",
                      on_click=_start_lesson, key="ex_welcome_lesson")  # fmt: skip
            st.button("Got it", key="ex_welcome_ok",
                      on_click=lambda: st.session_state.update({K_WELCOMED: True}))  # fmt: skip


def lesson_toggle() -> bool:
    """The lesson's switch; whether it is on."""
    return st.toggle("Guided lesson: a note on each layer", key=K_LESSON,
                     help="What to notice in each layer, with this input's numbers. Step with "
                     "Next (or PageDown) as usual.")  # fmt: skip


def lesson_ui(
    records: list[LayerRecord], layer: str, truth: int | None, names: tuple[str, ...]
) -> None:
    """The lesson's toggle and, while it is on, this layer's note (`names`: the model's
    classes)."""
    if lesson_toggle():
        st.info(note(records, layer, truth, names), icon=":material/school:")
