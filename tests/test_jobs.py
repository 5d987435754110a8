"""Training jobs: on a real Celery worker through a real redis-server, and locally as before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import psutil
import pytest
import torch

from harness.servers import RedisNotFound, celery_worker, free_port, redis_server
from tinyvgg import jobs as jobs_module
from tinyvgg.jobs import (
    CeleryJobs,
    CeleryRun,
    JobsError,
    LocalJobs,
    default_jobs,
    key,
    pack,
    unpack,
)
from tinyvgg.model import load_checkpoint
from tinyvgg.runs import TrainingRun
from tinyvgg.shapes import SHAPES, shapes
from tinyvgg.snapshots import from_event
from tinyvgg.train import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
QUICK = TrainConfig(data="shapes", epochs=1, log_every=5, snapshots=4, device="cpu", threads=1,
                    step_weights=True)  # fmt: skip
LONG = replace(QUICK, epochs=500, log_every=1, step_weights=False)  # minutes, unless stopped


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """A fresh redis-server for this file; skipped without one unless CI requires it."""
    try:
        with redis_server(tmp_path_factory.mktemp("redis")) as url:
            yield url
    except RedisNotFound as e:
        if os.environ.get("TINYVGG_REQUIRE_REDIS") == "1":
            pytest.fail(f"redis-server is required here (TINYVGG_REQUIRE_REDIS=1): {e}")
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def jobs(redis_url, tmp_path_factory) -> Iterator[CeleryJobs]:
    """CeleryJobs on database 0, with one worker."""
    url = f"{redis_url}/0"
    with celery_worker(url, tmp_path_factory.mktemp("worker") / "worker.log"):
        yield CeleryJobs(url)


def wait_for(check: Callable[[], object], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def steps(run) -> list[dict]:
    return [e for e in run.events_since(0) if e["kind"] == "step"]


def test_pack_round_trip():
    msg = {"kind": "snapshot", "state": {"w": ([2, 1], b"\x00\x01")}, "x": [1.5, None]}
    back = unpack({k.encode(): v for k, v in pack(msg).items()})
    assert back == {"kind": "snapshot", "state": {"w": [[2, 1], b"\x00\x01"]}, "x": [1.5, None]}


def test_the_broker_setting_chooses_the_place(monkeypatch):
    monkeypatch.delenv("TINYVGG_BROKER", raising=False)
    default_jobs.cache_clear()
    assert isinstance(default_jobs(), LocalJobs)
    monkeypatch.setenv("TINYVGG_BROKER", "redis://127.0.0.1:1/0")  # nothing is reached yet
    default_jobs.cache_clear()
    assert isinstance(default_jobs(), CeleryJobs)
    default_jobs.cache_clear()


def test_sessions_asking_at_once_share_one_celery_app():
    """A replica's first sessions ask for the queue at the same moment; in a fresh process
    (celery not yet imported) none of them fails and all get the same Celery app."""
    code = """if True:
        import threading
        from tinyvgg.jobs import CeleryJobs
        barrier, apps, errors = threading.Barrier(8), [], []
        def ask():
            barrier.wait()
            try:
                apps.append(CeleryJobs("redis://127.0.0.1:1/0").celery)
            except Exception as e:
                errors.append(repr(e))
        threads = [threading.Thread(target=ask) for _ in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert not errors and len(apps) == 8 and len({id(a) for a in apps}) == 1, errors
    """
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_unreachable_queue_is_one_sentence(redis_url):
    dead = CeleryJobs(f"{redis_url.rsplit(':', 1)[0]}:1/0")  # nothing listens on port 1
    with pytest.raises(JobsError, match=r"^The training queue at 127\.0\.0\.1:1 .*moment\.$"):
        dead.submit(QUICK)
    with pytest.raises(ValueError, match="Epochs"):
        dead.submit(replace(QUICK, epochs=0))


def test_celery_run_streams_and_finishes(jobs):
    run = jobs.submit(QUICK)
    assert run.wait(20)
    assert run.status == "finished", run.error
    kinds = [e["kind"] for e in run.events_since(0)]
    assert kinds[0] == "start" and kinds[-1] == "end" and "step" in kinds and "epoch" in kinds
    assert len(run.kernels) == QUICK.hidden_units  # (C, 1, 3, 3) lists, from the step events
    snaps = [from_event(e) for e in run.take_snapshots()]
    assert len(snaps) == 4 and run.take_snapshots() == []
    model, metrics = load_checkpoint(run.checkpoint)
    assert tuple(model.classes) == SHAPES and model.dataset == "shapes"
    assert run.results["dataset"] == "shapes" and run.history == metrics["history"]
    assert run.test_preds.dtype == torch.int64
    assert run.test_preds.shape == (run.events_since(0)[0]["n_test_all"],)
    assert run.ended > run.created and run.error is None and run.position() == 0
    assert not jobs.redis.exists(key("events", run.job_id), key("model", run.job_id))


def test_in_memory_dataset_travels(jobs):
    data = replace(shapes(per_class=20), name="my shapes")
    run = jobs.submit(replace(QUICK, data="my shapes"), data=data)
    assert run.wait(20)
    assert run.status == "finished", run.error
    model, _ = load_checkpoint(run.checkpoint)
    assert model.dataset == "my shapes" and tuple(model.classes) == SHAPES
    assert run.results["n_test"] == len(data.test_labels) == len(run.test_preds)


def _last_step(jobs, run) -> int:
    """The newest step the run's worker has written to its stream."""
    stream = key("events", run.job_id)
    for _, fields in jobs.redis.xrevrange(stream, count=50):
        if (event := unpack(fields)).get("kind") == "step":
            return event["global_step"]
    raise AssertionError("no step in the stream's last 50 messages")


def test_stop_and_the_queue(jobs):
    long = jobs.submit(LONG)
    wait_for(lambda: steps(long), 15)
    assert long.status == "running" and long.position() == 0
    waiting, cancelled = jobs.submit(QUICK), jobs.submit(QUICK)
    assert (waiting.position(), cancelled.position()) == (1, 2)
    cancelled.terminate()
    assert cancelled.status == "cancelled" and waiting.position() == 1
    # the worker's own last step, from its stream: the app's reader trails it on a busy machine
    seen = _last_step(jobs, long)
    long.stop()
    assert long.status == "stopping"
    assert long.wait(10)
    assert long.status == "stopped", long.error
    assert long.results["stopped"] and long.results["steps_done"] - seen < 10
    assert load_checkpoint(long.checkpoint)[0].classes
    assert waiting.wait(20) and waiting.status == "finished"
    assert jobs.redis.get(key("claim", cancelled.job_id)) == b"cancelled"


def test_nobody_holding_a_run_stops_it(jobs, monkeypatch):
    monkeypatch.setattr(jobs_module, "UNWATCHED_S", 2)
    run = jobs.submit(LONG)
    wait_for(lambda: steps(run), 15)
    run._quit.set()  # as if its app process had died: nobody refreshes `watched`
    assert run.wait(2)
    stream = key("events", run.job_id)

    def last(n: int = 1) -> list[dict]:  # the stream's last n messages, the newest first
        return [unpack(fields) for _, fields in jobs.redis.xrevrange(stream, count=n)]

    wait_for(lambda: last()[0]["kind"] == "model", 10)
    ended = last(2)[1]
    assert ended["kind"] == "end" and ended["stopped"]


def test_killed_worker_fails_the_run(redis_url, tmp_path):
    url = f"{redis_url}/1"  # a queue of its own: the module's worker must not take this job
    with celery_worker(url, tmp_path / "worker.log") as worker:
        run = CeleryJobs(url).submit(LONG)
        wait_for(lambda: steps(run), 15)
        os.kill(worker.pid, signal.SIGKILL)
        assert run.wait(15)
    assert run.status == "failed" and "worker stopped answering" in run.error
    assert run.error.endswith(".") and run.error.count(". ") == 0


def test_a_finished_model_survives_a_redis_crash(tmp_path, monkeypatch):
    """The worker writes the model before it acknowledges the job; with deploy/'s Redis
    settings a crash right after (SIGKILL, no shutdown save) loses none of it, and the app
    still takes the model once Redis is back."""
    gate = threading.Event()  # the app reads nothing until the crash and the restart are over
    follow = CeleryRun._follow
    monkeypatch.setattr(CeleryRun, "_follow", lambda run: gate.wait(60) and follow(run))
    port = free_port()
    try:
        with redis_server(tmp_path, port, persist=True) as url:
            with celery_worker(f"{url}/0", tmp_path / "worker.log"):
                run = CeleryJobs(f"{url}/0").submit(QUICK)
                wait_for(lambda: b" succeeded in " in (tmp_path / "worker.log").read_bytes(), 30)
                redis = next(
                    p for p in psutil.Process().children() if f":{port}" in " ".join(p.cmdline())
                )
                redis.kill()
    except RedisNotFound as e:
        pytest.skip(str(e))
    with redis_server(tmp_path, port, persist=True):
        gate.set()
        assert run.wait(30)
        assert run.status == "finished", run.error
        model, _ = load_checkpoint(run.checkpoint)
        assert tuple(model.classes) == SHAPES and run.test_preds is not None


def test_local_jobs_run_as_before():
    run = LocalJobs().submit(QUICK)
    assert isinstance(run, TrainingRun)
    assert run.wait(30)
    assert run.status == "finished", run.error
    model, _ = load_checkpoint(run.checkpoint)
    assert tuple(model.classes) == SHAPES and steps(run)
