"""The session's one cache for what pages build from tensors (traces, figures, thumbnails,
arithmetic), keyed on what the value depends on: model key, input key, layer, cell, ...

Keys never hold `id()` of an object: Python reuses the id of a freed object, so a new trace
could meet an old trace's key and a page would show another input's figures.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

import streamlit as st
import torch

T = TypeVar("T")
MAX_ENTRIES = 96  # least recently used entries go first
KEY = "_memo"


def memo(key: tuple[Hashable, ...], build: Callable[[], T], store: str = KEY,
         max_entries: int = MAX_ENTRIES) -> T:  # fmt: skip
    """`build()` once per session for this key, then the kept value. A few large values that
    the many small ones must not push out get a `store` of their own, with its own size."""
    cache: OrderedDict = st.session_state.setdefault(store, OrderedDict())
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = cache[key] = build()
    while len(cache) > max_entries:
        cache.popitem(last=False)
    return value


def digest(content: bytes | torch.Tensor) -> str:
    """A short fingerprint of bytes or of a tensor's values, dtype and shape, for a cache key."""
    if isinstance(content, torch.Tensor):
        t = content.detach().cpu().contiguous()
        content = f"{t.dtype}{tuple(t.shape)}".encode() + t.numpy().tobytes()
    return hashlib.blake2b(content, digest_size=10).hexdigest()
