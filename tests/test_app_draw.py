"""The draw page through AppTest: the upload and camera paths, bad files, the explorer hand-off."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from harness.apptest import pane_text
from tinyvgg.data import CLASS_NAMES
from tinyvgg.model import load_shipped
from tinyvgg.preprocess import preprocess
from ui.frame import PAGES
from ui.state import DRAWN_KEY, DrawnInput

from .test_preprocess import encode, garment

APP = "../app.py"
PAGE = "pages/draw.py"


def _draw_page(tab: str = "Upload") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception
    at.session_state["draw_source"] = tab  # the tabs' key: which input is open
    return at.run()


def _expected_top1(data: bytes, auto_invert: bool = True) -> str:
    model, _ = load_shipped("sketch")  # where the sidebar has the pretrained model
    with torch.no_grad():
        logits = model(preprocess(data, auto_invert=auto_invert).tensor.unsqueeze(0))
    return CLASS_NAMES[int(logits.argmax())]


def _captions(at: AppTest) -> str:
    """Captions, the steps' image captions among them."""
    return " | ".join([c.value for c in at.caption] + [c for im in at.image for c in im.captions])


def test_page_opens_on_the_canvas_with_a_hint():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Draw or upload a garment"
    assert "Draw a garment on the canvas" in at.info[0].value
    assert "pages/draw.py" in [p[0] for p in PAGES]


def test_upload_path_shows_steps_and_the_models_prediction():
    at = _draw_page("Upload")
    assert "Upload a picture" in at.info[0].value
    data = encode(garment(ink=30, paper=245).convert("RGB"), "JPEG", quality=90)
    at.file_uploader(key="draw_upload").upload("tshirt.jpg", data, "image/jpeg").run()
    assert not at.exception and not at.error
    prediction = next(m.value for m in at.markdown if m.value.startswith("Prediction:"))
    assert f"**{_expected_top1(data)}**" in prediction
    captions = _captions(at)
    for step in ("1. original · 200×160", "4. inverted", "6. cropped", "8. 28x28 · 28×28",
                 "9. input · 28×28", "input: upload: tshirt.jpg"):  # fmt: skip
        assert step in captions, step


def test_bad_uploads_give_one_sentence_and_the_page_recovers():
    at = _draw_page("Upload")
    for name, data, words in [
        ("notes.png", b"just some text", "not an image"),
        ("half.png", encode(garment())[:200], "truncated or corrupt"),
        ("blank.png", encode(garment(ink=0)), "blank"),
        ("huge.png", b"\x89PNG" + bytes(6 * 2**20), "over the upload limit of 5 MB"),
    ]:
        at.file_uploader(key="draw_upload").upload(name, data, "image/png").run()
        assert not at.exception, name
        assert len(at.error) == 1 and words in at.error[0].value, name
        assert not any(m.value.startswith("Prediction:") for m in at.markdown)
    good = encode(garment())
    at.file_uploader(key="draw_upload").upload("good.png", good, "image/png").run()
    assert not at.exception and not at.error
    assert any(f"**{_expected_top1(good)}**" in m.value for m in at.markdown)


def test_auto_invert_toggle():
    at = _draw_page("Upload")
    data = encode(garment(ink=30, paper=245))
    at.file_uploader(key="draw_upload").upload("dark.png", data, "image/png").run()
    assert "4. inverted" in _captions(at)
    at.toggle(key="draw_auto_invert").set_value(False).run()
    assert not at.exception
    assert "4. not inverted" in _captions(at) and "automatic inversion is off" in _captions(at)
    prediction = next(m.value for m in at.markdown if m.value.startswith("Prediction:"))
    assert f"**{_expected_top1(data, auto_invert=False)}**" in prediction


def test_camera_photo():
    at = _draw_page("Camera")
    assert "localhost or over HTTPS" in _captions(at)
    photo = encode(garment(ink=30, paper=245).convert("RGB"), "JPEG")
    at.camera_input(key="draw_camera").upload("photo.jpg", photo).run()
    assert not at.exception and not at.error
    assert "input: camera photo" in _captions(at)


def test_explore_button_hands_the_tensor_over():
    at = _draw_page("Upload")
    data = encode(garment())
    at.file_uploader(key="draw_upload").upload("tshirt.png", data, "image/png").run()
    next(b for b in at.button if b.label == "Explore layer by layer").click().run()
    drawn = at.session_state[DRAWN_KEY]
    assert drawn.label == "upload: tshirt.png"
    assert torch.equal(drawn.tensor, preprocess(data).tensor)
    assert not at.exception
    # the explorer opened on the drawing, at its input layer
    assert at.title[0].value == "Layer explorer"
    assert at.radio(key="ex_source").value == "drawing"
    assert at.session_state["ex_layer"] == "input"


