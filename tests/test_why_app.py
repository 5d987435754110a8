"""'Why this class?' on the explorer and the draw page, through AppTest: pickers, numbers
checked against PyTorch, links that restore the section."""

from __future__ import annotations

import re

import pytest
import torch
from streamlit.testing.v1 import AppTest

from tinyvgg.attribution import METHODS, SENTENCES
from tinyvgg.data import CLASS_NAMES, to_float
from tinyvgg.data import find_class as class_index
from tinyvgg.model import load_shipped
from ui.explore.state import parse_query
from ui.state import DRAWN_KEY, DrawnInput
from ui.why import parse_link

APP = "../app.py"
EXPLORE, DRAW = "pages/explore.py", "pages/draw.py"


def _page(page: str, query: dict | None = None, state: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    for k, v in (state or {}).items():
        at.session_state[k] = v
    return at.switch_page(page).run()


def _ok(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def _logits(x: torch.Tensor, kind: str = "fashion") -> torch.Tensor:
    """The shipped model's logits: "fashion" the explorer's, "sketch" the draw page's."""
    with torch.no_grad():
        return load_shipped(kind)[0](x.reshape(1, 1, 28, 28))[0].double()


def _bold_numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"\*\*(-?\d+\.\d+)\*\*", text)]


# ---------------------------------------------------------------------------- links


def test_class_names_from_links_and_command_lines():
    assert class_index("Coat") == class_index("coat") == class_index("4") == 4
    assert class_index("ankle boot") == class_index("Ankle_boot") == class_index("ANKLE+BOOT") == 9
    assert class_index("T-shirt/top") == class_index("tshirttop") == 0
    assert class_index("top") == 0 and class_index("Shirt") == 6
    assert class_index("Boot") is None and class_index("10") is None


def test_a_link_opens_the_section_with_its_method_and_classes():
    link = {"why": "gradcam", "target": "Coat", "versus": "pullover"}
    out, problems = parse_link(link, "ex", CLASS_NAMES)
    assert not problems
    assert out == {"ex_why_method": "gradcam", "ex_why_open": True, "ex_why_target": 4,
                   "ex_why_picked": True, "ex_why_versus": 2}  # fmt: skip
    link = {"why": "lime", "target": "Cot", "versus": "Boot"}
    out, problems = parse_link(link, "ex", CLASS_NAMES)
    assert out == {}
    assert problems[0] == "why='lime' is not a method; the methods are " + ", ".join(METHODS) + "."
    assert "target='Cot' is not a class; the nearest is Coat." in problems
    assert any(p.startswith("versus='Boot' is not a class") for p in problems)
    out, problems = parse_link({"target": "Coat", "versus": "Coat"}, "ex", CLASS_NAMES)
    assert out["ex_why_versus"] is None and "itself" in problems[0]  # shown as no class
    settings, _ = parse_query({"sample": "3", "why": "ig"}, CLASS_NAMES)
    assert settings["ex_why_method"] == "ig" and settings["ex_sample"] == 3


def test_closed_the_explorer_computes_nothing_and_writes_no_why(real_data):
    at = _page(EXPLORE)
    _ok(at)
    assert not at.session_state["ex_why_open"]
    assert "why" not in at.query_params
    assert not any(k[0] == "why" for k in at.session_state["_memo"])


def test_deep_link_restores_the_section_and_its_numbers(real_data):
    query = {"sample": "123", "why": "exact", "target": "Coat", "versus": "Pullover"}
    at = _page(EXPLORE, query)
    _ok(at)
    assert at.toggle(key="ex_why_open").value
    assert at.radio(key="ex_why_method").value == "exact"
    assert at.selectbox(key="ex_why_target").value == 4
    assert at.selectbox(key="ex_why_versus").value == 2
    z = _logits(to_float(real_data[1].images[123:124]))
    b = load_shipped()[0].layer("linear").bias.detach().double()
    text = _markdown(at)
    score, total, expected = _bold_numbers(text)[:3]
    assert score == pytest.approx(float(z[4] - z[2]), abs=2e-6)
    assert expected == pytest.approx(float(z[4] - z[2] - (b[4] - b[2])), abs=2e-6)
    assert total == pytest.approx(expected, abs=1e-5)
    assert "rounding: exact." in text
    q = at.query_params
    assert (q["why"], q["target"], q["versus"], q["sample"]) == ("exact", "Coat", "Pullover", "123")


