"""The draw page in Debian's Chromium: draw with the mouse, upload files, bad files."""

from __future__ import annotations

import io

import pytest
import torch
from PIL import Image, ImageDraw
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from harness.pages import expect_url, wait_settled
from tinyvgg.calibration import UNSURE_BELOW, temperature_of
from tinyvgg.data import CLASS_NAMES
from tinyvgg.model import load_shipped
from tinyvgg.preprocess import preprocess

from .test_preprocess import encode, garment

T = 60_000  # ms: a busy 2-core machine reruns slowly


def _open(page, app_url):
    page.goto(app_url + "/draw")
    expect(page.get_by_role("heading", name="Draw or upload a garment")).to_be_visible(timeout=T)


def _uploader(page):
    page.get_by_role("tab", name="Upload").click()
    expect(page.get_by_text("Upload a picture of a garment")).to_be_visible(timeout=T)
    # the tab's rerun over, as it is before a person has picked a file
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=T)
    # the main area's: the sidebar's checkpoint uploader is a file input too
    main = page.get_by_test_id("stMain")
    # and taking files: Streamlit disables every widget while its websocket is not connected
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=T)
    dropzone = main.get_by_test_id("stFileUploaderDropzone")
    expect(dropzone).to_have_attribute("aria-disabled", "false", timeout=T)
    return main.get_by_test_id("stFileUploaderDropzoneInput")


def _reruns(frames: list) -> int:
    """How many of the websocket messages the page sent asked the server for a rerun."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msgs = [BackMsg.FromString(f) for f in frames if isinstance(f, bytes)]
    return sum(m.WhichOneof("type") == "rerun_script" for m in msgs)


def test_switching_tabs_asks_for_one_rerun_each_time(page, app_url):
    """Only the page's and the tabs' own reruns: the canvas sends nothing of itself. With its
    paper as a background image, it reported the image's fit once loaded, and that rerun
    could drop a file being uploaded just then (Streamlit clears the pending reply with the
    file's upload URL when a run starts)."""
    sent: list = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
    _open(page, app_url)
    expect(page.locator("canvas.upper-canvas")).to_be_visible(timeout=T)
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=T)
    page.wait_for_timeout(1000)
    assert _reruns(sent) == 1  # the page's first run
    for tab in ("Upload", "Draw", "Upload"):
        page.get_by_role("tab", name=tab).click()
        expect(page.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
        expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=T)
        page.wait_for_timeout(1000)  # time for a late request to go out
    assert _reruns(sent) == 1 + 3


def _draw_trousers(page) -> None:
    """A trouser-like outline with the mouse: down, across, up, across."""
    canvas = page.locator("canvas.upper-canvas")  # Fabric's event layer, above the drawing
    expect(canvas).to_be_visible(timeout=T)
    wait_settled(page)  # the page's styles and later elements can still move the canvas
    box = canvas.bounding_box()
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + 110, y0 + 40)
    page.mouse.down()
    for x, y in [(110, 280), (150, 280), (160, 120), (170, 280), (210, 280), (210, 40), (110, 40)]:
        page.mouse.move(x0 + x, y0 + y, steps=8)
    page.mouse.up()


INK = """c => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0; for (let k = 3; k < d.length; k += 4) if (d[k] > 0) n++; return n; }"""
# the canvas (one, as `_ink` wants) has its ink within 2% of `drawn` pixels
INK_NEAR = f"""drawn => {{
    const c = document.querySelectorAll('canvas.dc-canvas.lower-canvas');
    return c.length === 1 && Math.abs(({INK})(c[0]) - drawn) <= drawn * 0.02; }}"""


def _ink(page) -> int:
    """How many pixels of the canvas's drawing layer hold ink."""
    return page.locator("canvas.dc-canvas.lower-canvas").evaluate(INK)


