"""The channel atlas through AppTest: the page, its links, and the explorer's picked channel."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from tinyvgg.activations import by_name, trace
from tinyvgg.data import CLASS_NAMES, to_float
from tinyvgg.model import load_shipped

APP = "../app.py"


def _page(page: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.switch_page(page).run()


def _rows(at: AppTest) -> list[list[str]]:
    """Each row of example images, as its captions."""
    return [[img.caption for img in e.proto.imgs] for e in at.main if e.type == "image"]


def _check_captions(captions: list[str], real_data, layer: str, channel: int, sign: int) -> None:
    """Each caption's image, class and value, against the image's own trace."""
    model, test = load_shipped()[0], real_data[1]
    values = []
    for text in captions:
        image, name, value = re.fullmatch(r"#(\d+) (.+) · (-?\d+\.\d+)", text).groups()
        image, value = int(image), float(value)
        assert name == CLASS_NAMES[int(test.labels[image])]
        out = by_name(trace(model, to_float(test.images[image : image + 1])[0]))[layer].output
        extreme = out[0, channel].max() if sign > 0 else out[0, channel].min()
        assert float(extreme) == pytest.approx(value, abs=6e-4)  # as written, 3 decimals
        values.append(value)
    assert values == sorted(values, reverse=sign > 0)


def test_a_link_opens_one_channel_with_its_images_and_numbers(real_data):
    at = _page("pages/atlas.py", {"layer": "conv_1_1", "channel": "2"})
    assert not at.exception and not at.error
    assert [s.value for s in at.subheader] == ["conv_1_1, channel 2"]
    top, bottom = _rows(at)
    assert len(top) == len(bottom) == 9
    _check_captions(top, real_data, "conv_1_1", 2, +1)
    _check_captions(bottom, real_data, "conv_1_1", 2, -1)
    assert at.query_params["layer"] == "conv_1_1" and at.query_params["channel"] == "2"


def test_every_channel_of_a_relu_layer_has_no_negatives(real_data):
    at = _page("pages/atlas.py", {"layer": "relu_2_2"})
    assert not at.exception and not at.error
    assert len(at.subheader) == 10
    assert [len(r) for r in _rows(at)] == [9] * 10  # the strongest only: a ReLU is never < 0
    _check_captions(_rows(at)[7], real_data, "relu_2_2", 7, +1)
    at.selectbox(key="atlas_channel").set_value(7).run()
    assert [s.value for s in at.subheader] == ["relu_2_2, channel 7"]
    assert at.query_params["channel"] == "7"


def test_bad_links_are_named_and_the_page_still_works(real_data):
    at = _page("pages/atlas.py", {"layer": "linear", "channel": "x", "images": "val"})
    assert not at.exception and not at.error
    warnings = " ".join(w.value for w in at.warning)
    assert "layer='linear' has no channel maps" in warnings
    assert "channel='x' is not a channel number" in warnings
    assert "images='val' is not test or train" in warnings
    at = _page("pages/atlas.py", {"layer": "max_pool_2", "channel": "12"})
    assert "max_pool_2 has channels 0 to 9: showing every channel." in at.warning[0].value


def test_the_explorer_shows_the_picked_channels_atlas(real_data):
    at = _page("pages/explore.py", {"sample": "9", "layer": "conv_2_2", "cell": "4,5,5"})
    assert not [e for e in at.main if e.type == "image" and e.proto.imgs[0].caption]
    at.toggle(key="ex_atlas_open").set_value(True).run()
    assert not at.exception and not at.error
    rows = _rows(at)
    top, bottom = [r for r in rows if r and r[0].startswith("#")]
    _check_captions(top, real_data, "conv_2_2", 4, +1)
    _check_captions(bottom, real_data, "conv_2_2", 4, -1)
    link = next(e for e in at.main if e.type == "page_link")
    assert link.proto.page == "atlas" and link.proto.query_string == "layer=conv_2_2&channel=4"


def test_synthetic_images_are_labelled_as_such(real_data):
    at = _page("pages/atlas.py", {"layer": "relu_2_1", "channel": "5"})
    at.toggle(key="atlas_dream").set_value(True).run()
    assert not at.exception and not at.error
    note = " ".join(m.value for m in at.markdown)
    assert "**Synthetic, not dataset images**" in note and "200 steps" in note
    first = _rows(at)[0]
    assert len(first) == 1 and re.fullmatch(r"synthetic · mean -?\d+\.\d\d → \d+\.\d\d", first[0])


def test_another_models_atlas_is_kept_and_dead_channels_said_so(real_data):
    from ui.state import MODEL_KEY, UNTRAINED

    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[MODEL_KEY] = UNTRAINED
    at.query_params["layer"] = "relu_2_1"
    at.switch_page("pages/atlas.py").run()
    assert not at.exception and not at.error
    kept = at.session_state["_atlases"]
    atlas = kept[("untrained", "test")]
    at.run()  # a rerun (any click): the same atlas, not built again
    assert at.session_state["_atlases"][("untrained", "test")] is atlas
    dead = [c for c in range(10) if float(atlas.highest["relu_2_1"].values[0, c]) <= 0]
    assert dead  # the seed-42 initialisation leaves some relu_2_1 channels never above 0
    said = [i.value for i in at.info]
    for c in dead:
        assert f"Channel {c} is never above 0 on the 10,000 test images" in " ".join(said)


def test_a_model_with_other_classes_and_many_channels():
    from .test_own_dataset_pages import own_page, shapes_model, small_shapes

    model = shapes_model(hidden=20)
    at = own_page("pages/atlas.py", model, small_shapes(), {"layer": "max_pool_2"})
    assert not at.exception and not at.error
    assert at.selectbox(key="atlas_channel").value == 0  # one at a time for 20 channels
    assert [s.value for s in at.subheader] == ["max_pool_2, channel 0"]
    assert any("has 20 channels: one at a time" in c.value for c in at.caption)
