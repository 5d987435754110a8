"""Explorer latency in a real browser: click `Next` (or pick another sample) to figure painted.

    python bench/explore_latency.py [--rounds 3] [--classic]

Starts the app, opens /explore in Debian's Chromium, and times each interaction until the
new layer's heading is shown, Streamlit's run has finished (the app's script state is back to
`notRunning`) and the browser has painted twice more (two animation frames). Two clocks:
`page_*` from the input event's own timestamp in the page (what a student's click costs),
`browser_*` from Playwright's call (adds the driver's actionability checks). Also times the
server side of the same reruns with AppTest, and, with `--floor` (default on), the same
clicks on the floor page (FLOOR_PAGE below), with the same widgets and nothing to draw: what
Streamlit and Chromium cost on this machine before the explorer draws anything; and the same
page drawing the three maps of a conv layer's step through `st.plotly_chart`, as the explorer
draws them. Prints one JSON line, in milliseconds, with issue 25's two ratios (`ratio_p50`,
`ratio_p95`: the explorer's page time over the floor's, same run); bench/README.md has the
latest figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from harness.servers import CHROMIUM_ARGS, chromium_path, streamlit_server  # noqa: E402
from ui.explore.state import LAYERS  # noqa: E402

# the input event's timestamp (same clock as performance.now()), kept by the page itself
MARK_INPUT = """for (const kind of ['pointerdown', 'keydown'])
    addEventListener(kind, e => { window.__t0 = e.timeStamp; }, true);"""
PAINTED = """(name) => new Promise(resolve => {
    const done = () => {
        const h = [...document.querySelectorAll('h3')]
            .some(e => e.textContent.startsWith(name + ' · '));
        // the run has ended (not just sent the heading): Streamlit's own e2e tests wait on this
        const app = document.querySelector('[data-testid="stApp"]');
        const idle = app && app.getAttribute('data-test-script-state') === 'notRunning';
        const running = document.querySelector('[data-testid="stStatusWidget"]');
        if (h && idle && !running) requestAnimationFrame(() => requestAnimationFrame(
            () => resolve(performance.now() - (window.__t0 ?? performance.now()))));
        else setTimeout(done, 5);
    };
    done();
})"""

# The floor: the explorer's widgets and clicks with nothing to draw (a Next button, a button per
# layer, the sample box and the heading PAINTED waits for), served with the app's own config.
# `?maps=3` adds the three maps of a conv layer's step (input grid, clickable output grid,
# clickable cell map) through `st.plotly_chart`, as the explorer draws them.
FLOOR_PAGE = f"""
import sys

import streamlit as st
import torch

sys.path.insert(0, {str(ROOT)!r})
from ui.explore.state import LAYERS
from ui.explore.view import TILE_PX
from ui.figures.explore import cell_map, channel_grid

st.session_state.setdefault("i", 0)
for j, (col, name) in enumerate(zip(st.columns(len(LAYERS)), LAYERS, strict=True)):
    if col.button(name, key=f"b{{j}}"):
        st.session_state.i = j
if st.button("Next ▶"):
    st.session_state.i = (st.session_state.i + 1) % len(LAYERS)
sample = st.number_input("Test image #", 0, 9999, 0)
st.query_params["sample"] = str(sample)
i = st.session_state.i
st.markdown(f"### {{LAYERS[i]}} · sample {{sample}}")
if st.query_params.get("maps") == "3":
    maps = torch.randn(2, 10, 28, 28, generator=torch.Generator().manual_seed(i))
    pick = dict(theme=None, on_select=lambda: None, selection_mode="points", width="content")
    left, right = st.columns(2)
    left.plotly_chart(channel_grid(maps[0], "input", 0, TILE_PX), key="before", theme=None,
                      width="content")
    right.plotly_chart(channel_grid(maps[1], "output", 0, TILE_PX), key="grid", **pick)
    st.plotly_chart(cell_map(maps[1, 0], "channel 0", (3, 4)), key="cells", **pick)
