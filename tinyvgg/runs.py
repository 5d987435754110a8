"""Scheduling training runs on this server: a run limit, a warm spare worker, estimates.

    run = TrainingRun(TrainConfig(epochs=1, subset=1000, step_weights=True))
    run = TrainingRun(TrainConfig(data="leaves"), data=dataset)  # a Dataset held in memory
    while not run.done:
        new_events = run.events_since(n)  # fit()'s events, in order
        new_snapshots = run.take_snapshots()  # its "snapshot" events, each handed out once
    run.stop()       # graceful: training halts within a step; the model still comes back
    run.terminate()  # hard: the process is gone within a second; nothing comes back

Server-wide, at most `max_runs()` runs train at once ($TINYVGG_MAX_RUNS; by default one per CPU
core minus one, at least one); later runs wait in arrival order and can ask their `position()`.
Each worker's torch threads share the cores left after one for the server (`threads_per_run()`).
One idle worker is kept warm (torch imported, data read, a few steps timed) so that Start need
not wait ~3 s for a new Python to import torch; $TINYVGG_WARM_WORKER=0 turns that off. The
worker process itself, and what it sends, is `tinyvgg.worker`.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import queue
import threading
import time
import weakref
from dataclasses import replace
from statistics import median

import torch

from tinyvgg.datasets import Dataset
from tinyvgg.device import pick_device
from tinyvgg.train import Event, TrainConfig
from tinyvgg.worker import Worker, crash_sentence, job_message

log = logging.getLogger(__name__)
FINAL = ("finished", "stopped", "failed", "cancelled")
EVAL_SPEEDUP = 4.0  # test images/s over training images/s (forward only, batches of 256)
_SPEEDS: dict[tuple[str, int], float] = {}  # (device type, hidden units) -> train images/s
_LIVE: weakref.WeakSet[TrainingRun] = weakref.WeakSet()
_slots: RunSlots | None = None
_slots_lock = threading.Lock()


def cpu_count() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def max_runs() -> int:
    """Runs allowed to train at once: $TINYVGG_MAX_RUNS, else CPU cores minus one (>= 1)."""
    raw = os.environ.get("TINYVGG_MAX_RUNS", "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            log.warning("TINYVGG_MAX_RUNS=%r is not a whole number; using the default", raw)
    return max(1, cpu_count() - 1)


def threads_per_run(limit: int | None = None) -> int:
    """Torch threads per worker: $TINYVGG_RUN_THREADS, else the cores left after one for the
    server, shared by the runs.

    Threads beyond the free cores only wait on each other: on a busy 2-core machine one thread
    trains about twice as fast as two.
    """
    raw = os.environ.get("TINYVGG_RUN_THREADS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, (cpu_count() - 1) // (limit or max_runs()))


class RunSlots:
    """A server-wide limit on runs training at once, granted in arrival order."""

    def __init__(self, limit: int):
        self.limit = max(1, limit)
        self._cond = threading.Condition()
        self._running: set[object] = set()
        self._waiting: list[object] = []

    def __repr__(self) -> str:
        return f"RunSlots(limit={self.limit}, running={self.running}, waiting={self.waiting})"

    @property
    def running(self) -> int:
        """Runs holding a slot now."""
        return len(self._running)

    @property
    def waiting(self) -> int:
        """Runs waiting for a slot."""
        return len(self._waiting)

    def enqueue(self, ticket: object) -> None:
        """Join the queue now; `acquire` then waits for the turn."""
        with self._cond:
            if ticket not in self._waiting and ticket not in self._running:
                self._waiting.append(ticket)

    def acquire(self, ticket: object, cancelled: threading.Event) -> bool:
        """Wait for a slot; False if `cancelled` is set first."""
        self.enqueue(ticket)
        with self._cond:
            try:
                while not cancelled.is_set():
                    if self._waiting[0] is ticket and len(self._running) < self.limit:
                        self._running.add(ticket)
                        return True
                    self._cond.wait(0.05)
                return False
            finally:
                self._waiting.remove(ticket)
                self._cond.notify_all()

    def release(self, ticket: object) -> None:
        """Give the slot back and wake the next in line."""
        with self._cond:
            self._running.discard(ticket)
            self._cond.notify_all()

    def holds(self, ticket: object) -> bool:
        """Whether `ticket` holds a slot."""
        with self._cond:
            return ticket in self._running

    def position(self, ticket: object) -> int:
        """1 for the first in line, 2 for the next, ...; 0 when not waiting."""
        with self._cond:
            return self._waiting.index(ticket) + 1 if ticket in self._waiting else 0


class Spares:
    """At most one idle, ready worker, so that a run starts without importing torch first."""

    def __init__(self):
        self._lock = threading.Lock()
        self._spare: Worker | None = None
        self._speed: float | None = None

    @staticmethod
    def enabled() -> bool:
        """False when $TINYVGG_WARM_WORKER=0."""
        return os.environ.get("TINYVGG_WARM_WORKER", "1") != "0"

    def take(self, threads: int) -> Worker:
        """The spare if it suits, else a fresh worker."""
        with self._lock:
            spare, self._spare = self._spare, None
        self._note_speed(spare)
        if spare is not None and spare.alive() and spare.threads == threads:
            return spare
        if spare is not None:
            spare.close(0)
        return Worker(threads)

    def give_back(self, worker: Worker) -> None:
        """A worker that never got a job becomes the spare again."""
        with self._lock:
            if self._spare is None and worker.alive():
                self._spare, worker = worker, None
        if worker is not None:
            worker.close(0)

    def refill(self, threads: int) -> None:
        """Start a spare unless one is waiting already."""
        if not self.enabled():
            return
        with self._lock:
            if self._spare is not None and self._spare.alive() and self._spare.threads == threads:
                return
            old, self._spare = self._spare, Worker(threads)
        if old is not None:
            old.close(0)

    def ready(self) -> bool:
        """A spare has finished getting ready."""
        spare = self._spare
        return spare is not None and spare.alive() and spare.speed.value > 0

    def speed(self) -> float | None:
        """Training images/s timed by the latest ready worker (default TinyVGG, batch 32)."""
        self._note_speed(self._spare)
        return self._speed

    def _note_speed(self, worker: Worker | None) -> None:
        if worker is not None and worker.speed.value > 0:
            self._speed = worker.speed.value

    def pids(self) -> list[int]:
        """The idle spare's process id, if there is one."""
        spare = self._spare
        return [spare.process.pid] if spare is not None and spare.alive() else []

    def shutdown(self) -> None:
        """End the spare worker."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.close(0.2)


SPARES = Spares()


def default_slots() -> RunSlots:
    """The server-wide run limit, created on first use."""
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = RunSlots(max_runs())
        return _slots


class WorkerMessages:
    """What a run does with its worker's messages (tinyvgg.worker's kinds), wherever the worker
    runs: its snapshots set aside, conv_1_1's weights as its kernels, the end's results, every
    other event in order, and its model. Needs `_lock`, `_events`, `_snapshots`, `status` and
    `_finish(status, error)`."""

    def _record(self, msg: Event) -> None:
        """Take one message that is neither an error nor the model."""
        kind = msg.get("kind")
        if kind == "snapshot":
            with self._lock:
                self._snapshots.append(msg)
            return
        if kind == "step" and "conv_1_1" in msg:
            self.kernels = msg.pop("conv_1_1")
        elif kind == "end":
            self.results, self.history = msg["results"], msg["history"]
        with self._lock:
            self._events.append(msg)
            if kind == "start" and self.status in ("queued", "starting"):
                self.status = "running"

    def _keep_model(self, checkpoint: bytes, test_preds: bytes) -> None:
        """The finished model and its class per test image (uint8 bytes); the run ends."""
        self.checkpoint = checkpoint
        self.test_preds = torch.frombuffer(bytearray(test_preds), dtype=torch.uint8).long()
        stopped = bool(self.results and self.results.get("stopped"))
        self._finish("stopped" if stopped else "finished")


class TrainingRun(WorkerMessages):
    """One run: waits for a slot, trains in a worker process, collects what the worker sends.

    It trains on `data` when given (a Dataset in memory, such as an upload: its tensors go to
    the worker as bytes, and `cfg.data` only names it), else on the dataset `cfg.data` names,
    which the worker reads itself (Fashion-MNIST from its warm copy). The checkpoint that comes
    back names the dataset and its classes; `test_preds` are per image of its test set.

    `status` goes queued -> starting -> running [-> stopping] -> one of FINAL: finished or
    stopped (a model came back), failed (`error` says why in one sentence) or cancelled.
    """

    _ids = itertools.count(1)

    def __init__(
        self, cfg: TrainConfig, slots: RunSlots | None = None, data: Dataset | None = None
    ):
        # bad settings are the caller's one-sentence ValueError, before any process
        cfg.validate(in_memory=data is not None)
        self.id = next(self._ids)
        self.cfg = replace(cfg, threads=cfg.threads or threads_per_run())
        self._data = data  # handed to the worker, then let go
        self.status = "queued"
        self.error: str | None = None
        self.results: dict | None = None  # the end event's results
        self.history: list[Event] = []  # the epoch events
        self.checkpoint: bytes | None = None  # tinyvgg.model's format
        self.test_preds: torch.Tensor | None = None  # (N_test,) int64, class per test image
        self.kernels: list | None = None  # the latest conv_1_1 weights, (C, 1, 3, 3) lists
        self._snapshots: list[Event] = []  # "snapshot" events not yet taken, weights as bytes
        self.created = time.monotonic()
        self.ended: float | None = None
        self._events: list[Event] = []
        self._lock = threading.Lock()
        self._cancel, self._kill = threading.Event(), threading.Event()
        self._worker: Worker | None = None
        self._slots = slots or default_slots()
        self._slots.enqueue(self)  # counted at once, before the thread gets going
        _LIVE.add(self)
        self._thread = threading.Thread(target=self._supervise, name=f"tinyvgg-run-{self.id}")
        self._thread.daemon = True
        self._thread.start()

    def __repr__(self) -> str:
        return f"TrainingRun(id={self.id}, status={self.status!r}, events={len(self._events)})"

    @property
    def done(self) -> bool:
        """Whether the run has ended (one of FINAL)."""
        return self.status in FINAL

    def position(self) -> int:
        """1 for the first run waiting for a slot, 2 for the next, ...; 0 when not waiting."""
        return self._slots.position(self)

    def events_since(self, n: int) -> list[Event]:
        """The events after the first `n` (step events without their conv_1_1 weights; no
        snapshot events: `take_snapshots`)."""
        with self._lock:
            return self._events[n:]

    def take_snapshots(self) -> list[Event]:
        """The "snapshot" events that arrived since the last call, each handed out once (their
        weights are a run's largest messages: the caller keeps them, this run does not)."""
        with self._lock:
            taken, self._snapshots = self._snapshots, []
        return taken

    def pid(self) -> int | None:
        """The worker's process id, once it has one."""
        w = self._worker
        return w.process.pid if w is not None else None

    def stop(self) -> None:
        """Leave the queue, or halt training at the next step and still return the model."""
        self._cancel.set()
        with self._lock:
            if self._worker is not None:
                self._worker.stop.set()
            if self.status in ("starting", "running"):
                self.status = "stopping"

    def terminate(self, wait: bool = True, timeout: float = 3.0) -> None:
        """End the run now, worker process included; `wait` blocks until it is gone."""
        self._kill.set()
        self.stop()
        if wait:
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (and its worker is gone); True if it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # ------------------------------------------------------------ the supervising thread

    def _supervise(self) -> None:
        try:
            if not self._slots.acquire(self, self._cancel):
                return self._finish("cancelled")
            try:
                self._drive()
            finally:
                self._slots.release(self)
                if not self._kill.is_set():  # a killed run's server is busy ending things
                    SPARES.refill(self.cfg.threads)
        except Exception as e:  # a bug here must not leave the run looking alive
            log.exception("training run %s: supervisor failed", self.id)
            self._finish("failed", crash_sentence(e))

    def _drive(self) -> None:
        with self._lock:
            self.status = "starting"
        worker = SPARES.take(self.cfg.threads)
        with self._lock:
            self._worker = worker
            cancelled = self._cancel.is_set()
        if cancelled:
            SPARES.give_back(worker)
            return self._finish("cancelled")
        worker.jobs.put(job_message(self.cfg, self._data))
        self._data = None
        try:
            self._pump(worker)
        finally:
            deadline = time.monotonic() + 5.0  # it exits once its pipe is flushed
            while worker.alive() and time.monotonic() < deadline and not self._kill.is_set():
                worker.process.join(0.05)
            worker.close(grace=0.2)

    def _pump(self, worker: Worker) -> None:
        dead_since = None
        while not self._kill.is_set():
            try:
                msg = worker.events.get(timeout=0.1)
            except queue.Empty:
                if worker.alive():
                    continue
                dead_since = dead_since or time.monotonic()
                if time.monotonic() - dead_since < 0.5:  # what it sent last may still be in transit
                    continue
                code = worker.process.exitcode
                return self._finish(
                    "failed",
                    f"The training worker exited unexpectedly (exit code {code}), perhaps out of "
                    "memory; the page still works, so try again or with smaller settings.",
                )
            if self._handle(msg):
                return
        self._finish("cancelled")

    def _handle(self, msg: Event) -> bool:
        """Take one message; True when it was the last one."""
        kind = msg.get("kind")
        if kind == "error":
            self._finish("failed", msg["message"])
            return True
        if kind == "model":
            _record_speed(self.cfg, self._events)
            self._keep_model(msg["checkpoint"], msg["test_preds"])
            return True
        self._record(msg)
        return False

    def _finish(self, status: str, error: str | None = None) -> None:
        with self._lock:
            self.status, self.error, self.ended = status, error, time.monotonic()


# ---------------------------------------------------------------- speed and estimates


def _device_type(device: str) -> str:
    return pick_device(device).type if device.startswith("auto") else device.split(":")[0]


def _record_speed(cfg: TrainConfig, events: list[Event]) -> None:
    # The first window includes the first steps' one-off costs.
    speeds = [e["images_per_s"] for e in events if e["kind"] == "step"][1:]
    if speeds:
        _SPEEDS[(_device_type(cfg.device), cfg.hidden_units)] = median(speeds)


def _macs(hidden: int) -> int:
    """Multiply-adds of one forward pass per image, for scaling speeds between widths."""
    h = hidden
    return 28 * 28 * 9 * (h + h * h) + 14 * 14 * 9 * 2 * h * h + 7 * 7 * h * 10


def estimate_seconds(cfg: TrainConfig, n_train: int, n_test: int = 10_000) -> float | None:
    """Expected wall time of a run on this server, from measured speeds; None before any."""
    kind = _device_type(cfg.device)
    speed = _SPEEDS.get((kind, cfg.hidden_units))
    if speed is None:
        measured = [(h, s) for (k, h), s in _SPEEDS.items() if k == kind]
        warm = SPARES.speed() if kind == _device_type("auto") else None
        ref_hidden, ref_speed = measured[-1] if measured else (10, warm)
        if not ref_speed:
            return None
        speed = ref_speed * _macs(ref_hidden) / _macs(cfg.hidden_units)
    per_epoch_test = min(cfg.test_subset or n_test, n_test)
    tested = cfg.epochs * per_epoch_test + 2 * n_test  # per epoch, then final loss + predictions
    startup = 0.5 if SPARES.ready() else 3.0
    return startup + cfg.epochs * n_train / speed + tested / (EVAL_SPEEDUP * speed)


# ---------------------------------------------------------------- server lifetime


def warm_up() -> None:
    """Have a warm spare worker ready (the training page calls this on every visit).

    Only while a slot is free: getting ready costs a core for a few seconds, which would slow
    the runs that fill the slots (on a 2-core machine: the one run).
    """
    slots = default_slots()
    if slots.running + slots.waiting < slots.limit:
        SPARES.refill(threads_per_run())


def shutdown() -> None:
    """End every run and the spare worker: nothing outlives the server."""
    for run in list(_LIVE):
        run.terminate(wait=False)
    for run in list(_LIVE):
        run.wait(5.0)
    SPARES.shutdown()


atexit.register(shutdown)
