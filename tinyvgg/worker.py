"""The training worker process: a spawned Python that runs one fit() and sends back events.

A worker is a `spawn`ed process (never `fork`: the server has threads and torch state) that
gets ready (imports torch, reads the data, times a few steps), waits for one job, runs fit(),
sends back the model and its test-set predictions, and exits. It also exits when its parent
dies, so a killed server leaves nothing behind. Scheduling workers (the run limit, the warm
spare) is `tinyvgg.runs`'s job.

A job is `job_message(cfg, data)`: the config, and the dataset's tensors as bytes when the
server hands one over (an upload, up to some 50 MB); without one the worker reads the dataset
`cfg.data` names, Fashion-MNIST from what it read while getting ready.

A worker sends plain data only (a tensor would travel as shared memory that dies with it):
  fit()'s events (tinyvgg.train), step events with "conv_1_1" when cfg.step_weights,
  "snapshot" events with their weights as float32 bytes (tinyvgg.snapshots)
  {"kind": "model", "checkpoint": bytes, "test_preds": bytes}   uint8 class per test image
                           (the checkpoint names the dataset and its classes: tinyvgg.model)
  {"kind": "error", "message": str}                              one sentence
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import queue
import sys
import threading
import time
import traceback
import types
from dataclasses import asdict
from typing import Any

import torch

from tinyvgg import datasets
from tinyvgg.data import FASHION, DataError, DeviceData, Split, idx_source, load_split
from tinyvgg.datasets import Dataset
from tinyvgg.device import cudnn_settings, keep_freed_memory, pick_device
from tinyvgg.evaluate import predict
from tinyvgg.model import build_model, checkpoint_bytes
from tinyvgg.steps import make_stepper
from tinyvgg.train import TrainConfig, fit, training_data

log = logging.getLogger(__name__)
CTX = mp.get_context("spawn")
WARMUP_STEPS = 24  # timed steps of batch 32 when a worker gets ready (~0.1 s on a CPU core)


def crash_sentence(e: BaseException) -> str:
    """An unexpected exception as one sentence (the traceback goes to the server's log)."""
    first = (str(e).strip().splitlines() or [""])[0][:200].rstrip(".")
    return f"Training crashed ({type(e).__name__}{': ' + first if first else ''})."


def _tensor_bytes(t: torch.Tensor) -> tuple[list[int], str, bytes]:
    return list(t.shape), str(t.dtype).removeprefix("torch."), t.contiguous().numpy().tobytes()


def _tensor(raw: tuple[list[int], str, bytes]) -> torch.Tensor:
    shape, dtype, blob = raw
    return torch.frombuffer(bytearray(blob), dtype=getattr(torch, dtype)).view(*shape)


TENSORS = ("train_images", "train_labels", "test_images", "test_labels")


def job_message(cfg: TrainConfig, data: Dataset | None = None) -> dict[str, Any]:
    """What a worker's job queue takes: the config as a dict and, when given, the dataset with
    its tensors as (shape, dtype, bytes), so no shared memory outlives the sender."""
    plain = None
    if data is not None:
        plain = {"name": data.name, "classes": list(data.classes), "skipped": data.skipped,
                 "split": data.split,
                 **{k: _tensor_bytes(getattr(data, k)) for k in TENSORS}}  # fmt: skip
    return {"config": asdict(cfg), "data": plain}


def read_job(job: dict[str, Any]) -> tuple[TrainConfig, Dataset | None]:
    """The config and the dataset (None: `cfg.data` names it) of a `job_message`."""
    plain = job.get("data")
    data = None
    if plain is not None:
        tensors = (_tensor(plain[k]) for k in TENSORS)
        data = Dataset(plain["name"], tuple(plain["classes"]), *tensors, skipped=plain["skipped"],
                       split=plain["split"])  # fmt: skip
    return TrainConfig(**job["config"]), data


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


def _job_data(cfg: TrainConfig, carried: Dataset | None, train, test) -> Dataset:
    """The job's dataset: the one it carried, Fashion-MNIST from the splits read while getting
    ready, or the one `cfg.data` names, read now."""
    if carried is not None:
        return carried
    if idx_source(cfg.data) is FASHION and train is not None and test is not None:
        return datasets.from_splits(cfg.data, train, test)
    return training_data(cfg)


def run_job(job: dict[str, Any], events, stop, train, test) -> None:
    """Run one job_message with fit(): its events, then the model or an error, to `events`."""
    try:  # what a user can get wrong: settings, device, dataset; each already one sentence
        cfg, carried = read_job(job)
        cfg.validate(in_memory=carried is not None)
        pick_device(cfg.device)
        data = _job_data(cfg, carried, train, test)
    except (ValueError, DataError) as e:
        events.put({"kind": "error", "message": str(e)})
        return
    except Exception as e:  # e.g. a job this worker's TrainConfig does not know
        traceback.print_exc()
        events.put({"kind": "error", "message": crash_sentence(e)})
        return
    try:
        result = fit(cfg, on_event=events.put, stop=stop, data=data)
        model, preds = result.model, result.test_preds
        if preds is None:  # the last epoch scored all of the test set: classes not kept
            device = next(model.parameters()).device
            fmt = torch.channels_last if device.type == "cpu" else torch.contiguous_format
            test_split = Split(data.test_images, data.test_labels)
            test_data = DeviceData.from_split(test_split, device, None, fmt)
            preds = predict(model.to(memory_format=fmt), test_data)
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
        run_job(job, events, lambda: stop.is_set() or orphaned(), train, test)
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
        """Whether the process is running."""
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
