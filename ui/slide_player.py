"""Play, pause, step and speed for the kernel slide (ui.figures.slide) of any conv or pool layer.

The server steps the animation: a fragment redraws the figure and its multiply-add, and it
reruns on a timer (`st.fragment(run_every=...)`) only while playing. Paused, nothing runs; each
click on a control reruns the fragment alone, not the page. The frame, the play state and the
speed live in `st.session_state` under keys derived from `key`.
"""

from __future__ import annotations

import streamlit as st
import torch

from tinyvgg.slide import Layer, frame_count, multiply_add, slide_step
from ui import styles
from ui.figures.slide import slide_figure
from ui.present import chart

SPEEDS = [0.5, 1, 2, 4, 8, 16, 32, 64]  # output cells per second
MIN_TICK_S = 0.25  # faster speeds write several cells per tick instead of ticking faster


def _keys(key: str) -> tuple[str, str, str, str]:
    # the frame is not a widget's key: a widget whose value the server moves on a timer races
    # with the browser sending its old value back
    return f"{key}_frame", f"{key}_playing", f"{key}_speed", f"{key}_fresh"


def timing(speed: float) -> tuple[float, int]:
    """(seconds between ticks, cells written per tick) for `speed` cells per second."""
    tick = max(MIN_TICK_S, 1 / speed)
    return tick, max(1, round(speed * tick))


def _go_to(key: str, frame: int) -> None:
    """First, Back and Step's callback: pause on `frame`, the cell the button pointed at when
    it was drawn (not a move from wherever the slide is now: a click run twice by a busy server,
    or one landing after a tick, still lands where the user aimed)."""
    fk, pk, _, _ = _keys(key)
    st.session_state[pk] = False
    st.session_state[fk] = frame


def _set_playing(key: str, n: int, playing: bool) -> None:
    """Play or Pause's callback. It sets the state the button showed rather than toggling it,
    so a click the server sees twice (a busy server folding reruns together) still pauses."""
    fk, pk, _, fresh = _keys(key)
    if st.session_state[pk] == playing:
        return
    st.session_state[pk] = playing
    if playing:
        st.session_state[fresh] = True  # the first run shows the current cell; ticks advance
        if st.session_state[fk] >= n - 1:
            st.session_state[fk] = 0  # play again from the start


def _advance(key: str, n: int, per_tick: int) -> None:
    fk, pk, _, fresh = _keys(key)
    if st.session_state.pop(fresh, False):
        return
    st.session_state[fk] = min(st.session_state[fk] + per_tick, n - 1)
    if st.session_state[fk] == n - 1:
        st.session_state[pk] = False  # the next tick sees this and stops the timer


# Keyboard users keep their place. Play and Pause (and the steps) are other widgets while the
# slide plays (_button_key), so the button that had the focus is replaced and the focus falls to
# the page: Space on Play could not then pause. After Space or Enter on a control, a lost focus
# goes to the control drawn in the same column (Play's Pause; Play again when the slide ends),
# until the next click or key elsewhere; a mouse click leaves the focus where the browser puts it.
FOCUS_JS = """<script data-slide-focus>
if (!window.__slideFocus) {
  window.__slideFocus = true;
  const BOX = '[class*="st-key-slidectl_"]';
  const cols = box => [...box.querySelectorAll('[data-testid="stColumn"]')];
  let last = null;
  addEventListener('keydown', e => {
    const btn = e.target.closest && e.target.closest(BOX + ' button');
    if (!btn || (e.key !== ' ' && e.key !== 'Enter')) { last = null; return; }
    const box = btn.closest(BOX);
    const name = [...box.classList].find(c => c.startsWith('st-key-slidectl_'));
    last = {name, col: cols(box).findIndex(c => c.contains(btn))};
  }, true);
  addEventListener('pointerdown', () => { last = null; }, true);
  new MutationObserver(() => {
    if (!last || (document.activeElement && document.activeElement !== document.body)) return;
    const box = document.querySelector('.' + last.name);
    const btn = box && cols(box)[last.col]?.querySelector('button:not(:disabled)');
    if (btn) btn.focus({preventScroll: true});
  }).observe(document.body, {childList: true, subtree: true});
}
</script>"""


