"""The explorer's layer view, drawn and stepped in the page (issue 25; bench/README.md,
client_step.py, has the measurements behind it).

One components-v2 element holds every layer of the input: its heading, maps (the figures of
view.py, the cell picked for each layer's own size), words and the lesson's note. Its Prev,
Next, layer box, PageUp and PageDown draw the next layer at once and write the layer back as
the element's state, so the server keeps the selection (deep links, the address bar). Every
run sends the shown layer and the two beside it, each once for an input and cell (the page
keeps what it was sent): a Next or Prev finds its layer in the page, and the run it starts, a
fragment's, sends the one layer beyond. A jump to a layer the page has not been sent waits
for its run. Clicks on the maps pick a channel or a cell as view.py's do.

`?pane=0`, or a server that cannot serve plotly.js from static/, gets the same figures and
words drawn with Streamlit's widgets instead (`view.layer_ui`).
"""

from __future__ import annotations

import hashlib
import os
import time

import numpy as np
import streamlit as st

from tinyvgg.activations import LayerRecord, by_name, layer_input
from tinyvgg.atlas import LAYERS as ATLAS_LAYERS
from tinyvgg.explain import pool_cell
from ui.atlas import EXPLORER_HELP, explorer_ui
from ui.explore import guide, words
from ui.explore import state as es
from ui.explore import view as ev
from ui.explore.explain import (
    SLIDE,
    class_key,
    contributions_figure,
    kernels_figure,
    kernels_label,
    slide_ui,
)
from ui.figures import explore as fx
from ui.kept_plot import (
    FULL_SCREEN_CSS,
    LIGHT_JS,
    LOAD_PLOTLY_JS,
    OVERLAY_CSS,
    PLOTLY_JS,
    plotly_served,
)
from ui.layer_strip import png_uri
from ui.memo import memo
from ui.present import SCALE, presenting

RUN = f"{os.getpid()}-{time.time_ns()}"  # a server's data is its own: never another code's
K_SENT = "ex_pane_sent"  # (data key, the layers the runs sent the page for it)


def heading(rec: LayerRecord) -> str:
    return f"{rec.name} · {rec.kind} · {rec.shape_text} · {rec.params:,} params"


def cell_for(tr: es.Trace, layer: str, origin) -> tuple[int, int, int]:
    """The picked cell, at its place in `layer` (flatten: in its input), as the layer view
    shows it; `origin` is the cell as picked and the (H, W) it was picked in."""
    rec = by_name(tr.records)[layer]
    shape = layer_input(tr.records, layer).shape if rec.kind == "Flatten" else rec.shape
    cell, from_hw = origin
    return es.scale_cell(cell, from_hw, shape)


def layer_data(tr: es.Trace, inp: es.ExploreInput, layer: str, origin, lesson: bool,
               cls: int | None = None) -> dict:  # fmt: skip
    """What the element draws for `layer`: heading, figures (as JSON), words and note (HTML),
    and the cell they show; linear's words explain class `cls` (default: the predicted)."""
    rec = by_name(tr.records)[layer]
    cell = cell_for(tr, layer, origin)
    pred = int(by_name(tr.records)["linear"].output[0].argmax())
    cls = pred if cls is None else cls
    if layer == "input":
        figs = {"prev": ev.input_figure(rec, inp.caption)}
        said = words.to_html(ev.input_words(tr, inp))
    else:
        figs = {"prev": ev.input_map(tr, layer, cell), "out": ev.output_map(tr, layer, cell)}
        if rec.output.dim() == 4:
            figs["cells"] = ev.channel_map(tr, layer, cell)
        if rec.kind == "MaxPool2d":  # the window whose maximum the cell is
            x = layer_input(tr.records, layer).output
            figs["extra"] = fx.pool_window(pool_cell(x, tr.model.layer(layer), *cell))
        elif rec.kind == "Linear":
            figs["extra"] = contributions_figure(tr, cls)
        said = words.to_html(words.layer_words(tr.records, tr.model, layer, cell, cls))
    for fig in figs.values():
        _hover_in_page(fig)
    sent = {k: fig.to_json() for k, fig in figs.items()}
    note = guide.note(tr.records, layer, inp.true_label, tr.model.classes) if lesson else ""
    cells = None  # the (C, H, W) the cell pickers choose in: the layer's own, flatten's input
    if rec.kind not in ("Input", "Linear", "Softmax"):
        cells = list((layer_input(tr.records, layer) if rec.kind == "Flatten" else rec).shape[1:])
    classes = None  # linear's class box: the names, the predicted one said, and the chosen
    if rec.kind == "Linear":
        classes = [
            n + (" (predicted)" if k == pred else "") for k, n in enumerate(tr.model.classes)
        ]
    extra = {}
    if rec.kind == "Conv2d":  # its kernels, drawn when their switch is on
        extra["kernels_label"] = kernels_label(tr.model.layer(layer))
        sent["kernels"] = _kernels(tr, layer, cell[0])
    if rec.output.dim() == 4 and layer != "input":  # teacher mode's large number
        c, i, j = cell
        extra["metric"] = [f"{layer}[0, {c}, {i}, {j}]", f"{float(rec.output[0, c, i, j]):.4f}"]
    if layer == "input" and rec.output.shape[1] == 3:  # an RGB input in its colours
        extra["picture"] = [png_uri(fx.rgb_png(rec.output[0])), inp.caption]
    return {"name": layer, "heading": heading(rec), "cell": list(cell), "words": said,
            **extra, "cells": cells, "classes": classes, "cls": cls,
            "note": words.inline_html(note), "channels": rec.output.shape[1],
            "figs": sent}  # fmt: skip


