"""The pages with a model of another dataset (the demo shapes, greyscale or RGB): its class names,
its test images, and never a Fashion-MNIST name; a sentence where its images are missing."""

from __future__ import annotations

import re

import pytest
import torch
from streamlit.testing.v1 import AppTest

from harness.apptest import figures, pane_checks_out, pane_layer, pane_step, pane_text
from tinyvgg.activations import by_name, trace
from tinyvgg.data import CLASS_NAMES
from tinyvgg.datasets import Dataset
from tinyvgg.model import TinyVGG, TinyVGGConfig, build_model
from tinyvgg.preprocess import as_dataset_reads, preprocess
from tinyvgg.shapes import SHAPES, shapes
from ui.datasets import UPLOADS_KEY
from ui.explore.state import LAYERS
from ui.state import DRAWN_KEY, MODEL_KEY, UPLOAD_KEY, UPLOADED, DrawnInput, UploadedModel

from .test_preprocess import encode, garment
from .test_why_app import _ok, _page

APP = "../app.py"
EXPLORE, DRAW, ATLAS, PLAYGROUND = (f"pages/{p}.py" for p in ("explore", "draw", "atlas",
                                                               "playground"))  # fmt: skip
FASHION_NAME = re.compile(r"\b(?:" + "|".join(map(re.escape, CLASS_NAMES)) + r")\b")


def shapes_model(channels: int = 1, dataset: str = "shapes", hidden: int = 10) -> TinyVGG:
    """An untrained, seeded TinyVGG for the four shapes."""
    config = TinyVGGConfig(input_shape=channels, hidden_units=hidden, output_shape=len(SHAPES))
    return build_model(config, seed=3, classes=SHAPES, dataset=dataset).eval()


def small_shapes(channels: int = 1, name: str = "shapes") -> Dataset:
    """shapes(per_class=20): 64 training and 16 test images; in colour for 3 channels (red and
    blue kept, green dropped: magenta shapes)."""
    d = shapes(per_class=20)
    if channels == 1 and name == d.name:
        return d
    colour = torch.tensor([1.0, 0.0, 1.0] if channels == 3 else [1.0]).view(1, -1, 1, 1)
    tint = lambda x: (x.repeat(1, channels, 1, 1) * colour).to(torch.uint8)  # noqa: E731
    return Dataset(name, d.classes, tint(d.train_images), d.train_labels, tint(d.test_images),
                   d.test_labels)  # fmt: skip


def own_page(page: str, model: TinyVGG, data: Dataset | None = None, query: dict | None = None,
             state: dict | None = None) -> AppTest:  # fmt: skip
    """The page with `model` as the uploaded checkpoint in use and `data` in the session."""
    own = {
        UPLOAD_KEY: UploadedModel("own.pt", model, {}, f"own-{model.dataset}"),
        MODEL_KEY: UPLOADED,
        **({UPLOADS_KEY: {data.name: data}} if data is not None else {}),
    }
    return _page(page, query, {**own, **(state or {})})  # fmt: skip


def _strings(node) -> list[str]:
    """Every string in a figure's JSON, but binary arrays'."""
    if isinstance(node, dict):
        return [s for k, v in node.items() if k != "bdata" for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def _charts(at: AppTest) -> list[dict]:
    return [spec for _, spec in figures(at)]


def shown(at: AppTest) -> str:
    """Everything the page says: text, labels, options, image captions, figures' words."""
    parts = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "success",
                 "error", "metric"):  # fmt: skip
        parts += [str(e.value) for e in getattr(at, kind)]
    for w in (*at.selectbox, *at.radio, *at.button, *at.toggle, *at.number_input):
        parts += [w.label, *map(str, getattr(w, "options", []))]
    parts += [e.proto.body for e in at.get("html")]
    parts += [img.caption for e in at.get("image") for img in e.proto.imgs]
    parts += [s for spec in _charts(at) for s in _strings(spec)]
    return "\n".join([*parts, pane_text(at)])


def assert_no_fashion_names(at: AppTest) -> None:
    found = FASHION_NAME.findall(shown(at))
    assert not found, found


# ---------------------------------------------------------------------------- explorer


