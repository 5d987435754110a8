"""The explorer page through AppTest: every source, every layer, links that restore state.

The layer view is the element of ui/explore/pane.py: AppTest cannot click it, so a step or a
pick sets the state it sets (`ex_layer`, `ex_cell`), and what it shows is read from its data
(harness/apptest.py). `?pane=0` opens the view drawn with Streamlit's own widgets, the
fallback where plotly.js cannot be served."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

from harness.apptest import (
    components,
    figure,
    figures,
    pane_checks_out,
    pane_layer,
    pane_step,
    pane_text,
)
from tinyvgg.activations import trace
from tinyvgg.data import CLASS_NAMES, to_float
from tinyvgg.model import load_shipped
from ui.explore.state import LAYERS, parse_query
from ui.state import DRAWN_KEY, DrawnInput

APP = "../app.py"
PAGE = "pages/explore.py"


def _explore(query: dict | None = None, state: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    for k, v in (state or {}).items():
        at.session_state[k] = v
    return at.switch_page(PAGE).run()


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [s.value for s in at.subheader]
    parts += [c.value for c in at.caption] + [s.value for s in at.success]
    return "\n".join([*parts, pane_text(at)])


def _next(at: AppTest) -> AppTest:
    return pane_step(at, LAYERS[LAYERS.index(at.session_state["ex_layer"]) + 1])


def _heading(at: AppTest) -> str:
    return pane_layer(at)["heading"]


def _ok(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_every_layer_with_next(real_data):
    at = _explore({"layer": "input"})
    seen = []
    for _ in range(len(LAYERS)):
        _ok(at)
        seen.append(_heading(at).split(" · ")[0])
        if seen[-1] != "softmax":
            _next(at)
    assert seen == LAYERS
    assert not [b for b in at.button if b.label == "Next ▶"]  # the element steps


def test_every_layer_with_next_in_streamlit_s_own_view(real_data):
    at = _explore({"pane": "0"})
    _ok(at)
    assert not components(at, "tinyvgg_layer_pane")
    at.selectbox(key="ex_layer").set_value("input").run()
    seen = []
    for _ in range(len(LAYERS)):
        _ok(at)
        seen.append(at.subheader[0].value.split(" · ")[0])
        if seen[-1] != "softmax":
            at.button[[b.label for b in at.button].index("Next ▶")].click().run()
    assert seen == LAYERS
    at.button[[b.label for b in at.button].index("◀ Prev")].click().run()
    assert at.subheader[0].value.startswith("linear")
    assert any(s.value.startswith("✓ equals the activation") for s in at.success)
    assert at.query_params["pane"] == "0"  # kept in the address


def test_without_plotly_js_to_serve_streamlit_draws_the_layers(real_data, monkeypatch):
    from ui.explore import pane

    monkeypatch.setattr(pane, "available", lambda: False)  # static/ not writable, say
    at = _explore({"layer": "conv_1_1"})
    _ok(at)
    assert not components(at, "tinyvgg_layer_pane")
    assert at.subheader[0].value.startswith("conv_1_1 · Conv2d")
    assert any(s.value.startswith("✓ equals the activation") for s in at.success)
    assert "pane" not in at.query_params  # the address says nothing it did not say


@pytest.mark.parametrize("layer", [n for n in LAYERS if n not in ("input", "softmax")])
def test_arithmetic_checks_out_for_each_layer(real_data, layer):
    at = _explore({"sample": "7", "layer": layer, "cell": "2,3,4"})
    _ok(at)
    assert pane_checks_out(at)


def test_sources_random_and_drawing(real_data):
    at = _explore({"source": "random", "seed": "42", "layer": "conv_2_1"})
    _ok(at)
    assert at.number_input(key="ex_seed").value == 42
    assert "torch.randn(1, 28, 28), seed 42" in _text(at)
    drawn = DrawnInput(torch.rand(1, 28, 28), "drawing")
    at = _explore({"source": "drawing", "layer": "relu_1_1"}, {DRAWN_KEY: drawn})
    _ok(at)
    assert at.radio(key="ex_source").value == "drawing"
    assert "drawing" in _text(at)


def test_the_input_layer_says_what_each_source_gives_the_model(real_data):
    """Values in [0, 1] for a test image and a drawing; a standard normal for a random tensor,
    with the tensor's own range beside it."""
    at = _explore({"sample": "7", "layer": "input"})
    _ok(at)
    assert "values in [0, 1]" in _text(at) and "ToTensor()" in _text(at)
    at = _explore({"source": "random", "seed": "42", "layer": "input"})
    _ok(at)
    x = torch.randn(1, 28, 28, generator=torch.Generator().manual_seed(42))
    assert "standard normal" in _text(at) and "[0, 1]" in _text(at)
    assert f"min {float(x.min()):.4f} · max {float(x.max()):.4f}" in _text(at)
    drawn = DrawnInput(torch.rand(1, 28, 28), "drawing")
    at = _explore({"source": "drawing", "layer": "input"}, {DRAWN_KEY: drawn})
    _ok(at)
    assert "your picture" in _text(at)