def _kernels(tr: es.Trace, layer: str, c: int) -> str:
    """Conv layer `layer`'s kernels as JSON, channel `c`'s outlined: the same for every input,
    so built once per model, layer and channel."""
    build = lambda: kernels_figure(layer, tr.model.layer(layer), c).to_json()  # noqa: E731
    return memo(("pane-kernels", tr.key[0], layer, c), build)


def _hover_in_page(fig) -> None:
    """A channel grid without its hover's channel, row and column for every pixel (as much
    as its values): the page works them out from the tiles (`meta.origins`, `meta.tile`)."""
    meta, heat = fig.layout.meta, fig.data[0]
    if not (isinstance(meta, dict) and "origins" in meta and heat.type == "heatmap"):
        return
    who = np.full(np.shape(heat.customdata), -1)
    (h, w) = meta["tile"]
    for k, (r0, c0) in enumerate(meta["origins"]):
        who[r0 : r0 + h, c0 : c0 + w] = np.stack(
            [np.full((h, w), k), *np.indices((h, w))], axis=-1)  # fmt: skip
    if np.array_equal(who, heat.customdata):  # every pixel of its tile (no rows left out)
        heat.customdata = None
        fig.layout.meta = {**meta, "who": True}


def _origin():
    s = st.session_state
    return s.get(es.K_CELL_ORIGIN) or (s.get(es.K_CELL) or (0, 0, 0), None)


def _on_layer() -> None:
    value = st.session_state.get("ex_pane")
    if (name := getattr(value, "layer", None)) in es.LAYERS:
        st.session_state[es.K_LAYER] = name


def _on_need() -> None:
    """The page lacks the layer it shows (a run cut short before it sent it): send it again."""
    value = getattr(st.session_state.get("ex_pane"), "need", None) or {}
    sent = st.session_state.get(K_SENT)
    if sent is not None and value.get("key") == sent[0]:
        sent[1].discard(value.get("name"))


def _on_select() -> None:
    """A click on one of the element's maps (the map and the point, as the layer view's), or
    a cell typed in its pickers (`pick`: channel, row and column inside `shape`)."""
    value = getattr(st.session_state.get("ex_pane"), "select", None) or {}
    points = value.get("points") or [None]
    p, layer = points[0], st.session_state[es.K_LAYER]
    pick, shape, cls = value.get("pick"), value.get("shape"), value.get("cls")
    if value.get("map") == "class" and isinstance(cls, int) and str(value.get("key")).startswith(
            "ex_lin_") and 0 <= cls < int(value.get("classes") or 0):  # fmt: skip
        st.session_state[value["key"]] = cls
    elif value.get("map") == "pick" and isinstance(pick, list) and isinstance(shape, list):
        if len(pick) == len(shape) == 3 and all(isinstance(v, int) for v in pick + shape):
            st.session_state[es.K_CELL] = es.scale_cell(tuple(pick), None, [1, *shape])
    elif value.get("map") == "cells":
        ev.pick_cell(p)
    elif value.get("map") == "out" and layer == "flatten":
        ev.pick_flat(p, tuple(value.get("chw") or ()) or None)
    elif value.get("map") == "out":
        ev.pick_channel(p, int(value.get("channels") or 0))


