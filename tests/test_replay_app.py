"""The training page's replay through AppTest: the slider, play, the figures against PyTorch,
the hand-off to the explorer, and a run still training.

Most tests replay a run trained here in-process (a second or two) and put in the session as the
page keeps one; one test trains in a real worker, to scrub a run while it trains.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

from tinyvgg import runs
from tinyvgg.data import Split, to_float
from tinyvgg.snapshots import load_snapshots
from tinyvgg.train import TrainConfig, fit
from ui import replay, training
from ui.figures.replay import step_label
from ui.state import TrainedRun

from .test_train_page import run_until, until_ended

APP = "../app.py"
NAME = "run 1 (sgd, lr 0.1, 2 epochs, 256 images)"


@pytest.fixture(scope="module")
def trained(real_data):
    """A 2-epoch run of 32 steps an epoch, kept as the training page keeps a run."""
    train, test = real_data
    cfg = TrainConfig(epochs=2, subset=256, batch_size=8, test_subset=64, log_every=4,
                      device="cpu", threads=1)  # fmt: skip
    events: list[dict] = []
    few = Split(test.images[:64], test.labels[:64])  # the final score on 64 images, not 10k
    result = fit(cfg, on_event=events.append, train=train, test=few)
    state = {k: v.clone() for k, v in result.model.state_dict().items()}
    steps = [e for e in events if e["kind"] == "step"]
    results = {**result.results, "model_name": NAME}
    return TrainedRun(NAME, state, 10, results, result.history, events[0]["config"],
                      result.snapshots, steps)  # fmt: skip


@pytest.fixture
def page(trained):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["trained_runs"] = [trained]
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    return at


def chart(at: AppTest, key: str) -> dict:
    """The plotly figure of the chart with this key, as JSON."""
    return next(json.loads(el.proto.spec) for el in at.get("plotly_chart") if el.key == key)


def _title(fig: dict) -> str:
    return fig["layout"]["title"]["text"]


def _tiles(fig: dict, n: int) -> list[torch.Tensor]:
    """The mosaic's n tiles, in channel order, from its layout's meta."""
    z = fig["data"][0]["z"]  # typed: {"dtype", "bdata": base64, "shape"}
    shape = [int(n) for n in z["shape"].split(",")]
    raw = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    z = torch.from_numpy(raw.astype(np.float32))
    h, w = fig["layout"]["meta"]["tile"]
    return [z[r : r + h, c : c + w] for r, c in fig["layout"]["meta"]["origins"][:n]]


def test_the_slider_holds_every_snapshot_and_starts_at_the_initial_weights(page, trained):
    slider = page.select_slider(key=replay.SEEK_KEY)
    labels = [step_label(s.step, s.epoch) for s in trained.snapshots]
    assert slider.options == labels
    assert slider.value == 0 and labels[0] == "step 0 · epoch 1"
    assert _title(chart(page, "replay_kernels")) == "conv_1_1's kernels at step 0 · epoch 1"
    assert page.selectbox(key=replay.RUN_KEY).value == NAME


def test_scrubbing_shows_that_snapshots_weights_maps_and_top_3(page, trained, real_data):
    at = page
    i = 20
    snap = trained.snapshots[i]
    at.select_slider(key=replay.SEEK_KEY).set_value(i).run()
    at.number_input(key=replay.SAMPLE_KEY).set_value(7).run()
    assert not at.exception
    label = step_label(snap.step, snap.epoch)
    kernels = chart(at, "replay_kernels")
    assert _title(kernels) == f"conv_1_1's kernels at {label}"
    w, b = snap.state_dict["conv_block_1.0.weight"], snap.state_dict["conv_block_1.0.bias"]
    for tile, kernel in zip(_tiles(kernels, 10), w[:, 0], strict=True):
        assert torch.allclose(tile, kernel, atol=1e-6)
    # conv_1_1's maps of test image 7 are F.conv2d with this snapshot's weights
    x = to_float(real_data[1].images[7:8])  # (1, 1, 28, 28)
    expected = F.conv2d(x, w, b, padding=1)[0]
    maps = chart(at, "replay_maps")
    assert _title(maps) == f"conv_1_1 at {label}"
    for tile, fmap in zip(_tiles(maps, 10), expected, strict=True):
        assert torch.allclose(tile, fmap, atol=1e-5)
    # the top 3 is this snapshot's softmax
    with torch.inference_mode():
        probs = torch.softmax(snap.model()(x), 1)[0]
    top = chart(at, "replay_top3")
    assert _title(top) == f"Top 3 at {label}"
    shown = sorted(top["data"][0]["x"], reverse=True)
    assert shown == pytest.approx((100 * probs.topk(3).values).tolist(), abs=1e-4)
    # the curves mark the step, on the run's own points
    curves = chart(at, "replay_curves")
    assert curves["layout"]["meta"]["step"] == snap.step
    assert {s["x0"] for s in curves["layout"]["shapes"]} == {snap.step / 32}
    assert curves["data"][0]["y"] == [s["loss"] for s in trained.steps]
    assert f"Step {snap.step:,} of 64" in " ".join(c.value for c in at.caption)


def test_another_layer(page, trained):
    at = page
    at.selectbox(key=replay.LAYER_KEY).select("max_pool_2").run()
    snap = trained.snapshots[0]
    maps = chart(at, "replay_maps")
    assert _title(maps) == f"max_pool_2 at {step_label(snap.step, snap.epoch)}"
    assert maps["layout"]["meta"]["tile"] == [7, 7] and maps["layout"]["meta"]["channels"] == 10


def test_play_advances_one_snapshot_a_tick_and_stops_at_the_end(page, trained):
    at = page
    n = len(trained.snapshots)
    at.button(key="replay_play").click().run()
    assert at.session_state[replay.PLAYING_KEY] and at.session_state[replay.FRAME_KEY] == 0
    # a progress bar while playing: no slider to race the timer
    assert replay.SEEK_KEY not in [s.key for s in at.select_slider]
    at.run()  # AppTest fires no timers: each run is a tick
    assert at.session_state[replay.FRAME_KEY] == 1
    at.button(key="replay_pause").click().run()
    assert not at.session_state[replay.PLAYING_KEY]
    at.select_slider(key=replay.SEEK_KEY).set_value(n - 3).run()
    at.button(key="replay_play").click().run()
    for _ in range(4):
        at.run()
    assert at.session_state[replay.FRAME_KEY] == n - 1
    assert not at.session_state[replay.PLAYING_KEY]  # stopped at the end
    assert at.select_slider(key=replay.SEEK_KEY).value == n - 1
    at.button(key="replay_play").click().run()  # again: from the start
    assert at.session_state[replay.FRAME_KEY] == 0


def test_open_in_the_explorer(page, trained):
    at = page
    i = 30
    snap = trained.snapshots[i]
    at.select_slider(key=replay.SEEK_KEY).set_value(i).run()
    at.number_input(key=replay.SAMPLE_KEY).set_value(12).run()
    at.selectbox(key=replay.LAYER_KEY).select("relu_2_1").run()
    at.button(key="replay_open").click().run()
    assert not at.exception, at.exception
    name = f"run 1 @ step {snap.step}"
    picker = at.sidebar.selectbox(key="model_choice")
    assert picker.value == name and picker.options[-1] == name  # its own name is short
    assert [t.value for t in at.title] == ["Layer explorer"]
    assert at.query_params["sample"] == "12" and at.query_params["layer"] == "relu_2_1"
    opened = at.session_state["trained_runs"][-1]
    assert opened.snapshot_of == NAME and opened.state_dict is snap.state_dict
    # back on /train: it is no run of its own in the table, nor in the replay's list
    at.switch_page("pages/train.py").run()
    runs = next(d.value for d in at.dataframe if "model_name" in d.value.columns)
    assert list(runs["model_name"]) == [NAME]
    assert at.selectbox(key=replay.RUN_KEY).options == [NAME]
    # a second click selects the same model rather than adding another
    at.select_slider(key=replay.SEEK_KEY).set_value(i).run()
    at.button(key="replay_open").click().run()
    assert sum(r.name == name for r in at.session_state["trained_runs"]) == 1


def test_the_download_keeps_the_snapshots(trained):
    back = load_snapshots(training.checkpoint_of(trained))
    assert [s.step for s in back] == [s.step for s in trained.snapshots]
    for a, b in zip(back, trained.snapshots, strict=True):
        assert all(torch.equal(a.state_dict[k], b.state_dict[k]) for k in b.state_dict)


@pytest.fixture
def train_page(real_data, monkeypatch):
    monkeypatch.setenv("TINYVGG_WARM_WORKER", "0")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/train.py").run()
    yield at
    runs.shutdown()


def test_a_run_still_training_can_be_scrubbed(train_page):
    at = train_page
    at.selectbox(key=training.subset_key("fashion-mnist")).select("all 60,000")
    at.button(key="train_start").click().run()
    live = at.session_state[training.LIVE_KEY]
    run_until(at, lambda: len(live.snapshots) >= 12)
    assert live.active
    assert at.selectbox(key=replay.RUN_KEY).value == live.name
    # following the newest snapshot: a progress bar, no slider for the server to move
    assert at.toggle(key=replay.FOLLOW_KEY).value
    assert replay.SEEK_KEY not in [s.key for s in at.select_slider]
    assert "so far" in " ".join(c.value for c in at.caption)
    newest = at.session_state[replay.FRAME_KEY]
    assert newest >= 11 and _title(chart(at, "replay_kernels")).startswith(
        f"conv_1_1's kernels at step {live.snapshots[newest].step} "
    )
    at.toggle(key=replay.FOLLOW_KEY).set_value(False).run()
    slider = at.select_slider(key=replay.SEEK_KEY)
    assert slider.value == newest and len(slider.options) >= newest + 1
    slider.set_value(2).run()
    assert _title(chart(at, "replay_kernels")).startswith("conv_1_1's kernels at step 2 ")
    at.button(key="train_stop").click().run()
    until_ended(at, live)
    kept = at.session_state["trained_runs"][-1]
    assert kept.snapshots is live.snapshots and live.status == "stopped"
    # the last snapshot is the stopped model's weights, and the replay shows the kept run
    last = kept.snapshots[-1]
    assert last.step == kept.results["steps_done"]
    assert all(torch.equal(last.state_dict[k], v) for k, v in kept.state_dict.items())
    assert at.selectbox(key=replay.RUN_KEY).value == kept.name