def test_the_explorer_goes_from_the_drawing_back_to_the_test_images(real_data):
    """The number box is not drawn while the drawing is shown (Streamlit then forgets its
    value): back on the test images it is there again, at the number it had; the random
    tensor's seed likewise."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["source"] = "drawing"
    at.session_state[DRAWN_KEY] = DrawnInput(torch.rand(1, 28, 28), "drawing")
    at.switch_page("pages/explore.py").run()
    assert at.radio(key="ex_source").value == "drawing" and not at.exception
    at.radio(key="ex_source").set_value("sample").run()
    assert not at.exception and at.number_input(key="ex_sample").value == 0
    at.number_input(key="ex_sample").set_value(7).run()
    at.radio(key="ex_source").set_value("drawing").run()
    at.radio(key="ex_source").set_value("sample").run()
    assert not at.exception and at.number_input(key="ex_sample").value == 7
    at.radio(key="ex_source").set_value("random").run()  # the seed box likewise
    at.number_input(key="ex_seed").set_value(5).run()
    at.radio(key="ex_source").set_value("sample").run()
    at.radio(key="ex_source").set_value("random").run()
    assert not at.exception and at.number_input(key="ex_seed").value == 5


@pytest.mark.parametrize("tab", ["Draw", "Camera"])
def test_an_upload_is_only_used_while_its_tab_is_open(tab):
    at = _draw_page("Upload")
    at.file_uploader(key="draw_upload").upload("x.png", encode(garment()), "image/png").run()
    assert any(m.value.startswith("Prediction:") for m in at.markdown)
    at.session_state["draw_source"] = tab
    at.run()
    assert not at.exception
    assert not any(m.value.startswith("Prediction:") for m in at.markdown)


def test_a_nearly_empty_picture_is_a_notice_not_a_prediction():
    at = _draw_page()
    speck = Image.new("L", (600, 600), 255)
    speck.putpixel((300, 300), 90)
    at.file_uploader(key="draw_upload").upload("speck.png", encode(speck), "image/png").run()
    assert not at.exception and not at.error
    assert any(i.value.startswith("There is almost nothing on this image") for i in at.info)
    assert not any("Prediction:" in m.value for m in at.markdown)
    assert not any(b.label == "Explore layer by layer" for b in at.button)


def test_the_draw_page_uses_the_model_for_drawings_and_says_so():
    """Where the sidebar has the pretrained model, the draw page uses its sibling for drawings
    (the sidebar names it, and says why); the explorer, given the drawing, says it explores
    the sidebar's; another model in the sidebar is used as it is."""
    from ui.state import DRAWING, DRAWING_WHY, MODEL_KEY, UNTRAINED

    at = _draw_page("Upload")
    data = encode(garment())
    at.file_uploader(key="draw_upload").upload("tshirt.png", data, "image/png").run()
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert f"**{DRAWING}**" in sidebar and "hidden_units=10" in sidebar
    assert any(c.help == DRAWING_WHY for c in at.sidebar.caption)
    assert f"Model: {DRAWING}" in _captions(at)
    next(b for b in at.button if b.label == "Explore layer by layer").click().run()
    assert "**Pretrained (shipped)**" in " ".join(m.value for m in at.sidebar.markdown)
    assert "answered with the pretrained model for drawings" in pane_text(at)  # its input layer
    at.session_state[MODEL_KEY] = UNTRAINED
    at.switch_page(PAGE).run()
    assert f"**{UNTRAINED}**" in " ".join(m.value for m in at.sidebar.markdown)


def test_thin_outlines_are_thickened_and_closed_ones_filled_on_request():
    from .test_preprocess import _outline

    at = _draw_page("Upload")
    data = encode(_outline(600, 4))
    at.file_uploader(key="draw_upload").upload("outline.png", data, "image/png").run()
    assert not at.exception and not at.error
    captions = _captions(at)
    assert ". thickened · " in captions and "thickened to 2" in captions
    assert ". filled · " not in captions
    at.toggle(key="draw_fill").set_value(True).run()
    captions = _captions(at)
    assert ". filled · " in captions and "closed outlines filled" in captions
    assert ". thickened · " not in captions  # filled, the garment is no thin stroke
    prediction = next(m.value for m in at.markdown if m.value.startswith("Prediction:"))
    model, _ = load_shipped("sketch")
    with torch.no_grad():
        logits = model(preprocess(data, fill_outlines=True).tensor.unsqueeze(0))
    assert f"**{CLASS_NAMES[int(logits.argmax())]}**" in prediction


@pytest.mark.parametrize("temperature", [0.05, 40.0])
def test_calibrated_probabilities_and_the_unsure_sentence(temperature):
    import io

    from tinyvgg.calibration import UNSURE_BELOW
    from tinyvgg.model import save_checkpoint

    model, _ = load_shipped("fashion")  # trained: its logits far apart, so T matters
    buf = io.BytesIO()
    save_checkpoint(buf, model, {"temperature": temperature})
    at = AppTest.from_file(APP, default_timeout=90).switch_page("pages/home.py").run()
    at.sidebar.file_uploader(key="checkpoint_upload").upload("t.pt", buf.getvalue()).run()
    at.switch_page(PAGE).run()
    at.session_state["draw_source"] = "Upload"
    data = encode(garment())
    at.run().file_uploader(key="draw_upload").upload("tshirt.png", data, "image/png").run()
    assert not at.exception and not at.error
    with torch.no_grad():
        probs = torch.softmax(model(preprocess(data).tensor.unsqueeze(0)) / temperature, 1)[0]
    top = probs.topk(3)
    prediction = next(m.value for m in at.markdown if m.value.startswith("Prediction:"))
    assert prediction == (
        f"Prediction: **{CLASS_NAMES[int(top.indices[0])]}** ({100 * float(top.values[0]):.1f}%)"
    )
    assert f"probabilities calibrated (temperature {temperature:.2f}" in _captions(at)
    warnings = [w.value for w in at.warning if w.value.startswith("The model is unsure")]
    if float(top.values[0]) < UNSURE_BELOW:
        (sentence,) = warnings
        second = CLASS_NAMES[int(top.indices[1])]
        assert f"It could as well be {second} ({100 * float(top.values[1]):.0f}%)" in sentence
    else:
        assert not warnings
    assert (temperature > 1) == bool(warnings)  # soft: unsure; sharp: sure
