"""The worker protocol with the real fit() in real spawned processes, on tiny subsets.

Every test ends with no worker process left (psutil). multiprocessing's own resource tracker
lives as long as the test process, and is not a worker.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading
import time

import psutil
import pytest
import torch

from tinyvgg import runs
from tinyvgg.data import DeviceData
from tinyvgg.evaluate import predict
from tinyvgg.model import load_checkpoint
from tinyvgg.runs import SPARES, RunSlots, TrainingRun
from tinyvgg.shapes import SHAPES, shapes, shapes_zip
from tinyvgg.train import TrainConfig
from tinyvgg.worker import Worker, crash_sentence, job_message, read_job

from .conftest import ROOT

TINY = dict(subset=256, test_subset=100, log_every=2, device="cpu", threads=1)


def workers() -> list[psutil.Process]:
    """Worker processes spawned by this process (not the resource tracker, not test servers)."""
    out = []
    for p in psutil.Process().children():
        try:
            if "spawn_main" in " ".join(p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.fixture(autouse=True)
def nothing_left_behind(monkeypatch):
    # No warm spare unless a test asks for one: a run's end would start one for nothing.
    monkeypatch.setenv("TINYVGG_WARM_WORKER", "0")
    yield
    runs.shutdown()
    gone_by = time.monotonic() + 3
    while workers() and time.monotonic() < gone_by:
        time.sleep(0.05)
    assert workers() == []


def follow(run: TrainingRun, timeout: float = 120.0) -> list[tuple[float, dict]]:
    """(arrival time, event) for every event, until the run has ended."""
    seen: list[tuple[float, dict]] = []
    deadline = time.monotonic() + timeout
    while not run.done:
        assert time.monotonic() < deadline, f"{run} did not end"
        now = time.monotonic()
        seen += [(now, e) for e in run.events_since(len(seen))]
        time.sleep(0.01)
    seen += [(time.monotonic(), e) for e in run.events_since(len(seen))]
    return seen


def test_events_in_order_then_the_model(real_data):
    run = TrainingRun(TrainConfig(epochs=2, step_weights=True, **TINY))
    events = [e for _, e in follow(run)]
    assert run.status == "finished", run.error
    kinds = [e["kind"] for e in events if e["kind"] != "warning"]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("epoch") == 2
    steps = [e for e in events if e["kind"] == "step"]
    assert [s["global_step"] for s in steps] == list(range(2, 17, 2))  # 8 steps/epoch, every 2
    assert len(run.kernels) == 10 and len(run.kernels[0][0]) == 3  # conv_1_1: (10, 1, 3, 3)
    assert all("conv_1_1" not in s for s in steps)  # kept once, not with every event
    # the checkpoint is the engine's format and its test predictions are the model's own
    model, metrics = load_checkpoint(run.checkpoint)
    assert metrics["model_acc"] == run.results["model_acc"] and metrics["history"] == run.history
    assert torch.equal(model.conv_block_1[0].weight, torch.tensor(run.kernels))
    _, test = real_data
    expected = predict(model, DeviceData.from_split(test, torch.device("cpu")))
    assert torch.equal(run.test_preds, expected)
    assert 100 * (expected == test.labels).float().mean().item() == pytest.approx(
        run.results["model_acc"]
    )
    assert run.wait(5) and not _alive(run.pid())


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_stop_halts_training_at_the_next_step_and_keeps_the_model(real_data):
    """Stopped after a few steps of a 1,875-step epoch, it ends long before the epoch does.
    (Seconds are a generous bound for a busy machine: an epoch here takes ten or more.)"""
    cfg = TrainConfig(epochs=1, subset=None, test_subset=100, log_every=1, device="cpu", threads=1)
    run = TrainingRun(cfg)
    seen: list[tuple[float, dict]] = []
    while not any(e["kind"] == "step" and e["global_step"] >= 5 for _, e in seen):
        assert not run.done, run.error
        seen += [(time.monotonic(), e) for e in run.events_since(len(seen))]
        time.sleep(0.01)
    stopped_at = time.monotonic()
    run.stop()
    assert run.status == "stopping"
    seen += follow(run)[len(seen) :]
    last_step = max(t for t, e in seen if e["kind"] == "step")
    assert last_step - stopped_at < 5.0
    assert max(e["global_step"] for _, e in seen if e["kind"] == "step") < 1875 // 2
    assert run.status == "stopped" and run.results["stopped"] is True
    assert run.checkpoint is not None and run.test_preds.shape == (10_000,)
    assert run.wait(5) and not _alive(run.pid())


def test_terminate_ends_the_process_at_once(real_data):
    """terminate() waits 0.2 s for a clean exit, then signals: the process is gone in about a
    second (bounded generously here for a busy machine), nothing comes back."""
    run = TrainingRun(TrainConfig(epochs=1, subset=None, device="cpu", threads=1, log_every=1))
    while not run.events_since(0) or run.pid() is None:
        time.sleep(0.01)
    pid = run.pid()
    t0 = time.monotonic()
    run.terminate()
    assert time.monotonic() - t0 < 5.0 and not _alive(pid)
    assert run.status == "cancelled" and run.checkpoint is None


@pytest.mark.parametrize(
    ("cfg", "expected"),
    [
        (dict(device="tpu"), "Unknown device 'tpu'"),  # a setting: the engine's own sentence
        (dict(seed=2**70), "Training crashed (ValueError: "),  # fit() itself raises
    ],
)
def test_errors_come_back_as_one_sentence(real_data, cfg, expected):
    run = TrainingRun(TrainConfig(epochs=1, **{**TINY, **cfg}))
    follow(run)
    assert run.status == "failed" and expected in run.error
    assert run.error.endswith(".") and "\n" not in run.error and "Traceback" not in run.error


def test_a_killed_worker_is_reported_and_the_slot_freed(real_data):
    slots = RunSlots(1)
    run = TrainingRun(TrainConfig(epochs=1, subset=None, device="cpu", threads=1), slots=slots)
    while run.pid() is None or not run.events_since(0):
        time.sleep(0.01)
    psutil.Process(run.pid()).kill()
    follow(run, timeout=10)
    assert run.status == "failed" and "exited unexpectedly" in run.error
    assert run.error.count(".") == 1 and run.error.endswith(".")
    assert run.wait(5) and slots.running == 0  # released once the worker is gone


def test_bad_settings_refused_before_any_process():
    with pytest.raises(ValueError, match="Epochs must be at least 1"):
        TrainingRun(TrainConfig(epochs=0))
    assert workers() == []


def test_runs_queue_for_slots_in_order(real_data):
    slots = RunSlots(1)
    first = TrainingRun(TrainConfig(epochs=1, subset=None, device="cpu", threads=1), slots=slots)
    second = TrainingRun(TrainConfig(epochs=1, **TINY), slots=slots)
    third = TrainingRun(TrainConfig(epochs=1, **TINY), slots=slots)
    while first.status == "queued":
        time.sleep(0.01)
    time.sleep(0.2)
    assert (first.position(), second.position(), third.position()) == (0, 1, 2)
    assert second.status == third.status == "queued" and second.pid() is None
    third.stop()  # leaving the queue: no process ever started
    assert third.wait(2) and third.status == "cancelled" and third.pid() is None
    assert second.position() == 1
    first.terminate()
    follow(second)
    assert second.status == "finished" and second.wait(5) and slots.running == 0


def test_a_warm_spare_is_used_and_refilled(real_data, monkeypatch):
    monkeypatch.setenv("TINYVGG_WARM_WORKER", "1")  # the default
    runs.warm_up()
    spare = SPARES.pids()
    assert len(spare) == 1
    run = TrainingRun(TrainConfig(epochs=1, threads=runs.threads_per_run(), **{
        k: v for k, v in TINY.items() if k != "threads"
    }))  # fmt: skip
    follow(run)
    assert run.pid() == spare[0] and run.status == "finished"
    assert run.wait(5)
    assert len(SPARES.pids()) == 1 and SPARES.pids() != spare  # a fresh spare waits


def test_an_idle_worker_exits_when_asked(real_data):
    """Asked (no job: None), it exits of its own accord, exit code 0, not by a signal."""
    w = Worker(threads=1)
    w.close(grace=30)
    assert not w.alive() and w.process.exitcode == 0


def test_crash_sentence():
    message = crash_sentence(RuntimeError("boom\nmore lines"))
    assert message == "Training crashed (RuntimeError: boom)."
    assert crash_sentence(KeyError()) == "Training crashed (KeyError)."


def test_slots_wait_and_cancel():
    slots = RunSlots(1)
    a, b = object(), object()
    assert slots.acquire(a, threading.Event())
    cancelled = threading.Event()
    got = []
    t = threading.Thread(target=lambda: got.append(slots.acquire(b, cancelled)))
    t.start()
    time.sleep(0.1)
    assert slots.position(b) == 1
    slots.release(a)
    t.join(2)
    assert got == [True] and slots.position(b) == 0 and slots.running == 1


def test_a_worker_outlives_no_killed_server(real_data):
    code = (
        "import time\n"
        "from tinyvgg.worker import Worker\n"
        "w = Worker(threads=1)\n"
        "print(w.process.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    child = psutil.Process(int(server.stdout.readline()))
    server.kill()  # no atexit, no daemon clean-up: only the worker's own watch on its parent
    server.wait()
    gone, alive = psutil.wait_procs([child], timeout=60)
    assert gone and not alive


def test_a_dataset_in_memory_travels_to_the_worker_and_its_classes_come_back():
    data = shapes(per_class=20, seed=2)  # 64 training images, 16 test images
    run = TrainingRun(TrainConfig(data="my drawings", epochs=1, **TINY), data=data)
    events = [e for _, e in follow(run)]
    assert run.status == "finished", run.error
    start = events[0]
    assert start["dataset"] == "shapes" and start["classes"] == list(SHAPES)
    assert start["n_train"] == 64 and start["config"]["data"] == "my drawings"
    model, metrics = load_checkpoint(run.checkpoint)
    assert model.classes == SHAPES and model.dataset == "shapes"
    assert metrics["train_config"]["data"] == "my drawings"
    test = DeviceData(data.test_images.float() / 255, data.test_labels)
    assert torch.equal(run.test_preds, predict(model, test))


def test_a_dataset_by_path_is_read_by_the_worker(tmp_path):
    archive = tmp_path / "toys.zip"
    archive.write_bytes(shapes_zip(per_class=10, seed=4))
    run = TrainingRun(TrainConfig(data=str(archive), epochs=1, **TINY))
    follow(run)
    assert run.status == "finished", run.error
    assert load_checkpoint(run.checkpoint)[0].dataset == "toys" and run.test_preds.shape == (8,)
    archive.write_bytes(b"not a zip at all")  # there, but not a dataset: the worker says why
    run = TrainingRun(TrainConfig(data=str(archive), epochs=1, **TINY))
    follow(run)
    assert run.status == "failed" and run.error.startswith("This file is not a .zip archive")
    with pytest.raises(ValueError, match="No dataset 'nowhere'"):
        TrainingRun(TrainConfig(data="nowhere"))


def test_a_job_message_carries_the_dataset_as_bytes():
    data = shapes(per_class=6, seed=1)
    job = job_message(TrainConfig(data="x"), data)
    assert job["config"]["data"] == "x" and isinstance(job["data"]["train_images"][2], bytes)
    cfg, back = read_job(pickle.loads(pickle.dumps(job)))
    assert cfg == TrainConfig(data="x")
    assert back.name == "shapes" and back.classes == SHAPES and back.skipped == 0
    for k in ("train_images", "train_labels", "test_images", "test_labels"):
        assert torch.equal(getattr(back, k), getattr(data, k)), k
        assert getattr(back, k).dtype == getattr(data, k).dtype
    assert read_job(job_message(TrainConfig())) == (TrainConfig(), None)
