"""Issue 25's design spike: the layer view stepped in the page, against the floor.

    python bench/client_step.py [--rounds 3] [--reps 2] [--light] [--lazy] [--mix]
                                [--text] [--fragment] [--widgets stepper,strip,pickers]

The explorer's Next is a rerun that sends the whole layer view again (bench/README.md: what
that costs). Here one components-v2 element holds every layer's figures for the input (the
explorer's own builders: the layer's input as a map, its output as a channel grid and the
picked channel as a cell map, or bars; fetched once, from a static file named by its
content) and steps through them in the page: a click on its Next draws the next layer with
`Plotly.react` and writes the layer back as the element's state, so the server still holds
the selection (a rerun that sends nothing new but the selection).

Times each Next on this page and on explore_latency.py's floor page (the same widgets,
nothing drawn), in the same run, from the input event's own timestamp: `drawn` until the
page has drawn the new layer (heading and maps, two animation frames later), `full` until,
besides, the server's run for the click has ended (the element was given the new layer back
and the app's script state is `notRunning`, then two frames). Prints one JSON line in ms,
with `full` and `drawn` over the floor at p50 and p95: issue 25's ratios for this design,
before the rest of the layer view (the strip, the arithmetic, the lesson) moves in with it.

`--mix` also times explore_latency.py's own mix on both pages (each round 13 Nexts, then
another sample, never shown before), as its ratios count it. A new sample costs the run
every layer's figures; `--lazy` builds only the shown layer's in the run, sends them inline,
and writes every layer's after the run in a thread (the page fetches that file, trying again
until it is there, and steps in the page once it has it). `--widgets` adds the explorer's
own Streamlit widgets, which change with the layer: the element follows the stepper's clicks
and keys, drawing the layer they go to before their run ends. `--text` adds the layer's
note and what the explorer says under its maps at a cell (`ui/explore/words.py`), as HTML, to
what the element draws; `--fragment` puts the
element in a fragment, as the explorer's layer view is.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from explore_latency import FLOOR_PAGE, MARK_INPUT, PAINTED, pct  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from static_json import FETCH_JS  # noqa: E402

from harness.servers import CHROMIUM_ARGS, chromium_path, streamlit_server  # noqa: E402
from ui.explore.state import LAYERS  # noqa: E402
from ui.kept_plot import LIGHT_JS, LOAD_PLOTLY_JS, OVERLAY_CSS, PLOTLY_JS, STATIC  # noqa: E402

CSS = ".cs-row {display: flex; gap: 1rem;} .cs-a, .cs-b, .cs-c {position: relative;}" + OVERLAY_CSS

# The page: the floor's widgets, and one element for the layer view instead of Streamlit's.
PAGE = f"""
import json
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, {str(ROOT)!r})
sys.path.insert(0, {str(ROOT / "bench")!r})
from static_json import StaticJson
from tinyvgg.activations import trace
from tinyvgg.data import load_split, to_float, with_channels
from tinyvgg.model import SHIPPED_CHECKPOINT, load_checkpoint
from ui.explore.state import LAYERS
from ui.explore.view import TILE_PX
from ui.figures import explore as fx
from ui.figures.common import feature_maps, image
from ui.layer_strip import layer_strip, png_uri
from ui.explore.guide import note
from ui.explore.words import layer_words, to_html

STATIC = Path(__file__).parent / "static"  # served at app/static/


@st.cache_resource
def model():
    return load_checkpoint(SHIPPED_CHECKPOINT)[0].eval()


def as_figure(t, title, names):
    if t.dim() == 4:
        return (image(t[0, 0], title) if t.shape[1] == 1
                else feature_maps(t[0], title=title, cell_px=TILE_PX))
    if t.shape[1] == len(names):
        return fx.logits(t, names, title)
    return image(t.reshape(-1, 49) if t.shape[1] % 49 == 0 else t, title)


@st.cache_data
def records(sample: int):
    x = with_channels(to_float(load_split("test").images[sample : sample + 1]))[0]
    return trace(model(), x)


