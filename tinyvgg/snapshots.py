"""Weight snapshots of a training run, for replaying it: when to take them, what each holds, and
how they travel (as event bytes between processes, as plain data in a checkpoint).

fit() takes about 50 per run, log-spaced over the planned steps (step 0 is the initial weights;
then 1, 2, 3, 5, 8, ... to the last step), so that the fast early changes are visible. The
final weights are always the last snapshot, also when a run is stopped. A run keeps at most
SNAPSHOT_BYTES of them: fewer when the model is large.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from tinyvgg.data import DeviceData, Split
from tinyvgg.evaluate import score
from tinyvgg.model import (
    CheckpointError,
    TinyVGG,
    TinyVGGConfig,
    infer_config,
    model_from,
    read_checkpoint,
)

SNAPSHOT_BYTES = 4_500_000  # a run's snapshots at most; a checkpoint with them stays under 5 MB
MAX_LOADED = 256  # snapshots a checkpoint may hold
MAX_LOADED_VALUES = 16_000_000  # float values over all of a file's snapshots (64 MB)
STATS = ("train_loss", "train_acc", "probe_loss", "probe_acc")  # floats, or None


@dataclass
class Snapshot:
    """The weights at one moment of a run, and how the run stood then."""

    step: int  # optimizer steps done (0: the initial weights)
    epoch: int  # the epoch the step belongs to, from 0
    train_loss: float | None  # running mean over this epoch's steps so far (None at step 0)
    train_acc: float | None  # percent, likewise
    probe_loss: float | None  # on the probe images (the first test images), None if not probed
    probe_acc: float | None  # percent
    probe_images: int  # how many test images the probe scored (0: none)
    state_dict: dict[str, torch.Tensor]  # on the CPU, contiguous, owned by this snapshot

    def __repr__(self) -> str:
        acc = f", probe_acc={self.probe_acc:.2f}" if self.probe_acc is not None else ""
        return f"Snapshot(step={self.step}, epoch={self.epoch}{acc})"

    def nbytes(self) -> int:
        """Bytes of its weights."""
        return sum(t.numel() * t.element_size() for t in self.state_dict.values())

    def model(self) -> TinyVGG:
        """A fresh TinyVGG (CPU, eval mode) holding these weights."""
        model = TinyVGG(infer_config(self.state_dict))
        model.load_state_dict(self.state_dict)
        return model.eval()

    def plain(self) -> dict[str, Any]:
        """As plain data (ints, floats, None, tensors): a checkpoint's `snapshots` entry."""
        stats = {k: getattr(self, k) for k in STATS}
        return {"step": self.step, "epoch": self.epoch, **stats,
                "probe_images": self.probe_images, "state_dict": self.state_dict}  # fmt: skip

    def event(self) -> dict[str, Any]:
        """fit()'s "snapshot" event: plain data, each weight as (shape, float32 bytes).

        Raw bytes cost a twentieth of torch.save's (10 against 260 us for TinyVGG-10), and a
        tensor itself would cross a process queue as shared memory that dies with the worker.
        """
        packed = {
            k: (list(v.shape), v.float().numpy().tobytes()) for k, v in self.state_dict.items()
        }
        return {"kind": "snapshot", **{k: v for k, v in self.plain().items() if k != "state_dict"},
                "state": packed}  # fmt: skip


# ---------------------------------------------------------------------------- taking them


def param_count(config: TinyVGGConfig) -> int:
    """Learnable values of a TinyVGG, from its config alone."""
    h, c, k = config.hidden_units, config.input_shape, config.output_shape
    convs = (h * c * 9 + h) + 3 * (h * h * 9 + h)  # conv_1_1, then three h -> h convs
    return convs + h * 7 * 7 * k + k


def snapshot_count(hidden_units: int, wanted: int) -> int:
    """How many snapshots a run keeps: `wanted`, fewer if they would pass SNAPSHOT_BYTES, and
    none when not even the first and the last fit (0 when `wanted` is 0)."""
    fits = SNAPSHOT_BYTES // (4 * param_count(TinyVGGConfig(hidden_units=hidden_units)))
    count = min(wanted, fits)
    return count if count >= 2 else 0


def schedule(total_steps: int, count: int) -> list[int]:
    """Up to `count` distinct steps from 0 to `total_steps`, both included, log-spaced between
    (0, 1, 2, 3, 5, 8, ...): the points of a geometric series rounded, with more points taken
    until rounding no longer merges them below `count`."""
    if count <= 0:
        return []
    if count >= total_steps + 1:
        return list(range(total_steps + 1))
    best, k = [0, total_steps], max(count - 1, 2)
    while True:
        points = {0} | {round(total_steps ** (i / (k - 1))) for i in range(k)}
        if len(points) > count:
            return best
        best, k = sorted(points), k + 1


