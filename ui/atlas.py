"""The channel atlas in the app: built once per model and image set (the shipped model's once
per server) with a progress bar, and one channel's strongest and weakest images drawn."""

from __future__ import annotations

import threading

import streamlit as st
import torch

from tinyvgg.atlas import Atlas, Dream, Example, build_atlas, dream
from tinyvgg.data import DataError, Split, load_split
from tinyvgg.datasets import FASHION
from tinyvgg.model import TinyVGG
from ui.datasets import find, test_set
from ui.figures.atlas import dream_png, example_png, makeup_bars
from ui.figures.common import subtitled
from ui.memo import memo
from ui.present import chart
from ui.resources import test_split

SPLITS = {"test": "the 10,000 test images", "train": "the 60,000 training images"}  # Fashion's
WORDS = {"test": "test", "train": "training"}
TILE_PX = 84


@st.cache_resource(show_spinner="Loading Fashion-MNIST's training images…")
def train_split() -> Split:
    """The 60k training images as uint8, shared by every session."""
    return load_split("train")


def images_of(model: TinyVGG, split: str) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The uint8 images (N, C, 28, 28) and labels of the model's dataset, "test" or "train";
    None when this session does not hold that dataset. Fashion-MNIST's are shared (DataError
    when missing)."""
    if model.dataset == FASHION:
        data = test_split() if split == "test" else train_split()
        return data.images.unsqueeze(1), data.labels  # a view: no copy
    found = test_set(model)  # None unless the session's dataset has the model's classes
    if found is None or split == "test":
        return found
    full = find(model.dataset)
    return full.train_images, full.train_labels


def split_text(model: TinyVGG, split: str) -> str:
    """e.g. "the 10,000 test images", of the model's dataset."""
    if model.dataset == FASHION:
        return SPLITS[split]
    data = images_of(model, split)
    return f"the {len(data[1]):,} {WORDS[split]} images" if data else f"the {WORDS[split]} images"


def missing(model: TinyVGG) -> str:
    """Why there is no atlas of this model, in one sentence."""
    return (f"This model learned {model.dataset}, whose images are not in this session: upload "
            "that dataset on the Train page to see what excites its channels.")  # fmt: skip


_SHIPPED: dict[str, Atlas] = {}  # the shipped model's atlas per split, for every session
_SHIPPED_LOCKS = {split: threading.Lock() for split in SPLITS}  # one builds, others wait
KEPT = 4  # other models' atlases a session keeps (its own small cache: the memo's 96
# entries of figures would push them out)


def _shipped_atlas(split: str, model, progress) -> Atlas:
    # Not st.cache_resource: its replay refuses a progress bar drawn from inside the function.
    with _SHIPPED_LOCKS[split]:
        if split not in _SHIPPED:
            images, labels = images_of(model, split)
            _SHIPPED[split] = build_atlas(model, images, labels, progress=progress)
        return _SHIPPED[split]


def atlas_for(model_key: str, model: TinyVGG, split: str = "test") -> Atlas | None:
    """The atlas of a model (the model in use's key and model) over `split` of its dataset:
    computed once (a progress bar meanwhile), then kept: for the shipped model by the server,
    for any other by the session. None when the session does not hold the model's dataset."""
    bar = st.empty()

    def progress(fraction: float) -> None:
        bar.progress(fraction, text=f"Ranking {split_text(model, split)} for every channel… "
                                    f"{fraction:.0%}")  # fmt: skip

    try:
        if model_key == "pretrained":
            return _shipped_atlas(split, model, progress)
        if (data := images_of(model, split)) is None:
            return None
        return memo((model_key, split), lambda: build_atlas(model, *data, progress=progress),
                    store="_atlases", max_entries=KEPT)  # fmt: skip
    finally:
        bar.empty()


def _captions(examples: list[Example], names: tuple[str, ...]) -> list[str]:
    return [f"#{e.image} {names[e.label]} · {e.value:.3f}" for e in examples]


def _row(images: torch.Tensor, examples: list[Example], names: tuple[str, ...]) -> None:
    # drawn each run (0.2 ms a picture): kept, a layer's 180 would crowd the session's memo
    pngs = [example_png(images[e.image], e.field, TILE_PX) for e in examples]
    st.image(pngs, caption=_captions(examples, names), width=2 * TILE_PX + 4)


