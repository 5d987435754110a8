"""One real Chromium page among the websocket clients: are the sessions real, do pages render?

`cross_check(url)` opens /explore in Debian's Chromium (niced, so that it takes little from
the server it is measuring), clicks Next through every layer, timing each click until the new
layer is painted (as bench/explore_latency.py does), then uploads a garment on /draw and opens
the explorer on it. It counts exceptions and error messages on the pages. Runs in a thread.
"""

from __future__ import annotations

import contextlib
import io
import time

import psutil
from explore_latency import PAINTED, pct
from PIL import Image, ImageOps
from playwright.sync_api import expect, sync_playwright

from harness.servers import CHROMIUM_ARGS, chromium_path
from tinyvgg.data import load_split
from ui.explore.state import LAYERS

T = 60_000  # ms


def _problems(page) -> dict:
    return {
        "exceptions": page.get_by_test_id("stException").count(),
        "error_alerts": page.get_by_test_id("stAlertContentError").count(),
    }


def _garment(index: int) -> bytes:
    img = Image.fromarray(load_split("test").images[index].numpy(), "L").resize((224, 224))
    buf = io.BytesIO()
    ImageOps.invert(img).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def _nice_browser(niceness: int) -> None:
    for p in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if p.name().startswith(("chrom", "node", "headless")):
                p.nice(niceness)


def _painted(page, name: str) -> None:
    """Wait, `T` at most, for layer `name`'s heading and the end of the run; then until
    painted (explore_latency's PAINTED)."""
    page.wait_for_function("n => [...document.querySelectorAll('h3')]"
                           ".some(e => e.textContent.startsWith(n + ' · '))", arg=name,
                           timeout=T)  # fmt: skip
    expect(page.get_by_test_id("stApp")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=T
    )
    page.evaluate(PAINTED, name)


def cross_check(url: str, seed: int = 0, classic: bool = False, niceness: int = 10) -> dict:
    """Next through the explorer and an upload on /draw in Chromium; times and problems."""
    out: dict = {"ok": False}
    times, problems = [], {"exceptions": 0, "error_alerts": 0}
    step = "start Chromium"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            _nice_browser(niceness)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(T)
            step = "open /explore"
            page.goto(url + f"/explore?sample={100 + seed}&layer=input" + "&pane=0" * classic)
            _painted(page, "input")
            for name in LAYERS[1:]:
                step = f"Next to {name}"
                t = time.perf_counter()
                page.get_by_role("button", name="Next ▶").click()
                _painted(page, name)
                times.append(time.perf_counter() - t)
                for k, v in _problems(page).items():
                    problems[k] += v
            step = "open /draw"
            page.goto(url + "/draw")
            heading = page.get_by_role("heading", name="Draw or upload a garment")
            expect(heading).to_be_visible(timeout=T)
            step = "upload"
            page.get_by_role("tab", name="Upload").click()
            # the tab's uploader is drawn by the rerun the click starts; until then the only
            # file input on the page may be the sidebar's checkpoint uploader
            expect(page.get_by_text("Upload a picture of a garment")).to_be_visible(timeout=T)
            expect(page.get_by_test_id("stApp")).to_have_attribute(
                "data-test-script-state", "notRunning", timeout=T
            )
            main = page.get_by_test_id("stMain")
            main.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
                {"name": "garment.png", "mimeType": "image/png", "buffer": _garment(seed)}
            )
            expect(page.get_by_text("Prediction:", exact=False)).to_be_visible(timeout=T)
            for k, v in _problems(page).items():
                problems[k] += v
            step = "Explore layer by layer"
            page.get_by_role("button", name="Explore layer by layer").click()
            _painted(page, "input")
            drawn = page.get_by_text("From the draw page: upload: garment.png")
            expect(drawn).to_be_visible(timeout=T)
            for k, v in _problems(page).items():
                problems[k] += v
            browser.close()
        out["ok"] = True
    except Exception as e:  # reported, not raised: the load goes on
        out["failure"] = f"{step}: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
    s = [t * 1000 for t in times]
    out.update(next_clicks=len(s), next_p50_ms=pct(s, 0.5) if s else None,
               next_max_ms=round(max(s), 1) if s else None, **problems)  # fmt: skip
    return out
