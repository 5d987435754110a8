"""Training in a spawned worker process, so fit() never shares a GIL with the app's threads.

    run = TrainingRun(TrainConfig(epochs=1, subset=1000, step_weights=True))
    while not run.done:
        new_events = run.events_since(n)  # fit()'s events, in order
    run.stop()       # graceful: training halts within a step; the model still comes back
    run.terminate()  # hard: the process is gone within a second; nothing comes back

Server-wide, at most `max_runs()` runs train at once ($TINYVGG_MAX_RUNS; by default one per CPU
core minus one, at least one); later runs wait in arrival order and can ask their `position()`.
Each worker's torch threads share the cores left after one for the server (`threads_per_run()`).
One idle worker is kept warm (torch imported, data read, a few steps timed) so that Start need
not wait ~3 s for a new Python to import torch; $TINYVGG_WARM_WORKER=0 turns that off.

A worker sends plain data only (a tensor would travel as shared memory that dies with it):
  fit()'s events (tinyvgg.train), step events with "conv_1_1" when cfg.step_weights
  {"kind": "model", "checkpoint": bytes, "test_preds": bytes}   uint8 class per test image
  {"kind": "error", "message": str}                              one sentence
"""

from __future__ import annotations

import atexit
import itertools
import logging
import queue
import threading
import time
import weakref
from dataclasses import asdict, replace
from statistics import median

import torch

from tinyvgg import worker_process as procs
from tinyvgg.device import pick_device
from tinyvgg.train import Event, TrainConfig
from tinyvgg.worker_process import (
    FINAL,
    RunSlots,
    Worker,
    crash_sentence,
    max_runs,
    threads_per_run,
)

__all__ = [
    "FINAL", "RunSlots", "TrainingRun", "crash_sentence", "default_slots", "estimate_seconds",
    "max_runs", "shutdown", "threads_per_run", "warm_up",
]  # fmt: skip

log = logging.getLogger(__name__)
EVAL_SPEEDUP = 4.0  # test images/s over training images/s (forward only, batches of 256)
_SPEEDS: dict[tuple[str, int], float] = {}  # (device type, hidden units) -> train images/s
_LIVE: weakref.WeakSet[TrainingRun] = weakref.WeakSet()
_slots: RunSlots | None = None
_slots_lock = threading.Lock()


def default_slots() -> RunSlots:
    """The server-wide run limit, created on first use."""
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = RunSlots(max_runs())
        return _slots


class TrainingRun:
    """One run: waits for a slot, trains in a worker process, collects what the worker sends.

    `status` goes queued -> starting -> running [-> stopping] -> one of FINAL: finished or
    stopped (a model came back), failed (`error` says why in one sentence) or cancelled.
    """

    _ids = itertools.count(1)

    def __init__(self, cfg: TrainConfig, slots: RunSlots | None = None):
        cfg.validate()  # bad settings are the caller's one-sentence ValueError, before any process
        self.id = next(self._ids)
        self.cfg = replace(cfg, threads=cfg.threads or threads_per_run())
        self.status = "queued"
        self.error: str | None = None
        self.results: dict | None = None  # the end event's results
        self.history: list[Event] = []  # the epoch events
        self.checkpoint: bytes | None = None  # tinyvgg.model's format
        self.test_preds: torch.Tensor | None = None  # (10000,) int64, predicted class per image
        self.kernels: list | None = None  # the latest conv_1_1 weights, (C, 1, 3, 3) lists
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
        return self.status in FINAL

    def position(self) -> int:
        """1 for the first run waiting for a slot, 2 for the next, ...; 0 when not waiting."""
        return self._slots.position(self)

    def events_since(self, n: int) -> list[Event]:
        """The events after the first `n` (step events without their conv_1_1 weights)."""
        with self._lock:
            return self._events[n:]

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
                    procs.SPARES.refill(self.cfg.threads)
        except Exception as e:  # a bug here must not leave the run looking alive
            log.exception("training run %s: supervisor failed", self.id)
            self._finish("failed", crash_sentence(e))

    def _drive(self) -> None:
        with self._lock:
            self.status = "starting"
        worker = procs.SPARES.take(self.cfg.threads)
        with self._lock:
            self._worker = worker
            cancelled = self._cancel.is_set()
        if cancelled:
            procs.SPARES.give_back(worker)
            return self._finish("cancelled")
        worker.jobs.put(asdict(self.cfg))
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
            self.checkpoint = msg["checkpoint"]
            self.test_preds = torch.frombuffer(bytearray(msg["test_preds"]), dtype=torch.uint8)
            self.test_preds = self.test_preds.long()
            _record_speed(self.cfg, self._events)
            stopped = bool(self.results and self.results.get("stopped"))
            self._finish("stopped" if stopped else "finished")
            return True
        if kind == "step" and "conv_1_1" in msg:
            self.kernels = msg.pop("conv_1_1")
        elif kind == "end":
            self.results, self.history = msg["results"], msg["history"]
        with self._lock:
            self._events.append(msg)
            if kind == "start" and self.status == "starting":
                self.status = "running"
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
        warm = procs.SPARES.speed() if kind == _device_type("auto") else None
        ref_hidden, ref_speed = measured[-1] if measured else (10, warm)
        if not ref_speed:
            return None
        speed = ref_speed * _macs(ref_hidden) / _macs(cfg.hidden_units)
    per_epoch_test = min(cfg.test_subset or n_test, n_test)
    tested = cfg.epochs * per_epoch_test + 2 * n_test  # per epoch, then final loss + predictions
    startup = 0.5 if procs.SPARES.ready() else 3.0
    return startup + cfg.epochs * n_train / speed + tested / (EVAL_SPEEDUP * speed)


# ---------------------------------------------------------------- server lifetime


def warm_up() -> None:
    """Have a warm spare worker ready (the training page calls this on every visit).

    Only while a slot is free: getting ready costs a core for a few seconds, which would slow
    the runs that fill the slots (on a 2-core machine: the one run).
    """
    slots = default_slots()
    if slots.running + slots.waiting < slots.limit:
        procs.SPARES.refill(threads_per_run())


def shutdown() -> None:
    """End every run and the spare worker: nothing outlives the server."""
    for run in list(_LIVE):
        run.terminate(wait=False)
    for run in list(_LIVE):
        run.wait(5.0)
    procs.SPARES.shutdown()


atexit.register(shutdown)