class Recorder:
    """Takes fit()'s snapshots at the planned steps and sends each as an event."""

    def __init__(
        self, steps: list[int], probe: DeviceData | None, emit: Callable[[dict], None]
    ) -> None:
        self.steps, self.probe, self.emit = set(steps), probe, emit
        self.taken: list[Snapshot] = []

    def due(self, step: int) -> bool:
        """Whether a snapshot is planned after `step` steps."""
        return step in self.steps

    def __repr__(self) -> str:
        return f"Recorder(planned={len(self.steps)}, taken={len(self.taken)})"

    def take(
        self,
        model: TinyVGG,
        step: int,
        epoch: int,
        running: tuple[float | None, float | None] = (None, None),
    ) -> None:
        """Keep the model's weights now (copied to the CPU) with the running train (loss,
        accuracy), scored on the probe images if there are any, and send it as an event."""
        if self.taken and self.taken[-1].step == step:
            return  # already kept (a stopped run ends where a snapshot was planned)
        state = {k: v.detach().to("cpu", memory_format=torch.contiguous_format, copy=True)
                 for k, v in model.state_dict().items()}  # fmt: skip
        loss = acc = None
        if self.probe is not None:
            loss, acc = measure_probe(model, self.probe)
        snap = Snapshot(step, epoch, *running, loss, acc,
                        len(self.probe) if self.probe is not None else 0, state)  # fmt: skip
        self.taken.append(snap)
        self.emit(snap.event())


def probe_set(
    test: Split | DeviceData, images: int, device: torch.device | None = None
) -> DeviceData:
    """The first `images` test images on `device`, in the memory format fit() trains in."""
    if isinstance(test, DeviceData):
        return DeviceData(test.x[:images], test.y[:images])
    device = device or torch.device("cpu")
    fmt = torch.channels_last if device.type == "cpu" else torch.contiguous_format
    return DeviceData.from_split(test, device, torch.arange(min(images, len(test))), fmt)


def measure_probe(model: TinyVGG, probe_data: DeviceData) -> tuple[float, float]:
    """(mean cross-entropy, accuracy in percent) of `model` on the probe images, as fit()
    measures it at a snapshot."""
    loss, acc, _ = score(model, probe_data)
    return loss, acc


# ---------------------------------------------------------------------------- reading them


def _number(value: Any, kind: type) -> Any:
    if value is None and kind is float:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CheckpointError("A snapshot in the checkpoint has numbers that are not numbers.")
    out = kind(value)
    if kind is float and not math.isfinite(out):
        return None
    return out


def _state(raw: Any, like: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A snapshot's weights, checked name by name and shape by shape against `like` (the
    checkpoint's own, already bounded) before any is copied: shapes can lie."""
    if not isinstance(raw, dict) or set(raw) != set(like):
        raise CheckpointError("A snapshot in the checkpoint does not hold this model's weights.")
    out = {}
    for name, ref in like.items():
        t = raw[name]
        if not isinstance(t, torch.Tensor) or t.shape != ref.shape or not t.is_floating_point():
            raise CheckpointError(f"A snapshot's {name} does not fit the model's weights.")
        out[name] = t.to(torch.float32, memory_format=torch.contiguous_format, copy=True)
    return out


def from_plain(raw: Any, like: dict[str, torch.Tensor]) -> Snapshot:
    """One checkpoint `snapshots` entry (see Snapshot.plain) as a Snapshot, checked."""
    if not isinstance(raw, dict):
        raise CheckpointError("A snapshot in the checkpoint is not a dict.")
    try:
        stats = [_number(raw.get(k), float) for k in STATS]
        step, epoch = _number(raw["step"], int), _number(raw["epoch"], int)
        images = _number(raw.get("probe_images", 0), int)
    except KeyError as e:
        raise CheckpointError("A snapshot in the checkpoint has no step or epoch.") from e
    return Snapshot(step, epoch, *stats, images, _state(raw.get("state_dict"), like))


def from_event(event: dict[str, Any]) -> Snapshot:
    """A "snapshot" event (from this app's own worker) back as a Snapshot."""
    state = {
        k: torch.frombuffer(bytearray(data), dtype=torch.float32).reshape(shape)
        for k, (shape, data) in event["state"].items()
    }
    return from_plain({**event, "state_dict": state}, state)


def plain_list(snapshots: list[Snapshot]) -> list[dict[str, Any]]:
    """A checkpoint's `snapshots` entry."""
    return [s.plain() for s in snapshots]


def load_snapshots(source) -> list[Snapshot]:
    """The snapshots a checkpoint file (path, bytes or file) holds; [] for one without (older
    checkpoints, notebook state_dicts). A file whose snapshots do not fit its own weights, or
    hold more than MAX_LOADED or MAX_LOADED_VALUES, raises CheckpointError."""
    raw = read_checkpoint(source)
    if not isinstance(raw, dict) or "snapshots" not in raw:
        return []
    entries = raw["snapshots"]
    if not isinstance(entries, list) or len(entries) > MAX_LOADED:
        raise CheckpointError(f"The checkpoint's snapshots are not a list of at most "
                              f"{MAX_LOADED}.")  # fmt: skip
    model, _ = model_from(raw)  # the weights checked, and bounded by MAX_SIZES
    if param_count(model.config) * len(entries) > MAX_LOADED_VALUES:
        raise CheckpointError(
            f"The checkpoint holds more snapshots than this app reads "
            f"({len(entries)} of hidden_units={model.config.hidden_units})."
        )
    return [from_plain(e, model.state_dict()) for e in entries]