def layer(sample: int, k: int) -> dict:
    recs, names = records(sample), model().classes
    rec = recs[k]
    if not k:
        figs = [image(rec.output[0, 0], "input")]
    else:
        prev = recs[k - 1]
        figs = [as_figure(prev.output, f"input: {{prev.name}}", names)]
        if rec.output.dim() == 4:
            figs.append(fx.channel_grid(rec.output[0], f"output: {{rec.name}}", 0, TILE_PX))
            figs.append(fx.cell_map(rec.output[0, 0], f"{{rec.name}}, channel 0", (3, 4)))
        else:
            figs.append(as_figure(rec.output, f"output: {{rec.name}}", names))
    return {{"name": rec.name, "kind": rec.kind, "shape": rec.shape_text,
            "figs": [json.loads(f.to_json()) for f in figs], "html": text(recs, k)}}


def text(recs, k: int) -> str:
    # --text: the lesson's note and the words under the maps, at a cell, as the element
    # would show them
    rec, m = recs[k], model()
    shape = (recs[k - 1] if rec.kind == "Flatten" else rec).shape
    cell = (3, min(5, shape[2] - 1), min(6, shape[3] - 1)) if len(shape) == 4 else (0, 0, 0)
    words = to_html(layer_words(recs, m, rec.name, cell))
    return "<p>" + note(recs, rec.name, None, m.classes) + "</p>" + words


@st.cache_resource
def store() -> StaticJson:
    return StaticJson("layers", folder=STATIC)


def every_layer(sample: int) -> list:
    return [layer(sample, k) for k in range(len(LAYERS))]


@st.cache_data
def layers_url(sample: int) -> str:
    store().write_later(str(sample), lambda: every_layer(sample))
    store().wait(str(sample))
    return store().url(str(sample))


# the address of every layer's figures, built after the run in a thread, and the shown
# layer's figures inline while that file is not there yet
def lazy_layers(sample: int, name: str) -> tuple[str, dict | None]:
    key = str(sample)
    if store().ready(key):
        return store().url(key), None
    store().write_later(key, lambda: every_layer(sample))
    return store().url(key), layer(sample, LAYERS.index(name))


JS = {{js!r}}
view = st.components.v2.component("client_step", js=JS, isolate_styles=False,
                                  css={CSS!r})

st.session_state.setdefault("layer", "input")
for j, (col, name) in enumerate(zip(st.columns(len(LAYERS)), LAYERS, strict=True)):
    if col.button(name, key=f"b{{j}}"):
        st.session_state.layer = name
sample = st.number_input("Test image #", 0, 9999, 0)
st.query_params["sample"] = str(sample)


def on_layer():
    value = st.session_state.get("step")
    if getattr(value, "layer", None) in LAYERS:
        st.session_state.layer = value.layer


def select(name):
    st.session_state.layer = name


@st.cache_data
def tiles(sample: int) -> list:
    return [{{"name": r.name, "kind": r.kind, "shape": r.shape_text, "params": r.params,
             "thumb": png_uri(fx.thumbnail_png(r.output))}} for r in records(sample)]


parts = st.query_params.get("widgets", "").split(",")
widgets = "stepper" in parts
if "strip" in parts:
    layer_strip(tiles(sample), st.session_state.layer, key="strip", on_pick=lambda: None)
if widgets:  # the explorer's own widgets around the element, which follows their clicks
    i = LAYERS.index(st.session_state.layer)
    a, b, c = st.columns([1.2, 3.6, 1.2], vertical_alignment="bottom")
    a.button("◀ Prev", key="step_prev", on_click=select, args=(LAYERS[max(i - 1, 0)],),
             disabled=i == 0, shortcut="PageUp", width="stretch")
    b.selectbox("Layer", LAYERS, key="layer")
    c.button("Next ▶", key="step_next", on_click=select,
             args=(LAYERS[min(i + 1, len(LAYERS) - 1)],), disabled=i == len(LAYERS) - 1,
             shortcut="PageDown", width="stretch")
    shape = records(sample)[i].output.shape
    if len(shape) == 4 and "pickers" in parts:
        cols = st.columns(3)
        for col, label, n in zip(cols, ("Channel", "Row", "Column"), shape[1:]):
            col.number_input(label, 0, n - 1, min(3, n - 1), key=f"cell_{{label}}_{{n}}")