def test_deep_link_restores_sample_layer_and_cell(real_data):
    _, test = real_data
    at = _explore({"sample": "123", "layer": "conv_2_1", "cell": "3,5,7"})
    _ok(at)
    assert at.number_input(key="ex_sample").value == 123
    assert at.session_state["ex_layer"] == "conv_2_1"
    assert _heading(at).startswith("conv_2_1 ·")
    assert "conv_2_1[0, 3, 5, 7]" in _text(at)
    assert f"Truth: **{CLASS_NAMES[int(test.labels[123])]}**" in _text(at)
    assert at.query_params["layer"] == "conv_2_1" and at.query_params["sample"] == "123"


def test_changes_are_written_to_the_url(real_data):
    at = _explore()
    at.number_input(key="ex_sample").set_value(42).run()
    pane_step(at, "max_pool_1")
    assert at.query_params["sample"] == "42" and at.query_params["layer"] == "max_pool_1"


@pytest.mark.parametrize(
    "query",
    [
        {"sample": "99999"}, {"sample": "abc"}, {"layer": "conv_9_9"}, {"cell": "x,y"},
        {"source": "webcam"}, {"seed": "-4"}, {"source": "drawing"}, {"cell": "99,99,99"},
    ],
)  # fmt: skip
def test_junk_links_give_a_sentence_and_a_working_page(real_data, query):
    at = _explore(query)
    _ok(at)
    assert pane_layer(at)["heading"]  # the page still shows a layer
    assert at.warning and at.warning[0].value.startswith("Ignored part of the link")


def test_parse_query_is_strict():
    query = {"sample": "5", "layer": "linear", "cell": "1,2,3"}
    settings, problems = parse_query(query, CLASS_NAMES)
    assert settings == {"ex_source": "sample", "ex_sample": 5, "ex_layer": "linear",
                        "ex_cell": (1, 2, 3), "ex_cell_link": (1, 2, 3)}  # fmt: skip
    assert problems == []
    _, problems = parse_query({"sample": "10000", "seed": "1.5"}, CLASS_NAMES)
    assert len(problems) == 2


def test_a_mistyped_layer_gets_a_suggestion():
    _, problems = parse_query({"layer": "pool_2"}, CLASS_NAMES)
    assert problems == ["layer='pool_2' is not a layer of TinyVGG; the nearest is max_pool_2."]
    _, problems = parse_query({"layer": "banana"}, CLASS_NAMES)
    assert "; the layers are input, conv_1_1," in problems[0] and problems[0].endswith("softmax.")


