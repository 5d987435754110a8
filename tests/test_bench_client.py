"""bench/st_client.py, the classroom benchmark's websocket client, against a real server."""

import asyncio
import io
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from st_client import StClient  # noqa: E402


def _garment_png(image) -> bytes:
    buf = io.BytesIO()
    ImageOps.invert(Image.fromarray(image.numpy(), "L").resize((112, 112))).save(buf, "PNG")
    return buf.getvalue()


def test_the_client_steps_the_explorer_and_uploads_a_garment(app_url, real_data):
    _, test = real_data

    async def session():
        tab = StClient(app_url, "explore", "sample=5&layer=input", timeout=120)
        run = await tab.open()
        assert tab.session_id and run.runs >= 1 and not run.exceptions
        run = await tab.set_state("ex_pane", {"layer": "conv_1_1"})  # the element's Next
        assert "layer=conv_1_1" in tab.query and not (run.exceptions or run.error_alerts)
        await tab.set("ex_sample", 42)
        assert "sample=42" in tab.query
        await tab.rerun(page_name="draw")
        await tab.set("draw_source", "Upload")
        run = await tab.upload(
            "draw_upload", "garment.png", _garment_png(test.images[0]), "image/png"
        )
        assert tab.has_text("Prediction:") and not (run.exceptions or run.error_alerts)
        run = await tab.click("Explore layer by layer")
        assert run.runs == 2 and "source=drawing" in tab.query  # the callback, then the switch
        await tab.close()
        assert tab.closed.is_set()

    # in a thread of its own: Playwright's sync API (a browser test before this one in the same
    # process) keeps an event loop running in this one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, session()).result()
