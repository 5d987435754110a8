"""Where training runs: this server's worker processes, or Celery workers fed through Redis.

    jobs = default_jobs()               # CeleryJobs when $TINYVGG_BROKER is set, else LocalJobs
    run = jobs.submit(cfg, data=None)   # tinyvgg.runs.TrainingRun's surface either way

    TINYVGG_BROKER=redis://host:6379/0 python -m tinyvgg.jobs worker   # one job at a time

This module is the app's side (Jobs, LocalJobs, CeleryJobs, CeleryRun) and what both sides share
(the keys, pack/unpack, the timings); the worker's side, the Celery app and its task, is in
tinyvgg.jobs_worker, which `python -m tinyvgg.jobs worker` and `celery -A tinyvgg.jobs` reach.

On Celery, the task's message holds only the job id; the rest of a run lives in Redis under
`tinyvgg:<what>:<job id>`, each key expiring a day after its last write:
  job      hash: the job_message (tinyvgg.worker), read once by the worker that claims it
  claim    who took the job (SET NX): a worker's host name, or "cancelled" when the app was first
  events   stream: what the local worker sends (tinyvgg.worker), in order; the last entry is
           {"kind": "model"} (the model itself in `model`) or {"kind": "error", "message"}
  model    hash: the "model" message, written before the task is acknowledged
  alive    the worker's heartbeat: a TTL of HEARTBEAT_TTL_S, refreshed every HEARTBEAT_S
  stop     set by the app: "stop" (halt at the next step, keep the model) or "kill"
  watched  refreshed by the app process that holds the run; a run nobody holds is stopped
and one sorted set, `tinyvgg:queue`, holds the jobs not yet claimed in submission order.
Messages are packed as fields: "json" (the message, each bytes value as {"$blob": i}) and "b<i>"
(those bytes, raw).
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import threading
import time
import uuid
from typing import Any, Protocol
from urllib.parse import urlsplit

import torch

from tinyvgg.datasets import Dataset
from tinyvgg.runs import FINAL, TrainingRun, WorkerMessages
from tinyvgg.train import Event, TrainConfig
from tinyvgg.worker import crash_sentence, job_message

log = logging.getLogger(__name__)
BROKER_ENV = "TINYVGG_BROKER"
TASK = "tinyvgg.train"
QUEUE, TICKETS = "tinyvgg:queue", "tinyvgg:tickets"
BLOB = "$blob"
KEEP_S = 24 * 3600  # a run's keys expire this long after their last write
HEARTBEAT_S = 1.0  # the worker refreshes its heartbeat this often...
HEARTBEAT_TTL_S = 5  # ...with this TTL,
DEAD_AFTER_S = 3.0  # and the app gives up on a worker whose heartbeat is gone this long
UNWATCHED_S = 300  # a run no app process has held for this long is stopped
LOST_AFTER_S = 30.0  # a run whose Redis has not answered for this long has failed
WORKER_GONE = ("The training worker stopped answering (killed, or out of memory) and this run "
               "is lost; the page still works, so try again or with smaller settings.")  # fmt: skip


class JobsError(ValueError):
    """The job queue cannot take a run now; the message is one sentence."""


class Jobs(Protocol):
    """A place that runs training jobs."""

    def submit(self, cfg: TrainConfig, data: Dataset | None = None) -> TrainingRun | CeleryRun:
        """Start a run of `cfg` (on `data` when given); bad settings raise a ValueError."""


class LocalJobs:
    """Runs in worker processes of this server (tinyvgg.runs)."""

    def __repr__(self) -> str:
        return "LocalJobs()"

    def submit(self, cfg: TrainConfig, data: Dataset | None = None) -> TrainingRun:
        """A TrainingRun: queued for one of this server's slots."""
        return TrainingRun(cfg, data=data)


class CeleryJobs:
    """Runs on Celery workers; jobs, events and models travel through the Redis at `url`."""

    def __init__(self, url: str):
        import redis

        from tinyvgg.jobs_worker import celery_app  # here: jobs_worker imports this module

        self.url = url
        self.redis = redis.Redis.from_url(url, socket_timeout=10, health_check_interval=30)
        self.celery = celery_app(url)

    def __repr__(self) -> str:
        return f"CeleryJobs({self.url!r})"

    def submit(self, cfg: TrainConfig, data: Dataset | None = None) -> CeleryRun:
        """A CeleryRun: queued for the next free worker."""
        cfg.validate(in_memory=data is not None)
        return CeleryRun(self, cfg, data)


