"""Explorer latency in a real browser: click `Next` (or pick another sample) to figure painted.

    python bench/explore_latency.py [--rounds 3]

Starts the app, opens /explore in Debian's Chromium, and times each interaction until the
new layer's heading is shown, Streamlit's run has finished (the app's script state is back to
`notRunning`) and the browser has painted twice more (two animation frames). Two clocks:
`page_*` from the input event's own timestamp in the page (what a student's click costs),
`browser_*` from Playwright's call (adds the driver's actionability checks). Also times the
server side of the same reruns with AppTest, and, with `--floor` (default on), the same
clicks on explore_floor_app.py, a page with the same widgets and nothing to draw: what
Streamlit and Chromium cost on this machine before the explorer draws anything; and the same
page drawing one figure per click (the explorer's channel grid), what one plotly figure adds;
and the three figures of a conv layer's step, through Streamlit's chart element and through a
small component of our own that updates kept charts with `Plotly.react` (plotly.js served
from the installed plotly package), what plotly costs there without Streamlit's remounts.
Prints one JSON line, in milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import plotly

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.servers import CHROMIUM_ARGS, chromium_path, streamlit_server  # noqa: E402
from ui.explore_state import LAYERS  # noqa: E402

# the input event's timestamp (same clock as performance.now()), kept by the page itself
MARK_INPUT = """for (const kind of ['pointerdown', 'keydown'])
    addEventListener(kind, e => { window.__t0 = e.timeStamp; }, true);"""
PAINTED = """([name, own]) => new Promise(resolve => {
    const done = () => {
        const h = [...document.querySelectorAll('h3')]
            .some(e => e.textContent.startsWith(name + ' · '));
        // the run has ended (not just sent the heading): Streamlit's own e2e tests wait on this
        const app = document.querySelector('[data-testid="stApp"]');
        const idle = app && app.getAttribute('data-test-script-state') === 'notRunning';
        const running = document.querySelector('[data-testid="stStatusWidget"]');
        // the floor page's own component (`own`): plotly has drawn its charts since the input
        const drawn = !own || (window.__drawnAt ?? 0) > (window.__t0 ?? 0);
        if (h && idle && !running && drawn) requestAnimationFrame(() => requestAnimationFrame(
            () => resolve(performance.now() - (window.__t0 ?? performance.now()))));
        else setTimeout(done, 5);
    };
    done();
})"""


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def browser_times(
    address: str, rounds: int, viewport: tuple[int, int] = (1400, 1000), own: bool = False
) -> tuple[list[float], list[float], list[str]]:
    """(driver-side, in-page) milliseconds per interaction, and what each was. `own`: the
    floor page's own component, whose charts count as painted once plotly has drawn them."""
    times, page_times, labels = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        page.add_init_script(MARK_INPUT)
        page.goto(address)
        page.evaluate(PAINTED, ["input"])
        if own:  # plotly.js loaded and the first charts drawn
            page.wait_for_function("() => window.__drawnAt", timeout=60_000)
        for r in range(rounds):
            for name in LAYERS[1:]:
                t = time.perf_counter()
                page.get_by_role("button", name="Next ▶").click()
                page_times.append(page.evaluate(PAINTED, [name, own]))
                times.append((time.perf_counter() - t) * 1000)
                labels.append(f"next to {name}")
            # another sample, at the first layer
            page.get_by_role("button", name="input", exact=True).click()
            page.evaluate(PAINTED, ["input"])
            box = page.get_by_label("Test image #")
            box.fill(str(100 + r))
            t = time.perf_counter()
            box.press("Enter")
            # the page writes the new sample into the address bar at the end of its run
            page.wait_for_function("n => location.search.includes(n)", arg=f"sample={100 + r}")
            page_times.append(page.evaluate(PAINTED, ["input"]))
            times.append((time.perf_counter() - t) * 1000)
            labels.append("another sample")
        browser.close()
    return times, page_times, labels


def server_times(rounds: int) -> list[float]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["layer"] = "input"
    at.switch_page("pages/explore.py").run()
    times = []
    for r in range(rounds):
        for _ in LAYERS[1:]:
            nxt = next(b for b in at.button if b.label == "Next ▶")
            t = time.perf_counter()
            nxt.click().run()
            times.append((time.perf_counter() - t) * 1000)
        at.selectbox(key="ex_layer").set_value("input").run()
        t = time.perf_counter()
        at.number_input(key="ex_sample").set_value(100 + r).run()
        times.append((time.perf_counter() - t) * 1000)
    return times


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def plotly_js() -> Iterator[str]:
    """The installed plotly package's plotly.min.js, served locally; yields its URL."""
    folder = Path(plotly.__file__).parent / "package_data"
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/plotly.min.js"
    finally:
        server.shutdown()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="passes over the 13 layers")
    p.add_argument("--viewport", default="1400x1000", help="browser window, WIDTHxHEIGHT")
    p.add_argument("--no-floor", dest="floor", action="store_false",
                   help="skip the same clicks on the empty page")  # fmt: skip
    args = p.parse_args()
    viewport = tuple(int(v) for v in args.viewport.split("x"))
    with streamlit_server() as url:
        address = url + "/explore?sample=0&layer=input"
        clicks, in_page, labels = browser_times(address, args.rounds, viewport)
    slowest = sorted(zip(in_page, labels, strict=True), reverse=True)[:4]
    out = {
        "interactions": len(clicks),
        "page_p50_ms": pct(in_page, 0.5), "page_p95_ms": pct(in_page, 0.95),
        "page_max_ms": round(max(in_page), 1),
        "browser_p50_ms": pct(clicks, 0.5), "browser_p95_ms": pct(clicks, 0.95),
        "browser_max_ms": round(max(clicks), 1),
        "browser_mean_ms": round(statistics.mean(clicks), 1),
        "slowest": [f"{label}: {ms:.0f} ms" for ms, label in slowest],
    }  # fmt: skip
    if args.floor:
        floor = "bench/explore_floor_app.py"
        with plotly_js() as js, streamlit_server({"FLOOR_PLOTLY_JS": js}, floor) as url:
            f_clicks, f_page, _ = browser_times(url + "/?sample=0", args.rounds, viewport)
            _, g_page, _ = browser_times(url + "/?sample=0&figure=1", args.rounds, viewport)
            _, three, _ = browser_times(url + "/?sample=0&figure=3", args.rounds, viewport)
            _, own, _ = browser_times(url + "/?sample=0&figure=own", args.rounds, viewport, True)
        out |= {"floor_page_p50_ms": pct(f_page, 0.5), "floor_page_p95_ms": pct(f_page, 0.95),
                "floor_browser_p50_ms": pct(f_clicks, 0.5),
                "floor_browser_p95_ms": pct(f_clicks, 0.95),
                "floor_one_figure_page_p50_ms": pct(g_page, 0.5),
                "floor_one_figure_page_p95_ms": pct(g_page, 0.95),
                "floor_three_figures_page_p50_ms": pct(three, 0.5),
                "floor_three_figures_page_p95_ms": pct(three, 0.95),
                "floor_three_figures_own_page_p50_ms": pct(own, 0.5),
                "floor_three_figures_own_page_p95_ms": pct(own, 0.95)}  # fmt: skip
    server = server_times(args.rounds)
    out |= {"server_p50_ms": pct(server, 0.5), "server_p95_ms": pct(server, 0.95)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