def pane_ui(tr: es.Trace, inp: es.ExploreInput) -> None:
    """The layer view as one element (the module's docstring says how it steps)."""
    layer = st.session_state[es.K_LAYER]
    rec = by_name(tr.records)[layer]
    ev.layer_cell(tr, layer)  # the cell kept as the layer view keeps it
    origin, lesson = _origin(), guide.lesson_toggle()
    cls = st.session_state.get(class_key(tr))
    key = hashlib.sha256(repr((RUN, tr.key, origin, lesson, cls)).encode()).hexdigest()[:24]
    i = es.LAYERS.index(layer)
    sent = st.session_state.get(K_SENT)  # each once: the page keeps what it was sent
    if sent is None or sent[0] != key:
        sent = st.session_state[K_SENT] = (key, set())
    current = [layer_data(tr, inp, n, origin, lesson, cls)
               for n in es.LAYERS[max(i - 1, 0) : i + 2] if n not in sent[1]]  # fmt: skip
    out = {"key": key, "current": current, "selected": layer, "names": es.LAYERS,
           "plotly": f"app/static/{PLOTLY_JS}", "scale": SCALE if presenting() else 1,
           "class_key": class_key(tr)}  # fmt: skip
    _component(data=out, key="ex_pane", on_layer_change=_on_layer, on_select_change=_on_select,
               on_need_change=_on_need)  # fmt: skip
    sent[1].update(d["name"] for d in current)  # on its way (a run cut short by another sent none)
    _more_ui(tr, rec)


def _more_ui(tr: es.Trace, rec: LayerRecord) -> None:
    """Under the element, the two switches whose parts are Streamlit's: the kernel slide and
    the channel's atlas. Off, they are the same at every layer: a step changes no Streamlit
    element. On, they show the shown layer's, or say which layers have one."""
    conv, atlas = rec.kind == "Conv2d", rec.name in ATLAS_LAYERS
    cell = st.session_state.get(es.K_CELL) or (0, 0, 0)
    with st.container(key="ex_pane_more"):
        if st.toggle(SLIDE, key="ex_slide_on", help="For the conv layers."):
            if conv:
                slide_ui(tr, rec, cell)
            else:
                st.caption("The conv layers have a kernel to slide: step to one.")
        label = "What excites the picked channel across the test set?"
        if atlas:
            explorer_ui(tr.key[0], tr.model, rec.name, cell[0], label=label)
        elif st.toggle(label, key="ex_atlas_open", help=EXPLORER_HELP):  # the same switch
            st.caption("The layers up to max_pool_2 have channels to look up: step to one.")


