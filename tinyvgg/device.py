"""Pick the device once: cuda, then mps, then cpu; `--device` or $TINYVGG_DEVICE override."""

from __future__ import annotations

import os

import torch

CHOICES = ("auto", "cuda", "mps", "cpu")


class DeviceError(ValueError):
    """A requested device that this machine does not have; the message is one sentence."""


def _available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    return kind == "cpu"


def pick_device(preference: str | None = None) -> torch.device:
    """The device to use: the argument, else $TINYVGG_DEVICE, else the best one available."""
    pref = (preference or os.environ.get("TINYVGG_DEVICE") or "auto").strip().lower()
    kind = pref.split(":")[0]
    if kind not in CHOICES:
        raise DeviceError(f"Unknown device {pref!r}: choose one of {', '.join(CHOICES)}.")
    if kind == "auto":
        return torch.device(next(k for k in ("cuda", "mps", "cpu") if _available(k)))
    if not _available(kind):
        raise DeviceError(f"Device {pref!r} is not available on this machine; use auto or cpu.")
    return torch.device(pref)


def describe(device: torch.device) -> str:
    """A short human label, e.g. 'cuda (NVIDIA H200)' or 'cpu (2 threads)'."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type
