"""The Celery worker side of tinyvgg.jobs: the app and its task, which runs one job at a time.

    TINYVGG_BROKER=redis://host:6379/0 python -m tinyvgg.jobs worker   # one job at a time
    TINYVGG_BROKER=redis://host:6379/0 celery -A tinyvgg.jobs worker --pool=solo

$TINYVGG_DEVICE picks its device, $TINYVGG_RUN_THREADS its torch threads (default: torch's, every
core).

The task claims a job, runs fit() on it through tinyvgg.worker.run_job, and leaves its events
and model in Redis, keeping a heartbeat meanwhile; tinyvgg.jobs describes the keys and holds the
app side (CeleryJobs, CeleryRun) that follows a run from them.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import sys
import threading
import time
from typing import Any

import torch

from tinyvgg import worker
from tinyvgg.device import DeviceError, describe, pick_device
from tinyvgg.jobs import (
    BROKER_ENV,
    HEARTBEAT_S,
    HEARTBEAT_TTL_S,
    KEEP_S,
    QUEUE,
    TASK,
    JobsError,
    key,
    pack,
    unpack,
)
from tinyvgg.train import Event

log = logging.getLogger(__name__)
STOP_POLL_S = 0.01  # fit() asks at every step; Redis is asked at most this often
GONE_S = 600  # what a cancelled run leaves in Redis expires this soon (for a look at why)


_MAKING = threading.Lock()


def celery_app(url: str):
    """The Celery app on the broker at `url`, with the training task; one per URL, made once
    even when an app server's sessions ask at the same moment (celery's lazy module is not
    safe to import from two threads at once)."""
    with _MAKING:
        return _celery_app(url)


@functools.cache
def _celery_app(url: str):
    import redis
    from celery import Celery

    app = Celery("tinyvgg", broker=url, set_as_current=False)
    app.conf.update(
        worker_prefetch_multiplier=1,  # a worker takes one job at a time...
        task_acks_late=True,  # ...and acknowledges it once what it made is in Redis
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # what a job makes is in its own keys
        broker_connection_retry_on_startup=True,
    )
    client = redis.Redis.from_url(url, socket_timeout=10, health_check_interval=30)

    @app.task(name=TASK)
    def train(job_id: str) -> None:
        run_job(client, job_id)

    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # for `celery -A tinyvgg.jobs_worker` and, through it, tinyvgg.jobs
        return celery_app(broker_url())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def broker_url() -> str:
    """$TINYVGG_BROKER; JobsError when it is not set."""
    url = os.environ.get(BROKER_ENV, "").strip()
    if not url:
        raise JobsError(f"Set {BROKER_ENV}=redis://host:port/db to the Redis the app uses.")
    return url


class _Sink:
    """A job's messages to Redis: events to its stream, the model to its hash first."""

    def __init__(self, r, job_id: str):
        self.r, self.job_id = r, job_id

    def put(self, msg: Event) -> None:
        k = functools.partial(key, job_id=self.job_id)
        keep = KEEP_S
        with self.r.pipeline() as p:
            if msg.get("kind") == "model":
                if self.r.get(k("stop")) == b"kill":  # its app let go of it: nobody will read
                    msg, keep = {"kind": "error", "message": "The run was cancelled."}, GONE_S
                    p.expire(k("stop"), keep)
                else:
                    p.hset(k("model"), mapping=pack(msg)).expire(k("model"), KEEP_S)
                    msg = {"kind": "model"}
            p.xadd(k("events"), pack(msg)).expire(k("events"), keep)
            p.execute()


class _Heartbeat(threading.Thread):
    """Keeps the job's `alive` key, and sets `halt` when nobody holds the run any more."""

    def __init__(self, r, job_id: str, halt: threading.Event):
        super().__init__(name=f"tinyvgg-heartbeat-{job_id[:8]}", daemon=True)
        self.r, self.job_id, self.halt = r, job_id, halt
        self.ended = threading.Event()
        self.beat()

    def beat(self) -> None:
        self.r.set(key("alive", self.job_id), socket.gethostname(), ex=HEARTBEAT_TTL_S)
        if not self.r.exists(key("watched", self.job_id)):
            self.halt.set()

    def run(self) -> None:
        while not self.ended.wait(HEARTBEAT_S):
            try:
                self.beat()
            except Exception:  # Redis away: the app sees the heartbeat go
                log.warning("job %s: heartbeat failed", self.job_id, exc_info=True)

    def end(self) -> None:
        self.ended.set()
        self.join()
        self.r.delete(key("alive", self.job_id))


def _stopper(r, job_id: str, halt: threading.Event):
    """fit()'s `stop`: the job's stop key, read at most every STOP_POLL_S."""
    asked = 0.0

    def stop() -> bool:
        nonlocal asked
        now = time.monotonic()
        if not halt.is_set() and now - asked >= STOP_POLL_S:
            asked = now
            if r.get(key("stop", job_id)):
                halt.set()
        return halt.is_set()

    return stop


def run_job(r, job_id: str) -> None:
    """The task: claim the job, run fit() on it, leave what it made in Redis."""
    if not r.set(key("claim", job_id), socket.gethostname(), nx=True, ex=KEEP_S):
        return  # cancelled while queued, or delivered again after its worker died
    r.zrem(QUEUE, job_id)
    fields = r.hgetall(key("job", job_id))
    r.delete(key("job", job_id))
    sink = _Sink(r, job_id)
    if not fields:
        message = "The run waited in the queue too long and expired; start it again."
        return sink.put({"kind": "error", "message": message})
    halt = threading.Event()
    heartbeat = _Heartbeat(r, job_id, halt)
    heartbeat.start()
    try:
        worker.run_job(unpack(fields), sink, _stopper(r, job_id, halt), None, None)
    finally:
        heartbeat.end()


def main(argv: list[str] | None = None) -> None:
    """`python -m tinyvgg.jobs worker [celery worker options]`: a worker, one job at a time."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "worker":
        sys.exit("usage: python -m tinyvgg.jobs worker [celery worker options]")
    try:
        url = broker_url()
        device = pick_device()  # $TINYVGG_DEVICE: a missing GPU is said now, not per job
    except (JobsError, DeviceError) as e:
        sys.exit(str(e))
    threads = os.environ.get("TINYVGG_RUN_THREADS", "").strip()
    if threads:  # else torch's default, every core: a worker's machine is there to train
        if not threads.isdigit() or int(threads) < 1:
            sys.exit(f"TINYVGG_RUN_THREADS must be a whole number of at least 1, not {threads!r}.")
        torch.set_num_threads(int(threads))  # jobs run in this process (--pool=solo)
    print(f"tinyvgg: training on {describe(device)}", file=sys.stderr, flush=True)
    opts = ["--pool=solo", "--concurrency=1", "--without-gossip", "--without-mingle"]
    celery_app(url).worker_main(["worker", *opts, "--loglevel=INFO", *args[1:]])


if __name__ == "__main__":
    main()