def test_pickers_follow_the_prediction_until_a_class_is_picked(real_data):
    at = _page(EXPLORE, {"sample": "0"})
    at.toggle(key="ex_why_open").set_value(True).run()
    _ok(at)
    z0 = _logits(to_float(real_data[1].images[0:1]))
    assert at.selectbox(key="ex_why_target").value == int(z0.argmax())
    assert "target" not in at.query_params and at.query_params["why"] == "exact"
    at.number_input(key="ex_sample").set_value(1).run()  # another input: its prediction
    z1 = _logits(to_float(real_data[1].images[1:2]))
    assert at.selectbox(key="ex_why_target").value == int(z1.argmax())
    at.selectbox(key="ex_why_target").set_value(3).run()  # picked: kept across inputs
    at.number_input(key="ex_sample").set_value(2).run()
    _ok(at)
    assert at.selectbox(key="ex_why_target").value == 3
    assert at.query_params["target"] == "Dress"


@pytest.mark.parametrize("method", METHODS)
def test_every_method_draws_with_its_sentence_and_numbers(real_data, method):
    at = _page(EXPLORE, {"sample": "7", "why": method})
    _ok(at)
    z = _logits(to_float(real_data[1].images[7:8]))
    text = _markdown(at)
    assert _bold_numbers(text)[0] == pytest.approx(float(z.max()), abs=2e-6)
    assert "nothing rescaled" in text
    assert SENTENCES[method] in [c.value for c in at.caption]
    if method == "ig":
        assert re.search(r"delta [+-]\d\.\d\de[+-]\d+ \((0\.\d\d|1\.00)%\), with \d+ steps", text)
    if method == "occlusion":
        at.number_input(key="ex_why_patch").set_value(6).run()
        at.number_input(key="ex_why_stride").set_value(3).run()
        _ok(at)
        assert "A 6×6 black patch, moved 3 pixels at a time." in _markdown(at)
        at.number_input(key="ex_why_stride").set_value(7).run()
        assert "The stride must be 1 to the patch's size (6), not 7." in [e.value for e in at.error]


def test_a_random_tensor_and_a_drawing_have_their_maps(real_data):
    at = _page(EXPLORE, {"source": "random", "seed": "5", "why": "saliency"})
    _ok(at)
    g = torch.Generator().manual_seed(5)
    z = _logits(torch.randn(1, 28, 28, generator=g))
    assert _bold_numbers(_markdown(at))[0] == pytest.approx(float(z.max()), abs=2e-6)
    x = torch.zeros(1, 28, 28)
    x[0, 4:24, 8:20] = 1.0
    drawn = DrawnInput(x, "drawing")
    at = _page(EXPLORE, {"source": "drawing", "why": "ig"}, {DRAWN_KEY: drawn})
    _ok(at)
    z = _logits(x)
    assert _bold_numbers(_markdown(at))[0] == pytest.approx(float(z.max()), abs=2e-6)


def test_the_address_bar_mirrors_the_section(real_data):
    at = _page(EXPLORE, {"why": "occlusion", "versus": "Bag"})
    _ok(at)
    assert at.query_params["why"] == "occlusion" and at.query_params["versus"] == "Bag"
    assert "target" not in at.query_params  # the prediction: not pinned by the link


# ---------------------------------------------------------------------------- draw page


def _uploaded(at: AppTest) -> tuple[AppTest, torch.Tensor]:
    from tinyvgg.preprocess import preprocess

    from .test_preprocess import encode, garment

    data = encode(garment())
    at.session_state["draw_source"] = "Upload"
    at.run()
    at.file_uploader(key="draw_upload").upload("tshirt.png", data, "image/png").run()
    return at, preprocess(data).tensor