def test_draw_with_the_mouse_and_see_a_prediction(page, app_url):
    _open(page, app_url)
    expect(page.get_by_text("Draw a garment on the canvas to see")).to_be_visible(timeout=T)
    _draw_trousers(page)
    expect(page.get_by_text("Prediction:", exact=False)).to_be_visible(timeout=T)
    expect(page.get_by_text("28×28 input").first).to_be_visible(timeout=T)  # the preview's title
    expect(page.get_by_text("9. input · 28×28")).to_be_visible(timeout=T)
    expect(page.get_by_text("transparency put on white")).to_be_visible(timeout=T)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    # The drawing stays when another tab is opened and closed again: the Upload tab's own rerun
    # over first, as a person sees it (a click on Draw during that rerun can be undone by it)
    page.get_by_role("tab", name="Upload").click()
    expect(page.get_by_text("Upload a picture of a garment")).to_be_visible(timeout=T)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=T)  # its run over
    page.get_by_role("tab", name="Draw").click()
    expect(page.get_by_text("Prediction:", exact=False)).to_be_visible(timeout=T)


def test_upload_a_garment(page, app_url, real_data):
    _, test = real_data
    buf = io.BytesIO()
    Image.fromarray(test.images[0].numpy()).save(buf, "PNG")
    model, _ = load_shipped("sketch")  # the draw page's, where the sidebar has the pretrained
    with torch.no_grad():
        expected = CLASS_NAMES[int(model(preprocess(buf.getvalue()).tensor[None]).argmax())]
    _open(page, app_url)
    _uploader(page).set_input_files(
        {"name": "item0.png", "mimeType": "image/png", "buffer": buf.getvalue()}
    )
    # the page took the file (its chip), then predicted
    expect(page.get_by_test_id("stFileChip").filter(has_text="item0.png")).to_be_visible(timeout=T)
    expect(page.get_by_text(f"Prediction: {expected}")).to_be_visible(timeout=T)
    expect(page.get_by_text("input: upload: item0.png")).to_be_visible(timeout=T)
    expect(page.get_by_text("1. original · 28×28")).to_be_visible(timeout=T)
    # every step's image framed, so a white garment on white paper keeps its edges
    steps = page.locator('.st-key-draw_steps [data-testid="stImage"] img')
    expect(steps).to_have_count(len(preprocess(buf.getvalue()).steps), timeout=T)
    for k in range(steps.count()):
        expect(steps.nth(k)).to_have_css("outline-width", "1px")
    # ... then layer by layer in the explorer, on this very image
    page.get_by_role("button", name="Explore layer by layer").click()
    expect(page.get_by_role("heading", name="Layer explorer")).to_be_visible(timeout=T)
    expect(page.get_by_text("input · Input")).to_be_visible(timeout=T)
    expect(page.get_by_role("radio", name="Your image")).to_be_checked(timeout=T)
    expect(page.get_by_text("upload: item0.png").first).to_be_visible(timeout=T)
    expect_url(page, "source=drawing")


def test_upload_a_non_image_and_an_oversized_file(page, app_url):
    _open(page, app_url)
    upload = _uploader(page)
    upload.set_input_files({"name": "notes.png", "mimeType": "image/png", "buffer": b"not a png"})
    expect(page.get_by_text("This file is not an image this app can read")).to_be_visible(timeout=T)
    # Over server.maxUploadSize (5 MB): Streamlit refuses it in the browser, with its sentence.
    upload.set_input_files(
        {"name": "huge.png", "mimeType": "image/png", "buffer": b"\x89PNG" + bytes(6 * 2**20)}
    )
    chip = page.get_by_test_id("stFileChip").filter(has_text="huge.png")
    expect(chip).to_contain_text("File must be 5.0MB or smaller.", timeout=T)


def test_a_drawing_is_still_there_after_the_explorer(page, app_url):
    """Draw, explore it layer by layer, come back: the drawing and its prediction stay."""
    _open(page, app_url)
    _draw_trousers(page)
    expect(page.get_by_text("Prediction:", exact=False)).to_be_visible(timeout=T)
    drawn = _ink(page)
    assert drawn > 500
    page.get_by_role("button", name="Explore layer by layer").click()
    expect(page.get_by_role("heading", name="Layer explorer")).to_be_visible(timeout=T)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Draw or upload").click()
    expect(page.get_by_role("heading", name="Draw or upload a garment")).to_be_visible(timeout=T)
    expect(page.get_by_text("Prediction:", exact=False)).to_be_visible(timeout=T)
    expect(page.locator("canvas.dc-canvas.lower-canvas")).to_be_visible(timeout=T)
    # the canvas loads its kept drawing on its own schedule, after the prediction is shown
    try:
        page.wait_for_function(INK_NEAR, arg=drawn, timeout=T)
    except PlaywrightTimeout:
        pass  # said below
    assert abs(_ink(page) - drawn) <= drawn * 0.02, (_ink(page), drawn)
    page.get_by_role("button", name="Clear the canvas").click()  # and Clear still clears
    expect(page.get_by_text("Draw a garment on the canvas to see")).to_be_visible(timeout=T)