def test_a_far_cell_in_a_link_says_where_it_went(real_data):
    at = _explore({"sample": "3", "layer": "max_pool_1", "cell": "12,99,5"})
    _ok(at)
    assert [w.value for w in at.warning] == [
        "Ignored part of the link: cell=12,99,5 is not there: max_pool_1 has channels 0 to 9, "
        "rows 0 to 13 and columns 0 to 13. Showing 9,13,5."
    ]
    assert "max_pool_1[0, 9, 13, 5]" in _text(at) and at.query_params["cell"] == "9,13,5"
    _next(at)
    _ok(at)
    assert not at.warning  # said once, for the link


@pytest.mark.parametrize(("index", "shown"), [(300, 300), (0, 0), (489, 489), (500, 489)])
def test_a_single_number_is_an_index_into_flatten(real_data, index, shown):
    at = _explore({"sample": "3", "layer": "flatten", "cell": str(index)})
    _ok(at)
    c, rest = divmod(shown, 49)
    i, j = divmod(rest, 7)
    assert f"max_pool_2[0, {c}, {i}, {j}]` lands at index" in _text(at)
    assert f"= **{shown}** of `flatten`" in _text(at)
    warnings = [w.value for w in at.warning]
    if index == shown:
        assert warnings == []
    else:
        assert warnings == [f"Ignored part of the link: cell={index} is not there: flatten has "
                            f"490 values, numbered 0 to 489. Showing index {shown}."]  # fmt: skip


def test_a_cell_in_a_link_to_a_layer_without_cells_is_quiet(real_data):
    at = _explore({"sample": "3", "layer": "linear", "cell": "3,5,7"})
    _ok(at)
    assert not at.warning


def test_other_models(real_data):
    at = _explore({"layer": "linear"})
    at.sidebar.selectbox(key="model_choice").select("Untrained (seed 42 init)").run()
    _ok(at)
    assert "Untrained" in _text(at)


def test_a_wider_uploaded_model_through_every_layer(real_data):
    """A notebook state_dict with 16 hidden units: 16 channels a map, 784-long features; every
    layer's arithmetic still checks out, and a cell picked on the wide model is kept inside
    the narrower shipped one's shapes when the user switches back."""
    import io

    from tinyvgg.model import TinyVGGConfig, build_model

    buf = io.BytesIO()
    torch.save(build_model(TinyVGGConfig(hidden_units=16), seed=3).state_dict(), buf)
    at = _explore({"sample": "7", "layer": "input"})
    at.sidebar.file_uploader(key="checkpoint_upload").upload("wide.pth", buf.getvalue()).run()
    _ok(at)
    assert at.sidebar.selectbox(key="model_choice").value == "Uploaded checkpoint"
    shapes = {}
    for name in LAYERS[1:]:
        pane_step(at, name)
        _ok(at)
        shapes[name] = _heading(at).split(" · ")[2]
        if name not in ("softmax",):
            assert pane_checks_out(at), name
    assert shapes["conv_1_1"] == "[1, 16, 28, 28]" and shapes["flatten"] == "[1, 784]"
    pane_step(at, "conv_2_2")
    assert pane_layer(at)["cells"] == [16, 14, 14]  # the cell pickers' bounds
    at.session_state["ex_cell"] = (15, 0, 0)  # channel 15, typed in the element's picker
    at.run()
    assert at.session_state["ex_cell"][0] == 15
    _ok(at)
    at.sidebar.selectbox(key="model_choice").select("Pretrained (shipped)").run()
    _ok(at)
    heading = _heading(at)
    assert heading.startswith("conv_2_2") and "[1, 10, 14, 14]" in heading
    assert at.session_state["ex_cell"][0] <= 9  # channel 15 does not exist here


def test_kernel_slide_animation_steps(real_data):
    at = _explore({"sample": "0", "layer": "conv_1_1", "cell": "4,0,0"})
    at.toggle(key="ex_slide_on").set_value(True).run()
    _ok(at)
    frame_key = "ex_slide_conv_1_1_4_frame"
    assert at.session_state[frame_key] == 0
    step = next(b for b in at.button if b.label == "Step")
    step.click().run()
    _ok(at)
    assert at.session_state[frame_key] == 1
    play = next(b for b in at.button if b.label == "Play")
    play.click().run()
    at.run()  # AppTest never fires run_every timers: each run is one tick
    _ok(at)
    assert at.session_state[frame_key] > 1


