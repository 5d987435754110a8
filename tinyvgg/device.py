"""Pick the device once: cuda, then mps, then cpu; `--device` or $TINYVGG_DEVICE override."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys
from collections.abc import Iterator

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
        kind = pref = next(k for k in ("cuda", "mps", "cpu") if _available(k))
    if not _available(kind):
        raise DeviceError(f"Device {pref!r} is not available on this machine; use auto or cpu.")
    device = torch.device(pref)
    exact_fp32(device)
    return device


def exact_fp32(device: torch.device) -> None:
    """On CUDA, make float32 convolutions full float32, as on the CPU (process-wide, idempotent).

    PyTorch lets cuDNN compute float32 convolutions in TF32 (inputs rounded to 10 bits of
    mantissa) on Ampere and later GPUs, which it may pick for the training step's gradients at
    no gain in speed for a model this small (bench/README.md). Turning TF32 off keeps a GPU
    run's arithmetic the CPU's, and the explorer's 1e-5 check of every explained cell safe on
    any GPU. (Matmuls are full float32 by PyTorch's default.)
    """
    if device.type == "cuda":
        torch.backends.cudnn.allow_tf32 = False


def describe(device: torch.device) -> str:
    """A short human label, e.g. 'cuda (NVIDIA H200)' or 'cpu (2 threads)'."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        n = torch.get_num_threads()
        return f"cpu ({n} thread{'' if n == 1 else 's'})"
    return device.type


@contextlib.contextmanager
def cudnn_settings(benchmark: bool = False) -> Iterator[None]:
    """cuDNN's kernel choice for one training run, restored afterwards.

    By default only deterministic kernels, chosen without timing them, so that a seeded run on
    a GPU repeats exactly, as it does on the CPU. With `benchmark`, cuDNN times its kernels for
    each shape and keeps the fastest, which may be a nondeterministic one, or another one on
    the next run, so seeded runs drift apart (bench/README.md has the figures).
    """
    cudnn = torch.backends.cudnn
    saved = cudnn.benchmark, cudnn.deterministic
    cudnn.benchmark, cudnn.deterministic = benchmark, not benchmark
    try:
        yield
    finally:
        cudnn.benchmark, cudnn.deterministic = saved


_ALLOCATOR_TUNED = False


def keep_freed_memory() -> bool:
    """Let glibc keep freed blocks for reuse instead of returning them to the OS (once per process).

    A CPU training step frees and reallocates a few MB of activations. With glibc's defaults
    those blocks go back to the OS and come back as fresh pages, page faults that can take a
    third of a small step's time. Blocks under 32 MB stay in the heap, and up to 256 MB of free
    heap is kept; bigger blocks (a dataset) are still returned. True if set.
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED or not sys.platform.startswith("linux"):
        return _ALLOCATOR_TUNED
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
        ok = libc.mallopt(m_mmap_threshold, 32 << 20) == 1
        _ALLOCATOR_TUNED = ok and libc.mallopt(m_trim_threshold, 256 << 20) == 1
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        _ALLOCATOR_TUNED = False
    return _ALLOCATOR_TUNED
