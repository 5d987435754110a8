"""The explorer's per-session state: input source, layer, cell, and the shareable URL.

`/explore?sample=123&layer=conv_2_1&cell=3,5,7` or `?source=random&seed=42` opens in that
state. Query parameters are read once per session (before any widget exists) and written back
whenever the state changes, so the address bar is always a link to what is on screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from difflib import get_close_matches

import streamlit as st
import torch

from tinyvgg.activations import LayerRecord, trace
from tinyvgg.data import DataError
from tinyvgg.datasets import FASHION
from tinyvgg.explain import unflatten_index
from tinyvgg.model import LAYER_NAMES, TinyVGG
from ui.datasets import test_set
from ui.memo import memo
from ui.present import query_extra
from ui.state import ModelInUse, drawn_input, entered_page
from ui.why import link_params, parse_link

LAYERS = ["input", *LAYER_NAMES, "softmax"]
SOURCES = {"sample": "Fashion-MNIST test image", "random": "Random tensor", "drawing": "Your image"}
K_SOURCE, K_SAMPLE, K_SEED, K_LAYER, K_CELL = (
    "ex_source",
    "ex_sample",
    "ex_seed",
    "ex_layer",
    "ex_cell",
)
K_CELL_LINK = "ex_cell_link"  # the cell a link asked for, until the page has drawn its layer
K_LINK_PROBLEMS = "ex_link_problems"  # what a link asked for that the page could not show
K_CELL_ORIGIN = "ex_cell_origin"  # ((c, i, j), (H, W)): the cell as picked, and where
K_CELL_SHOWN = "ex_cell_shown"  # ((c, i, j), (H, W) or None): the cell as last drawn
N_TEST = 10_000  # Fashion-MNIST's test images


@dataclass(frozen=True)
class ExploreInput:
    """The explorer's input as the model sees it, with a key of what it depends on."""

    tensor: torch.Tensor  # (C, 28, 28) float, C the model's input channels
    key: str  # what the tensor's values depend on, e.g. "sample:123": a cache key
    caption: str
    true_label: int | None = None
    source: str = "sample"  # one of SOURCES


def _int(text: str, lo: int, hi: int) -> int | None:
    try:
        v = int(text)
    except (TypeError, ValueError):
        return None
    return v if lo <= v <= hi else None


def samples(model: TinyVGG) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The model's own test images (N, C, 28, 28) uint8 and labels (N,): Fashion-MNIST's shared
    split (DataError when it is missing), or another dataset's when this session holds it;
    None when it does not."""
    if model.dataset == FASHION:
        return test_set(model)
    try:
        return test_set(model)
    except DataError:  # a built-in dataset missing offline: as good as not in the session
        return None


def missing(model: TinyVGG) -> str:
    """Why the explorer offers no images of the model's dataset, in one sentence."""
    return (f"This model learned {model.dataset}, whose images are not in this session: upload "
            "that dataset on the Train page to explore them here.")  # fmt: skip


def source_label(source: str, model: TinyVGG) -> str:
    """A source's name in the input picker: the model's dataset names its test images."""
    if source == "sample" and model.dataset != FASHION:
        return f"{model.dataset} test image"
    return SOURCES[source]


def sample_count(model: TinyVGG) -> int | None:
    """How many test images the model's dataset has (Fashion-MNIST's without loading them);
    None when the session does not hold them."""
    if model.dataset == FASHION:
        return N_TEST
    found = samples(model)
    return None if found is None else len(found[1])


def parse_query(
    params: dict[str, str], names: tuple[str, ...], n_test: int = N_TEST
) -> tuple[dict, list[str]]:
    """Valid settings from query parameters, and one sentence per value that was ignored.
    `names` are the model's classes, `n_test` its dataset's test images."""
    out, problems = {}, []
    source = params.get("source", "sample" if "sample" in params else None)
    if source is not None:
        if source in SOURCES:
            out[K_SOURCE] = source
        else:
            problems.append(f"source={source!r} is not one of {', '.join(SOURCES)}.")
    if "sample" in params:
        if (v := _int(params["sample"], 0, n_test - 1)) is None:
            problems.append(f"sample must be a test image index from 0 to {n_test - 1}.")
        else:
            out[K_SAMPLE] = v
    if "seed" in params:
        if (v := _int(params["seed"], 0, 2**31 - 1)) is None:
            problems.append("seed must be a whole number from 0 to 2147483647.")
        else:
            out[K_SEED] = v
    if "layer" in params:
        if params["layer"] in LAYERS:
            out[K_LAYER] = params["layer"]
        else:
            near = get_close_matches(params["layer"], LAYERS, n=1, cutoff=0.6)
            hint = f"the nearest is {near[0]}" if near else f"the layers are {', '.join(LAYERS)}"
            problems.append(f"layer={params['layer']!r} is not a layer of TinyVGG; {hint}.")
    if "cell" in params:
        parts = params["cell"].split(",")
        cell = tuple(_int(p, 0, 10_000) for p in parts)
        if len(cell) in (1, 3) and None not in cell:
            out[K_CELL] = cell if len(cell) == 3 else (cell[0], 0, 0)
            out[K_CELL_LINK] = cell
        else:
            problems.append("cell must be channel,row,column (e.g. 3,5,7) or an index.")
    why, why_problems = parse_link(params, "ex", names)
    return out | why, problems + why_problems


