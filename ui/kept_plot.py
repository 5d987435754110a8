"""Plotly figures that stay mounted across reruns: a new figure is drawn into the same chart
with `Plotly.react`, where `st.plotly_chart` mounts the chart afresh whenever its figure
changes (about twice the browser's time for the explorer's maps; bench/README.md).

plotly.js comes once per browser from the installed plotly package, copied to the app's
static folder (`server.enableStaticServing`) and cached by the browser like any static file.
Where that copy cannot be made (a read-only install), `kept_chart` falls back to
`st.plotly_chart`: the same figure, mounted afresh.

A heatmap's colour bar and a map's tile labels (annotations at data positions) are drawn as
HTML over the plot, placed from plotly's own axes: plotly spent a third of a step's drawing on
each (bench/README.md). Other figures are drawn as they are.

A click on a point is a trigger named `select` whose value has the shape of
`st.plotly_chart`'s selection (`{"points": [{"curve_number", "point_index", "x", "y",
"customdata"}]}`), read with `clicked(key)` in the `on_select` callback.
"""

from __future__ import annotations

import os
import shutil
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import plotly
import streamlit as st

STATIC = Path(__file__).resolve().parents[1] / "static"  # served at app/static/ (config.toml)
PLOTLY_JS = f"plotly-{plotly.__version__}.min.js"  # named by version: a browser never mixes two