def layer_view():
    if "lazy" in st.query_params:
        url, current = lazy_layers(sample, st.session_state.layer)
    else:
        url, current = layers_url(sample), None
    view(data={{"url": url, "current": current, "selected": st.session_state.layer,
               "names": LAYERS, "plotly": {f"app/static/{PLOTLY_JS}"!r},
               "light": "light" in st.query_params, "widgets": widgets,
               "text": "text" in st.query_params}},
         key="step", on_layer_change=on_layer)


# --fragment: the element's own state reruns only it, as the explorer's layer view would
(st.fragment(layer_view) if "fragment" in st.query_params else layer_view)()
"""

JS = (
    LOAD_PLOTLY_JS
    + LIGHT_JS
    + FETCH_JS
    + r"""
// the layer from every layer's figures, or from the run's own (--lazy, before the file is)
const layerFor = (root, name) => staticJson[root.__data.url]?.find(l => l.name === name)
  ?? (root.__data.current?.name === name ? root.__data.current : null);

// --light: each map as the kept maps draw it (ui/kept_plot.py's `light` and `overlay`)
const plain = fig => ({data: fig.data, layout: fig.layout, bar: null, labels: []});

async function show(root, name) {
  root.__shown = name;
  const Plotly = await loadPlotly(root.__data.plotly);
  let layer = layerFor(root, name);
  if (!layer) {
    await fetchStatic(root.__data.url);
    layer = layerFor(root, name);
  }
  if (root.__shown !== name) return;
  root.querySelector('h3').textContent = `${layer.name} · ${layer.kind} · ${layer.shape}`;
  root.querySelector('.cs-text').innerHTML = root.__data.text ? layer.html : '';
  const divs = ['.cs-a', '.cs-b', '.cs-c'].map(s => root.querySelector(s));
  const drawn = fig => root.__data.light ? light(fig) : plain(fig);
  await Promise.all(divs.map((d, k) => {
    if (!layer.figs[k]) return (Plotly.purge(d), d.replaceChildren());
    const f = drawn(layer.figs[k]);
    return Plotly.react(d, f.data, f.layout, {displaylogo: false})
      .then(() => overlay(d, f.bar, f.labels));
  }));
  requestAnimationFrame(() => requestAnimationFrame(() => {
    if (root.__shown === name) window.__drawn = {name, url: root.__url, t: performance.now()};
  }));
}

// --widgets: Streamlit's own Prev and Next (and their PageUp, PageDown) run on the server as
// in the explorer; the element draws the layer they go to at once, before that run ends
function follow(d) {
  const root = document.querySelector('.cs-root');
  if (!root?.__data.widgets || !staticJson[root.__data.url]) return;
  const names = root.__data.names, i = names.indexOf(root.__shown);
  const next = names[Math.min(Math.max(i + d, 0), names.length - 1)];
  if (next !== root.__shown) show(root, next);
}
if (!window.__csFollow) {
  window.__csFollow = true;
  document.addEventListener('click', e => {
    if (e.target.closest('.st-key-step_next button')) follow(1);
    else if (e.target.closest('.st-key-step_prev button')) follow(-1);
  }, true);
  document.addEventListener('keydown', e => {
    if (e.key === 'PageDown') follow(1);
    else if (e.key === 'PageUp') follow(-1);
  }, true);
}