def init_state(model: TinyVGG) -> list[str]:
    """Defaults, overridden by the URL when the page is entered; returns problems with the URL
    (whose classes and test images are those of `model`, the model in use).

    Within the page the widgets own the state (and write it back to the URL); on entry, from
    a link or from another page such as Draw's "Explore layer by layer", the URL wins.
    """
    if st.session_state.get("ex_initialised") and not entered_page():
        return []
    st.session_state["ex_initialised"] = True
    for key, value in ((K_SOURCE, "sample"), (K_SAMPLE, 0), (K_SEED, 42), (K_LAYER, "conv_1_1"),
                       (K_CELL, None)):  # fmt: skip
        st.session_state.setdefault(key, value)  # no cell yet: the first layer picks one
    n_test = sample_count(model) or 1  # none: a link's sample is ignored with the source
    settings, problems = parse_query(dict(st.query_params), model.classes, n_test)
    st.session_state.pop(K_CELL_LINK, None)
    st.session_state.update(settings)
    if st.session_state[K_SOURCE] == "drawing" and drawn_input() is None:
        st.session_state[K_SOURCE] = "sample"
        problems.append("There is no drawn or uploaded image in this session yet.")
    return problems


def write_query(model: TinyVGG) -> None:
    """Mirror the state into the address bar (classes by the names of `model`, in use)."""
    s = st.session_state
    params = {"source": s[K_SOURCE], "layer": s[K_LAYER]}
    if s[K_CELL] is not None:
        params["cell"] = ",".join(map(str, s[K_CELL]))
    params.update(query_extra())
    if (view := st.query_params.get("pane")) in ("0", "1"):  # 0: Streamlit's charts (explore.py)
        params["pane"] = view
    params.update(link_params("ex", model.classes))
    if s[K_SOURCE] == "sample":
        params["sample"] = str(s[K_SAMPLE])
    elif s[K_SOURCE] == "random":
        params["seed"] = str(s[K_SEED])
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)


def current_input(model: TinyVGG) -> ExploreInput:
    """The image the user chose, as the (C, 28, 28) float tensor `model` takes (C its input
    channels: a drawing's grey repeated for an RGB model). May raise DataError."""
    s, c = st.session_state, model.config.input_shape
    more = "" if c == 1 else f"x{c}"  # in the key: another tensor than the 1-channel one
    if s[K_SOURCE] == "drawing" and (drawn := drawn_input()) is not None:
        x = drawn.with_channels(c)
        return ExploreInput(x, drawn.key + more, drawn.label, source="drawing")
    data = None if s[K_SOURCE] == "random" else samples(model)
    if data is None:  # asked for, or the model's images are not in the session
        g = torch.Generator().manual_seed(int(s[K_SEED]))
        x = torch.randn(c, 28, 28, generator=g)  # as torch.manual_seed(seed); torch.randn(...)
        caption = f"torch.randn({c}, 28, 28), seed {s[K_SEED]}"
        return ExploreInput(x, f"random{more}:{s[K_SEED]}", caption, source="random")
    images, labels = data
    i = min(int(s[K_SAMPLE]), len(labels) - 1)
    label = int(labels[i])
    x = images[i].float().div(255)  # (C, 28, 28), exactly as ToTensor()
    key = f"sample:{i}" if model.dataset == FASHION else f"sample:{model.dataset}:{i}"
    return ExploreInput(x, key, f"test image {i}: {model.classes[label]}", label)


@dataclass(frozen=True)
class Trace:
    """An input's trace through a model, with what it depends on: the key of every cache
    built from it (figures, thumbnails, arithmetic)."""

    key: tuple[str, str]  # (model key, input key)
    records: list[LayerRecord]  # input, conv_1_1, ..., softmax
    model: TinyVGG