@functools.cache
def default_jobs() -> LocalJobs | CeleryJobs:
    """This process's place for runs: CeleryJobs on $TINYVGG_BROKER when set, else LocalJobs."""
    url = os.environ.get(BROKER_ENV, "").strip()
    return CeleryJobs(url) if url else LocalJobs()


def key(what: str, job_id: str) -> str:
    """The Redis key of one part of a job, e.g. 'tinyvgg:events:<job id>'."""
    return f"tinyvgg:{what}:{job_id}"


def pack(message: dict[str, Any]) -> dict[str, bytes]:
    """A message as Redis fields: its JSON, each bytes value replaced by {"$blob": i}, and
    the bytes values as they are."""
    blobs: list[bytes] = []

    def plain(x: Any) -> Any:
        if isinstance(x, bytes | bytearray | memoryview):
            blobs.append(bytes(x))
            return {BLOB: len(blobs) - 1}
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [plain(v) for v in x]
        return x

    text = json.dumps(plain(message), default=lambda o: o.tolist())  # numpy or torch numbers
    return {"json": text.encode(), **{f"b{i}": b for i, b in enumerate(blobs)}}


def unpack(fields: dict[bytes, bytes]) -> dict[str, Any]:
    """The message `pack` gave these fields of (tuples come back as lists)."""

    def blob(d: dict) -> Any:
        return fields[f"b{d[BLOB]}".encode()] if d.keys() == {BLOB} else d

    return json.loads(fields[b"json"], object_hook=blob)


# ---------------------------------------------------------------- seen from the app