# plotly.js, loaded once per page from `src` (a failed load is tried again next time)
LOAD_PLOTLY_JS = r"""
const loadPlotly = src => window.__keptPlotly ??= new Promise((resolve, reject) => {
  if (window.Plotly) return resolve(window.Plotly);
  const s = document.createElement('script');
  s.src = src;
  s.onload = () => resolve(window.Plotly);
  s.onerror = () => { window.__keptPlotly = undefined; reject(new Error('plotly.js: ' + src)); };
  document.head.appendChild(s);
});
"""
# A heatmap's colour bar and a map's tile labels as HTML over the plot (the module's docstring
# says why): `light(fig)` takes them out of a figure, `overlay(gd, bar, labels)` draws them
# over the drawn plot (with OVERLAY_CSS); `fitted` sizes a layout to its box.
LIGHT_JS = r"""
// Colour bar and tile labels as HTML over the plot (the module's docstring says why).
const BAR_PX = 80;  // room on the right for the bar and its tick labels, about what plotly takes
function light(fig) {
  const bars = fig.data.filter(t => t.type === 'heatmap' && t.showscale !== false
    && Array.isArray(t.colorscale) && t.zmin !== undefined && t.zmax !== undefined);
  const notes = fig.layout.annotations || [];
  const plain = a => !a.showarrow && (a.xref ?? 'x') === 'x' && (a.yref ?? 'y') === 'y';
  const bar = bars.length === 1 ? bars[0] : null;
  const labels = notes.length && notes.every(plain) ? notes : [];
  const data = bar ? fig.data.map(t => t === bar ? {...t, showscale: false} : t) : fig.data;
  const layout = {...fig.layout};
  if (bar) layout.margin = {...layout.margin, r: (layout.margin?.r ?? 80) + BAR_PX};
  if (labels.length) layout.annotations = [];
  return {data, layout, bar, labels};
}

function ticks(lo, hi, count) {
  const raw = (hi - lo) / count, p = 10 ** Math.floor(Math.log10(raw)), e = raw / p;
  const step = (e >= 7.07 ? 10 : e >= 3.16 ? 5 : e >= 1.41 ? 2 : 1) * p;
  const places = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const out = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
    const text = (k * step).toFixed(places).replace(/^-(0\.?0*)$/, '$1').replace('-', '\u2212');
    out.push([k * step, text]);
  }
  return out;
}

function overlay(gd, bar, labels) {
  gd.querySelector('.kept-plot-over')?.remove();
  const fl = gd._fullLayout, xa = fl?.xaxis, ya = fl?.yaxis;
  if (!xa || !ya || (!bar && !labels.length)) return;
  const over = document.createElement('div');
  over.className = 'kept-plot-over';
  const put = (cls, left, top, css = {}) => {
    const d = document.createElement('div');
    d.className = cls;
    Object.assign(d.style, {left: left + 'px', top: top + 'px'}, css);
    over.appendChild(d);
    return d;
  };
  for (const a of labels) {
    const d = put('kept-plot-label', xa._offset + xa.l2p(a.x), ya._offset + ya.l2p(a.y), {
      fontSize: (a.font?.size ?? 12) + 'px', color: a.font?.color ?? '#444',
      background: a.bgcolor ?? 'transparent'});
    d.textContent = a.text;
  }
  if (bar) {
    const top = ya._offset, h = ya._length, left = xa._offset + xa._length + 12;
    const [lo, hi] = [bar.zmin, bar.zmax];
    const stops = bar.colorscale.map(([at, c]) => `${c} ${(100 * at).toFixed(2)}%`).join(', ');
    put('colorbar kept-plot-bar', left, top, {height: h + 'px',
      background: `linear-gradient(to top, ${stops})`});
    for (const [v, text] of hi > lo ? ticks(lo, hi, Math.max(2, Math.floor(h / 40))) : []) {
      const d = put('kept-plot-tick', left + 20, top + h * (hi - v) / (hi - lo));
      d.textContent = text;
    }
  }
  gd.appendChild(over);  // inside the chart: its text is the chart's
}

function fitted(layout, box, width, height) {
  const out = {...layout};
  if (height) out.height = height;
  const room = box.clientWidth;
  if (width === 'stretch' || !out.width) out.width = room || undefined;
  else {
    if (typeof width === 'number') out.width = width;
    if (room > 0 && out.width > room) out.width = room;  // a narrower column shrinks it
  }
  return out;
}
"""
# A chart's div keeps its figure between runs; a figure equal to the one drawn is not redrawn.
# Full screen: the element's own button, as st.plotly_chart's toolbar has one.
JS = (
    LOAD_PLOTLY_JS
    + LIGHT_JS
    + r"""
export default function ({ data, parentElement, setTriggerValue }) {
  let box = parentElement.querySelector('.kept-plot');
  if (!box) {
    box = document.createElement('div');
    box.className = 'kept-plot';
    const gd = document.createElement('div');
    gd.className = 'kept-plot-figure';
    const full = document.createElement('button');
    full.className = 'kept-plot-full';
    full.type = 'button';
    full.title = 'Full screen';
    full.setAttribute('aria-label', 'Full screen');
    full.textContent = '⛶';
    full.onclick = () => document.fullscreenElement ? document.exitFullscreen()
                                                    : box.requestFullscreen();
    box.append(full, gd);
    parentElement.appendChild(box);
    box.__draw = () => {};
    new ResizeObserver(() => box.__draw()).observe(box);
    box.addEventListener('fullscreenchange', () => {
      const label = document.fullscreenElement === box ? 'Exit full screen' : 'Full screen';
      full.title = label;
      full.setAttribute('aria-label', label);
      box.__draw();
    });
  }
  const gd = box.querySelector('.kept-plot-figure');
  loadPlotly(data.src).then(Plotly => {
    const fig = box.__fig === data.figure ? box.__parsed : light(JSON.parse(data.figure));
    box.__fig = data.figure;
    box.__parsed = fig;
    let drawnAt = null;
    box.__draw = () => {
      const full = document.fullscreenElement === box;
      const room = full ? [box.clientWidth, box.clientHeight] : [box.clientWidth, 0];
      const key = room.join('x');
      if (key === drawnAt) return;
      drawnAt = key;
      const layout = full ? {...fig.layout, width: room[0], height: room[1], autosize: false}
                          : fitted(fig.layout, box, data.width, data.height);
      Plotly.react(gd, fig.data, layout, {displaylogo: false, responsive: false})
        .then(() => overlay(gd, fig.bar, fig.labels));
    };
    box.__draw();
    if (!gd.__kept) {
      gd.__kept = true;
      gd.on('plotly_click', ev => setTriggerValue('select', {points: ev.points.map(p => ({
        curve_number: p.curveNumber, point_index: p.pointIndex, point_number: p.pointNumber,
        x: p.x, y: p.y, customdata: p.customdata ?? null}))}));
    }
  }).catch(err => { box.textContent = String(err); });
}
"""
)
OVERLAY_CSS = """
.kept-plot-over {position: absolute; inset: 0; pointer-events: none; z-index: 1;
  font-family: "Open Sans", verdana, arial, sans-serif;}
.kept-plot-over > div {position: absolute; line-height: 1; white-space: nowrap;}
.kept-plot-bar {width: 14px; box-sizing: border-box; border: 1px solid #444;}
.kept-plot-tick {font-size: 12px; color: #444; transform: translateY(-50%);}
.kept-plot-tick::before {content: ""; display: inline-block; width: 4px; margin: 0 3px 0 -6px;
  border-top: 1px solid #444; vertical-align: middle;}
.kept-plot-label {padding: 1px 2px;}
"""
FULL_SCREEN_CSS = """
.kept-plot-full {position: absolute; top: 0; right: 0; z-index: 2; opacity: 0; border: none;
  background: transparent; cursor: pointer; font-size: 1.1rem; line-height: 1; padding: 2px;}
"""
CSS = (
    """
.kept-plot {position: relative; background: white;}
.kept-plot:hover .kept-plot-full, .kept-plot-full:focus {opacity: 0.6;}
"""
    + FULL_SCREEN_CSS
    + OVERLAY_CSS
)
_component = st.components.v2.component("tinyvgg_kept_plot", js=JS, css=CSS, isolate_styles=False)
_json: dict[int, str] = {}  # id(figure) -> its JSON, while the figure lives