export default function ({ data, parentElement, setStateValue }) {
  let root = parentElement.querySelector('.cs-root');
  if (!root) {
    root = document.createElement('div');
    root.className = 'cs-root';
    root.innerHTML = '<button type="button">Next ▶</button><h3></h3><div class="cs-row">' +
      '<div class="cs-a"></div><div class="cs-b"></div></div><div class="cs-c"></div>' +
      '<div class="cs-text"></div>';
    parentElement.appendChild(root);
    if (data.widgets) root.querySelector('button').remove();  // Streamlit's Next steps
    else root.querySelector('button').addEventListener('click', () => {
      const names = root.__data.names, i = names.indexOf(root.__shown);
      const next = names[Math.min(i + 1, names.length - 1)];
      setStateValue('layer', next);  // the server follows while the page draws
      if (staticJson[root.__data.url]) show(root, next);  // else the run sends it (--lazy)
    });
  }
  root.__data = data;
  root.dataset.server = data.selected;
  fetchStatic(data.url);
  if (root.__shown !== data.selected || root.__url !== data.url) {
    root.__url = data.url;
    show(root, data.selected);
  }
}
"""
)

# Resolves with [full, drawn]: see the module's docstring.
DONE = """(name) => new Promise(resolve => {
  const done = () => {
    const h = [...document.querySelectorAll('h3')]
      .some(e => e.textContent.startsWith(name + ' · '));
    const root = document.querySelector('.cs-root');
    const app = document.querySelector('[data-testid="stApp"]');
    const idle = app && app.getAttribute('data-test-script-state') === 'notRunning';
    const running = document.querySelector('[data-testid="stStatusWidget"]');
    if (h && root && root.dataset.server === name && idle && !running)
      requestAnimationFrame(() => requestAnimationFrame(() => resolve([
        performance.now() - window.__t0,
        window.__drawn?.name === name ? window.__drawn.t - window.__t0 : null])));
    else setTimeout(done, 5);
  };
  done();
})"""


# Resolves with the ms until another sample's input layer is drawn and the run has ended.
SAMPLE_DONE = """(old) => new Promise(resolve => {
  const done = () => {
    const root = document.querySelector('.cs-root'), d = window.__drawn;
    const app = document.querySelector('[data-testid="stApp"]');
    const idle = app && app.getAttribute('data-test-script-state') === 'notRunning';
    const running = document.querySelector('[data-testid="stStatusWidget"]');
    if (root && root.__url !== old && d?.url === root.__url && d.name === 'input' && idle
        && !running)
      requestAnimationFrame(() => requestAnimationFrame(
        () => resolve(performance.now() - window.__t0)));
    else setTimeout(done, 5);
  };
  done();
})"""


def mixed(address: str, rounds: int, stepped: bool) -> list[float]:
    """ms of explore_latency.py's own mix on one page load: each round 13 Nexts, then the
    input layer and another sample (one never shown before: the server builds its layers)."""
    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(MARK_INPUT)
        page.goto(address)
        page.evaluate(PAINTED, "input")
        for r in range(rounds):
            for name in LAYERS[1:]:
                page.get_by_role("button", name="Next ▶").click()
                times.append(page.evaluate(DONE, name)[0] if stepped
                             else page.evaluate(PAINTED, name))  # fmt: skip
            page.get_by_role("button", name="input", exact=True).first.click()
            page.evaluate(DONE if stepped else PAINTED, "input")
            old = page.evaluate("() => document.querySelector('.cs-root')?.__url ?? null")
            page.get_by_label("Test image #").fill(str(100 + r))
            page.get_by_label("Test image #").press("Enter")
            page.wait_for_function("n => location.search.includes(n)", arg=f"sample={100 + r}")
            times.append(page.evaluate(SAMPLE_DONE, old) if stepped
                         else page.evaluate(PAINTED, "input"))  # fmt: skip
        browser.close()
    return times


def nexts(address: str, rounds: int, stepped: bool) -> tuple[list[float], list[float]]:
    """(full, drawn) ms of each Next from the first layer to the last, `rounds` times, each
    round on a freshly loaded page; `stepped`: the page steps in the browser (else the floor,
    whose `full` is PAINTED's time and `drawn` is empty)."""
    full, drawn = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(MARK_INPUT)
        for _ in range(rounds):
            page.goto(address)
            page.evaluate(PAINTED, "input")
            if stepped:
                page.wait_for_function("() => window.__drawn?.name === 'input'")
            time.sleep(1.5)  # plotly.js loaded and compiled: not the first click's cost
            for name in LAYERS[1:]:
                page.get_by_role("button", name="Next ▶").click()
                if stepped:
                    f, d = page.evaluate(DONE, name)
                    full.append(f)
                    if d is not None:
                        drawn.append(d)
                else:
                    full.append(page.evaluate(PAINTED, name))
        browser.close()
    return full, drawn


def main() -> None:
    """Run the floor and the stepped page in turns and print one JSON line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="passes over the 13 steps, per page")
    p.add_argument("--reps", type=int, default=2, help="turns of floor, then stepped page")
    p.add_argument("--mix", action="store_true", help="also time explore_latency.py's mix "
                   "(Nexts and another sample), as its ratios count it")  # fmt: skip
    p.add_argument("--lazy", action="store_true", help="a run builds only the shown layer's "
                   "figures; every layer's are written after it, in a thread")  # fmt: skip
    p.add_argument("--widgets", default="", help="the explorer's own widgets, of "
                   "'stepper,strip,pickers' (Streamlit's Prev and Next, the layer strip, the "
                   "cell pickers); the element draws the layer the stepper goes to")  # fmt: skip
    p.add_argument("--text", action="store_true", help="the layer's note and words at a "
                   "cell too (ui/explore/words.py), as HTML in the element")  # fmt: skip
    p.add_argument("--fragment", action="store_true", help="the element in a fragment: "
                   "the state it writes back reruns only the fragment")  # fmt: skip
    p.add_argument("--light", action="store_true", help="colour bars and tile numbers in HTML "
                   "over the plot, as the kept maps draw them")  # fmt: skip
    args = p.parse_args()
    floor, full, drawn, floor_mix, mix = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "static").mkdir()
        shutil.copy(STATIC / PLOTLY_JS, folder / "static")  # the server serves no symlink
        (folder / "floor.py").write_text(FLOOR_PAGE)
        (folder / "stepped.py").write_text(PAGE.replace("{js!r}", repr(JS)))
        for _ in range(args.reps):
            with streamlit_server(script=str(folder / "floor.py")) as url:
                floor += nexts(url + "/?sample=0", args.rounds, stepped=False)[0]
                if args.mix:
                    floor_mix += mixed(url + "/?sample=0", args.rounds, stepped=False)
            with streamlit_server(script=str(folder / "stepped.py")) as url:
                flags = ("light", "lazy", "text", "fragment")
                query = "/?sample=0" + "".join(f"&{k}=1" for k in flags if getattr(args, k))
                query += f"&widgets={args.widgets}" if args.widgets else ""
                for old in (folder / "static").glob("layers-*"):  # every run builds its own
                    old.unlink()
                f, d = nexts(url + query, args.rounds, stepped=True)
                full, drawn = full + f, drawn + d
                if args.mix:
                    mix += mixed(url + query, args.rounds, stepped=True)
    out = {"steps": len(full), "light": args.light, "lazy": args.lazy, "text": args.text,
           "fragment": args.fragment,
           "widgets": args.widgets,
           "floor_p50_ms": pct(floor, 0.5), "floor_p95_ms": pct(floor, 0.95),
           "full_p50_ms": pct(full, 0.5), "full_p95_ms": pct(full, 0.95),
           "drawn_p50_ms": pct(drawn, 0.5), "drawn_p95_ms": pct(drawn, 0.95),
           "drawn_missing": len(full) - len(drawn)}  # fmt: skip
    for kind in ("full", "drawn"):
        for q in ("p50", "p95"):
            out[f"ratio_{kind}_{q}"] = round(out[f"{kind}_{q}_ms"] / out[f"floor_{q}_ms"], 2)
    if args.mix:
        out |= {"mix_steps": len(mix), "floor_mix_p50_ms": pct(floor_mix, 0.5),
                "floor_mix_p95_ms": pct(floor_mix, 0.95), "mix_p50_ms": pct(mix, 0.5),
                "mix_p95_ms": pct(mix, 0.95),
                "ratio_mix_p50": round(pct(mix, 0.5) / pct(floor_mix, 0.5), 2),
                "ratio_mix_p95": round(pct(mix, 0.95) / pct(floor_mix, 0.95), 2),
                "mix_slowest_ms": sorted(mix)[-4:]}  # fmt: skip
    print(json.dumps(out))


if __name__ == "__main__":
    main()
