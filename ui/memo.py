"""Per-session memo for figures: built once for a trace, layer and cell, then reused."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

T = TypeVar("T")
MAX_ENTRIES = 64


def memo(key: tuple, build: Callable[[], T]) -> T:
    """`build()` once per session for this key; the cache is emptied when it grows large."""
    cache = st.session_state.setdefault("_figure_memo", {})
    if key not in cache:
        if len(cache) >= MAX_ENTRIES:
            cache.clear()
        cache[key] = build()
    return cache[key]
