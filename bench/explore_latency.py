"""Explorer latency in a real browser: click `Next` (or pick another sample) to figure painted.

    python bench/explore_latency.py [--rounds 3]

Starts the app, opens /explore in Debian's Chromium, and times each interaction from the
click until the new layer's heading is shown, Streamlit's run has finished and the browser
has painted twice more (two animation frames). Also times the server side of the same
reruns with AppTest. Prints one JSON line with p50/p95 of both, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.servers import CHROMIUM_ARGS, chromium_path, streamlit_server  # noqa: E402
from ui.explore_state import LAYERS  # noqa: E402

PAINTED = """([name]) => new Promise(resolve => {
    const done = () => {
        const h = [...document.querySelectorAll('h3')]
            .some(e => e.textContent.startsWith(name + ' · '));
        const running = document.querySelector('[data-testid="stStatusWidget"]');
        if (h && !running) requestAnimationFrame(() => requestAnimationFrame(() => resolve(true)));
        else setTimeout(done, 5);
    };
    done();
})"""


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def browser_times(url: str, rounds: int) -> list[float]:
    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "/explore?sample=0&layer=input")
        page.evaluate(PAINTED, ["input"])
        for r in range(rounds):
            for name in LAYERS[1:]:
                t = time.perf_counter()
                page.get_by_role("button", name="Next ▶").click()
                page.evaluate(PAINTED, [name])
                times.append((time.perf_counter() - t) * 1000)
            # another sample, at the first layer
            page.get_by_role("button", name="input", exact=True).click()
            page.evaluate(PAINTED, ["input"])
            box = page.get_by_label("Test image #")
            t = time.perf_counter()
            box.fill(str(100 + r))
            box.press("Enter")
            # the page writes the new sample into the address bar at the end of its run
            page.wait_for_function("n => location.search.includes(n)", arg=f"sample={100 + r}")
            page.evaluate(PAINTED, ["input"])
            times.append((time.perf_counter() - t) * 1000)
        browser.close()
    return times


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="passes over the 13 layers")
    args = p.parse_args()
    with streamlit_server() as url:
        clicks = browser_times(url, args.rounds)
    server = server_times(args.rounds)
    print(json.dumps({
        "interactions": len(clicks),
        "browser_p50_ms": pct(clicks, 0.5), "browser_p95_ms": pct(clicks, 0.95),
        "browser_max_ms": round(max(clicks), 1),
        "browser_mean_ms": round(statistics.mean(clicks), 1),
        "server_p50_ms": pct(server, 0.5), "server_p95_ms": pct(server, 0.95),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