def test_teacher_mode_strip_keeps_the_names_and_the_heading_the_rest(real_data):
    """On a projector the strip is every layer's name, in large type (the browser test
    measures it), without thumbnails or shapes; the selected layer's heading gives its kind,
    shape and parameters."""
    at = _explore({"sample": "3", "layer": "conv_2_1", "present": "1"})
    _ok(at)
    strip = components(at, "tinyvgg_layer_strip")[0][1]
    assert strip["compact"] and [t["name"] for t in strip["layers"]] == LAYERS
    captions = [c.value for c in at.caption]
    assert not any("[1, 10" in c or "params" in c for c in captions)  # all in the heading
    assert not at.image and not any(t["thumb"] for t in strip["layers"])  # no thumbnails
    assert _heading(at) == "conv_2_1 · Conv2d · [1, 10, 14, 14] · 910 params"

    normal = _explore({"sample": "3", "layer": "conv_2_1"})
    tiles = {t["name"]: t for t in components(normal, "tinyvgg_layer_strip")[0][1]["layers"]}
    conv = tiles["conv_2_1"]
    assert (conv["kind"], conv["shape"], conv["params"]) == ("Conv2d", "[1, 10, 14, 14]", 910)
    assert all(t["thumb"].startswith("data:image/png;base64,") for t in tiles.values())


def test_softmax_shows_its_steps_for_every_class(real_data):
    at = _explore({"sample": "3", "layer": "softmax"})
    _ok(at)
    said = pane_layer(at)["words"]
    table = said[said.index('class="sm"') :]
    assert all(f"<td>{n}</td>" in table for n in CLASS_NAMES) and "<td>Σ</td>" in table
    worst = next(line for line in _text(at).splitlines() if "largest difference" in line)
    assert float(worst.rsplit(" ", 1)[1].rstrip(".")) <= 1e-6


def test_linear_explains_any_class(real_data):
    at = _explore({"sample": "3", "layer": "linear"})
    _ok(at)
    layer = pane_layer(at)  # the class box: every class, the predicted one said
    pred = layer["cls"]
    assert layer["classes"][pred].endswith("(predicted)") and len(layer["classes"]) == 10
    other = (pred + 4) % len(CLASS_NAMES)
    ((_, data),) = components(at, "tinyvgg_layer_pane")
    at.session_state[data["class_key"]] = other  # as the element's class box sets it
    at.run()
    _ok(at)
    text = _text(at)
    assert pane_layer(at)["cls"] == other
    assert f"logit[{CLASS_NAMES[other]}] = bias" in text
    assert f"contribute most** to *{CLASS_NAMES[other]}*" in text
    assert pane_checks_out(at)
    at.number_input(key="ex_sample").set_value(4).run()  # a new input: its own prediction again
    layer = pane_layer(at)
    assert layer["classes"][layer["cls"]].endswith("(predicted)")


def _chart_layouts(at: AppTest) -> dict[str, dict]:
    """Each plotly chart's layout, by its title."""
    layouts = [spec["layout"] for _, spec in figures(at)]
    return {lay.get("title", {}).get("text", ""): lay for lay in layouts}


@pytest.mark.parametrize(
    ("layer", "cell", "outlined"),
    [("conv_2_1", "3,0,5", 10), ("relu_1_1", "2,12,15", 1), ("max_pool_1", "4,6,9", 1),
     ("conv_1_1", "0,27,13", 1), ("linear", "0,0,0", 0)],
)  # fmt: skip
def test_the_input_beside_the_layer_outlines_where_the_picked_cell_comes_from(
    real_data, layer, cell, outlined
):
    at = _explore({"sample": "3", "layer": layer, "cell": cell})
    _ok(at)
    (title,) = [t for t in _chart_layouts(at) if t.startswith("input: ")]
    before = _chart_layouts(at)[title].get("shapes", [])
    assert len(before) == outlined
    if outlined:  # a cell one column left moves the outlines left
        c, i, j = map(int, cell.split(","))
        at.session_state["ex_cell"] = (c, i, j - 1)  # typed in the element's picker
        at.run()
        after = _chart_layouts(at)[title]["shapes"]
        assert len(after) == outlined and after[0]["x0"] < before[0]["x0"]