def traced(current: ModelInUse, inp: ExploreInput) -> Trace:
    """The trace of this input through this model, computed once per session and kept."""
    key = (current.key, inp.key)
    return memo(
        ("trace", *key), lambda: Trace(key, trace(current.model, inp.tensor), current.model)
    )


def scale_cell(
    cell: tuple[int, int, int], from_hw: tuple[int, int] | None, shape: list[int]
) -> tuple[int, int, int]:
    """A cell picked in a (H, W) map, at the same place in a layer of `shape` (1, C, H', W'):
    (15, 20) in 28×28 is (7, 10) in 14×14 and (3, 5) in 7×7; the channel kept if it exists.
    Without `from_hw`, the cell is only moved inside; for a vector (1, F) it is (c, 0, 0)."""
    c, i, j = cell
    if len(shape) == 2:
        return min(c, shape[1] - 1), 0, 0
    h2, w2 = shape[2:]
    if from_hw is not None:
        i, j = i * h2 // from_hw[0], j * w2 // from_hw[1]
    return min(c, shape[1] - 1), min(i, h2 - 1), min(j, w2 - 1)


def brightest_cell(output: torch.Tensor) -> tuple[int, int, int]:
    """Where a first visit starts: channel 0's largest activation (not the padded corner)."""
    k = int(output[0, 0].argmax())
    return (0, *divmod(k, output.shape[-1]))


def current_cell(
    shape: list[int], layer: str, flat: bool = False, output: torch.Tensor | None = None
) -> tuple[tuple[int, int, int], str]:
    """The cell this layer shows, and, the first time after a link gave a cell, a sentence
    when that cell had to move to fit. `shape` is the layer's output (1, C, H, W) or (1, F),
    or for flatten (`flat`) its input, where a link's single number is an index of the vector.

    A cell keeps the place where it was picked (by a link, a click or the cell pickers; at
    first, `output`'s brightest cell): a layer of another size shows the same place, scaled,
    and stepping back shows the picked cell itself.
    """
    s = st.session_state
    asked = s.pop(K_CELL_LINK, None)
    hw = tuple(shape[2:]) if len(shape) == 4 else None
    last, message = s.get(K_CELL_SHOWN), ""
    if asked is not None:
        picked, message = _fit_link(asked, shape, layer, flat)
        s[K_CELL_ORIGIN] = (picked, hw)
    elif last is not None and s.get(K_CELL) != last[0]:  # picked on the layer drawn last
        s[K_CELL_ORIGIN] = (s[K_CELL], last[1])
    elif s.get(K_CELL_ORIGIN) is None and output is not None and output.dim() == 4:
        s[K_CELL_ORIGIN] = (brightest_cell(output), hw)
    origin, from_hw = s.get(K_CELL_ORIGIN) or (s.get(K_CELL) or (0, 0, 0), None)
    cell = scale_cell(origin, from_hw, shape)
    s[K_CELL], s[K_CELL_SHOWN] = cell, (cell, hw)
    return cell, message


def _fit_link(
    asked: tuple[int, ...], shape: list[int], layer: str, flat: bool
) -> tuple[tuple[int, int, int], str]:
    """A link's cell inside `shape`, and a sentence when it had to move."""
    if flat and len(asked) == 1:  # an index of the flattened vector
        n = math.prod(shape[1:])
        wanted, got = asked[0], min(asked[0], n - 1)
        cell = unflatten_index(tuple(shape[1:]), got)
        shown, shape = f"index {got}", [1, n]
    else:
        wanted = asked if len(asked) == 3 else (asked[0], 0, 0)
        c, i, j = wanted
        if len(shape) == 2:
            cell = (min(c, shape[1] - 1), 0, 0)
        else:
            cell = (min(c, shape[1] - 1), min(i, shape[2] - 1), min(j, shape[3] - 1))
        got, shown = cell, ",".join(map(str, cell))
    if wanted == got:
        return cell, ""
    if len(shape) == 2:
        where = f"{layer} has {shape[1]:,} values, numbered 0 to {shape[1] - 1:,}"
    else:
        where = (f"{layer} has channels 0 to {shape[1] - 1}, rows 0 to {shape[2] - 1} and "
                 f"columns 0 to {shape[3] - 1}")  # fmt: skip
    return cell, f"cell={','.join(map(str, asked))} is not there: {where}. Showing {shown}."
