"""The explorer's layer strip as one element: a tile per layer (thumbnail, a button with its
name, kind, shape and parameters), kept mounted across reruns.

Drawn with Streamlit's own elements the strip was 57 of a step's 128 elements (an image, a
button and a caption per layer, in columns), each rendered again at every step although only
the selected button changes. Here a step sends the same tiles and the selected name; the
browser rebuilds the tiles only when they change (another input or model) and otherwise moves
the highlight. A click on a name is a trigger named `pick` whose value is the layer's name,
read with `picked(key)` in the `on_pick` callback.

The tiles sit in rows of equal length that fit the strip's own width: 14 layers as 1 row of
14, 2 of 7 (a laptop or a 1920 px screen), 5+5+4, or 4+4+4+2 (a phone, instead of 14 stacked
full-width tiles), the most a row whose tiles stay 7.5rem wide or more (10rem at most).
Teacher mode's tiles are the names only, in type a back row reads (0.95rem of teacher mode's
19 px: 18 px), each name whole: two rows of seven on a projector, 5+5+4 beside an open sidebar
on a 1024 px one, rows of four on a phone.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import streamlit as st

JS = r"""
function tile(layer, compact) {
  const t = document.createElement('div');
  t.className = 'ls-tile';
  if (!compact && layer.thumb) {
    const img = document.createElement('img');
    img.src = layer.thumb;
    img.alt = '';
    t.appendChild(img);
  }
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.layer = layer.name;
  b.textContent = layer.name;
  t.appendChild(b);
  if (!compact) {
    const c = document.createElement('div');
    c.className = 'ls-caption';
    const code = document.createElement('code');
    code.textContent = layer.shape;
    c.append(layer.kind + ' · ', code, ` · ${layer.params.toLocaleString('en-US')} params`);
    t.appendChild(c);
  }
  return t;
}

export default function ({ data, parentElement, setTriggerValue }) {
  let strip = parentElement.querySelector('.ls-strip');
  if (!strip) {
    const wrap = document.createElement('div');
    wrap.className = 'ls-wrap';
    strip = document.createElement('div');
    strip.className = 'ls-strip';
    wrap.appendChild(strip);
    parentElement.appendChild(wrap);
    strip.addEventListener('click', e => {
      const b = e.target.closest('button[data-layer]');
      if (b) strip.__pick(b.dataset.layer);
    });
  }
  strip.__pick = name => setTriggerValue('pick', name);
  const tiles = JSON.stringify([data.compact, data.layers]);
  if (strip.__tiles !== tiles) {  // another input or model: new tiles; else only the highlight
    strip.__tiles = tiles;
    strip.classList.toggle('ls-compact', data.compact);
    strip.replaceChildren(...data.layers.map(layer => tile(layer, data.compact)));
  }
  for (const b of strip.querySelectorAll('button[data-layer]')) {
    const on = b.dataset.layer === data.selected;
    b.classList.toggle('ls-selected', on);
    b.setAttribute('aria-pressed', String(on));
  }
}
"""
CSS = """
.ls-wrap {container-type: inline-size;}
.ls-strip {display: grid; gap: 0.6rem 1rem; grid-template-columns: repeat(4, minmax(0, 10rem));
  font-family: var(--st-font, "Source Sans", sans-serif); color: var(--st-text-color, #31333f);}
@container (min-width: 41.5rem) {.ls-strip {grid-template-columns: repeat(5, minmax(0, 10rem));}}
@container (min-width: 58.5rem) {.ls-strip {grid-template-columns: repeat(7, minmax(0, 10rem));}}
@container (min-width: 118rem) {.ls-strip {grid-template-columns: repeat(14, minmax(0, 10rem));}}
.ls-tile {display: flex; flex-direction: column; gap: 0.5rem; min-width: 0;}
.ls-tile img {width: 100%; display: block; border-radius: 0.25rem;}
.ls-tile button {width: 100%; min-height: 2.5rem; padding: 0.25rem 0.75rem; font: inherit;
  font-size: 1rem; line-height: 1.6; border-radius: var(--st-base-radius, 0.5rem);
  border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2)); cursor: pointer;
  background: var(--st-background-color, white); color: inherit; overflow-wrap: anywhere;}
.ls-tile button:hover {border-color: var(--st-primary-color, #ff4b4b);
  color: var(--st-primary-color, #ff4b4b);}
.ls-tile button:focus-visible {outline: 2px solid var(--st-primary-color, #ff4b4b);}
.ls-tile button.ls-selected {background: var(--st-primary-color, #ff4b4b); color: white;
  border-color: var(--st-primary-color, #ff4b4b);}
.ls-caption {font-size: 0.875rem; line-height: 1.4; opacity: 0.6; overflow-wrap: anywhere;}
.ls-caption code {font-size: 0.75em; padding: 0.1em 0.25em; border-radius: 0.25rem;
  background: var(--st-code-background-color, rgba(172, 177, 195, 0.25));}
.ls-compact {gap: 0.4rem 0.3rem; grid-template-columns: repeat(4, minmax(0, 1fr));}
@container (min-width: 28rem) {.ls-compact {grid-template-columns: repeat(5, minmax(0, 1fr));}}
@container (min-width: 39rem) {.ls-compact {grid-template-columns: repeat(7, minmax(0, 1fr));}}
.ls-compact button {padding: 0.15rem 0.05rem; min-height: 2.1rem; font-size: 0.95rem;
  white-space: nowrap;}
@media (max-width: 640px) {.ls-strip:not(.ls-compact) button {padding: 0.2rem 0.1rem;
  font-size: 0.72rem;}}
"""
_component = st.components.v2.component("tinyvgg_layer_strip", js=JS, css=CSS, isolate_styles=False)


def png_uri(png: bytes) -> str:
    """A PNG as a data: address an <img> shows."""
    return "data:image/png;base64," + base64.b64encode(png).decode()


def layer_strip(
    layers: list[dict], selected: str, key: str, on_pick: Callable[[], Any], compact: bool = False
) -> Any:
    """The strip: `layers` as dicts of name, kind, shape (text), params and thumb (a data:
    address, or None); `selected` highlighted; a click on a name runs `on_pick`.
    `compact`: names only (teacher mode)."""
    data = {"layers": layers, "selected": selected, "compact": compact}
    return _component(data=data, key=key, on_pick_change=on_pick)


def picked(key: str) -> str | None:
    """The layer name the last click on strip `key` picked."""
    value = st.session_state.get(key)
    name = getattr(value, "pick", None) if value is not None else None
    return name if isinstance(name, str) else None