@pytest.mark.parametrize(
    ("layer", "size"),
    [
        ("max_pool_1", "⌊(28 + 2·0 − 2) / 2⌋ + 1 = **14**"),
        ("max_pool_2", "⌊(14 + 2·0 − 2) / 2⌋ + 1 = **7**"),
    ],
)
def test_max_pool_shows_its_output_size(real_data, layer, size):
    at = _explore({"sample": "3", "layer": layer})
    _ok(at)
    assert size in _text(at)


def _array(plotly_json) -> np.ndarray:
    """A plotly JSON array: a list, or typed {"dtype", "bdata": base64}."""
    if isinstance(plotly_json, dict):
        raw = base64.b64decode(plotly_json["bdata"])
        return np.frombuffer(raw, dtype=plotly_json["dtype"]).astype(float)
    return np.asarray(plotly_json, dtype=float)


def test_python_reuses_the_id_of_a_freed_trace(real_data):
    """Why no cache may be keyed on id(): traces made one after another, each dropped, soon
    get the id of an earlier trace of another input."""
    model = load_shipped()[0]
    images = to_float(real_data[1].images[:50])
    first: dict[int, int] = {}  # id of a trace's records -> the first image it was made for
    for i in range(50):
        records = trace(model, images[i : i + 1])
        if first.setdefault(id(records), i) != i:
            return
        del records
    pytest.fail("no id was reused in 50 traces")


def test_maps_follow_the_input_whatever_the_trace_s_id(real_data, monkeypatch):
    """Caches are keyed on content (model, input, layer, cell), never on id(). Here every trace
    reaches the page in the same list object, the extreme case of Python reusing an id: the
    clickable map must still show each new sample's own conv_1_1 channel 0."""
    from ui.explore import state as es

    same_list: list = []

    def one_id_for_all(model, x):
        same_list[:] = trace(model, x)
        return same_list

    monkeypatch.setattr(es, "trace", one_id_for_all)
    conv = load_shipped()[0].layer("conv_1_1")
    images = real_data[1].images
    at = _explore({"sample": "0", "layer": "conv_1_1", "cell": "0,0,0"})
    for i in range(1, 12):
        at.number_input(key="ex_sample").set_value(i).run()
        _ok(at)
        fig = figure(at, "ex_pane.cells")
        with torch.no_grad():
            want = F.conv2d(to_float(images[i : i + 1]), conv.weight, conv.bias, padding=1)
        shown = _array(fig["data"][1]["customdata"])  # the value under each clickable cell
        assert np.allclose(shown, want[0, 0].flatten().numpy(), atol=1e-6), f"sample {i}"


@pytest.mark.parametrize(
    ("layer", "words"),
    [("conv_1_1", "Σ over 1 input channel of"), ("conv_1_2", "Σ over 10 input channels of")],
)
def test_the_conv_sentence_agrees_with_its_number(real_data, layer, words):
    at = _explore({"sample": "1", "layer": layer, "cell": "0,5,5"})
    _ok(at)
    assert words in _text(at)


def test_a_first_visit_starts_on_the_brightest_cell_not_the_padded_corner(real_data):
    at = _explore({"sample": "0", "layer": "conv_1_1"})
    _ok(at)
    conv = load_shipped()[0].layer("conv_1_1")
    with torch.no_grad():
        out = F.conv2d(to_float(real_data[1].images[:1]), conv.weight, conv.bias, padding=1)
    i, j = divmod(int(out[0, 0].argmax()), 28)
    assert at.session_state["ex_cell"] == (0, i, j) and (i, j) != (0, 0)
    assert f"conv_1_1[0, 0, {i}, {j}]" in _text(at)
    assert at.query_params["cell"] == f"0,{i},{j}"