"""


def pct(values: list[float], q: float) -> float:
    """The q-quantile of `values`, rounded."""
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def browser_times(
    address: str, rounds: int, viewport: tuple[int, int] = (1400, 1000)
) -> tuple[list[float], list[float], list[str]]:
    """(driver-side, in-page) milliseconds per interaction, and what each was."""
    times, page_times, labels = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        page.add_init_script(MARK_INPUT)
        page.goto(address)
        page.evaluate(PAINTED, "input")
        for r in range(rounds):
            for name in LAYERS[1:]:
                t = time.perf_counter()
                page.get_by_role("button", name="Next ▶").click()
                page_times.append(page.evaluate(PAINTED, name))
                times.append((time.perf_counter() - t) * 1000)
                labels.append(f"next to {name}")
            # another sample, at the first layer
            page.get_by_role("button", name="input", exact=True).click()
            page.evaluate(PAINTED, "input")
            box = page.get_by_label("Test image #")
            box.fill(str(100 + r))
            t = time.perf_counter()
            box.press("Enter")
            # the page writes the new sample into the address bar at the end of its run
            page.wait_for_function("n => location.search.includes(n)", arg=f"sample={100 + r}")
            page_times.append(page.evaluate(PAINTED, "input"))
            times.append((time.perf_counter() - t) * 1000)
            labels.append("another sample")
        browser.close()
    return times, page_times, labels


def server_times(rounds: int, classic: bool) -> list[float]:
    """Milliseconds per rerun of the same steps through AppTest (the server alone): Next,
    or the element's step (its state, as its page sends it)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["layer"] = "input"
    if classic:
        at.query_params["pane"] = "0"
    at.switch_page("pages/explore.py").run()
    times = []
    for r in range(rounds):
        for name in LAYERS[1:]:
            t = time.perf_counter()
            if classic:
                next(b for b in at.button if b.label == "Next ▶").click().run()
            else:
                at.session_state["ex_layer"] = name
                at.run()
            times.append((time.perf_counter() - t) * 1000)
        at.session_state["ex_layer"] = "input"
        at.run()
        t = time.perf_counter()
        at.number_input(key="ex_sample").set_value(100 + r).run()
        times.append((time.perf_counter() - t) * 1000)
    return times


def main() -> None:
    """Run the latency benchmark and print one JSON line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="passes over the 13 layers")
    p.add_argument("--viewport", default="1400x1000", help="browser window, WIDTHxHEIGHT")
    p.add_argument("--classic", action="store_true",
                   help="the layer view drawn with Streamlit's widgets (?pane=0)")  # fmt: skip
    p.add_argument("--no-floor", dest="floor", action="store_false",
                   help="skip the same clicks on the empty page")  # fmt: skip
    args = p.parse_args()
    viewport = tuple(int(v) for v in args.viewport.split("x"))
    with streamlit_server() as url:
        address = url + "/explore?sample=0&layer=input" + ("&pane=0" if args.classic else "")
        clicks, in_page, labels = browser_times(address, args.rounds, viewport)
    slowest = sorted(zip(in_page, labels, strict=True), reverse=True)[:4]
    out = {
        "view": "classic" if args.classic else "element",
        "interactions": len(clicks),
        "page_p50_ms": pct(in_page, 0.5), "page_p95_ms": pct(in_page, 0.95),
        "page_max_ms": round(max(in_page), 1),
        "browser_p50_ms": pct(clicks, 0.5), "browser_p95_ms": pct(clicks, 0.95),
        "browser_max_ms": round(max(clicks), 1),
        "browser_mean_ms": round(statistics.mean(clicks), 1),
        "slowest": [f"{label}: {ms:.0f} ms" for ms, label in slowest],
    }  # fmt: skip
    if args.floor:
        with tempfile.TemporaryDirectory() as tmp:
            floor = Path(tmp) / "explore_floor.py"
            floor.write_text(FLOOR_PAGE)
            with streamlit_server(script=str(floor)) as url:
                f_clicks, f_page, _ = browser_times(url + "/?sample=0", args.rounds, viewport)
                _, three, _ = browser_times(url + "/?sample=0&maps=3", args.rounds, viewport)
        out |= {"floor_page_p50_ms": pct(f_page, 0.5), "floor_page_p95_ms": pct(f_page, 0.95),
                "floor_browser_p50_ms": pct(f_clicks, 0.5),
                "floor_browser_p95_ms": pct(f_clicks, 0.95),
                "floor_three_maps_page_p50_ms": pct(three, 0.5),
                "floor_three_maps_page_p95_ms": pct(three, 0.95),
                # issue 25's measure: the explorer against its floor, in the same run
                "ratio_p50": round(out["page_p50_ms"] / pct(f_page, 0.5), 2),
                "ratio_p95": round(out["page_p95_ms"] / pct(f_page, 0.95), 2)}  # fmt: skip
    server = server_times(args.rounds, args.classic)
    out |= {"server_p50_ms": pct(server, 0.5), "server_p95_ms": pct(server, 0.95)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
