"""The training page in Debian's Chromium with TINYVGG_BROKER set: runs train on a real Celery
worker through a real redis-server. A run streams its live chart, finishes into the comparison
and opens in the explorer; Stop stops it; a worker killed mid-run fails it with a sentence; a
closed tab cancels its queued and its running job.

Timeouts are generous: the machine running the tests may be a busy 2-core box.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import torch
from playwright.sync_api import Page, expect

from harness.pages import LONG, POINTS_JS, choose, open_train_page, settled_points, wait_idle
from harness.servers import streamlit_server
from tinyvgg.data import CLASS_NAMES
from tinyvgg.jobs import QUEUE, WORKER_GONE, CeleryJobs, key, unpack
from tinyvgg.jobs_worker import GONE_S
from tinyvgg.model import load_checkpoint

from .test_browser_train import growth, set_epochs_to_one, stop_in_the_first_epoch, watch_points
from .test_jobs import (
    QUICK,
    celery_worker,
    redis_url,  # noqa: F401  (a fixture)
    wait_for,
)

CANCELLED = "The run was cancelled."  # what a worker sends for a killed run (jobs_worker._Sink)


class Worker:
    """The module's one Celery worker; `ensure` starts a new one after a test killed it. One
    worker at a time: every job lands on it."""

    def __init__(self, url: str, folder: Path, stack: contextlib.ExitStack):
        self.url, self.folder, self.stack = url, folder, stack
        self.proc: subprocess.Popen | None = None
        self.started = 0

    def ensure(self) -> subprocess.Popen:
        if self.proc is None or self.proc.poll() is not None:
            self.started += 1
            log = self.folder / f"worker-{self.started}.log"
            self.proc = self.stack.enter_context(celery_worker(self.url, log))
        return self.proc


@pytest.fixture(scope="module")
def broker(redis_url) -> str:  # noqa: F811
    return f"{redis_url}/0"


@pytest.fixture(scope="module")
def workers(broker, tmp_path_factory) -> Iterator[Worker]:
    with contextlib.ExitStack() as stack:
        yield Worker(broker, tmp_path_factory.mktemp("workers"), stack)


@pytest.fixture
def worker(workers) -> subprocess.Popen:
    """The module's worker, alive (started again if a test killed it)."""
    return workers.ensure()


@pytest.fixture(scope="module")
def celery_url(broker, real_data) -> Iterator[str]:
    """One Streamlit server whose runs go to the Redis at `broker`."""
    with streamlit_server(env={"TINYVGG_BROKER": broker}) as url:
        yield url


@pytest.fixture(scope="module")
def r(broker) -> redis.Redis:
    return redis.Redis.from_url(broker)


def start_run(page: Page, url: str, subset: str, batch: str = "32", one_epoch: bool = True) -> None:
    """/train on Fashion-MNIST with `subset` training images (whose default batch size is
    `batch`), Start pressed."""
    open_train_page(page, url)
    expect(page.get_by_text("training workers (Celery)").first).to_be_visible()
    choose(page, "Training images", subset)
    # the batch size moves to the subset's default before another widget sends its own
    slider = page.get_by_test_id("stSlider").filter(has_text="Batch size").get_by_role("slider")
    expect(slider).to_have_attribute("aria-valuetext", batch)
    if one_epoch:
        set_epochs_to_one(page)
        expect(slider).to_have_attribute("aria-valuetext", batch)
    page.get_by_role("button", name="Start training").click()


def claims(r: redis.Redis) -> set[str]:
    """The ids of the jobs some worker has claimed (or the app cancelled) so far."""
    return {k.decode().rsplit(":", 1)[1] for k in r.scan_iter(key("claim", "*"))}


def last_message(r: redis.Redis, job_id: str) -> dict | None:
    """The newest message on a job's event stream."""
    newest = r.xrevrange(key("events", job_id), count=1)
    return unpack(newest[0][1]) if newest else None