def test_the_picked_cell_keeps_its_place_across_layers_of_other_sizes(real_data):
    at = _explore({"sample": "2", "layer": "conv_1_2", "cell": "4,15,20"})
    _ok(at)
    seen = {}
    for layer in ("relu_1_2", "max_pool_1", "conv_2_1", "max_pool_2", "flatten", "linear",
                  "max_pool_2", "max_pool_1", "conv_1_2"):  # fmt: skip
        pane_step(at, layer)
        _ok(at)
        seen[layer] = at.session_state["ex_cell"]
        if layer == "flatten":  # max_pool_2[4, 3, 5] is index 4·49 + 3·7 + 5 = 222
            assert "= **222** of `flatten`" in _text(at)
    assert seen["relu_1_2"] == (4, 15, 20)  # 28×28 as well
    assert seen["max_pool_1"] == seen["conv_2_1"] == (4, 7, 10)  # 14×14
    assert seen["max_pool_2"] == seen["flatten"] == (4, 3, 5)  # 7×7
    assert seen["conv_1_2"] == (4, 15, 20)  # back where it was picked, not (4, 14, 20)


def test_a_cell_picked_on_a_small_layer_is_scaled_up(real_data):
    at = _explore({"sample": "2", "layer": "max_pool_2", "cell": "1,6,0"})
    _ok(at)
    at.session_state["ex_cell"] = (1, 6, 3)  # picked here: (1, 6, 3) in 7×7
    at.run()
    _ok(at)
    pane_step(at, "conv_1_1")
    assert at.session_state["ex_cell"] == (1, 24, 12)


def test_the_kernel_slide_starts_at_the_picked_cell(real_data):
    at = _explore({"sample": "7", "layer": "conv_2_1", "cell": "3,5,7"})
    _ok(at)
    at.toggle(key="ex_slide_on").set_value(True).run()
    _ok(at)
    title = lambda: next(  # noqa: E731
        json.loads(c.proto.spec)["layout"]["title"]["text"]
        for c in at.get("plotly_chart")
        if c.key == "ex_slide_conv_2_1_3_figure"
    )
    assert title().startswith("frame 78 of 196: out[0, 3, 5, 7]")  # 5 × 14 + 7 = 77
    at.session_state["ex_cell"] = (3, 9, 7)  # another cell: the slide follows
    at.run()
    _ok(at)
    assert title().startswith("frame 134 of 196: out[0, 3, 9, 7]")


def _welcome(at: AppTest) -> bool:
    return any(m.value.startswith("**Welcome.**") for m in at.markdown)


def test_a_first_visit_is_welcomed_once(real_data):
    at = _explore()
    _ok(at)
    assert _welcome(at)
    at.button(key="ex_welcome_ok").click().run()
    assert not _welcome(at)
    at.switch_page("pages/home.py").run()
    at.switch_page(PAGE).run()
    assert not _welcome(at)  # not again in this session


def test_teacher_mode_is_not_welcomed(real_data):
    at = _explore({"present": "1"})
    _ok(at)
    assert not _welcome(at)


def test_the_guided_lesson_steps_with_next(real_data):
    at = _explore({"sample": "0", "layer": "conv_2_1"})
    at.button(key="ex_welcome_lesson").click().run()
    _ok(at)
    assert not _welcome(at) and at.session_state["ex_lesson"] is True
    assert _heading(at).startswith("input · Input")  # the lesson starts at the input
    assert pane_layer(at)["note"].startswith("This is all the model gets: 1 channel of 28×28")
    _next(at)
    _ok(at)
    assert pane_layer(at)["note"].startswith("10 kernels of 3×3 slide over the image")
    at.toggle(key="ex_lesson").set_value(False).run()
    assert not pane_layer(at)["note"]
