"""The training page through AppTest: a real run in a worker reaches the chart, then the results.

AppTest never fires `run_every` timers, so the tests call `at.run()` themselves.
"""

from __future__ import annotations

import json
import re
import time

import psutil
import torch
from streamlit.testing.v1 import AppTest

from tinyvgg import runs
from tinyvgg.data import CLASS_NAMES
from tinyvgg.model import load_checkpoint
from tinyvgg.runs import SPARES
from tinyvgg.train import TrainConfig
from ui import datasets as datasets_ui
from ui import training
from ui.training import epochs_key, subset_key

EPOCHS = epochs_key("fashion-mnist")  # the epochs slider of the page's first dataset
SUBSET = subset_key("fashion-mnist")  # and its "Training images" box

APP = "../app.py"


def chart(at: AppTest, key: str) -> dict | None:
    """The plotly figure of the chart with this key, as JSON."""
    for el in at.get("plotly_chart"):
        if el.key == key:
            return json.loads(el.proto.spec)
    return None


def train_points(at: AppTest) -> int:
    fig = chart(at, "train_curves")
    return len(fig["data"][0].get("x", [])) if fig else 0


def run_until(at: AppTest, done, timeout: float = 120.0, every: float = 0.3) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)
        at.run()
        assert not at.exception, at.exception


def until_ended(at: AppTest, live: training.LiveRun, timeout: float = 120.0) -> None:
    """Wait for the session's run to end without rerunning the page meanwhile (each rerun
    draws it again, CPU the worker would rather have), then rerun until the page knows."""
    run = next(r for r in runs._LIVE if r.id == live.run_id)
    assert run.wait(timeout), f"{run} did not end"
    run_until(at, lambda: not live.active)


def test_the_optimizers_are_named_as_pytorch_names_them(train_page):
    radio = train_page.radio(key="train_optimizer")
    assert radio.options == ["SGD", "Adam"] and radio.value == "sgd"
    radio.set_value("adam").run()
    assert not train_page.exception
    assert train_page.select_slider(key="train_lr_adam").value == 0.001


def test_a_run_reaches_the_chart_and_the_comparison(train_page):
    at = train_page
    at.selectbox(key=SUBSET).select("5,000")
    at.slider(key=EPOCHS).set_value(2)
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error
    live = at.session_state[training.LIVE_KEY]
    assert live.status in ("queued", "starting", "running")

    seen = []
    run_until(at, lambda: (seen.append(train_points(at)) or True) and not live.active)
    growing = [n for n in seen if n > 0]
    assert growing and growing == sorted(growing), seen  # points only ever arrive
    live = at.session_state[training.LIVE_KEY]
    assert live.status == "finished" and live.kept, (live.status, live.error)
    # the chart holds exactly the worker's step events, in order
    steps = live.of_kind("step")
    fig = chart(at, "train_curves")
    assert fig["data"][0]["y"] == [s["loss"] for s in steps]
    assert len(fig["data"][1]["y"]) == 2  # one test point per epoch
    assert live.kernels is not None
    assert "conv_1_1's kernels" in at.image[0].captions[0]

    # results: comparison row, the model in the sidebar, confusion matrix, gallery, checkpoint
    table = at.dataframe[0].value
    assert list(table["model_name"]) == [live.name]
    assert {"model_loss", "model_acc", "train_time_s", "device"} <= set(table.columns)
    assert at.sidebar.selectbox(key="model_choice").value == live.name
    assert live.name in " ".join(m.value for m in at.sidebar.markdown)
    cm = chart(at, "train_cm")
    assert cm["data"][0]["x"] == list(CLASS_NAMES)
    assert sum(map(sum, cm["data"][0]["z"])) == 10_000
    gallery = chart(at, "train_gallery")
    titles = [a["text"] for a in gallery["layout"]["annotations"]]
    assert len(titles) == 20 and all(t.startswith(("✓ ", "✗ ")) for t in titles)


def test_the_kept_model_is_the_workers(train_page, real_data):
    at = train_page
    at.selectbox(key=SUBSET).select("1,000")
    at.slider(key=EPOCHS).set_value(1)
    at.button(key="train_start").click().run()
    live = at.session_state[training.LIVE_KEY]
    until_ended(at, live)
    assert live.kept
    kept = at.session_state["trained_runs"][-1]
    model, _ = load_checkpoint(training.checkpoint_of(kept))
    _, test = real_data
    x = test.images[:500].unsqueeze(1).float() / 255
    with torch.inference_mode():
        preds = model(x).argmax(1)
    assert torch.equal(preds, at.session_state[training.PREDS_KEY][live.name][:500])


