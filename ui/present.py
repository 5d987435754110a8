"""Teacher mode: hides what a projector does not need, enlarges text and figures.

Turned on and off by the sidebar's toggle or `?present=1` / `?present=0` on any page. The choice
sticks for the session (switching pages keeps it) and, through a cookie, for this browser: a
reload or a typed address keeps it too. Controls a page wraps in `controls(name)` disappear;
every figure drawn through `chart()` grows by SCALE; Streamlit's own text grows with the root
font size. The sidebar keeps the model, the device and the toggle.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import styles
from ui.kept_plot import kept_chart

KEY = "present_mode"
TOGGLE_KEY = "present_toggle"
COOKIE = "tinyvgg_present"  # "1" or "0": this browser's last choice
SCALE = 1.35  # figure heights when presenting
# Writes the cookie in the browser (Streamlit reads cookies, it does not set them).
COOKIE_JS = (
    "<script data-present-cookie>document.cookie = '{name}={value}; path=/; "
    "max-age=31536000; SameSite=Lax';</script>"
)


def presenting() -> bool:
    """Whether this session is in teacher mode: `?present=` when given, else the session's
    choice, else (a new session) this browser's cookie."""
    value = st.query_params.get("present")
    if value is not None:
        st.session_state[KEY] = value.strip().lower() in ("1", "true", "yes", "on")
    elif KEY not in st.session_state:
        st.session_state[KEY] = st.context.cookies.get(COOKIE) == "1"
    return bool(st.session_state[KEY])


def _toggled() -> None:
    on = st.session_state[TOGGLE_KEY]
    st.session_state[KEY] = on
    st.query_params["present"] = "1" if on else "0"  # the address agrees, so a link keeps it


def apply() -> None:
    """Called by app.py every run: the teacher-mode styles when on, and the cookie."""
    on = presenting()
    if on:
        st.html(styles.PRESENT)
    st.html(COOKIE_JS.format(name=COOKIE, value=int(on)), unsafe_allow_javascript=True)


def toggle_ui() -> None:
    """The sidebar's switch; shown in teacher mode too, to leave it."""
    st.session_state[TOGGLE_KEY] = presenting()
    st.toggle("Teacher mode", key=TOGGLE_KEY, on_change=_toggled,
              help="For a projector: larger text and maps, fewer controls. This browser keeps "
              "the choice; `?present=1` or `?present=0` in an address sets it too.")  # fmt: skip


def controls(name: str):
    """A container for controls a projector does not need; hidden in teacher mode."""
    return st.container(key=f"ctl-{name}")


def chart(fig, key: str, where: Any = None, grow: bool = True, **kwargs) -> Any:
    """`st.plotly_chart`, taller in teacher mode unless not `grow` (a map whose column already
    sets its width: grown, it would only add a blank band). The figure is left untouched."""
    height = fig.layout.height if hasattr(fig, "layout") else None
    if presenting() and height and grow:
        kwargs["height"] = int(height * SCALE)
        if kwargs.get("width") == "content" and fig.layout.width:
            kwargs["width"] = int(fig.layout.width * SCALE)  # the same shape, larger
    return (where or st).plotly_chart(fig, key=key, **kwargs)


def kept_map(fig, key: str, grow: bool = True, on_select=None, width: str = "content") -> Any:
    """`chart` for a figure drawn in plotly's own theme into a chart kept mounted across reruns
    (ui/kept_plot.py): the explorer's maps, redrawn at each step without a new mount."""
    height = fig.layout.height if presenting() and grow else None
    if height:
        height = int(height * SCALE)
        if width == "content" and fig.layout.width:
            width = int(fig.layout.width * SCALE)
    return kept_chart(fig, key, on_select=on_select, width=width, height=height)


def query_extra() -> dict[str, str]:
    """Query parameters a page should keep when it rewrites the address bar."""
    return {"present": "1"} if presenting() else {}
