"""The training page's datasets through AppTest: pick one, read its summary, upload a zip (and
every bad zip's one sentence), train on it, and find its classes in the results."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from tinyvgg.model import TinyVGGConfig, build_model, load_checkpoint
from tinyvgg.shapes import SHAPES, shapes_zip
from ui import datasets as datasets_ui
from ui import training
from ui.state import TrainedRun

from .test_train_page import chart, until_ended

APP = "../app.py"


def epochs(at):
    """The epochs slider (its key is the chosen dataset's)."""
    return next(s for s in at.slider if s.label == "Epochs")


def pick(at: AppTest, choice: str) -> AppTest:
    at.radio(key=datasets_ui.PICK_KEY).set_value(choice).run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key=datasets_ui.ZIP_KEY).upload(name, data, "application/zip").run()
    assert not at.exception, at.exception
    return at


def per_class(at: AppTest):
    """The dataset summary's table of images per class."""
    return next(t.value for t in at.table if "training images" in t.value.columns)


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def test_the_choices_and_the_default(train_page):
    radio = train_page.radio(key=datasets_ui.PICK_KEY)
    assert radio.options == list(datasets_ui.CHOICES) and radio.value == "Fashion-MNIST"
    assert "Fashion-MNIST**: 10 classes, greyscale 28×28 images; 60,000 for training and 10,000 " \
        "for testing (its own training and test sets)" in captions(train_page)  # fmt: skip


def test_the_shapes_demo_is_summarised_and_its_subsets_follow_its_size(train_page):
    at = pick(train_page, "Shapes (a demo)")
    assert "shapes**: 4 classes, greyscale 28×28 images; 1,600 for training and 400 for " \
        "testing (a seeded 80%/20% split of each class)" in captions(at)  # fmt: skip
    counts = per_class(at)
    assert list(counts["class"]) == list(SHAPES)
    assert list(counts["training images"]) == [400] * 4 and list(counts["test images"]) == [100] * 4
    fig = chart(at, "train_dataset_examples")
    assert fig["layout"]["yaxis"]["ticktext"] == list(SHAPES)
    subset = at.selectbox(key=training.subset_key("shapes"))
    assert subset.options == ["1,000", "all 1,600"] and subset.value == "all 1,600"
    # a small dataset starts from more epochs: 10 of 100 steps (batch 16)
    assert at.select_slider(key="train_batch_all 1,600").value == 16
    assert epochs(at).value == 10
    assert "10 × 1,600 images" in captions(at)
    pick(at, "Fashion-MNIST")  # back: the notebook's defaults again
    assert epochs(at).value == 3
    assert at.selectbox(key=training.subset_key("fashion-mnist")).value == "5,000"


def test_an_uploaded_zip_is_read_summarised_and_kept_in_the_session(train_page):
    at = pick(train_page, datasets_ui.OWN)
    assert "Upload a .zip" in " ".join(i.value for i in at.info)
    upload(at, "my shapes.zip", shapes_zip(per_class=10, seed=1))
    assert not errors(at)
    assert "my shapes**: 4 classes" in captions(at)
    assert list(per_class(at)["class"]) == list(SHAPES)
    assert set(at.session_state[datasets_ui.UPLOADS_KEY]) == {"my shapes"}
    assert at.selectbox(key=training.subset_key("my shapes")).options == ["all 32"]
    # a new session holds none of it
    other = AppTest.from_file(APP, default_timeout=60).run()
    assert datasets_ui.UPLOADS_KEY not in other.session_state


def test_uploads_keep_their_names_apart(train_page):
    """Colour is another dataset; other images under a name the session holds get another name;
    an upload never takes a built-in dataset's name."""
    at = upload(pick(train_page, datasets_ui.OWN), "leaves.zip", shapes_zip(per_class=10, seed=1))
    at.toggle(key=datasets_ui.RGB_KEY).set_value(True).run()
    assert not at.exception and "leaves (RGB)**: 4 classes, colour (RGB)" in captions(at)
    upload(at, "leaves.zip", shapes_zip(per_class=12, seed=1))  # more images, same name
    assert "leaves (RGB) (2)**" in captions(at)
    upload(at, "fashion_mnist.zip", shapes_zip(per_class=10, seed=1))
    assert "fashion_mnist (upload) (RGB)**" in captions(at)
    held = at.session_state[datasets_ui.UPLOADS_KEY]
    assert list(held) == ["leaves (RGB)", "leaves (RGB) (2)", "fashion_mnist (upload) (RGB)"]
    assert held["leaves (RGB)"].channels == 3 and len(held["leaves (RGB) (2)"].train_labels) == 40
    upload(at, "more.zip", shapes_zip(per_class=10, seed=3))
    assert list(at.session_state[datasets_ui.UPLOADS_KEY]) == [
        "leaves (RGB) (2)",
        "fashion_mnist (upload) (RGB)",
        "more (RGB)",
    ]  # the newest three


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (8, 8), 200).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize(("data", "sentence"), [
    (b"not a zip at all", "is not a .zip archive"),
    (_zip({"../evil/a.png": _png()}), "outside"),
    (_zip({f"a/{i}.png": _png() for i in range(6)}), "class"),
    (_zip({**{f"a/{i}.png": _png() for i in range(6)}, **{f"b/{i}.png": _png() for i in range(3)}}),
     "at least 5"),
])  # fmt: skip
def test_a_bad_zip_is_one_sentence_and_the_page_works_on(train_page, data, sentence):
    at = upload(pick(train_page, datasets_ui.OWN), "bad.zip", data)
    shown = errors(at)
    assert len(shown) == 1 and shown[0].startswith("bad.zip: ") and sentence in shown[0], shown
    at.button(key="train_start").click().run()
    assert not at.exception
    assert "Upload a .zip of your images first" in " ".join(errors(at))
    pick(at, "Shapes (a demo)")
    assert not errors(at)


