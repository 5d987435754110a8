"""Training: one `fit()` for the CLI and the app, reporting through events.

    python -m tinyvgg.train --epochs 3 --lr 0.1 --batch-size 32 --hidden-units 10 \
        --optimizer sgd --seed 42 --device auto --out runs/tinyvgg.pt [--data PATH_OR_NAME]

`--data` (TrainConfig.data) is fashion-mnist (the default), mnist, kmnist, shapes, or the path of
a folder (or .zip) of class folders, read in greyscale or, with `--channels 3`, in RGB. The model
gets the dataset's channels and classes, and its checkpoint their names.

Events are plain dicts (they cross process queues), each with a "kind":
  start   {device, dataset, classes, channels, n_train, n_test, n_test_all, n_holdout,
           steps_per_epoch, total_steps, config, snapshot_steps}   n_test: test images scored
          each epoch; n_test_all: the whole test set, scored at the end
  step    {epoch, step, global_step, loss, acc, images_per_s, elapsed_s}  running averages
          (+ conv_1_1: its weights as nested lists (C, 1, 3, 3) when cfg.step_weights)
  epoch   {epoch, train_loss, train_acc, test_loss, test_acc, elapsed_s}
  snapshot {step, epoch, train_loss, train_acc, probe_loss, probe_acc, probe_images, state}
          the weights at a planned step (tinyvgg.snapshots); state: {name: (shape, bytes)}
  warning {message}                                                     e.g. stuck at chance
  end     {results, stopped, history}   results["failed"]: why the run did not learn, or None
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from tinyvgg import datasets, health
from tinyvgg.augment import KINDS as AUGMENTS
from tinyvgg.augment import Augmenter
from tinyvgg.calibration import calibrated, ece, fit_temperature, logits_of
from tinyvgg.data import DataError, DeviceData, Split, idx_source, load_split, subset_indices
from tinyvgg.datasets import Dataset
from tinyvgg.device import cudnn_settings, describe, keep_freed_memory, pick_device
from tinyvgg.evaluate import evaluate, results_dict, score
from tinyvgg.model import TinyVGG, TinyVGGConfig, build_model, save_checkpoint
from tinyvgg.snapshots import Recorder, Snapshot, plain_list, probe_set, schedule, snapshot_count
from tinyvgg.steps import make_stepper

Event = dict[str, Any]
DEFAULT_LR = {"sgd": 0.1, "adam": 1e-3}  # the notebook's SGD; Adam's own default


@dataclass
class TrainConfig:
    """Everything a training run is made from; the CLI's flags and the page's settings."""

    epochs: int = 3  # passes over the training images
    lr: float | None = None  # None: the optimizer's DEFAULT_LR
    batch_size: int = 32  # the notebook's BATCH_SIZE
    hidden_units: int = 10  # channels of every conv layer
    optimizer: str = "sgd"  # "sgd" or "adam"
    schedule: str = "constant"  # learning rate: "constant" (the notebook's) or "cosine" decay to 0
    subset: int | None = None  # train on this many random training images (None: all 60k)
    seed: int = 42  # seeds the initial weights, the subset and the shuffling
    device: str = "auto"  # auto, cuda, mps or cpu
    log_every: int = 50  # steps between "step" events
    test_subset: int | None = None  # test images used per epoch (None: all 10k)
    cuda_graphs: bool = True  # replay the training step as a CUDA graph on CUDA
    cudnn_benchmark: bool = False  # CUDA: autotuned kernels instead of reproducible ones
    clip_norm: float | None = None  # clip the gradients' total norm to this (None: never)
    threads: int | None = None  # CPU threads for torch (None: torch's default)
    step_weights: bool = False  # add conv_1_1's weights to every "step" event (live views)
    augment: str | None = None  # "sketch": training batches made to look drawn (augment.py)
    snapshots: int = 50  # weight snapshots kept, log-spaced over the steps (0: none)
    probe: int = 0  # first test images each snapshot is scored on (0: not scored)
    holdout: int = 0  # training images kept out of training to fit a temperature (0: none)
    data: str = "fashion-mnist"  # a built-in dataset (tinyvgg.datasets) or a folder's/.zip's path
    channels: int = 1  # a folder's images as greyscale (1) or RGB (3); built-ins have their own

    @property
    def learning_rate(self) -> float:
        """`lr`, or the optimizer's default when it is None."""
        return self.lr if self.lr is not None else DEFAULT_LR.get(self.optimizer, 0.1)

    def validate(self, in_memory: bool = False) -> None:
        """Raise ValueError with one sentence for settings that cannot run; `in_memory`: the
        dataset is handed over as an object, so `data` only names it and is not looked up."""
        if not in_memory:
            datasets.check_source(self.data)  # a DatasetError is a ValueError
        if self.optimizer not in DEFAULT_LR:
            raise ValueError(f"Optimizer must be sgd or adam, not {self.optimizer!r}.")
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"Schedule must be constant or cosine, not {self.schedule!r}.")
        checks = [
            (self.epochs >= 1, "Epochs must be at least 1."),
            (self.batch_size >= 1, "Batch size must be at least 1."),
            (1 <= self.hidden_units <= 512, "Hidden units must be between 1 and 512."),
            (self.learning_rate > 0, "Learning rate must be positive."),
            (self.subset is None or self.subset >= 1, "Subset must be at least 1 image."),
            (self.test_subset is None or self.test_subset >= 1, "Test subset must be >= 1."),
            (self.log_every >= 1, "log_every must be at least 1."),
            (self.clip_norm is None or self.clip_norm > 0, "clip_norm must be positive."),
            (self.augment in (None, *AUGMENTS), f"Augment must be one of {', '.join(AUGMENTS)}."),
            (self.snapshots == 0 or self.snapshots >= 2, "Snapshots must be 0 or at least 2."),
            (0 <= self.probe <= 10_000, "Probe images must be between 0 and 10,000."),
            (self.holdout >= 0, "Held-out images must be 0 or more."),
            (self.channels in (1, 3), "Channels must be 1 (greyscale) or 3 (RGB)."),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


@dataclass
class FitResult:
    """What fit() returns: the trained model, the results dict and the per-epoch history."""

    model: TinyVGG
    results: dict[str, Any]  # the notebook's dict plus train_time_s, device, stopped, failed
    history: list[Event]  # the "epoch" events
    test_preds: torch.Tensor | None = None  # (N_test,) the final model's class per test image
    snapshots: list[Snapshot] = field(default_factory=list)  # oldest first; the last: the model


def _is_stopped(stop: Any) -> bool:
    if stop is None:
        return False
    return bool(stop.is_set() if hasattr(stop, "is_set") else stop())


def _health(loss: float, acc: float, steps: int, cfg: TrainConfig, classes: int) -> str | None:
    return health.while_training(
        loss, acc, steps, cfg.learning_rate, cfg.optimizer, cfg.seed, classes
    )


def _step_weights(model: TinyVGG, cfg: TrainConfig) -> Event:
    if not cfg.step_weights:
        return {}
    return {"conv_1_1": model.layer("conv_1_1").weight.detach().cpu().tolist()}  # (C, 1, 3, 3)


def training_data(
    cfg: TrainConfig,
    data: Dataset | None = None,
    train: Split | None = None,
    test: Split | None = None,
) -> Dataset:
    """What a run trains on: `data` when given; else the dataset `cfg.data` names, where
    `train` and `test` splits, when given, stand for a built-in IDX dataset's own (the app and
    the worker hold Fashion-MNIST's in memory). A folder's dataset is read with `cfg.channels`
    and seed 0: the dataset does not change with the run's seed."""
    if data is not None:
        if train is not None or test is not None:
            raise ValueError("Give a dataset or train and test splits, not both.")
        return data
    if train is None and test is None:
        return datasets.load(cfg.data, channels=cfg.channels)
    if (src := idx_source(cfg.data)) is None:
        return datasets.from_splits(cfg.data, train, test)  # raises its one sentence
    train = train if train is not None else load_split("train", dataset=src.name)
    test = test if test is not None else load_split("test", dataset=src.name)
    return datasets.from_splits(src.name, train, test)


def _holdout(cfg: TrainConfig, n: int, n_dataset: int) -> int:
    """Training images to hold out of the `n` drawn: `cfg.holdout`, or, when it would leave
    none and the dataset is smaller than the settings assume (no smaller subset was asked
    for), a fifth of them."""
    if cfg.holdout < n:
        return cfg.holdout
    if cfg.subset is None or cfg.subset >= n_dataset:
        return n // 5
    raise ValueError(f"Holding out {cfg.holdout:,} images leaves none of the {n:,} to train on.")


def _prepare(cfg: TrainConfig, device: torch.device, data: Dataset):
    """Device-resident (train subset, test images per epoch, full test set, held-out images or
    None) and memory format."""
    fmt = torch.channels_last if device.type == "cpu" else torch.contiguous_format
    train = Split(data.train_images, data.train_labels)
    test = Split(data.test_images, data.test_labels)
    idx = subset_indices(len(train), cfg.subset, cfg.seed)
    held = None
    if holdout := _holdout(cfg, len(idx), len(train)):
        # the held-out images: a seeded draw of the subset, never trained on
        order = torch.randperm(len(idx), generator=torch.Generator().manual_seed(cfg.seed + 1))
        held_idx = idx[order[:holdout]].sort().values
        idx = idx[order[holdout:]].sort().values
        held = DeviceData.from_split(train, device, held_idx, fmt)
    test_all = DeviceData.from_split(test, device, None, fmt)
    test_epoch = test_all
    if cfg.test_subset is not None and cfg.test_subset < len(test):
        test_idx = subset_indices(len(test), cfg.test_subset, cfg.seed).to(device)
        test_epoch = DeviceData(test_all.x[test_idx], test_all.y[test_idx])
    return DeviceData.from_split(train, device, idx, fmt), test_epoch, test_all, held, fmt


def _make_optimizer(cfg: TrainConfig, model: TinyVGG, graphed: bool) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.learning_rate, capturable=graphed)
    return torch.optim.SGD(model.parameters(), lr=cfg.learning_rate)


