"""The bad-input gauntlet: every entry point fed junk gives one clear sentence and a page that
still works afterwards (no tracebacks, nothing lost).

Entry points: uploads and the camera on the draw page, the sidebar's checkpoint upload, query
parameters on every page, the playground's fields at their extremes, Start clicked twice and
Stop with nothing running on the training page. Teacher mode (`?present=1`) is checked here too.
"""

from __future__ import annotations

import io
import pickle
import struct
import zlib

import pytest
import torch
from streamlit.testing.v1 import AppTest

from tinyvgg import runs
from tinyvgg.model import build_model
from ui.frame import PAGES
from ui.training import subset_key

from .test_preprocess import encode, garment

APP = "../app.py"


def _app(page: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.switch_page(page).run()


def _sentence(text: str) -> bool:
    """One sentence: no traceback, no line breaks, ends like a sentence."""
    return "Traceback" not in text and "\n" not in text.strip() and text.rstrip()[-1] in ".)"


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge size, with almost no pixel data (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = lambda kind, data: (  # noqa: E731
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    )
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


# Names carry allowed extensions: the browser's file picker already refuses others (and
# Streamlit itself rejects them server-side), so junk reaches the page as a renamed file.
BAD_IMAGES = {
    "empty.png": b"",
    "notes.png": b"these are my notes, not a picture",
    "truncated.png": encode(garment())[:60],
    "document-renamed.png": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    "bomb.png": _png_header(60_000, 60_000),
    "archive.jpg": b"PK\x03\x04" + b"\x00" * 40,
    "page.webp": b"RIFF\x10\x00\x00\x00WEBPVP8 junk",
}


@pytest.mark.parametrize("name", list(BAD_IMAGES))
def test_bad_uploads_then_a_good_one(name):
    at = _app("pages/draw.py")
    at.session_state["draw_source"] = "Upload"
    at.run()
    uploader = at.file_uploader(key="draw_upload")
    uploader.upload(name, BAD_IMAGES[name], "application/octet-stream").run()
    _ok(at)
    assert len(at.error) == 1 and _sentence(at.error[0].value), [e.value for e in at.error]
    uploader = at.file_uploader(key="draw_upload")
    uploader.clear().upload("shirt.png", encode(garment()), "image/png").run()
    _ok(at)
    assert not at.error
    assert any(m.value.startswith("Prediction:") for m in at.markdown)


def test_camera_junk_then_a_photo():
    at = _app("pages/draw.py")
    at.session_state["draw_source"] = "Camera"
    at.run()
    at.camera_input(key="draw_camera").upload("photo.jpg", b"\xff\xd8\xff garbage").run()
    _ok(at)
    assert len(at.error) == 1 and _sentence(at.error[0].value)
    photo = encode(garment(ink=30, paper=245).convert("RGB"), "JPEG")
    at.camera_input(key="draw_camera").clear().upload("photo.jpg", photo).run()
    _ok(at)
    assert not at.error


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def _saved(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


BAD_CHECKPOINTS = {
    "empty.pt": b"",
    "text.pt": b"hello",
    "evil.pt": pickle.dumps(_Evil()),
    "evil_zip.pt": _saved({"state_dict": _Evil()}),
    "list.pt": _saved([1, 2, 3]),
    "resnet.pth": _saved({"fc.weight": torch.zeros(2, 2)}),
    "liar.pt": _saved({"config": {"hidden_units": 4096}, "state_dict": build_model().state_dict()}),
    "giant.pt": _saved(
        {**build_model().state_dict(), "classifier.1.weight": torch.zeros(1).expand(10**7, 490)}
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", list(BAD_CHECKPOINTS))
def test_bad_checkpoints_keep_the_model_in_use(name):
    at = _app("pages/home.py")
    at.sidebar.file_uploader(key="checkpoint_upload").upload(name, BAD_CHECKPOINTS[name]).run()
    _ok(at)
    (error,) = at.sidebar.error
    assert error.value.startswith(f"{name}: ") and _sentence(error.value)
    assert at.sidebar.selectbox(key="model_choice").value == "Pretrained (shipped)"
    assert at.metric[0].value == "Pretrained (shipped)"


JUNK_QUERIES = [
    {"sample": "' OR 1=1 --", "layer": "<script>alert(1)</script>"},
    {"cell": "1e999,-1,NaN", "seed": "9" * 40},
    {"source": "../../etc/passwd", "present": "maybe"},
    {"layer": "", "sample": "", "cell": ",,,,"},
    {"sample": "-1", "layer": "conv_1_1\x00", "cell": "1,2,3,4,5"},
]


@pytest.mark.parametrize("page", [p[0] for p in PAGES])
@pytest.mark.parametrize("query", JUNK_QUERIES, ids=range(len(JUNK_QUERIES)))
def test_junk_query_parameters_on_every_page(real_data, page, query):
    at = _app(page, query)
    _ok(at)
    assert at.title, "the page still renders"
    for box in list(at.warning) + list(at.error):
        assert _sentence(box.value), box.value


EXTREMES = [
    ("text_input", "pg_kernel", "0"), ("text_input", "pg_kernel", "100000"),
    ("text_input", "pg_kernel", "-3"), ("text_input", "pg_kernel", "3, 5, 7"),
    ("text_input", "pg_kernel", "🧥"), ("text_input", "pg_stride", "0"),
    ("text_input", "pg_stride", "999999999999"), ("text_input", "pg_padding", "-1"),
    ("text_input", "pg_padding", "1e9"), ("text_input", "pg_dilation", "1000"),
    ("text_input", "pg_pool_kernel", "0"), ("text_input", "pg_pool_stride", "-2"),
    ("number_input", "pg_height", 1), ("number_input", "pg_width", 1_000_000),
    ("number_input", "pg_channels", 0), ("number_input", "pg_batch", 10**9),
    ("number_input", "pg_out_channels", 10**6), ("number_input", "pg_in_channels", 0),
]  # fmt: skip


@pytest.mark.parametrize("kind,key,value", EXTREMES, ids=[f"{k}={v}" for _, k, v in EXTREMES])
def test_playground_fields_at_their_extremes(kind, key, value):
    at = _app("pages/playground.py")
    widget = getattr(at, kind)(key=key)
    before = widget.value
    (widget.input(value) if kind == "text_input" else widget.set_value(value)).run()
    _ok(at)
    if at.error:  # a broken constraint is named in one sentence (some extremes are legal)
        assert len(at.error) == 1 and _sentence(at.error[0].value), at.error[0].value
    widget = getattr(at, kind)(key=key)
    (widget.input(before) if kind == "text_input" else widget.set_value(before)).run()
    _ok(at)
    assert not at.error
    assert any("torch.Size([1, 10, 62, 62])" in c.value for c in at.code)


@pytest.fixture
def train_page(real_data, monkeypatch):
    monkeypatch.setenv("TINYVGG_WARM_WORKER", "0")  # no spare started only to be ended
    at = _app("pages/train.py")
    yield at
    runs.shutdown()


def test_stop_with_nothing_running(train_page):
    at = train_page
    assert at.button(key="train_stop").disabled  # greyed out: there is nothing to stop
    assert not at.button(key="train_start").disabled


def test_the_stop_callback_with_no_run_does_nothing():
    def script():
        import streamlit as st

        from ui import training

        training.stop()  # what a Stop click that slipped through would call
        training.stop()
        st.write("still here", training.poll())

    at = AppTest.from_function(script, default_timeout=30).run()
    _ok(at)
    assert at.markdown[0].value.startswith("still here")


def test_double_click_on_start_starts_one_run(train_page):
    at = train_page
    at.selectbox(key=subset_key("fashion-mnist")).select("1,000").run()
    at.button(key="train_start").click()
    at.button(key="train_start").click().run()  # two clicks before the page answers
    at.button(key="train_start").click().run()  # and a third right after it
    _ok(at)
    assert not at.error
    assert at.session_state["train_count"] == 1  # one run, not three
    assert any(s.value.startswith("run 1 ") for s in at.subheader)
    at.button(key="train_stop").click().run()
    _ok(at)


@pytest.mark.parametrize("page", [p[0] for p in PAGES])
def test_teacher_mode_on_every_page(real_data, page):
    at = _app(page, {"present": "1"})
    _ok(at)
    assert at.sidebar.toggle(key="present_toggle").value is True  # on, and there to leave it
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "TinyVGG" in sidebar  # the model in use is always shown
    assert any("Device:" in c.value for c in at.sidebar.caption)
    assert any("st-key-ctl-" in h.proto.body for h in at.get("html"))  # controls hidden
    at.query_params["present"] = "0"
    at.run()
    assert at.sidebar.toggle(key="present_toggle").value is False
    assert not any("st-key-ctl-" in h.proto.body for h in at.get("html"))
    at.sidebar.toggle(key="present_toggle").set_value(True).run()  # the switch turns it on
    assert any("st-key-ctl-" in h.proto.body for h in at.get("html"))
    assert at.query_params["present"] == "1"