def test_a_built_in_dataset_that_is_missing_is_one_sentence(train_page, monkeypatch, tmp_path):
    monkeypatch.delenv("TINYVGG_MNIST", raising=False)
    monkeypatch.setenv("TINYVGG_CACHE", str(tmp_path))  # no download there; none is tried
    monkeypatch.setattr(datasets_ui, "_FAILED", {})
    at = pick(train_page, "MNIST")
    (shown,) = errors(at)
    assert shown.startswith("MNIST was not found. Get it one of two ways: set TINYVGG_MNIST")
    at.button(key="train_start").click().run()
    assert not at.exception and errors(at) == [shown, shown]  # the picker's and Start's
    assert training.LIVE_KEY not in at.session_state
    pick(at, "Fashion-MNIST")
    assert not errors(at)


def test_a_zip_over_the_limit_is_refused_before_reading(train_page, monkeypatch):
    monkeypatch.setattr(datasets_ui, "UPLOAD_MB", 1)
    at = upload(pick(train_page, datasets_ui.OWN), "big.zip", b"PK" + bytes(2 * 2**20))
    assert errors(at) == ["big.zip: The file is 2.0 MB, over the 1 MB limit for datasets; use "
                          "fewer or smaller images."]  # fmt: skip


def test_a_run_on_an_upload_names_its_classes_everywhere(train_page):
    at = upload(pick(train_page, datasets_ui.OWN), "blocks.zip", shapes_zip(per_class=100, seed=2))
    assert epochs(at).value == 20  # 40 steps an epoch: as many as it can
    at.radio(key="train_optimizer").set_value("adam").run()
    at.button(key="train_start").click().run()
    assert not at.exception and not errors(at)
    live = at.session_state[training.LIVE_KEY]
    assert live.name == "run 1 (blocks, adam, lr 0.001, 20 epochs, 320 images)"
    until_ended(at, live)
    assert live.status == "finished" and live.kept, (live.status, live.error)
    kept = at.session_state["trained_runs"][-1]
    model, _ = load_checkpoint(training.checkpoint_of(kept))
    assert (model.classes, model.dataset, model.config.output_shape) == (SHAPES, "blocks", 4)
    cm = chart(at, "train_cm")
    assert cm["data"][0]["x"] == list(SHAPES)
    assert sum(map(sum, cm["data"][0]["z"])) == 4 * 20  # a fifth of 100 per class
    titles = " ".join(a["text"] for a in chart(at, "train_gallery")["layout"]["annotations"])
    assert any(s in titles for s in SHAPES) and "Coat" not in titles
    assert "on all 80 test images" in " ".join(s.value for s in [*at.success, *at.error])
    assert at.sidebar.selectbox(key="model_choice").value == live.name
    json.dumps(kept.results)  # plain values
    assert "run 1: Adam 0.001, 20 ep, 320" in [o for o in at.sidebar.selectbox(
        key="model_choice").options]  # fmt: skip


def test_the_results_say_why_when_a_runs_test_images_are_gone(train_page):
    """A run on an upload the session no longer holds (three newer ones came after it)."""
    model = build_model(TinyVGGConfig(output_shape=4), seed=0, classes=SHAPES, dataset="gone")
    name = "run 9 (gone, sgd, lr 0.1, 1 epoch, 80 images)"
    results = {"model_name": name, "model_loss": 1.0, "model_acc": 50.0, "train_time_s": 1.0,
               "device": "cpu"}  # fmt: skip
    run = TrainedRun(name, model.state_dict(), 10, results, classes=SHAPES, dataset="gone")
    train_page.session_state["trained_runs"] = [run]
    train_page.session_state[training.PREDS_KEY] = {name: torch.zeros(20, dtype=torch.long)}
    at = train_page.run()
    assert not at.exception
    assert "test images of gone are no longer in this session" in " ".join(
        i.value for i in at.info)  # fmt: skip
    assert chart(at, "train_cm") is None


def test_a_model_only_named_fashion_mnist_gets_none_of_its_images():
    """A 3-channel notebook state_dict, or a folder named Fashion-MNIST with other classes."""
    from tinyvgg.data import CLASS_NAMES

    assert datasets_ui.test_set_of("Fashion-MNIST", SHAPES, 1) is None
    assert datasets_ui.test_set_of("Fashion-MNIST", CLASS_NAMES, 3) is None