def test_the_explorer_offers_the_models_own_images_and_names_its_classes():
    model, data = shapes_model(), small_shapes()
    at = own_page(EXPLORE, model, data, {"sample": "5", "layer": "softmax"})
    _ok(at)
    assert at.radio(key="ex_source").options == ["shapes test image", "Random tensor"]
    assert at.selectbox(key="ex_class").options == ["any class", *SHAPES]
    assert at.number_input(key="ex_sample").max == len(data.test_labels) - 1
    x = data.test_images[5].float() / 255
    with torch.no_grad():
        probs = torch.softmax(model(x[None]), 1)[0]
    assert at.metric[0].value == SHAPES[int(probs.argmax())]
    truth = SHAPES[int(data.test_labels[5])]
    assert f"Truth: **{truth}**" in shown(at)
    bars = [t for spec in _charts(at) for t in spec["data"] if t.get("type") == "bar"]
    assert bars and all(list(t["x"]) == list(SHAPES) for t in bars)
    assert_no_fashion_names(at)
    at.selectbox(key="ex_class").set_value("triangle").run()  # the first triangle after #5
    first = int((data.test_labels == SHAPES.index("triangle")).nonzero()[0])
    assert at.number_input(key="ex_sample").value == first
    next(b for b in at.button if b.label == "Random").click().run()
    assert int(data.test_labels[at.number_input(key="ex_sample").value]) == 3


def test_every_layer_of_a_shapes_model_checks_out_and_names_no_garment():
    model, data = shapes_model(), small_shapes()
    at = own_page(EXPLORE, model, data, {"sample": "9", "layer": "input", "cell": "1,3,4"})
    records = by_name(trace(model, data.test_images[9].float() / 255))
    for layer in LAYERS:
        pane_step(at, layer)
        _ok(at)
        if layer not in ("input", "softmax"):
            assert pane_checks_out(at), layer
        assert_no_fashion_names(at)
    at.toggle(key="ex_lesson").set_value(True).run()  # the lesson's note on the softmax
    note = pane_layer(at)["note"]
    pred = SHAPES[int(records["softmax"].output.argmax())]
    assert f"{pred} gets" in note and "all four exps" in note


def test_a_link_names_the_models_classes():
    model, data = shapes_model(), small_shapes()
    at = own_page(EXPLORE, model, data, {"sample": "2", "why": "exact", "target": "Star"})
    _ok(at)
    assert at.selectbox(key="ex_why_target").value == SHAPES.index("star")
    assert "logit[star]" in shown(at) and at.query_params["target"] == "star"
    at = own_page(EXPLORE, model, data, {"sample": "2", "why": "exact", "target": "Coat"})
    _ok(at)
    said = " ".join(w.value for w in at.warning)
    assert "target='Coat' is not a class" in said and "circle, square, star, triangle" in said


def test_without_its_dataset_the_explorer_says_so_and_offers_the_other_inputs():
    model = shapes_model(dataset="my shapes")  # no such dataset in the session or built in
    at = own_page(EXPLORE, model, query={"sample": "3", "layer": "conv_1_1"})
    _ok(at)
    said = [i.value for i in at.info]
    assert any(s.startswith("This model learned my shapes, whose images are not in this "
                            "session") for s in said)  # fmt: skip
    assert at.radio(key="ex_source").options == ["Random tensor"]
    assert "torch.randn(1, 28, 28), seed 42" in shown(at)
    drawn = DrawnInput(torch.rand(1, 28, 28), "drawing")
    at = own_page(EXPLORE, model, state={DRAWN_KEY: drawn})
    _ok(at)
    assert at.radio(key="ex_source").options == ["Random tensor", "Your image"]
    at.radio(key="ex_source").set_value("drawing").run()
    _ok(at)
    assert_no_fashion_names(at)


