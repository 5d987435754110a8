"""Teacher mode: `?present=1` on any page hides what a projector does not need, enlarges figures.

The choice sticks for the session (switching pages keeps it); `?present=0` leaves it. Controls a
page wraps in `controls(name)` disappear; every figure drawn through `chart()` grows by SCALE;
Streamlit's own text grows with the root font size. The sidebar keeps the model and device.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import styles

KEY = "present_mode"
SCALE = 1.35  # figure heights when presenting


def presenting() -> bool:
    """Whether this session is in teacher mode (set by `?present=1`, cleared by `?present=0`)."""
    value = st.query_params.get("present")
    if value is not None:
        st.session_state[KEY] = value.strip().lower() in ("1", "true", "yes", "on")
    return bool(st.session_state.get(KEY, False))


def apply() -> None:
    """Called by app.py every run: the teacher-mode styles, when on."""
    if presenting():
        st.html(styles.PRESENT)


def controls(name: str):
    """A container for controls a projector does not need; hidden in teacher mode."""
    return st.container(key=f"ctl-{name}")


def chart(fig, key: str, where: Any = None, **kwargs) -> Any:
    """`st.plotly_chart`, taller in teacher mode (the figure itself is left untouched)."""
    height = fig.layout.height if hasattr(fig, "layout") else None
    if presenting() and height:
        kwargs["height"] = int(height * SCALE)
        if kwargs.get("width") == "content" and fig.layout.width:
            kwargs["width"] = int(fig.layout.width * SCALE)  # the same shape, larger
    return (where or st).plotly_chart(fig, key=key, **kwargs)


def query_extra() -> dict[str, str]:
    """Query parameters a page should keep when it rewrites the address bar."""
    return {"present": "1"} if presenting() else {}
