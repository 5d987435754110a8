"""The app's frame and home page through Streamlit's AppTest (no browser)."""

from __future__ import annotations

import threading

import torch
from streamlit.testing.v1 import AppTest

from tinyvgg.device import describe, pick_device
from ui.frame import TITLE

APP = "../app.py"  # AppTest resolves paths against this file


def test_root_runs_the_explorer():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Layer explorer"


def _threads_of_the_next_run() -> int:
    """Torch's threads in a thread started now, as each script run is (a setting made in a
    thread holds there and in the threads started after it)."""
    seen = []
    thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    return seen[0]


def test_the_server_s_own_work_runs_on_one_torch_thread_unless_told(monkeypatch, caplog):
    from ui.resources import THREADS_ENV, app_threads

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert _threads_of_the_next_run() == 2
        assert not AppTest.from_file(APP, default_timeout=60).run().exception
        assert _threads_of_the_next_run() == 1  # a click's small tensors, beside other sessions
        monkeypatch.setenv(THREADS_ENV, "2")
        assert not AppTest.from_file(APP, default_timeout=60).run().exception
        assert _threads_of_the_next_run() == 2
        monkeypatch.setenv(THREADS_ENV, "two")
        assert app_threads() == 1 and "TINYVGG_APP_THREADS='two'" in caplog.text
    finally:
        torch.set_num_threads(before)


def test_home_shows_title_model_and_device():
    at = AppTest.from_file(APP, default_timeout=60).switch_page("pages/home.py").run()
    assert not at.exception
    assert at.title[0].value == TITLE
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "TinyVGG" in sidebar and "hidden_units=10" in sidebar
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert describe(pick_device()) in captions
    assert any("Device" in m.label for m in at.metric)
    layers = at.code[0]  # all fourteen names, wrapped to the page rather than cut off at its edge
    assert layers.value.startswith("input → conv_1_1") and layers.value.endswith("→ softmax")
    assert layers.proto.wrap_lines


def test_sidebar_switches_to_the_untrained_model():
    at = AppTest.from_file(APP, default_timeout=60).switch_page("pages/home.py").run()
    picker = at.sidebar.selectbox(key="model_choice")
    assert picker.value == "Pretrained (shipped)"
    picker.select("Untrained (seed 42 init)").run()
    assert not at.exception
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "Untrained" in sidebar and "test accuracy" not in sidebar
    assert at.metric[0].value == "Untrained (seed 42 init)"


def _checkpoint_bytes(hidden: int) -> bytes:
    import io

    import torch

    from tinyvgg.model import TinyVGGConfig, build_model

    buf = io.BytesIO()
    torch.save(build_model(TinyVGGConfig(hidden_units=hidden), seed=5).state_dict(), buf)
    return buf.getvalue()


def test_uploading_a_notebook_state_dict_selects_it():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.sidebar.file_uploader(key="checkpoint_upload").upload("model_2.pth", _checkpoint_bytes(8))
    at.run()
    assert not at.exception and not at.sidebar.error
    assert at.sidebar.selectbox(key="model_choice").value == "Uploaded checkpoint"
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "model_2.pth" in sidebar and "hidden_units=8" in sidebar


def test_uploading_junk_gives_one_sentence_and_keeps_the_model():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.sidebar.file_uploader(key="checkpoint_upload").upload("evil.pt", b"\x80\x04junk")
    at.run()
    assert not at.exception
    assert "not a PyTorch checkpoint" in at.sidebar.error[0].value
    assert at.sidebar.selectbox(key="model_choice").value == "Pretrained (shipped)"
