"""The playground's settings widgets: the input, nn.Conv2d, ReLU and nn.MaxPool2d.

Each `*_ui()` draws its widgets and returns plain settings; text that does not parse raises
tinyvgg.playground.SettingsError (one sentence), which the page shows. Sizes have no lower
bound on purpose: 0 or -1 gives the sentence naming the constraint, as PyTorch would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch

from tinyvgg import datasets
from tinyvgg import playground as pg
from tinyvgg import playground_code as code
from tinyvgg.data import to_float
from tinyvgg.model import TinyVGG
from ui.datasets import test_set
from ui.resources import test_split
from ui.state import drawn_input

# The input options; FASHION stands for a test image of the model in use's dataset.
RANDOM, FASHION, DRAWN = "Random batch (the notebook's)", "Fashion-MNIST test image", "Your drawing"
K = "pg_"  # session-state key prefix of every playground widget


@dataclass
class InputChoice:
    """The playground's input: the tensor, the code that makes it, and a note under it."""

    x: torch.Tensor | None  # what the conv gets, (B, C, H, W); None: nothing to show yet
    code: list[str]  # the PyTorch lines that make it
    note: str = ""  # shown under the input; why x is None when it is


def _match_in_channels(image_channels: int) -> None:
    """Keep the conv's in_channels equal to the input's after the input changes (a test
    image has `image_channels`, its dataset's)."""
    s = st.session_state
    source = s[K + "source"]
    channels = {RANDOM: s.get(K + "channels", 3), FASHION: image_channels}.get(source, 1)
    s[K + "in_channels"] = channels


def _int(label: str, name: str, value: int, **kw) -> int:
    return int(st.number_input(label, value=value, step=1, key=K + name, **kw))


def _label(option: str, model: TinyVGG) -> str:
    if option == FASHION and model.dataset != datasets.FASHION:
        return f"{model.dataset} test image"
    return option


def input_ui(model: TinyVGG) -> InputChoice:
    """Where the input comes from (a test image: of `model`'s dataset, the model in use's);
    the random batch's shape and seed."""
    c = model.config.input_shape
    source = st.radio("Input", [RANDOM, FASHION, DRAWN], key=K + "source",
                      format_func=lambda o: _label(o, model), on_change=_match_in_channels,
                      args=(c,))  # fmt: skip
    if source == RANDOM:  # a row of two at a time, so a phone stacks them in reading order
        a, b = st.columns(2)
        with a:
            batch = _int("batch", "batch", 32)
        with b:
            channels = _int("channels", "channels", 3, on_change=_match_in_channels, args=(c,))
        a, b = st.columns(2)
        with a:
            height = _int("height", "height", 64)
        with b:
            width = _int("width", "width", 64)
        with st.columns(2)[0]:
            seed = _int("seed", "seed", 42, help="torch.manual_seed(seed) before torch.randn")
        whole = st.checkbox(
            "Feed the whole batch",
            key=K + "whole_batch",
            help="Off: images[0].unsqueeze(dim=0), as the notebook does",
        )
        spec = pg.RandomInput(batch, channels, height, width, seed, whole)
        pg.check_random(spec)
        return InputChoice(pg.random_input(spec), code.random_input_code(spec))
    if source == FASHION:
        return _test_image(model)
    drawn = drawn_input()
    if drawn is None:
        return InputChoice(
            None, [], "No drawing yet: draw or upload one on the Draw page and it appears here."
        )
    return InputChoice(
        drawn.tensor.unsqueeze(0).float(), code.drawn_input_code(drawn.label), drawn.label
    )


def _test_image(model: TinyVGG) -> InputChoice:
    """A test image of the model's dataset (Fashion-MNIST's as torchvision reads it), or why
    there is none."""
    if model.dataset == datasets.FASHION:
        split = test_split()  # DataError (no dataset offline) is caught by the page
        index = _int("Test image index", "index", 0, min_value=0, max_value=len(split) - 1)
        label = model.classes[int(split.labels[index])]
        x = to_float(split.images[index : index + 1])  # (1, 1, 28, 28)
        return InputChoice(x, code.image_input_code(index, label), f"Test image {index}: {label}")
    if (found := test_set(model)) is None:
        return InputChoice(None, [], f"This model learned {model.dataset}, whose images are not "
                           "in this session: upload that dataset on the Train page to use them "
                           "here.")  # fmt: skip
    images, labels = found
    if st.session_state.get(K + "index", 0) >= len(labels):  # a larger dataset's index
        st.session_state[K + "index"] = len(labels) - 1
    index = _int("Test image index", "index", 0, min_value=0, max_value=len(labels) - 1)
    label = model.classes[int(labels[index])]
    x = images[index : index + 1].float().div(255)  # (1, C, 28, 28), as ToTensor() scales
    lines = code.image_input_code(index, label, model.dataset, images.shape[1])
    return InputChoice(x, lines, f"Test image {index}: {label}")


def conv_ui() -> pg.ConvSettings:
    """nn.Conv2d's arguments, as in the notebook by default."""
    a, b = st.columns(2)  # rows of two, in reading order on a phone too
    with a:
        c_in = _int("in_channels", "in_channels", 3)
    with b:
        c_out = _int("out_channels", "out_channels", 10)
    a, b = st.columns(2)
    kernel = a.text_input("kernel_size", "3", key=K + "kernel", help="3, or 3, 5 for (h, w)")
    stride = b.text_input("stride", "1", key=K + "stride", help="1, or 1, 2 for (h, w)")
    a, b = st.columns(2)
    padding = a.text_input(
        "padding", "0", key=K + "padding", help="A number, two (h, w), 'same' or 'valid'"
    )
    dilation = b.text_input("dilation", "1", key=K + "dilation", help="Spacing of the taps")
    a, b = st.columns(2, vertical_alignment="center")
    with a:
        seed = _int(
            "seed", "conv_seed", 42, help="torch.manual_seed(seed) right before nn.Conv2d(...)"
        )
    bias = b.checkbox("bias", True, key=K + "bias")
    return pg.ConvSettings(
        c_in,
        c_out,
        code.parse_size(kernel, "kernel_size"),
        code.parse_size(stride, "stride"),
        code.parse_padding(padding),
        code.parse_size(dilation, "dilation"),
        bias,
        seed,
    )


def pool_ui() -> tuple[bool, pg.PoolSettings]:
    """The optional ReLU and nn.MaxPool2d's arguments (kernel 2, as in the notebook)."""
    relu = st.checkbox(
        "ReLU between them",
        False,
        key=K + "relu",
        help="TinyVGG has one; the notebook's demo goes straight to the pool",
    )
    a, b = st.columns(2)
    kernel = a.text_input("kernel_size", "2", key=K + "pool_kernel")
    stride = b.text_input(
        "stride",
        "",
        key=K + "pool_stride",
        placeholder="= kernel_size",
        help="Blank: the kernel size, PyTorch's default",
    )
    padding = st.columns(2)[0].text_input("padding", "0", key=K + "pool_padding")
    return relu, pg.PoolSettings(
        code.parse_size(kernel, "The pool kernel_size"),
        code.parse_size(stride, "The pool stride", blank_is_none=True),
        code.parse_size(padding, "The pool padding"),
    )