@pytest.mark.parametrize(("width", "fewest_a_row"), [(400, 2), (1400, 5)])
def test_the_steps_are_equal_tiles_that_wrap(browser, app_url, width, fewest_a_row):
    """Nine steps in equal tiles (a wide crop and the 28x28 input alike), two or more a row on
    a phone instead of one a screen, five or more on a laptop."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    wide = encode(garment(size=(400, 200), ink=40, paper=240))
    _open(page, app_url)
    _uploader(page).set_input_files({"name": "wide.png", "mimeType": "image/png", "buffer": wide})
    steps = page.locator('.st-key-draw_steps [data-testid="stImage"] img')
    expect(steps).to_have_count(9, timeout=T)
    page.wait_for_function("""() => [...document.querySelectorAll(
        '.st-key-draw_steps [data-testid="stImage"] img')].every(
        i => i.complete && i.naturalWidth > 0)""", timeout=T)  # fmt: skip
    wait_settled(page)
    boxes = [steps.nth(k).bounding_box() for k in range(9)]
    assert len({(round(b["width"]), round(b["height"])) for b in boxes}) == 1, boxes
    tops = [round(b["y"]) for b in boxes]
    assert tops.count(tops[0]) >= fewest_a_row, tops
    context.close()


@pytest.mark.parametrize("width", [400, 1280])
def test_the_canvas_toolbar_covers_no_control(page, app_url, width):
    """Undo, redo and reset float above the canvas in a band of their own, at least 16 px clear
    of the tool picker and the brush slider above it (the slider's track could be under it,
    or a few pixels off, depending on how the ink choices wrapped)."""
    page.set_viewport_size({"width": width, "height": 900})
    _open(page, app_url)
    canvas = page.locator("canvas.upper-canvas")
    expect(canvas).to_be_visible(timeout=T)
    wait_settled(page)
    canvas.hover()
    bar = page.locator(".dc-toolbar-card")
    expect(bar).to_be_visible(timeout=T)
    b = bar.bounding_box()
    for control in (page.get_by_test_id("stSelectbox").filter(has_text="Tool"),
                    page.get_by_test_id("stSlider").filter(has_text="Brush width")):  # fmt: skip
        c = control.bounding_box()
        assert c["y"] + c["height"] + 16 <= b["y"] or c["x"] + c["width"] <= b["x"], (b, c)


def test_a_box_outline_is_thickened_and_the_model_says_it_is_unsure(page, app_url):
    """A plain box drawn with a thin pen: the page shows the thickening step, and since the
    draw page's model spreads its answer over several garments, the sentence that says so."""
    im = Image.new("L", (600, 600), 0)
    ImageDraw.Draw(im).rectangle((150, 50, 450, 550), outline=255, width=4)
    data = encode(im)
    model, metrics = load_shipped("sketch")
    pre = preprocess(data)
    with torch.no_grad():
        probs = torch.softmax(model(pre.tensor[None]) / temperature_of(metrics), 1)[0]
    assert float(probs.max()) < UNSURE_BELOW  # what the page is about to say
    step = 1 + [s.name for s in pre.steps].index("thickened")
    _open(page, app_url)
    _uploader(page).set_input_files({"name": "box.png", "mimeType": "image/png", "buffer": data})
    best = CLASS_NAMES[int(probs.argmax())]
    expect(page.get_by_text(f"Prediction: {best}")).to_be_visible(timeout=T)
    expect(page.get_by_text(f"{step}. thickened · ")).to_be_visible(timeout=T)
    expect(page.get_by_text("thickened to 2")).to_be_visible(timeout=T)
    sentence = page.get_by_test_id("stAlertContentWarning").filter(has_text="The model is unsure")
    expect(sentence).to_be_visible(timeout=T)
    expect(sentence).to_contain_text(f"its best guess, {best}, has only")