def _train(at: AppTest, subset: str, epochs: int = 1, sgd_lr: float | None = None):
    """Start a run with these settings and wait for it to end; its LiveRun."""
    at.selectbox(key=SUBSET).select(subset)
    at.slider(key=EPOCHS).set_value(epochs)
    if sgd_lr is not None:
        at.select_slider(key="train_lr_sgd").set_value(sgd_lr)
    at.button(key="train_start").click().run()
    live = at.session_state[training.LIVE_KEY]
    until_ended(at, live)
    return live


def test_sketch_augmentation_reaches_the_worker_and_names_the_run(train_page):
    at = train_page
    assert at.toggle(key="train_augment").value is False
    at.toggle(key="train_augment").set_value(True)
    live = _train(at, "1,000")
    assert live.config["augment"] == "sketch" and live.name.endswith(", sketch)")
    assert (live.first("start") or {})["config"]["augment"] == "sketch"  # as the worker ran it
    assert live.kept and not at.exception


def test_a_stuck_run_shows_fits_warning(train_page):
    at = train_page
    _train(at, "10,000", sgd_lr=1.0)
    messages = [w.value for w in at.warning]
    assert any("stuck at chance" in m for m in messages), messages


def _run_worker_pids() -> list[int]:
    """Worker processes of this test process other than the warm spare."""
    spare = set(SPARES.pids())
    return [
        p.pid for p in psutil.Process().children()
        if "spawn_main" in " ".join(p.cmdline()) and p.pid not in spare
    ]  # fmt: skip


def _start_full_run(at: AppTest) -> training.LiveRun:
    at.selectbox(key=SUBSET).select("all 60,000")
    at.button(key="train_start").click().run()
    live = at.session_state[training.LIVE_KEY]
    run_until(at, lambda: bool(live.of_kind("step")))
    return live


def test_history_survives_a_page_switch(train_page):
    at = train_page
    at.selectbox(key=SUBSET).select("5,000")
    at.slider(key=EPOCHS).set_value(1)
    at.button(key="train_start").click().run()
    live = at.session_state[training.LIVE_KEY]
    at.switch_page("pages/home.py").run()
    run = next(r for r in runs._LIVE if r.id == live.run_id)
    # it trains on while another page is up
    run_until(at, lambda: any(e["kind"] == "step" for e in run.events_since(0)))
    at.switch_page("pages/train.py").run()
    assert at.session_state[training.LIVE_KEY] is live
    until_ended(at, live)
    assert live.kept and train_points(at) == len(live.of_kind("step")) > 0


def test_a_new_run_ends_the_old_one(train_page):
    at = train_page
    first = _start_full_run(at)
    old = [psutil.Process(pid) for pid in _run_worker_pids()]  # held while it runs: it may
    assert len(old) == 1  # have ended before the check below looks
    at.selectbox(key=SUBSET).select("1,000")
    at.button(key="train_start").click().run()
    second = at.session_state[training.LIVE_KEY]
    assert second.run_id != first.run_id
    assert not psutil.wait_procs(old, timeout=5)[1]  # the old one is gone
    until_ended(at, second)
    assert second.kept and [r.name for r in at.session_state["trained_runs"]] == [second.name]


def test_a_crashed_worker_is_one_sentence_and_the_page_still_works(train_page):
    at = train_page
    live = _start_full_run(at)
    (pid,) = _run_worker_pids()
    psutil.Process(pid).kill()
    until_ended(at, live)
    assert live.status == "failed"
    errors = [e.value for e in at.error]
    assert any("exited unexpectedly" in e for e in errors), errors
    assert not at.exception
    at.selectbox(key=SUBSET).select("1,000")
    at.button(key="train_start").click().run()
    again = at.session_state[training.LIVE_KEY]
    until_ended(at, again)
    assert again.status == "finished" and not at.error


def test_a_run_waits_for_another_users_run(train_page, monkeypatch):
    # AppTest gives every instance the same session id, so the other user's run is made here.
    monkeypatch.setattr(runs, "_slots", runs.RunSlots(1))
    other = runs.TrainingRun(TrainConfig(epochs=1, device="cpu", log_every=1))
    while other.status == "queued":
        time.sleep(0.05)
    at = train_page
    at.selectbox(key=SUBSET).select("1,000").run()
    assert any("Other users' runs fill all 1 training slot" in c.value for c in at.caption)
    at.button(key="train_start").click().run()
    infos = lambda: [i.value for i in at.info]  # noqa: E731
    run_until(at, lambda: any("number 1 in the queue" in i for i in infos()), timeout=30)
    other.stop()
    waiting = at.session_state[training.LIVE_KEY]
    until_ended(at, waiting)
    assert waiting.status == "finished"


