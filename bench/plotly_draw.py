"""plotly.js alone drawing the explorer's three maps of a step, in Debian's Chromium.

    python bench/plotly_draw.py [--rounds 12]

No Streamlit: one page with plotly.js (from the installed plotly package) and three divs.
For the steps conv_1_1, relu_1_1, conv_1_2 and relu_1_2 of the shipped model on test image 0,
it draws the explorer's own figures (input grid with outlines, clickable channel grid,
clickable cell map) by mounting them afresh (`Plotly.newPlot`) and by updating kept plots
(`Plotly.react`), each until two animation frames have passed; and the same with every
heatmap replaced by an image trace of a PNG the server colours (and a clear one-cell heatmap
for the colour bar). What the three maps cost in the browser with nothing else: the part of
a click that no server-side change can remove. Prints one JSON line, p50 in ms.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import statistics
import sys
from pathlib import Path

import numpy as np
import plotly
import plotly.colors as pc
import plotly.io as pio
from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.servers import CHROMIUM_ARGS, chromium_path  # noqa: E402
from tinyvgg.activations import by_name, layer_input, trace  # noqa: E402
from tinyvgg.data import load_split, to_float  # noqa: E402
from tinyvgg.explain import source_cells  # noqa: E402
from tinyvgg.model import load_shipped  # noqa: E402
from ui.explore.view import TILE_PX, _map_figure  # noqa: E402
from ui.figures import explore as fx  # noqa: E402

STEPS = ("conv_1_1", "relu_1_1", "conv_1_2", "relu_1_2")
DRAW = """async ([figs, how]) => {
  const t0 = performance.now();
  for (const [k, f] of figs.entries()) {
    const el = document.getElementById('m' + k);
    if (how === 'mount') { Plotly.purge(el); await Plotly.newPlot(el, f.data, f.layout); }
    else await Plotly.react(el, f.data, f.layout);
  }
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0;
}"""


def step_figures(model, records, name: str, cell=(0, 5, 5)) -> list:
    """The explorer's three figures of a conv or ReLU step."""
    rec, prev = by_name(records)[name], layer_input(records, name)
    spans = source_cells(model.layer(name), tuple(prev.shape[1:]), *cell)
    return [fx.outline_spans(_map_figure(prev.output, f"input: {prev.name}"), spans),
            fx.channel_grid(rec.output[0], f"output: {name}", cell[0], TILE_PX),
            fx.cell_map(rec.output[0, cell[0]], f"{name}, channel 0", cell[1:])]  # fmt: skip


def as_images(fig) -> dict:
    """The figure as plain JSON with each heatmap drawn as a PNG (NaN clear) instead."""
    spec = json.loads(pio.to_json(fig, validate=False))
    data = []
    for t, heat in zip(spec["data"], fig.data, strict=True):
        if t["type"] != "heatmap":
            data.append(t)
            continue
        z = np.asarray(heat.z, float)
        pos = np.array([p for p, _ in heat.colorscale])
        cols = np.array([pc.unlabel_rgb(pc.convert_colors_to_same_type(c, "rgb")[0][0])
                         for _, c in heat.colorscale], float)  # fmt: skip
        u = np.nan_to_num(np.clip((z - heat.zmin) / (heat.zmax - heat.zmin), 0, 1))
        rgba = np.zeros((*z.shape, 4), np.uint8)
        for k in range(3):
            rgba[..., k] = np.interp(u, pos, cols[:, k])
        rgba[..., 3] = np.where(np.isnan(z), 0, 255)
        buf = io.BytesIO()
        Image.fromarray(rgba, "RGBA").save(buf, "PNG")
        source = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
        data += [dict(type="image", source=source, hoverinfo="skip"),
                 dict(type="heatmap", z=[[heat.zmin, heat.zmax]], x=[0, 0], y=[0, 0],
                      colorscale=t["colorscale"], zmin=heat.zmin, zmax=heat.zmax, opacity=0,
                      hoverinfo="skip")]  # fmt: skip
    return {"data": data, "layout": spec["layout"]}


def main() -> None:
    """Time both ways of drawing, both kinds of map, and print one JSON line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=12, help="draws per way (the first 2 dropped)")
    args = p.parse_args()
    model = load_shipped("fashion")[0].eval()
    records = trace(model, to_float(load_split("test").images[:1]).reshape(1, 1, 28, 28))
    figs = {n: step_figures(model, records, n) for n in STEPS}
    kinds = {
        "heatmap": {n: [json.loads(pio.to_json(f, validate=False)) for f in fs]
                    for n, fs in figs.items()},
        "image": {n: [as_images(f) for f in fs] for n, fs in figs.items()},
    }  # fmt: skip
    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_content("".join(f"<div id=m{k}></div>" for k in range(3)))
        page.add_script_tag(path=str(Path(plotly.__file__).parent / "package_data/plotly.min.js"))
        for kind, specs in kinds.items():
            for how in ("mount", "react"):
                ms = [page.evaluate(DRAW, [specs[STEPS[r % len(STEPS)]], how])
                      for r in range(args.rounds)]  # fmt: skip
                out[f"{kind}_{how}_p50_ms"] = round(statistics.median(ms[2:]), 1)
        browser.close()
    out["json_kb"] = round(sum(len(json.dumps(f)) for f in kinds["heatmap"][STEPS[0]]) / 1000, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