class CeleryRun(WorkerMessages):
    """A run on a Celery worker, followed from Redis by a thread; TrainingRun's surface.

    `status` goes queued -> starting (a worker took it) -> running [-> stopping] -> one of
    FINAL, as a TrainingRun's; a worker whose heartbeat is gone makes it failed.
    """

    _ids = itertools.count(1)

    def __init__(self, jobs: CeleryJobs, cfg: TrainConfig, data: Dataset | None = None):
        from kombu.exceptions import OperationalError
        from redis import RedisError

        self.id = next(self._ids)
        self.job_id = uuid.uuid4().hex  # the task's id and the keys' suffix
        self.cfg = cfg
        self.status = "queued"
        self.error: str | None = None
        self.results: dict | None = None
        self.history: list[Event] = []
        self.checkpoint: bytes | None = None
        self.test_preds: torch.Tensor | None = None  # (N_test,) int64
        self.kernels: list | None = None  # the latest conv_1_1 weights, (C, 1, 3, 3) lists
        self.created = time.monotonic()
        self.ended: float | None = None
        self._events: list[Event] = []
        self._snapshots: list[Event] = []
        self._lock = threading.Lock()
        self._quit = threading.Event()
        self._redis, self._celery = jobs.redis, jobs.celery
        self._errors = (RedisError, OperationalError)
        try:
            self._enqueue(job_message(cfg, data))
        except (RedisError, OperationalError) as e:
            where = f"{urlsplit(jobs.url).hostname}:{urlsplit(jobs.url).port or 6379}"
            raise JobsError(f"The training queue at {where} cannot be reached ({type(e).__name__})"
                            "; try again in a moment.") from e  # fmt: skip
        self._thread = threading.Thread(target=self._follow, name=f"tinyvgg-job-{self.id}")
        self._thread.daemon = True
        self._thread.start()

    def __repr__(self) -> str:
        return (f"CeleryRun(id={self.id}, job={self.job_id[:8]}, status={self.status!r}, "
                f"events={len(self._events)})")  # fmt: skip

    def _key(self, what: str) -> str:
        return key(what, self.job_id)

    def _enqueue(self, job: dict[str, Any]) -> None:
        r = self._redis
        with r.pipeline() as p:
            p.hset(self._key("job"), mapping=pack(job)).expire(self._key("job"), KEEP_S)
            p.set(self._key("watched"), 1, ex=UNWATCHED_S).incr(TICKETS)
            ticket = p.execute()[-1]
        r.zadd(QUEUE, {self.job_id: ticket})
        self._celery.send_task(TASK, args=[self.job_id], task_id=self.job_id)

    @property
    def done(self) -> bool:
        """Whether the run has ended (one of FINAL)."""
        return self.status in FINAL

    def position(self) -> int:
        """1 for the first job no worker has taken yet, 2 for the next, ...; 0 otherwise."""
        if self.status != "queued":
            return 0
        try:
            rank = self._redis.zrank(QUEUE, self.job_id)
        except self._errors:
            return 0
        return 0 if rank is None else rank + 1

    def events_since(self, n: int) -> list[Event]:
        """The events after the first `n` (as TrainingRun.events_since)."""
        with self._lock:
            return self._events[n:]

    def take_snapshots(self) -> list[Event]:
        """The "snapshot" events that arrived since the last call, each handed out once."""
        with self._lock:
            taken, self._snapshots = self._snapshots, []
        return taken

    def stop(self) -> None:
        """Leave the queue, or halt training at the next step and still return the model."""
        self._signal("stop")

    def terminate(self, wait: bool = True, timeout: float = 3.0) -> None:
        """End the run now: a queued job is revoked, a running one stops and sends nothing."""
        if self._signal("kill"):
            try:
                self._celery.control.revoke(self.job_id)
            except self._errors:  # the claim already keeps it from running
                log.warning("job %s: could not revoke its task", self.job_id, exc_info=True)
        self._quit.set()
        self._finish("cancelled")
        if wait:
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended; True if it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _signal(self, how: str) -> bool:
        """Set the stop key; True when the job was still queued (it now never runs)."""
        if self.done:
            return False
        try:
            self._redis.set(self._key("stop"), how, ex=KEEP_S)
            queued = self._redis.set(self._key("claim"), "cancelled", nx=True, ex=KEEP_S)
            if queued:  # its data is no longer needed either
                self._redis.zrem(QUEUE, self.job_id)
                self._redis.delete(self._key("job"))
        except self._errors:
            log.warning("job %s: could not ask it to %s", self.job_id, how, exc_info=True)
            return False
        if queued:
            self._finish("cancelled")
        with self._lock:
            if self.status in ("starting", "running"):
                self.status = "stopping"
        return bool(queued)

    # ------------------------------------------------------------ the following thread

    def _follow(self) -> None:
        try:
            self._read_stream()
        except Exception as e:  # a bug here must not leave the run looking alive
            log.exception("job %s: following it failed", self.job_id)
            self._finish("failed", crash_sentence(e))

    def _read_stream(self) -> None:
        last, watched = b"0-0", time.monotonic()
        beat = lost = None  # when the heartbeat was last seen; since when Redis is away
        while not self._quit.is_set() and not self.done:
            now = time.monotonic()
            try:
                if now - watched > UNWATCHED_S / 4:
                    self._redis.set(self._key("watched"), 1, ex=UNWATCHED_S)
                    watched = now
                got = self._redis.xread({self._key("events"): last}, count=100, block=500)
                for _, entries in got:
                    for entry, fields in entries:
                        if self._handle(unpack(fields)):
                            return self._clean_up()
                        last = entry  # only once handled: a failed model read is retried
                if self._redis.exists(self._key("alive")):
                    beat = time.monotonic()
                    with self._lock:
                        self.status = "starting" if self.status == "queued" else self.status
                elif lost is not None and beat is not None:
                    beat = time.monotonic()  # Redis is back: give the worker time to beat again
                lost = None
            except self._errors:
                lost = lost or now
                if now - lost > LOST_AFTER_S:
                    return self._finish("failed", "The training queue (Redis) stopped answering "
                                        "and this run is lost; try again later.")  # fmt: skip
                self._quit.wait(1.0)
                continue
            if beat is not None and time.monotonic() - beat > DEAD_AFTER_S:
                return self._finish("failed", WORKER_GONE)

    def _handle(self, msg: Event) -> bool:
        """Take one message; True when it was the last one."""
        kind = msg.get("kind")
        if kind == "error":
            self._finish("failed", msg["message"])
            return True
        if kind == "model":
            fields = self._redis.hgetall(self._key("model"))
            if not fields:
                self._finish("failed", "The finished model expired from the training queue.")
                return True
            model = unpack(fields)
            self._keep_model(model["checkpoint"], model["test_preds"])
            return True
        self._record(msg)
        return False

    def _clean_up(self) -> None:
        """Free Redis of what this run held once the app has it."""
        keys = (self._key(w) for w in ("events", "model", "watched", "stop"))
        try:
            self._redis.delete(*keys)
        except self._errors:
            pass  # they expire anyway

    def _finish(self, status: str, error: str | None = None) -> None:
        with self._lock:
            if self.status not in FINAL:
                self.status, self.error, self.ended = status, error, time.monotonic()


# ---------------------------------------------------------------- the worker: tinyvgg.jobs_worker


def __getattr__(name: str) -> Any:
    if name == "app":  # for `celery -A tinyvgg.jobs worker`
        from tinyvgg import jobs_worker

        return jobs_worker.app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> None:
    """`python -m tinyvgg.jobs worker [celery worker options]`: tinyvgg.jobs_worker.main."""
    from tinyvgg.jobs_worker import main as worker_main

    worker_main(argv)


if __name__ == "__main__":
    main()