JS = (
    LOAD_PLOTLY_JS
    + LIGHT_JS
    + r"""
const received = window.__paneReceived ??= {};  // data key -> {name: layer} the runs sent
const layerFor = (root, name) => received[root.__data.key]?.[name];

// A channel grid's hover names each pixel's channel, row and column: worked out here from
// its tiles rather than sent (`_hover_in_page`), -1 between the tiles.
function withWho(fig) {
  const meta = fig.layout.meta, heat = fig.data[0];
  if (!meta?.who) return fig;
  const [h, w] = meta.tile;
  const rows = Math.max(...meta.origins.map(o => o[0])) + h;
  const cols = Math.max(...meta.origins.map(o => o[1])) + w;
  const who = Array.from({length: rows}, () => Array.from({length: cols}, () => [-1, -1, -1]));
  meta.origins.forEach(([r0, c0], k) => {
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) who[r0 + i][c0 + j] = [k, i, j];
  });
  return {...fig, data: [{...heat, customdata: who}, ...fig.data.slice(1)]};
}

function draw(root, slot, json) {
  const box = root.querySelector(`[data-fig="${slot}"]`), wrap = box.parentElement;
  if (!json) {  // hidden, not purged: drawing it again later is an update, not a new plot
    wrap.hidden = true;
    return null;
  }
  wrap.hidden = false;
  wrap.__width = wrap.clientWidth;  // drawn again when it changes (the rows wrap otherwise)
  const fig = light(withWho(JSON.parse(json)));
  const full = document.fullscreenElement === wrap;
  const scale = slot === 'cells' ? root.__data.scale : 1;  // teacher mode: the large map larger
  const grown = {...fig.layout, height: fig.layout.height && fig.layout.height * scale,
                 width: fig.layout.width && fig.layout.width * scale};
  const layout = full ? {...fig.layout, width: wrap.clientWidth, height: wrap.clientHeight}
                      : fitted(grown, box, fig.layout.width ? 'content' : 'stretch');
  return Plotly.react(box, fig.data, layout, {displaylogo: false, responsive: false})
    .then(() => {
      overlay(box, fig.bar, fig.labels);
      if (!box.__on) {
        box.__on = true;
        box.on('plotly_click', ev => root.__click(slot, ev));
      }
    });
}

const SLOTS = ['prev', 'out', 'cells', 'extra', 'kernels'];

// A map's own full-screen button, as the kept maps have one: the map redrawn to fit.
function mapBox(slot) {
  return `<div class="pane-map" data-slot="${slot}"><button type="button"
    class="kept-plot-full" title="Full screen" aria-label="Full screen">⛶</button>
    <div data-fig="${slot}"></div></div>`;
}

// Draws `name`, the layer shown (`root.__shown`), if the page has it; else the run that
// brings it draws it.
async function show(root, name) {
  await loadPlotly(root.__data.plotly);
  const layer = layerFor(root, name);
  if (!layer || root.__shown !== name) return;
  root.__drawn = name;
  root.__layer = layer;
  root.classList.remove('pane-waiting');
  const i = root.__data.names.indexOf(name);
  root.querySelector('.pane-prev').disabled = i === 0;
  root.querySelector('.pane-next').disabled = i === root.__data.names.length - 1;
  root.querySelector('.pane-select').value = name;
  root.querySelector('.pane-note').hidden = !layer.note;
  root.querySelector('.pane-note').innerHTML = layer.note;
  root.querySelector('h3').textContent = layer.heading;
  root.querySelector('.pane-words').innerHTML = layer.words;
  const picture = root.querySelector('.pane-picture');
  picture.hidden = !layer.picture;
  if (layer.picture) {
    [picture.firstChild.src, picture.lastChild.textContent] = layer.picture;
    picture.firstChild.alt = layer.picture[1];
  }
  const metric = root.querySelector('.pane-metric');
  metric.hidden = !(layer.metric && root.__data.scale > 1);
  if (layer.metric) [metric.firstChild.textContent, metric.lastChild.textContent] = layer.metric;
  const kernels = root.querySelector('.pane-kernels');
  kernels.hidden = !layer.kernels_label;
  kernels.lastChild.textContent = ' ' + (layer.kernels_label ?? '');
  const classes = root.querySelector('.pane-class');
  classes.parentElement.hidden = !layer.classes;
  if (layer.classes) {
    classes.replaceChildren(...layer.classes.map((n, k) => new Option(n, k)));
    classes.value = layer.cls;
  }
  const pick = root.querySelector('.pane-pick');
  pick.hidden = !layer.cells;
  (layer.cells ?? []).forEach((n, k) => {
    const box = pick.querySelectorAll('input')[k];
    box.max = n - 1;
    if (box !== document.activeElement) box.value = layer.cell[k];  // not under the typing
  });
  const on = root.querySelector('.pane-kernels input').checked;
  const figs = SLOTS.map(slot => slot === 'kernels' && !on ? null : layer.figs[slot]);
  // every map shown or hidden first: each is fitted to its room as the layer leaves it (a map
  // drawn before its neighbour appears was drawn twice, the second time when its width changed)
  SLOTS.forEach((slot, k) => { root.querySelector(`[data-slot="${slot}"]`).hidden = !figs[k]; });
  await Promise.all(SLOTS.map((slot, k) => draw(root, slot, figs[k])));
}

function step(root, name) {
  if (!name || name === root.__shown) return;
  root.__asked = root.__shown = name;  // the next step goes on from here
  root.__set('layer', name);  // the server follows while the page draws
  if (!layerFor(root, name)) {  // not in the page yet: its run brings it
    root.classList.add('pane-waiting');
    root.querySelector('.pane-select').value = name;
  }
  // drawn once the step is on its way to the server, unless another step came first
  setTimeout(() => root.__shown === name && show(root, name), 0);
}

export default function ({ data, parentElement, setStateValue, setTriggerValue }) {
  let root = parentElement.querySelector('.pane');
  if (!root) {
    root = document.createElement('div');
    root.className = 'pane';
    root.innerHTML = `<div class="pane-step"><button type="button" class="pane-prev"
      aria-keyshortcuts="PageUp">◀ Prev <kbd aria-hidden="true">PageUp</kbd></button>
      <select class="pane-select" aria-label="Layer"></select>
      <button type="button" class="pane-next" aria-keyshortcuts="PageDown">Next ▶
      <kbd aria-hidden="true">PageDown</kbd></button></div>
      <div class="pane-note"></div><h3></h3><figure class="pane-picture" hidden><img
      alt=""><figcaption class="words-caption"></figcaption></figure>
      <div class="pane-row">${mapBox('prev')}${mapBox('out')}</div>
      <div class="pane-row">${mapBox('cells')}<div><div class="pane-metric" hidden><div></div>
      <div></div></div><label class="pane-kernels"><input type="checkbox"><span></span></label>
      ${mapBox('kernels')}<div class="pane-pick"><b>Pick a cell</b>
      by channel, row and column, or click the maps<div>${['Channel', 'Row', 'Column'].map(l =>
      `<label>${l}<input type="number" min="0" step="1"></label>`).join('')}</div></div>
      <label class="pane-class-box">Class to explain<select class="pane-class"></select></label>
      <div class="pane-words"></div>${mapBox('extra')}</div></div>`;
    parentElement.appendChild(root);
    root.querySelector('.pane-pick').addEventListener('change', () => {
      const layer = root.__layer, boxes = [...root.querySelectorAll('.pane-pick input')];
      const pick = boxes.map(b => Math.trunc(Number(b.value)));
      if (!layer?.cells || pick.some(v => !Number.isFinite(v))) return;
      root.__trigger('select', {map: 'pick', pick, shape: layer.cells});
    });
    root.querySelector('.pane-kernels input').addEventListener('change', e => {
      if (root.__layer) draw(root, 'kernels', e.target.checked ? root.__layer.figs.kernels : null);
    });
    root.querySelector('.pane-class').addEventListener('change', e => root.__trigger('select',
      {map: 'class', cls: Number(e.target.value), key: root.__data.class_key,
       classes: root.__layer?.classes?.length}));
    for (const wrap of root.querySelectorAll('.pane-map')) {
      const button = wrap.querySelector('.kept-plot-full'), slot = wrap.dataset.slot;
      new ResizeObserver(() => {  // another window width: the map fitted to its new room
        if (root.__layer && !wrap.hidden && wrap.__width !== wrap.clientWidth)
          draw(root, slot, root.__layer.figs[slot]);
      }).observe(wrap);
      button.onclick = () => document.fullscreenElement ? document.exitFullscreen()
                                                        : wrap.requestFullscreen();
      wrap.addEventListener('fullscreenchange', () => {
        const label = document.fullscreenElement === wrap ? 'Exit full screen' : 'Full screen';
        button.title = label;
        button.setAttribute('aria-label', label);
        if (root.__layer) draw(root, slot, root.__layer.figs[slot]);
      });
    }
    const names = () => root.__data.names, at = d => names()[names().indexOf(root.__shown) + d];
    root.querySelector('.pane-select').append(...data.names.map(n => new Option(n, n)));
    root.querySelector('.pane-prev').onclick = () => step(root, at(-1));
    root.querySelector('.pane-next').onclick = () => step(root, at(1));
    root.querySelector('.pane-select').onchange = e => step(root, e.target.value);
    root.__keys = e => {
      if (!root.isConnected) return document.removeEventListener('keydown', root.__keys);
      if (e.key === 'PageDown' || e.key === 'PageUp') {
        e.preventDefault();
        step(root, at(e.key === 'PageDown' ? 1 : -1));
      }
    };
    document.addEventListener('keydown', root.__keys);
  }
  root.__set = setStateValue;
  root.__trigger = setTriggerValue;
  root.__click = (slot, ev) => setTriggerValue('select', {map: slot,
    channels: root.__layer?.channels, chw: root.__layer?.cells,  // flatten's: its input's
    points: ev.points.map(p => ({curve_number: p.curveNumber, point_index: p.pointIndex,
      x: p.x, y: p.y, customdata: p.customdata ?? null}))});
  root.__data = data;
  root.classList.toggle('pane-large', data.scale > 1);  // teacher mode: no small print
  // only this input's and cell's layers: the server sends another's anew
  for (const key of Object.keys(received)) if (key !== data.key) delete received[key];
  const got = received[data.key] ??= {};
  for (const layer of data.current) got[layer.name] = layer;
  if (root.__key !== data.key) {  // another input or cell: every layer drawn again
    root.__key = data.key;
    root.__drawn = null;
  }
  // a newer step is on its way: draw its layer if this run brought it
  const want = root.__asked && data.selected !== root.__asked ? root.__asked : data.selected;
  if (want === data.selected) root.__asked = null;
  const need = `${data.key} ${want}`;  // the run for it came without it: asked for, once
  if (want === data.selected && !got[want] && root.__need !== need) {
    root.__need = need;
    setTriggerValue('need', {key: data.key, name: want});
  }
  if (root.__drawn !== want) show(root, root.__shown = want);
}
"""
)
CSS = (
    """
.pane {container-type: inline-size;}
.pane [hidden] {display: none !important;}
.pane-waiting .pane-row, .pane-waiting h3 {opacity: 0.5;}
.pane-step {display: flex; gap: 0.5rem; align-items: center; margin-bottom: 0.5rem;}
.pane-step button, .pane-step select {font: inherit; padding: 0.25rem 0.75rem;
  border-radius: 0.5rem; border: 1px solid rgba(49, 51, 63, 0.2); background: white;}
.pane-step select {flex: 1;}
.pane-step kbd {font: inherit; font-size: 0.75em; opacity: 0.6; margin-left: 0.25rem;}
@media (hover: none) {.pane-step kbd {display: none;}}  /* a touch screen has no keys */
@container (max-width: 28rem) {.pane-step kbd {display: none;}}
.pane-row {display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start;}
.pane-row > div {position: relative; min-width: 0; flex: 1 1 20rem;}
.pane-row > [data-slot="cells"] {flex: 2 1 16rem;}
.pane-map {background: white;}
.pane-map:hover .kept-plot-full, .pane-map .kept-plot-full:focus {opacity: 0.6;}
.pane-row > div:last-child:not(.pane-map) {flex: 3 1 20rem;}
.pane-picture {margin: 0.5rem 0;}
.pane-picture img {width: 168px; image-rendering: pixelated; display: block;}
.pane-metric > div:first-child {font-size: 0.875rem;}
.pane-large .pane-metric > div:first-child, .pane-large .pane-pick label,
.pane-large .pane-class-box, .pane-large .words-caption {font-size: 1rem;}
.pane-metric > div:last-child {font-size: 2.25rem; line-height: 1.2;}
.pane-kernels {display: block; margin: 0.25rem 0 0.5rem;}
.pane-class-box {display: flex; flex-direction: column; font-size: 0.875rem; max-width: 20rem;}
.pane-class {font: inherit; padding: 0.25rem 0.5rem; border-radius: 0.5rem;
  border: 1px solid rgba(49, 51, 63, 0.2);}
.pane-pick > div {display: flex; gap: 0.75rem; margin: 0.25rem 0 0.75rem;}
.pane-pick label {display: flex; flex-direction: column; font-size: 0.875rem; flex: 1;}
.pane-pick input {font: inherit; padding: 0.25rem 0.5rem; border-radius: 0.5rem;
  border: 1px solid rgba(49, 51, 63, 0.2); min-width: 0;}
.pane-note {padding: 0.75rem 1rem; border-radius: 0.5rem; background: rgba(28, 131, 225, 0.1);}
.words-ok {padding: 0.75rem 1rem; border-radius: 0.5rem; background: rgba(33, 195, 84, 0.1);
  color: rgb(23, 114, 51);}
.words-bad {padding: 0.75rem 1rem; border-radius: 0.5rem; background: rgba(255, 43, 43, 0.09);
  color: rgb(125, 53, 59);}
.words-caption {font-size: 0.875rem; opacity: 0.6;}
.words-code {padding: 0.5rem 0.75rem; border-radius: 0.5rem; white-space: pre-wrap;
  background: rgba(172, 177, 195, 0.15);}
"""
    + FULL_SCREEN_CSS
    + OVERLAY_CSS
)
_component = st.components.v2.component("tinyvgg_layer_pane", js=JS, css=CSS,
                                        isolate_styles=False)  # fmt: skip


def available() -> bool:
    """Whether the element can load plotly.js (served from static/)."""
    return plotly_served()
