"""The pieces under tinyvgg.worker: the worker process itself, the run limit, the warm spare.

A worker is a `spawn`ed process (never `fork`: the server has threads and torch state) that
gets ready (imports torch, reads the data, times a few steps), waits for one job, runs fit(),
sends back the model and its test-set predictions, and exits. It also exits when its parent
dies, so a killed server leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import queue
import sys
import threading
import time
import traceback
import types
from dataclasses import asdict
from typing import Any

import torch

from tinyvgg.data import DataError, DeviceData, load_split
from tinyvgg.device import cudnn_settings, keep_freed_memory, pick_device
from tinyvgg.metrics import predict
from tinyvgg.model import build_model, checkpoint_bytes
from tinyvgg.steps import make_stepper
from tinyvgg.train import TrainConfig, fit

log = logging.getLogger(__name__)
CTX = mp.get_context("spawn")
FINAL = ("finished", "stopped", "failed", "cancelled")
WARMUP_STEPS = 24  # timed steps of batch 32 when a worker gets ready (~0.1 s on a CPU core)


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

    On a busy 2-core machine one thread trained 2x faster than two (which wait on each other).
    """
    raw = os.environ.get("TINYVGG_RUN_THREADS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, (cpu_count() - 1) // (limit or max_runs()))


def crash_sentence(e: BaseException) -> str:
    """An unexpected exception as one sentence (the traceback goes to the server's log)."""
    first = (str(e).strip().splitlines() or [""])[0][:200].rstrip(".")
    return f"Training crashed ({type(e).__name__}{': ' + first if first else ''})."


# ---------------------------------------------------------------- inside the worker process


def _time_steps(train) -> float:
    """Training images/s of the default TinyVGG at batch 32 on this worker's device."""
    device = pick_device()
    fmt = torch.channels_last if device.type == "cpu" else torch.contiguous_format
    data = DeviceData.from_split(train, device, torch.arange(32 * WARMUP_STEPS), fmt)
    model = build_model(seed=0).to(device=device, memory_format=fmt).train()
    if device.type == "cpu":
        keep_freed_memory()  # as fit() does
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    # the step fit() runs: on CUDA a graph replayed (captured at the 4th step)
    stepper = make_stepper(model, optimizer, data, 32, graphed=True)
    t0 = 0.0
    with cudnn_settings():  # fit()'s kernels
        for i in range(WARMUP_STEPS):
            if i == 4:  # the first steps pay one-off costs
                stepper.running(1)  # synchronises
                t0 = time.perf_counter()
            stepper(torch.arange(32 * i, 32 * (i + 1), device=device))
        stepper.running(1)
    return 32 * (WARMUP_STEPS - 4) / (time.perf_counter() - t0)


def _run_job(job: dict[str, Any], events, stop, train, test) -> None:
    try:  # what a user can get wrong: settings, device, dataset; each already one sentence
        cfg = TrainConfig(**job)
        cfg.validate()
        pick_device(cfg.device)
        train, test = train or load_split("train"), test or load_split("test")
    except (ValueError, DataError) as e:
        events.put({"kind": "error", "message": str(e)})
        return
    except Exception as e:  # e.g. a job this worker's TrainConfig does not know
        traceback.print_exc()
        events.put({"kind": "error", "message": crash_sentence(e)})
        return
    try:
        result = fit(cfg, on_event=events.put, stop=stop, train=train, test=test)
        model = result.model
        device = next(model.parameters()).device
        fmt = torch.channels_last if device.type == "cpu" else torch.contiguous_format
        data = DeviceData.from_split(test, device, None, fmt)
        preds = predict(model.to(memory_format=fmt), data)
        metrics = {**result.results, "history": result.history, "train_config": asdict(cfg)}
        events.put({
            "kind": "model", "checkpoint": checkpoint_bytes(model, metrics),
            "test_preds": preds.to(torch.uint8).numpy().tobytes(),
        })  # fmt: skip
    except Exception as e:
        traceback.print_exc()  # the whole story for the server's log
        events.put({"kind": "error", "message": crash_sentence(e)})


def _worker_main(jobs, events, stop, threads: int, speed) -> None:
    """The worker process: get ready, wait for one job (None: exit), run it, flush, exit."""
    parent = mp.parent_process()

    def orphaned() -> bool:
        return parent is not None and not parent.is_alive()

    torch.set_num_threads(threads)
    train = test = None
    try:
        train, test = load_split("train"), load_split("test")
        speed.value = _time_steps(train)
    except DataError:
        pass  # fit() reads the data again and reports the error as a sentence
    while True:
        try:
            job = jobs.get(timeout=0.5)
            break
        except queue.Empty:
            if orphaned():
                return
    if job is not None:
        _run_job(job, events, lambda: stop.is_set() or orphaned(), train, test)
    events.close()
    events.join_thread()  # everything sent is in the pipe before the process ends


# ---------------------------------------------------------------- seen from the server


_spawn_lock = threading.Lock()


@contextlib.contextmanager
def _bare_main():
    """Spawn without the child re-running our `__main__`.

    Under Streamlit, `sys.modules["__main__"]` is the app script itself (Streamlit installs it
    there for every run), and a spawned child would import it, i.e. run the whole app.
    """
    with _spawn_lock:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


class Worker:
    """One spawned worker process and its queues; it runs at most one job."""

    def __init__(self, threads: int):
        self.threads = threads
        self.jobs, self.events, self.stop = CTX.Queue(), CTX.Queue(), CTX.Event()
        self.speed = CTX.Value("d", 0.0, lock=False)  # images/s timed while getting ready
        args = (self.jobs, self.events, self.stop, threads, self.speed)
        self.process = CTX.Process(target=_worker_main, args=args, name="tinyvgg-train")
        self.process.daemon = True  # multiprocessing ends it when the server exits
        with _bare_main():
            self.process.start()

    def __repr__(self) -> str:
        return f"Worker(pid={self.process.pid}, alive={self.alive()})"

    def alive(self) -> bool:
        return self.process.is_alive()

    def close(self, grace: float = 0.5) -> None:
        """Make sure the process is gone: ask it, wait `grace` s, terminate, then kill."""
        self.stop.set()
        with contextlib.suppress(Exception):
            self.jobs.put(None)  # a worker still waiting for a job exits on None
        self.process.join(grace)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(1.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1.0)
        for q in (self.jobs, self.events):
            q.close()
            q.cancel_join_thread()


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
        return len(self._running)

    @property
    def waiting(self) -> int:
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
        with self._cond:
            self._running.discard(ticket)
            self._cond.notify_all()

    def holds(self, ticket: object) -> bool:
        with self._cond:
            return ticket in self._running

    def position(self, ticket: object) -> int:
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
        spare = self._spare
        return [spare.process.pid] if spare is not None and spare.alive() else []

    def shutdown(self) -> None:
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.close(0.2)


SPARES = Spares()