def test_draw_page_why_with_the_top_three_one_click_away():
    at, x = _uploaded(_page(DRAW))
    _ok(at)
    assert not at.session_state["draw_why_open"]
    at.toggle(key="draw_why_open").set_value(True).run()
    _ok(at)
    z = _logits(x, "sketch")  # the draw page's model
    top3 = z.argsort(descending=True)[:3].tolist()
    target = at.get("button_group")[0]  # the segmented control: the top 3, the first chosen
    assert target.options and len(target.options) == 3
    assert at.session_state["draw_why_target"] == top3[0]
    assert _bold_numbers(_markdown(at))[0] == pytest.approx(float(z[top3[0]]), abs=2e-6)
    at.session_state["draw_why_target"] = top3[2]  # as a click on the third
    at.session_state["draw_why_picked"] = True
    at.radio(key="draw_why_method").set_value("ig").run()
    _ok(at)
    assert _bold_numbers(_markdown(at))[0] == pytest.approx(float(z[top3[2]]), abs=2e-6)
    at.selectbox(key="draw_why_versus").set_value(top3[0]).run()
    _ok(at)
    # the explorer opens with the same question about the same picture
    next(b for b in at.button if b.label == "Explore layer by layer").click().run()
    _ok(at)
    assert at.radio(key="ex_source").value == "drawing"
    assert at.toggle(key="ex_why_open").value
    assert at.radio(key="ex_why_method").value == "ig"
    assert at.selectbox(key="ex_why_target").value == top3[2]
    assert at.selectbox(key="ex_why_versus").value == top3[0]
    z = _logits(x)  # the explorer explains the sidebar's model, the same classes
    want = float(z[top3[2]] - z[top3[0]])
    assert _bold_numbers(_markdown(at))[0] == pytest.approx(want, abs=2e-6)


def _with_model(page: str, query: dict, config) -> AppTest:
    """The page with an uploaded checkpoint of this TinyVGGConfig in use."""
    import io

    from tinyvgg.model import build_model, save_checkpoint

    buf = io.BytesIO()
    save_checkpoint(buf, build_model(config, seed=5))
    at = AppTest.from_file(APP, default_timeout=90).switch_page("pages/home.py").run()
    at.sidebar.file_uploader(key="checkpoint_upload").upload("other.pt", buf.getvalue()).run()
    for k, v in query.items():
        at.query_params[k] = v
    return at.switch_page(page).run()


def test_a_model_with_other_classes_is_explained_by_its_own(real_data):
    from tinyvgg.model import TinyVGGConfig

    query = {"why": "exact", "target": "Bag"}  # Bag: a Fashion-MNIST class, not one of its 3
    at = _with_model(EXPLORE, query, TinyVGGConfig(output_shape=3))
    assert not at.exception and not at.error
    said = " ".join(w.value for w in at.warning)
    assert "target='Bag' is not a class; the classes are class 0, class 1, class 2." in said
    options = at.selectbox(key="ex_why_target").options
    assert len(options) == 3 and all(o.startswith("class ") for o in options)
    assert "logit[class " in _markdown(at)


def test_a_class_picked_for_another_model_gives_way_to_the_new_models_answer(real_data):
    import io

    from tinyvgg.model import TinyVGGConfig, build_model, save_checkpoint

    at = _page(EXPLORE, {"sample": "0"})
    at.toggle(key="ex_why_open").set_value(True).run()
    at.selectbox(key="ex_why_target").set_value(8).run()  # Bag, picked
    buf = io.BytesIO()
    save_checkpoint(buf, build_model(TinyVGGConfig(output_shape=3), seed=5))
    at.sidebar.file_uploader(key="checkpoint_upload").upload("other.pt", buf.getvalue()).run()
    assert not at.exception and not at.error
    assert "This model has 3 classes: explaining its answer instead." in [
        w.value for w in at.warning
    ]
