"""The training page with TINYVGG_BROKER set: its runs train on a real Celery worker through a
real redis-server, and reach the chart, the results and the sidebar as local runs do."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tinyvgg.jobs import default_jobs
from tinyvgg.model import load_checkpoint
from tinyvgg.shapes import SHAPES
from ui import datasets as datasets_ui
from ui import training
from ui.training import epochs_key

from .test_jobs import celery_worker, redis_url  # noqa: F401  (redis_url: a fixture)
from .test_train_page import chart, run_until

APP = "../app.py"


@pytest.fixture
def celery_page(redis_url, tmp_path, monkeypatch):  # noqa: F811
    url = f"{redis_url}/1"
    monkeypatch.setenv("TINYVGG_BROKER", url)
    default_jobs.cache_clear()
    try:
        with celery_worker(url, tmp_path / "worker.log"):
            at = AppTest.from_file(APP, default_timeout=60).run()
            at.switch_page("pages/train.py").run()
            assert not at.exception
            yield at
    finally:
        default_jobs.cache_clear()


def test_a_run_trains_on_a_celery_worker(celery_page):
    at = celery_page
    assert at.selectbox(key="train_device").options[0] == training.WORKERS_AUTO
    assert "training workers (Celery)" in " ".join(c.value for c in at.caption)
    at.radio(key=datasets_ui.PICK_KEY).set_value("Shapes (a demo)").run()
    at.slider(key=epochs_key("shapes")).set_value(1)
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    live = at.session_state[training.LIVE_KEY]
    assert live.config["device"] == "auto"  # the worker's TINYVGG_DEVICE decides
    run_until(at, lambda: not live.active, timeout=90)
    assert live.status == "finished" and live.kept, (live.status, live.error)
    assert live.of_kind("step") and live.kernels is not None
    kept = at.session_state["trained_runs"][-1]
    model, _ = load_checkpoint(training.checkpoint_of(kept))
    assert (model.classes, model.dataset) == (SHAPES, "shapes")
    assert chart(at, "train_cm")["data"][0]["x"] == list(SHAPES)