def test_the_batch_size_starts_from_the_subset_s_default(train_page):
    at = train_page

    def batch():  # the slider has a key per choice of training images
        return at.select_slider(key=training.batch_key(at.selectbox(key=SUBSET).value))

    assert batch().value == training.DEFAULT_BATCH[5000]
    at.selectbox(key=SUBSET).select("1,000").run()
    assert batch().value == 8
    batch().set_value(64).run()  # the user's choice stands...
    at.run()
    assert batch().value == 64
    at.selectbox(key=SUBSET).select("all 60,000").run()  # ...until the subset changes
    assert batch().value == 32
    at.selectbox(key=SUBSET).select("1,000").run()  # and back: the default again
    assert batch().value == 8


def test_the_epochs_slider_s_own_default_is_the_dataset_s(train_page):
    """The slider's default, the value a browser shows when a rerun interrupted before it
    arrived, is the dataset's default, never the slider's minimum (seen under load)."""
    at = train_page
    slider = at.slider(key=EPOCHS)
    assert slider.value == 3 and list(slider.proto.default) == [3]
    at.radio(key=datasets_ui.PICK_KEY).set_value("Shapes (a demo)").run()
    shapes = at.slider(key=epochs_key("shapes"))
    assert shapes.value == 10 and list(shapes.proto.default) == [10]  # 1,600 images
    shapes.set_value(4).run()
    at.radio(key=datasets_ui.PICK_KEY).set_value("Fashion-MNIST").run()
    assert at.slider(key=EPOCHS).value == 3  # each dataset starts from its own default


def test_the_training_images_box_s_own_default_is_the_dataset_s(train_page):
    """As the epochs: the box's default index, what a browser shows when a rerun interrupted
    before the value arrived, is the dataset's default (5,000, or all of a small dataset),
    never the first option; a choice made on one dataset is not another's."""
    at = train_page
    box = at.selectbox(key=SUBSET)
    assert box.value == "5,000" and box.options[box.proto.default] == "5,000"
    box.select("1,000").run()
    at.radio(key=datasets_ui.PICK_KEY).set_value("Shapes (a demo)").run()
    shapes = at.selectbox(key=subset_key("shapes"))
    assert shapes.value == "all 1,600" and shapes.options[shapes.proto.default] == "all 1,600"
    assert at.select_slider(key=training.batch_key("all 1,600")).value == 16  # its own batch
    at.radio(key=datasets_ui.PICK_KEY).set_value("Fashion-MNIST").run()
    assert at.selectbox(key=SUBSET).value == "5,000"  # each dataset starts from its default
    assert not at.warning and not at.exception


def test_a_run_that_did_not_learn_is_marked_and_not_selected(train_page):
    at = train_page
    live = _train(at, "1,000", sgd_lr=1.0)
    assert live.kept and live.status == "finished"
    errors = [e.value for e in at.error]
    assert any("did not learn" in e and "Adam" in e for e in errors), errors
    assert not any("Finished" in s.value for s in at.success)
    assert at.sidebar.selectbox(key="model_choice").value != live.name  # not selected
    table = at.dataframe[0].value
    assert list(table["learned"]) == ["✗ near chance"]


def test_a_stopped_run_is_named_where_it_stopped(train_page):
    at = train_page
    live = _start_full_run(at)
    at.button(key="train_stop").click().run()
    until_ended(at, live)
    assert live.status == "stopped" and live.kept
    (kept,) = at.session_state["trained_runs"]
    assert re.search(r"; stopped at epoch 1, step [\d,]+ of 1,875\)$", kept.name), kept.name
    assert list(at.dataframe[0].value["model_name"]) == [kept.name]
    assert any(s.value.startswith("Stopped early") for s in at.success)


def test_the_sidebar_names_a_run_in_a_few_words(train_page):
    """The picker shows 'run 1: SGD 0.1, 1 ep, 1k' (a long name is cut in the sidebar's box);
    the whole name is under 'Model in use'."""
    at = train_page
    live = _train(at, "1,000")
    picker = at.sidebar.selectbox(key="model_choice")
    assert picker.value == live.name
    assert picker.options[-1] == "run 1: SGD 0.1, 1 ep, 1k"  # as the page shows them
    assert picker.options[0] == "Pretrained (shipped)"
    assert live.name in " ".join(m.value for m in at.sidebar.markdown)