def test_a_run_streams_finishes_and_opens_in_the_explorer(page, celery_url, worker, real_data):
    start_run(page, celery_url, "5,000", batch="16")
    done = page.get_by_text("Compare the runs")
    counts = watch_points(page, lambda c: done.count() > 0)
    seen = growth(counts)
    assert len(seen) >= 3 and seen == sorted(seen), counts  # grew over at least two refreshes
    expect(page.get_by_text("Finished: test accuracy")).to_be_visible(timeout=LONG)
    table = page.get_by_test_id("stDataFrame")
    expect(table).to_contain_text("run 1 (sgd, lr 0.1, 1 epoch, 5,000 images)")
    for column in ("model_name", "model_loss", "model_acc", "train_time_s", "device"):
        expect(table).to_contain_text(column)
    picker = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")
    expect(picker).to_have_value("run 1: SGD 0.1, 1 ep, 5k")
    # the checkpoint the worker left in Redis, as the page offers it
    with page.expect_download(timeout=LONG) as download:
        page.get_by_role("button", name="Download checkpoint (.pt)").click()
    model, metrics = load_checkpoint(Path(download.value.path()).read_bytes())
    assert metrics["model_name"] == "run 1 (sgd, lr 0.1, 1 epoch, 5,000 images)"
    assert metrics["train_config"]["epochs"] == 1 and metrics["train_config"]["subset"] == 5_000
    # ... is the model the explorer runs, in the same session: its answer for test image 0
    _, test = real_data
    with torch.no_grad():
        probs = model.eval()(test.images[0].float().div(255).view(1, 1, 28, 28))[0].softmax(0)
    pred = int(probs.argmax())
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Explore layers").click()
    expect(page.get_by_role("heading", name="Layer explorer")).to_be_visible(timeout=LONG)
    expect(picker).to_have_value("run 1: SGD 0.1, 1 ep, 5k")
    expect(page.get_by_text("run 1 (sgd, lr 0.1, 1 epoch, 5,000 images) on")).to_be_visible()
    card = page.get_by_test_id("stMetric").filter(has_text="Prediction")
    expect(card.get_by_test_id("stMetricValue")).to_have_text(CLASS_NAMES[pred], timeout=LONG)
    expect(card).to_contain_text(f"{float(probs[pred]):.1%} probability")


def test_stop_in_the_middle_of_a_run(page, celery_url, worker):
    start_run(page, celery_url, "all 60,000")
    counts = watch_points(page, lambda c: len(growth(c)) >= 2)
    stop_in_the_first_epoch(page, counts)


def test_a_closed_tab_cancels_its_queued_and_its_running_job(
    browser, celery_url, broker, worker, r
):
    tabs = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
    running, queued = (context.new_page() for context in tabs)
    try:
        before = claims(r)
        start_run(running, celery_url, "all 60,000", one_epoch=False)  # 3 epochs: minutes
        watch_points(running, lambda c: len(growth(c)) >= 1)
        (running_id,) = claims(r) - before
        start_run(queued, celery_url, "1,000", batch="8")
        expect(queued.get_by_text("number 1 in the queue")).to_be_visible(timeout=LONG)
        (queued_id,) = (j.decode() for j in r.zrange(QUEUE, 0, -1))
        # the queued job's tab closes: it leaves the queue and never runs
        tabs[1].close()
        wait_for(lambda: r.get(key("claim", queued_id)) == b"cancelled", 45)
        # the claim is written first, then the queue entry and the job go, a round trip each
        wait_for(lambda: r.zcard(QUEUE) == 0 and not r.exists(key("job", queued_id)), 10)
        # the running job's tab closes: the worker halts it and keeps nothing
        tabs[0].close()
        wait_for(lambda: r.get(key("stop", running_id)) == b"kill", 45)
        wait_for(lambda: (last_message(r, running_id) or {}).get("message") == CANCELLED, 60)
        wait_for(lambda: not r.exists(key("alive", running_id)), 30)  # its task has returned
        assert not r.exists(key("model", running_id))
        assert 0 < r.ttl(key("events", running_id)) <= GONE_S  # not a day: nobody reads them
    finally:
        for context in tabs:
            context.close()
    # and the worker is free for the next job (the cancelled one had minutes to go)
    run = CeleryJobs(broker).submit(QUICK)
    assert run.wait(60)
    assert run.status == "finished", run.error


def test_a_killed_worker_fails_the_run_with_a_sentence(page, celery_url, worker):
    start_run(page, celery_url, "all 60,000")
    watch_points(page, lambda c: len(growth(c)) >= 1)
    os.kill(worker.pid, signal.SIGKILL)
    expect(page.get_by_text(WORKER_GONE)).to_be_visible(timeout=LONG)
    # the page is no longer waiting: no status line, Stop off, Start on, no more refreshes
    for waiting in ("Starting the worker", "Stopping:", re.compile(r"number \d+ in the queue")):
        expect(page.get_by_text(waiting)).to_have_count(0)
    expect(page.get_by_role("button", name="Stop training")).to_be_disabled()
    expect(page.get_by_role("button", name="Start training")).to_be_enabled()
    wait_idle(page)  # Streamlit's running indicator gone
    shown = settled_points(page)
    time.sleep(1.5)  # longer than the live view's 1 s refresh
    assert page.evaluate(POINTS_JS) == shown
    expect(page.get_by_text(WORKER_GONE)).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)  # nothing to compare