def channel_ui(atlas: Atlas, split: str, layer: str, channel: int,
               negatives: bool = True) -> None:  # fmt: skip
    """One channel: its strongest images (each the crop of its strongest cell's receptive
    field, and the whole image with the field outlined), and a conv layer's most negative."""
    model = atlas.model
    images, names, which = images_of(model, split)[0], model.classes, split_text(model, split)
    top = atlas.top(layer, channel)
    if layer not in atlas.lowest and top[0].value <= 0:  # after a ReLU: a dead channel
        st.info(f"Channel {channel} is never above 0 on {which}: its ReLU passes "
                "nothing, so no image excites it (a dead channel).")  # fmt: skip
        return
    st.caption(f"Strongest: of {which}, those whose largest value in channel {channel} "
               "is the largest; # image, class · value")  # fmt: skip
    _row(images, top, names)
    if negatives and layer in atlas.lowest:
        st.caption("Most negative (before the ReLU): those whose smallest value here is the "
                   "most negative")  # fmt: skip
        _row(images, atlas.bottom(layer, channel), names)


def makeup_ui(atlas: Atlas, model_key: str, split: str, layer: str,
              channels: list[int], key: str) -> None:  # fmt: skip
    """The class make-up of the channels' 100 strongest images, one bar each."""
    names = atlas.model.classes
    counts = atlas.makeup(layer)  # (C, classes seen): a class none of the images has is missing
    counts = torch.nn.functional.pad(counts, (0, len(names) - counts.shape[1]))
    title = subtitled(f"{layer}: classes of the top 100", "each channel's strongest images")
    fig = memo(("atlas_makeup", model_key, split, layer, tuple(channels)),
               lambda: makeup_bars(counts, names, title, channels))  # fmt: skip
    chart(fig, key=key, theme=None)


EXPLORER_HELP = "The channel atlas: the test images this channel responds to most."


def explorer_ui(model_key: str, model: TinyVGG, layer: str, channel: int,
                label: str | None = None) -> None:  # fmt: skip
    """In the explorer, for the picked channel: its strongest (and most negative) test images,
    its class make-up, and the way to the whole layer in the atlas. `label`: the switch's, if
    not the channel's."""
    if not st.toggle(
        label or f"What excites channel {channel} across the test set?",
        key="ex_atlas_open",
        help=EXPLORER_HELP,
    ):
        return
    try:
        atlas = atlas_for(model_key, model, "test")
    except DataError as e:
        st.error(str(e))
        return
    if atlas is None:
        st.info(missing(model), icon=":material/dataset:")
        return
    channel_ui(atlas, "test", layer, channel)
    makeup_ui(atlas, model_key, "test", layer, [channel], key="ex_atlas_makeup")
    st.page_link("pages/atlas.py", label=f"Every channel of {layer} in the atlas",
                 icon=":material/grid_view:",
                 query_params={"layer": layer, "channel": str(channel)})  # fmt: skip


def dream_for(model_key: str, model: TinyVGG, layer: str) -> Dream:
    """Every channel's synthetic image for `layer`, made once per model and layer."""
    with st.spinner(f"Making {layer}'s synthetic images (gradient ascent, a second or two)…"):
        return memo(("atlas_dream", model_key, layer), lambda: dream(model, layer))


def dream_note(d: Dream) -> str:
    """What the synthetic images are, with their settings."""
    s = d.settings
    return (
        f"**Synthetic, not dataset images**: each starts from faint noise ({s['start']}) and "
        f"climbs its channel's mean activation by gradient ascent ({s['optimizer']}, "
        f"{s['steps']} steps, learning rate {s['lr']}), minus {s['tv']} × total variation to "
        f"keep it smooth, shifted by up to {s['jitter']} pixel each step; seed {s['seed']}."
    )


def dream_ui(d: Dream, channel: int) -> None:
    """One channel's synthetic image, with how far it drove the channel."""
    st.image(dream_png(d.images[channel]), width=2 * TILE_PX + 4,
             caption=f"synthetic · mean {float(d.start[channel]):.2f} → "
                     f"{float(d.end[channel]):.2f}")  # fmt: skip