def _set_lr(optimizer: torch.optim.Optimizer, cfg: TrainConfig, step: int, per_epoch: int) -> None:
    progress = step / (per_epoch * cfg.epochs)
    for group in optimizer.param_groups:
        group["lr"] = cfg.learning_rate * 0.5 * (1 + math.cos(math.pi * progress))


def fit(
    cfg: TrainConfig | None = None,
    on_event: Callable[[Event], None] | None = None,
    stop: Any = None,
    *,
    train: Split | None = None,
    test: Split | None = None,
    data: Dataset | None = None,
) -> FitResult:
    """Train a fresh TinyVGG as `cfg` says, on `data` when given (a dataset held in memory,
    such as an upload: `cfg.data` then only names it), else on the dataset `cfg.data` names
    (see `training_data` for `train` and `test`); `stop` (Event or callable) is checked every
    step. The model has the dataset's channels, classes and name."""
    cfg = cfg or TrainConfig()
    cfg.validate(in_memory=data is not None)
    cfg = replace(cfg, lr=cfg.learning_rate)  # record the learning rate actually used
    dataset = training_data(cfg, data, train, test)
    with cudnn_settings(cfg.cudnn_benchmark):
        return _fit(cfg, on_event or (lambda event: None), stop, dataset)


def _fit(cfg: TrainConfig, emit: Callable[[Event], None], stop: Any, data: Dataset) -> FitResult:
    device = pick_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if device.type == "cpu":
        keep_freed_memory()
    train_data, test_data, test_all, held, fmt = _prepare(cfg, device, data)
    k = len(data.classes)
    shape = TinyVGGConfig(input_shape=data.channels, hidden_units=cfg.hidden_units, output_shape=k)
    model = build_model(shape, seed=cfg.seed, classes=data.classes, dataset=data.name)
    model = model.to(device=device, memory_format=fmt).train()
    # A captured step bakes the learning rate in, so a schedule runs eagerly.
    # Nor does a captured step draw new augmentations: an augmented run runs eagerly too.
    graphed = (cfg.cuda_graphs and device.type == "cuda" and cfg.schedule == "constant"
               and cfg.augment is None)  # fmt: skip
    optimizer = _make_optimizer(cfg, model, graphed)
    stepper = make_stepper(model, optimizer, train_data, cfg.batch_size, graphed, cfg.clip_norm)
    if cfg.augment:
        stepper.augment = Augmenter(cfg.augment, seed=cfg.seed, device=device)

    steps_per_epoch = math.ceil(len(train_data) / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    planned = schedule(total_steps, snapshot_count(cfg.hidden_units, cfg.snapshots))
    emit({
        "kind": "start", "device": describe(device), "dataset": data.name,
        "classes": list(data.classes), "channels": data.channels, "n_train": len(train_data),
        "n_test": len(test_data), "n_test_all": len(test_all),
        "n_holdout": len(held) if held is not None else 0, "steps_per_epoch": steps_per_epoch,
        "total_steps": total_steps, "config": asdict(cfg), "snapshot_steps": planned,
    })  # fmt: skip
    probe = probe_set(test_all, cfg.probe) if cfg.probe else None
    snaps = Recorder(planned, probe, emit)
    if snaps.due(0):
        snaps.take(model, 0, 0)
    shuffle = torch.Generator().manual_seed(cfg.seed)
    history: list[Event] = []
    warned = stopped = False
    steps_done = 0
    t0 = time.perf_counter()
    for epoch in range(cfg.epochs):
        stepper.reset()
        order = torch.randperm(len(train_data), generator=shuffle).to(device)
        seen, t_mark, seen_mark = 0, time.perf_counter(), 0
        for step in range(steps_per_epoch):
            if _is_stopped(stop):
                stopped = True
                break
            idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            if cfg.schedule == "cosine":
                _set_lr(optimizer, cfg, epoch * steps_per_epoch + step, steps_per_epoch)
            stepper(idx)
            steps_done += 1
            seen += len(idx)
            if snaps.due(steps_done):
                snaps.take(model, steps_done, epoch, stepper.running(seen))
            last = step == steps_per_epoch - 1
            if (step + 1) % cfg.log_every == 0 or last:
                loss, acc = stepper.running(seen)
                now = time.perf_counter()
                emit({
                    "kind": "step", "epoch": epoch, "step": step + 1,
                    "global_step": epoch * steps_per_epoch + step + 1, "loss": loss, "acc": acc,
                    "images_per_s": (seen - seen_mark) / max(now - t_mark, 1e-9),
                    "elapsed_s": now - t0, **_step_weights(model, cfg),
                })  # fmt: skip
                t_mark, seen_mark = now, seen
                done = epoch * steps_per_epoch + step + 1
                if not warned and (message := _health(loss, acc, done, cfg, k)):
                    emit({"kind": "warning", "message": message})
                    warned = True
        if stopped:
            break
        train_loss, train_acc = stepper.running(seen)
        test_res = evaluate(model, test_data)
        event = {
            "kind": "epoch", "epoch": epoch, "train_loss": train_loss, "train_acc": train_acc,
            "test_loss": test_res["model_loss"], "test_acc": test_res["model_acc"],
            "elapsed_s": time.perf_counter() - t0,
        }  # fmt: skip
        history.append(event)
        emit(event)
        done = (epoch + 1) * steps_per_epoch
        if not warned and (message := _health(train_loss, train_acc, done, cfg, k)):
            emit({"kind": "warning", "message": message})
            warned = True
    if planned and stopped:  # the weights it stopped with are the last snapshot
        ended = (history[-1]["train_loss"], history[-1]["train_acc"]) if history else (None, None)
        running = stepper.running(seen) if seen else ended
        snaps.take(model, steps_done, max(steps_done - 1, 0) // steps_per_epoch, running)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    train_time = time.perf_counter() - t0
    preds = None
    if history and not stopped and test_data is test_all:  # the last epoch just measured it
        loss, acc = history[-1]["test_loss"], history[-1]["test_acc"]
    else:  # one pass: the results and every test image's class
        loss, acc, preds = score(model, test_all)
    results = results_dict(type(model).__name__, loss, acc)
    failed = health.verdict(results, k)
    results.update(
        train_time_s=round(train_time, 3),
        device=describe(device),
        epochs_done=len(history),
        steps_done=steps_done,
        total_steps=total_steps,
        stopped=stopped,
        dataset=data.name,
        n_train=len(train_data),  # the images it trained on
        n_test=len(test_all),  # the test images the results are over
        failed=failed[0] if failed else None,  # a short label: "near chance", ...
        why=failed[1] if failed else None,  # a sentence: why, and what to try
    )
    if held is not None and history and not stopped:
        results.update(_calibrate(model, cfg, held, test_all))
    emit({"kind": "end", "results": results, "stopped": stopped, "history": history})
    model = model.to(memory_format=torch.contiguous_format)
    return FitResult(model, results, history, preds, snaps.taken)


def _calibrate(model: TinyVGG, cfg: TrainConfig, held: DeviceData, test: DeviceData) -> Event:
    """The temperature fitted on the held-out images (augmented as training was, from a
    generator of their own) and the test set's ECE before and after it."""
    x = held.x
    if cfg.augment:
        x = Augmenter(cfg.augment, seed=cfg.seed + 1, device=x.device)(x)
    t = fit_temperature(logits_of(model, x), held.y.cpu())
    test_logits, test_y = logits_of(model, test.x), test.y.cpu()
    return {
        "temperature": t,
        "holdout_images": len(held),
        "test_ece": ece(calibrated(test_logits), test_y),
        "test_ece_calibrated": ece(calibrated(test_logits, t), test_y),
    }


# ---------------------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tinyvgg.train", description=__doc__.split("\n")[0])
    d = TrainConfig()
    p.add_argument("--data", default=d.data,
                   help="fashion-mnist, mnist, kmnist, shapes, or a folder or .zip of class "
                        "folders")  # fmt: skip
    p.add_argument("--channels", type=int, choices=(1, 3), default=d.channels,
                   help="a folder's images in greyscale (1) or RGB (3)")  # fmt: skip
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument(
        "--lr",
        type=float,
        default=None,
        help=", ".join(f"default {v:g} ({k})" for k, v in DEFAULT_LR.items()),
    )
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--hidden-units", type=int, default=d.hidden_units)
    p.add_argument("--optimizer", choices=tuple(DEFAULT_LR), default=d.optimizer)
    p.add_argument("--schedule", choices=("constant", "cosine"), default=d.schedule)
    p.add_argument("--subset", type=int, default=None, help="train on N random images")
    p.add_argument("--test-subset", type=int, default=None, help="test on N images per epoch")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device, help="auto, cuda, mps or cpu")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    p.add_argument("--log-every", type=int, default=d.log_every)
    p.add_argument("--snapshots", type=int, default=d.snapshots,
                   help="weight snapshots kept, log-spaced over the steps (0: none)")  # fmt: skip
    p.add_argument("--probe", type=int, default=500,
                   help="first test images each snapshot is scored on (0: none)")  # fmt: skip
    p.add_argument("--holdout", type=int, default=d.holdout,
                   help="training images kept out to fit a temperature (0: none)")  # fmt: skip
    p.add_argument("--no-cuda-graphs", action="store_true", help="eager steps on CUDA")
    p.add_argument("--clip-norm", type=float, default=None,
                   help="clip the gradients' total norm to this (default: never)")  # fmt: skip
    p.add_argument("--augment", choices=AUGMENTS, default=None,
                   help="sketch: flips, silhouettes, outlines, jitter and ink levels")  # fmt: skip
    p.add_argument("--cudnn-benchmark", action="store_true",
                   help="let cuDNN autotune (runs no longer repeat exactly)")  # fmt: skip
    p.add_argument("--name", default="TinyVGG", help="model_name in the results")
    p.add_argument("--out", default="runs/tinyvgg.pt", help="checkpoint path ('' to skip)")
    return p


class _Printer:
    """Turns fit()'s events into tqdm bars and the notebook's per-epoch lines."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.steps_per_epoch = 0

    def __call__(self, e: Event) -> None:
        kind = e["kind"]
        if kind == "start":
            self.steps_per_epoch = e["steps_per_epoch"]
            tqdm.write(f"Training on {e['device']}: {e['dataset']} ({len(e['classes'])} "
                       f"classes), {e['n_train']} images, {e['steps_per_epoch']} steps per "
                       "epoch")  # fmt: skip
        elif kind == "step":
            if self.bar is None:
                self.bar = tqdm(total=self.steps_per_epoch, desc=f"Epoch {e['epoch']}",
                                unit="step", leave=False)  # fmt: skip
            self.bar.update(e["step"] - self.bar.n)
            self.bar.set_postfix(loss=f"{e['loss']:.4f}", acc=f"{e['acc']:.1f}%",
                                 img_s=f"{e['images_per_s']:.0f}")  # fmt: skip
        elif kind == "epoch":
            self.close()
            tqdm.write(f"Epoch: {e['epoch']}\n---------")
            tqdm.write(f"Train loss: {e['train_loss']:.5f} | Train acc: {e['train_acc']:.2f}%")
            tqdm.write(f"Test loss: {e['test_loss']:.5f} | Test acc: {e['test_acc']:.2f}%\n")
        elif kind == "warning":
            self.close()
            tqdm.write(f"Warning: {e['message']}")
        elif kind == "end":
            self.close()
            r = e["results"]
            if e["stopped"]:
                tqdm.write(f"Stopped after {r['steps_done']} of {r['total_steps']} steps.")
            tqdm.write(f"Train time on {r['device']}: {r['train_time_s']:.3f} seconds")
            if r["why"]:
                tqdm.write(f"Warning: {r['why']}")

    def close(self) -> None:
        """End the epoch's progress bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def main(argv: list[str] | None = None) -> int:
    """Train from the command line; the last line printed is the results as JSON."""
    args = _parser().parse_args(argv)
    cfg = TrainConfig(
        epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
        hidden_units=args.hidden_units, optimizer=args.optimizer, schedule=args.schedule,
        subset=args.subset,
        seed=args.seed, device=args.device, log_every=args.log_every,
        test_subset=args.test_subset, cuda_graphs=not args.no_cuda_graphs, threads=args.threads,
        cudnn_benchmark=args.cudnn_benchmark, clip_norm=args.clip_norm,
        snapshots=args.snapshots, probe=args.probe, augment=args.augment,
        holdout=args.holdout, data=args.data, channels=args.channels,
    )  # fmt: skip
    try:
        result = fit(cfg, on_event=_Printer())
    except (ValueError, DataError) as e:  # bad settings or dataset, no dataset, no such device
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    result.results["model_name"] = args.name
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        metrics = {**result.results, "history": result.history, "train_config": asdict(cfg)}
        save_checkpoint(out, result.model, metrics, plain_list(result.snapshots))
        tqdm.write(f"Saved checkpoint to {out}")
    print(json.dumps(result.results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