def test_an_rgb_model_in_the_explorer():
    model, data = shapes_model(3, "rgb shapes"), small_shapes(3, "rgb shapes")
    at = own_page(EXPLORE, model, data, {"sample": "6", "layer": "input"})
    _ok(at)
    assert "3 channels (red, green, blue)" in shown(at)
    name = SHAPES[int(data.test_labels[6])]  # the input in its colours, beside its channels
    assert pane_layer(at)["picture"][1] == f"test image 6: {name}"
    pane_step(at, "conv_1_1")
    _ok(at)
    assert "Σ over 3 input channels" in shown(at)
    assert pane_checks_out(at)
    for layer in LAYERS[2:]:
        pane_step(at, layer)
        _ok(at)
    at.radio(key="ex_source").set_value("random").run()
    _ok(at)
    assert "torch.randn(3, 28, 28), seed 42" in shown(at)
    drawn = DrawnInput(torch.rand(1, 28, 28), "drawing")
    at = own_page(EXPLORE, model, data, {"source": "drawing", "layer": "conv_1_1"},
                  {DRAWN_KEY: drawn})  # fmt: skip
    _ok(at)
    assert pane_checks_out(at)
    at.toggle(key="ex_why_open").set_value(True).run()
    _ok(at)
    with torch.no_grad():
        z = model(drawn.tensor.repeat(3, 1, 1)[None])[0]
    assert f"**{float(z.max()):.6f}**" in shown(at)  # the exact decomposition's logit
    assert_no_fashion_names(at)


# ---------------------------------------------------------------------------- draw page


def _upload(at: AppTest) -> tuple[AppTest, bytes]:
    data = encode(garment())
    at.session_state["draw_source"] = "Upload"
    at.run().file_uploader(key="draw_upload").upload("shape.png", data, "image/png").run()
    return at, data


@pytest.mark.parametrize("channels", [1, 3])
def test_the_draw_page_classifies_into_the_models_classes(channels):
    model = shapes_model(channels)
    at = own_page(DRAW, model)
    _ok(at)
    assert at.title[0].value == "Draw or upload an image"
    assert "a circle, square, star or triangle" in shown(at)
    at, data = _upload(at)
    _ok(at)
    x = preprocess(data).tensor.repeat(channels, 1, 1)
    with torch.no_grad():
        probs = torch.softmax(model(x[None]), 1)[0]
    top = probs.topk(3)
    prediction = next(m.value for m in at.markdown if m.value.startswith("Prediction:"))
    assert prediction == (
        f"Prediction: **{SHAPES[int(top.indices[0])]}** ({100 * float(top.values[0]):.1f}%)"
    )
    (chart,) = [c for c in _charts(at) if c["data"][0].get("orientation") == "h"]
    assert list(chart["data"][0]["y"]) == [SHAPES[i] for i in top.indices.tolist()][::-1]
    unsure = [w.value for w in at.warning if w.value.startswith("The model is unsure")]
    assert unsure and "collar" not in unsure[0] and "half the time" not in unsure[0]
    at.toggle(key="draw_why_open").set_value(True).run()
    _ok(at)
    assert at.get("button_group")[0].options  # its top 3, one click away
    assert_no_fashion_names(at)
    next(b for b in at.button if b.label == "Explore layer by layer").click().run()
    _ok(at)
    assert at.radio(key="ex_source").value == "drawing"
    assert at.metric[0].value == SHAPES[int(top.indices[0])]


@pytest.mark.parametrize("channels", [1, 3])
def test_a_model_of_own_images_reads_a_picture_as_its_dataset_did(channels):
    """Not the garment pipeline (no inversion, no crop): folders.to_input, in colour for an RGB
    model, shown as the one step; the explorer gets the same input."""
    model = shapes_model(channels, dataset="marks")
    at = own_page(DRAW, model)
    _ok(at)
    assert "as that dataset's images were read" in shown(at)
    assert not [t for t in at.toggle if t.key in ("draw_auto_invert", "draw_fill")]
    at, data = _upload(at)
    _ok(at)
    assert "Read as the images of marks were" in " ".join(c.value for c in at.caption)
    x = as_dataset_reads(data, channels).tensor
    assert x.shape == (channels, 28, 28)
    with torch.no_grad():
        best = int(model(x[None]).argmax())
    prediction = next(m.value for m in at.markdown if m.value.startswith("Prediction:"))
    assert prediction.startswith(f"Prediction: **{SHAPES[best]}**")
    assert any("as the dataset" in (i.captions or [""])[0] for i in at.image)
    next(b for b in at.button if b.label == "Explore layer by layer").click().run()
    _ok(at)
    assert at.metric[0].value == SHAPES[best]


# ---------------------------------------------------------------------------- atlas, playground