def plotly_served() -> bool:
    """Whether the static folder holds this plotly's plotly.js (copied there when missing)."""
    target = STATIC / PLOTLY_JS
    if target.is_file():
        return True
    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    try:
        STATIC.mkdir(exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")  # two servers may copy at once
        shutil.copyfile(source, tmp)
        tmp.replace(target)  # whole or not at all, for a browser asking at the same moment
    except OSError:
        return False
    return True


def figure_json(fig) -> str:
    """`fig` as plotly.js reads it, made once per figure object (the pages memoise figures)."""
    key = id(fig)
    if key not in _json:
        _json[key] = fig.to_json()
        weakref.finalize(fig, _json.pop, key, None)
    return _json[key]


def clicked(key: str) -> dict | None:
    """The point a click on chart `key` picked, in st.plotly_chart's selection shape."""
    value = st.session_state.get(key)
    select = getattr(value, "select", None) if value is not None else None
    if select is None and hasattr(value, "selection"):  # st.plotly_chart's fallback
        select = value.selection
    points = (select or {}).get("points", [])
    return points[0] if points else None


def kept_chart(
    fig,
    key: str,
    on_select: Callable[[], Any] | None = None,
    width: str | int = "content",
    height: int | None = None,
) -> Any:
    """Draw `fig` in a chart that stays mounted under `key`; `on_select` runs after a click on
    a point. `width`: "content" (the figure's own width, narrower in a narrow column),
    "stretch" (the column's) or pixels; `height` in pixels (default: the figure's)."""
    if not plotly_served():
        kwargs = {"on_select": on_select, "selection_mode": "points"} if on_select else {}
        size = {"height": height} if height else {}
        return st.plotly_chart(fig, key=key, theme=None, width=width, **size, **kwargs)
    data = {"figure": figure_json(fig), "src": f"app/static/{PLOTLY_JS}", "width": width,
            "height": height}  # fmt: skip
    return _component(data=data, key=key, on_select_change=on_select or (lambda: None))