def _button_key(key: str, suffix: str, playing: bool) -> str:
    """A control's widget key, different while playing. A click that lands on a tick of the
    timer reaches the server twice (in the tick's rerun, then in its own); by the second copy
    the page shows the paused controls, and a copy of Pause must not reach Play (or a copy of
    Step the next Step) through a shared key. Paused, nothing ticks and the keys stay put."""
    return f"{key}_{suffix}_while_playing" if playing else f"{key}_{suffix}"


def _controls(key: str, n: int, playing: bool) -> None:
    fk, _, sk, _ = _keys(key)
    frame = st.session_state[fk]
    st.html(styles.SLIDE_CONTROLS)
    st.html(FOCUS_JS, unsafe_allow_javascript=True)
    with st.container(key=f"slidectl_{key}"):
        b = st.columns([1, 1, 1, 1, 3], vertical_alignment="bottom")
    steps = (  # (column, label, key suffix, icon, help, cells to move; None: to the first)
        (0, "First", "first", "first_page", "Back to the first output cell", None),
        (1, "Back", "back", "navigate_before", "One output cell back", -1),
        (3, "Step", "next", "navigate_next", "One output cell forward", 1),
    )
    for col, label, suffix, icon, help_text, delta in steps:
        target = 0 if delta is None else min(max(frame + delta, 0), n - 1)
        b[col].button(label, key=_button_key(key, suffix, playing), icon=f":material/{icon}:",
                      help=help_text, on_click=_go_to, args=(key, target))  # fmt: skip
    b[2].button(
        "Pause" if playing else "Play",
        key=_button_key(key, "play", playing),
        type="primary",
        icon=":material/pause:" if playing else ":material/play_arrow:",
        on_click=_set_playing,
        args=(key, n, not playing),
    )
    b[4].select_slider("Speed (output cells per second)", SPEEDS, key=sk)
    if playing or n == 1:
        st.progress((frame + 1) / n, text=f"Output cell {frame + 1} of {n}")
    else:
        st.session_state[f"{key}_seek"] = frame
        st.slider("Output cell (row by row)", 0, n - 1, key=f"{key}_seek", on_change=_seek,
                  args=(key,))  # fmt: skip


def _seek(key: str) -> None:
    st.session_state[_keys(key)[0]] = st.session_state[f"{key}_seek"]


def slide_player(
    x: torch.Tensor,
    layer: Layer,
    key: str,
    channel: int = 0,
    *,
    out: torch.Tensor | None = None,
    in_channels: list[int] | None = None,
    start: int | None = None,
) -> None:
    """The animated slide of `layer` over x (1, C, H, W) for output `channel`, with controls.

    `out` is layer(x) when the caller has it; `in_channels` picks the input channels drawn
    for a conv (default: the first three); `start` is the frame to show first, and again
    whenever the caller's `start` changes (the explorer's picked cell). `key` must be unique
    on the page.
    """
    n = frame_count(x, layer)
    fk, pk, sk, _ = _keys(key)
    if start is not None and st.session_state.get(f"{key}_start") != start:
        st.session_state[f"{key}_start"] = start
        st.session_state[fk] = min(start, n - 1)
    st.session_state.setdefault(fk, 0)
    st.session_state.setdefault(pk, False)
    st.session_state.setdefault(sk, 2)
    st.session_state[fk] = min(st.session_state[fk], n - 1)  # the layer may have shrunk
    playing, speed = st.session_state[pk], st.session_state[sk]
    tick, per_tick = timing(speed)

    @st.fragment(run_every=tick if playing else None)
    def player() -> None:
        if st.session_state[pk] != playing or (playing and st.session_state[sk] != speed):
            st.rerun()  # only a full run sets or clears the fragment's timer
        if playing:
            _advance(key, n, per_tick)
        _controls(key, n, st.session_state[pk])
        frame = st.session_state[fk]
        chart(
            slide_figure(x, layer, channel, frame, out=out, in_channels=in_channels),
            key=f"{key}_figure",
        )
        st.code(multiply_add(slide_step(x, layer, channel, frame)), language=None, wrap_lines=True)

    player()