@pytest.mark.parametrize("channels", [1, 3])
def test_the_atlas_ranks_the_models_own_images(channels):
    model = shapes_model(channels, f"{channels}-channel shapes")
    data = small_shapes(channels, model.dataset)
    at = own_page(ATLAS, model, data, {"layer": "conv_1_1", "channel": "2"})
    _ok(at)
    assert f"across {model.dataset}" in shown(at)
    assert at.radio(key="atlas_split").options == ["16 test images", "64 training images"]
    captions = [img.caption for e in at.get("image") for img in e.proto.imgs]
    assert captions
    for text in captions:
        image, name = re.fullmatch(r"#(\d+) (\S+) · -?\d+\.\d+", text).groups()
        assert name == SHAPES[int(data.test_labels[int(image)])]
    (makeup,) = [c for c in _charts(at) if c["layout"].get("barmode") == "stack"]
    assert [t["name"] for t in makeup["data"]] == list(SHAPES)
    assert_no_fashion_names(at)


def test_the_atlas_says_why_without_the_models_dataset():
    at = own_page(ATLAS, shapes_model(dataset="my shapes"))
    _ok(at)
    assert any(i.value.startswith("This model learned my shapes, whose images are not in this "
                                  "session") for i in at.info)  # fmt: skip


def test_the_playground_takes_a_test_image_of_the_models_dataset():
    from ui.playground_controls import FASHION

    model, data = shapes_model(), small_shapes()
    at = own_page(PLAYGROUND, model, data)
    _ok(at)
    assert "shapes test image" in at.radio(key="pg_source").options
    at.radio(key="pg_source").set_value(FASHION).run()
    at.number_input(key="pg_index").set_value(13).run()
    _ok(at)
    assert at.number_input(key="pg_in_channels").value == 1
    assert at.number_input(key="pg_index").max == 15
    assert f"# {SHAPES[int(data.test_labels[13])]}" in at.code[0].value
    assert "torch.Size([1, 1, 28, 28])" in [c.value for c in at.code]
    rgb, colour = shapes_model(3, "rgb shapes"), small_shapes(3, "rgb shapes")
    at = own_page(PLAYGROUND, rgb, colour)
    at.radio(key="pg_source").set_value(FASHION).run()
    _ok(at)
    assert at.number_input(key="pg_in_channels").value == 3
    assert "torch.Size([1, 3, 28, 28])" in [c.value for c in at.code]
    at = own_page(PLAYGROUND, shapes_model(dataset="my shapes"))
    at.radio(key="pg_source").set_value(FASHION).run()
    assert not at.exception
    assert at.info[0].value.startswith("This model learned my shapes, whose images are not")


@pytest.mark.parametrize("channels", [1, 3])
def test_the_replay_shows_a_shapes_runs_own_images_and_classes(channels):
    from dataclasses import asdict

    from tinyvgg.snapshots import Snapshot
    from tinyvgg.train import TrainConfig
    from ui import replay
    from ui.state import RUNS_KEY, TrainedRun

    model = shapes_model(channels, f"{channels}-channel shapes")
    data = small_shapes(channels, model.dataset)
    snaps = [Snapshot(s, 0, None if s == 0 else 1.3, None if s == 0 else 30.0, None, None, 0,
                      {k: v + 0.01 * s for k, v in model.state_dict().items()})
             for s in (0, 4, 8)]  # fmt: skip
    name = "run 1 (shapes)"
    results = {"model_name": name, "model_loss": 1.2, "model_acc": 40.0}
    run = TrainedRun(name, snaps[-1].state_dict, 10, results,
                     config=asdict(TrainConfig(epochs=1, lr=0.1)), snapshots=snaps, classes=SHAPES,
                     dataset=model.dataset)  # fmt: skip
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[RUNS_KEY] = [run]
    at.session_state[UPLOADS_KEY] = {data.name: data}
    at.switch_page("pages/train.py").run()
    _ok(at)
    at.number_input(key=replay.SAMPLE_KEY).set_value(13).run()
    _ok(at)
    assert at.number_input(key=replay.SAMPLE_KEY).max == 15
    top3 = next(c for c in _charts(at) if c["layout"].get("title", {}).get("text", "")
                .startswith("Top 3"))  # fmt: skip
    assert set(top3["data"][0]["y"]) <= set(SHAPES)
    assert "right on the first 16 test images" in shown(at)  # measured on its own test set
    at.button(key="replay_open").click().run()
    _ok(at)
    assert at.session_state[RUNS_KEY][-1].classes == SHAPES
    assert at.radio(key="ex_source").options[0] == f"{model.dataset} test image"
    assert at.number_input(key="ex_sample").value == 13
