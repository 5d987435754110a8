"""Channel atlas: what each channel of a layer responds to across the model's dataset."""

import streamlit as st

from ui.frame import ensure_navigation

ensure_navigation()

from tinyvgg.atlas import LAYERS  # noqa: E402
from tinyvgg.data import DataError  # noqa: E402
from ui.atlas import (  # noqa: E402
    SPLITS,
    atlas_for,
    channel_ui,
    dream_for,
    dream_note,
    dream_ui,
    makeup_ui,
    missing,
    split_text,
)
from ui.present import query_extra  # noqa: E402
from ui.state import entered_page, model_in_use  # noqa: E402

ALL = -1  # "every channel"
MAX_ALL = 16  # channels shown at once; a wider model shows one at a time
K_LAYER, K_SPLIT, K_CHANNEL = "atlas_layer", "atlas_split", "atlas_channel"


def _from_link() -> list[str]:
    """The layer, images and channel a link asks for; a sentence for each value ignored."""
    q, s, problems = st.query_params, st.session_state, []
    s.setdefault(K_LAYER, "conv_2_1")
    s.setdefault(K_SPLIT, "test")
    s.setdefault(K_CHANNEL, ALL)
    if not entered_page():
        return problems
    if (layer := q.get("layer")) is not None:
        if layer in LAYERS:
            s[K_LAYER] = layer
        else:
            problems.append(f"layer={layer!r} has no channel maps; the layers are "
                            f"{', '.join(LAYERS)}.")  # fmt: skip
    if (split := q.get("images")) is not None:
        if split in SPLITS:
            s[K_SPLIT] = split
        else:
            problems.append(f"images={split!r} is not test or train.")
    if (channel := q.get("channel")) is not None:
        s[K_CHANNEL] = int(channel) if channel.isdigit() else ALL
        if not channel.isdigit():
            problems.append(f"channel={channel!r} is not a channel number.")
    return problems


def _split_label(split: str) -> str:
    """e.g. "10,000 test images", of the model's dataset."""
    return split_text(current.model, split).removeprefix("the ")


problems = _from_link()
current = model_in_use()
st.title("Channel atlas")
st.write(
    f"What each channel responds to across {current.model.dataset}: the images whose largest "
    "value in the channel is the largest, each as the pixels its strongest cell sees (its "
    "receptive field, left) and the whole image with that field outlined (right); for a "
    "convolution also the most negative, and for every channel the classes of its 100 strongest "
    "images."
)
for problem in problems:
    st.warning(f"Ignored part of the link: {problem}")
a, b, c = st.columns([2, 2, 1.4], vertical_alignment="bottom")
layer = a.selectbox("Layer", LAYERS, key=K_LAYER)
try:
    split = b.radio("Images", list(SPLITS), format_func=_split_label, key=K_SPLIT,
                    horizontal=True)  # fmt: skip
    atlas = atlas_for(current.key, current.model, split)
except DataError as e:
    st.error(str(e))
    st.stop()
if atlas is None:
    st.info(missing(current.model), icon=":material/dataset:")
    st.stop()
n = atlas.highest[layer].values.shape[1]
if st.session_state[K_CHANNEL] >= n:
    st.warning(f"{layer} has channels 0 to {n - 1}: showing every channel.")
    st.session_state[K_CHANNEL] = ALL
everything = [ALL] if n <= MAX_ALL else []  # a wide model: a channel at a time
if st.session_state[K_CHANNEL] == ALL and not everything:
    st.session_state[K_CHANNEL] = 0
channel = c.selectbox("Channel", [*everything, *range(n)], key=K_CHANNEL,
                      format_func=lambda k: "every channel" if k == ALL else str(k))  # fmt: skip
if not everything:
    st.caption(f"{layer} has {n} channels: one at a time (every channel at once for at most "
               f"{MAX_ALL}).")  # fmt: skip
channels = list(range(n)) if channel == ALL else [channel]
st.caption(f"Model: {current.name} · {split_text(current.model, split)}")
makeup_ui(atlas, current.key, split, layer, channels, key="atlas_makeup")
dreams = None
if st.toggle("Also a synthetic image per channel (activation maximisation)", key="atlas_dream",
             help="Made by gradient ascent, not found in the dataset: what the channel would "
             "respond to most, as far as a few hundred steps can tell."):  # fmt: skip
    dreams = dream_for(current.key, current.model, layer)
    st.markdown(dream_note(dreams))
for k in channels:
    st.subheader(f"{layer}, channel {k}")
    if dreams is not None:
        dream_ui(dreams, k)
    channel_ui(atlas, split, layer, k)
params = {"layer": layer, "images": split, **query_extra()}
if channel != ALL:
    params["channel"] = str(channel)
if dict(st.query_params) != params:
    st.query_params.from_dict(params)
