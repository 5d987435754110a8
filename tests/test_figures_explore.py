"""Explorer figures: the numbers drawn are the tensors' numbers."""

from __future__ import annotations

import html
import math
import re

import numpy as np
import pytest
import torch

from tinyvgg.activations import by_name, layer_input, trace
from tinyvgg.data import CLASS_NAMES
from tinyvgg.explain import conv_cell, pool_cell, softmax_steps, unflatten_index
from tinyvgg.model import TinyVGGConfig, build_model
from ui.explore.view import _map_figure
from ui.figures import explore as fx
from ui.figures.arithmetic import conv_arithmetic_html, plain, softmax_table_html


def _records():
    model = build_model(seed=3).eval()
    return model, trace(model, torch.rand(1, 28, 28))


def test_conv_arithmetic_html_shows_every_number():
    model, records = _records()
    x_in = layer_input(records, "conv_1_2").output
    cell = conv_cell(x_in, model.layer("conv_1_2"), 4, 0, 27)  # top-right corner: padding
    html = conv_arithmetic_html(cell, "relu_1_1")
    assert html.count("relu_1_1 channel") == 10
    # padding: the top row and the right column of every patch (5 of 9 cells) x 10 channels
    assert html.count(">pad<") == 5 * 10
    for k in range(10):
        assert f"{float(cell.channel_sums[k]):.4f}" in html
        for v in cell.kernel[k].flatten().tolist():
            assert f">{v:.3f}<" in html
    numbers = re.findall(r">(-?\d+\.\d{4})<", html)
    inside = cell.products[cell.window.inside.expand(10, 3, 3)]
    products = [f"{v + 0.0:.4f}" for v in inside.tolist()]  # -0.0 is written 0.0000
    assert all(p in numbers for p in products)


def _zero_times_negative():
    """A cell whose channel 0 patch is all zeros under an all-negative kernel: its products
    are -0.0 in floating point; channel 1's are a true -0.5."""
    layer = torch.nn.Conv2d(2, 1, 3, padding=1)
    with torch.no_grad():
        layer.weight.fill_(-0.5)
        layer.bias.zero_()
    x = torch.zeros(1, 2, 5, 5)
    x[0, 1] = 1.0
    cell = conv_cell(x, layer, 0, 2, 2)
    assert torch.signbit(cell.products[0]).all()
    return cell


def test_zero_products_are_written_without_a_minus_sign():
    """0 × a negative weight is -0.0; a student should read 0.0000, not -0.0000. Negative
    values keep their sign."""
    page = conv_arithmetic_html(_zero_times_negative())
    assert "-0.000" not in page
    assert page.count(">0.0000<") == 9 + 1  # channel 0's products, and their sum
    assert page.count(">-0.5000<") == 9 and ">-4.5000<" in page


def _number(text: str) -> float:
    """Back from the table's writing: 0.123456, or 4.5834·10⁻⁷."""
    if "·10" not in text:
        return float(text)
    mantissa, power = text.split("·10")
    return float(mantissa) * 10 ** int(power.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")))


def test_softmax_table_has_every_class_and_step():
    _, records = _records()
    logits = by_name(records)["linear"].output
    steps = softmax_steps(logits)
    pred = int(torch.softmax(logits, dim=1).argmax())
    page = softmax_table_html(steps, CLASS_NAMES, pred)
    rows = re.findall(r"<tr( class=\"\w+\")?>(.*?)</tr>", page)
    assert len(rows) == 1 + 10 + 1  # header, a row per class, the sums
    for k, name in enumerate(CLASS_NAMES):
        css, body = rows[1 + k]
        cells = re.findall(r"<td>(.*?)</td>", body)
        assert cells[0] == html.escape(name)
        z, shifted, e, p = (_number(c) for c in cells[1:])
        assert z == pytest.approx(float(logits[0, k]), abs=5e-5)
        assert shifted == pytest.approx(float(logits[0, k] - logits.max()), abs=5e-5)
        assert e == pytest.approx(math.exp(float(logits[0, k] - logits.max())), rel=1e-4)
        assert p == pytest.approx(float(torch.softmax(logits, dim=1)[0, k]), rel=1e-4, abs=1e-6)
        assert (css == ' class="pick"') == (k == pred)  # the predicted class highlighted
    total = re.findall(r"<td>(.*?)</td>", rows[-1][1])
    assert total[0] == "Σ" and float(total[3]) == pytest.approx(steps.total, rel=1e-9)
    assert float(total[4]) == pytest.approx(1.0, abs=1e-6)


def test_tiny_numbers_keep_their_digits():
    assert plain(0.999997) == "0.999997" and plain(-1.5) == "-1.500000" and plain(0) == "0.000000"
    assert plain(4.583431e-07) == "4.5834·10⁻⁷"
    assert plain(1.2e-12) == "1.2000·10⁻¹²"
    assert _number(plain(3.14159e-9)) == pytest.approx(3.1416e-9)


def test_flat_vector_puts_every_feature_where_flatten_put_it():
    _, records = _records()
    pooled = by_name(records)["max_pool_2"].output
    flat = by_name(records)["flatten"].output[0]
    fig = fx.flat_vector(flat, (10, 7, 7), "t", index=300)
    heat, dots = fig.data
    z = np.asarray(heat.z)
    assert z.shape == (10, 49)
    for k in (0, 48, 49, 300, 489):
        c, i, j = unflatten_index((10, 7, 7), k)
        assert z[c, k % 49] == float(flat[k]) == float(pooled[0, c, i, j])
        index, origin, value = dots.customdata[k]
        assert (index, origin) == (k, f"max_pool_2[{c},{i},{j}]") and value == float(flat[k])
        assert (dots.x[k], dots.y[k]) == (k % 49, c)  # the click point sits on its cell
    (outline,) = fig.layout.shapes  # index 300 = row 6, column 6
    assert (outline.x0, outline.y0) == (5.5, 5.5) and (outline.x1, outline.y1) == (6.5, 6.5)


def test_one_cell_outlined_on_the_flatten_input():
    _, records = _records()
    pooled = by_name(records)["max_pool_2"].output[0]
    fig = fx.outline_spans(_map_figure(pooled[None], "t"), [(6, (2, 2), (5, 5))])
    r0, c0 = fig.layout.meta["origins"][6]
    (outline,) = fig.layout.shapes
    assert (outline.x0, outline.y0) == (c0 + 5 - 0.5, r0 + 2 - 0.5)
    assert np.asarray(fig.data[0].z)[r0 + 2, c0 + 5] == float(pooled[6, 2, 5])


def test_the_flattened_vector_beside_linear_has_a_row_per_channel():
    for channels in (10, 16):  # the default model and a wider upload
        vec = torch.randn(1, channels * 49)
        z = np.asarray(_map_figure(vec, "input: flatten").data[0].z)
        assert z.shape == (channels, 49) and z[3, 5] == float(vec[0, 3 * 49 + 5])


def test_outline_spans_on_a_grid_and_on_one_map():
    _, records = _records()
    spans = [(3, (0, 1), (4, 6)), (7, (5, 5), (27, 27))]
    grid = fx.outline_spans(_map_figure(by_name(records)["relu_1_2"].output, "t"), spans)
    for shape, (k, (r0, r1), (c0, c1)) in zip(grid.layout.shapes, spans, strict=True):
        top, left = grid.layout.meta["origins"][k]
        assert (shape.y0, shape.y1) == (top + r0 - 0.5, top + r1 + 0.5)
        assert (shape.x0, shape.x1) == (left + c0 - 0.5, left + c1 + 0.5)
    image = by_name(records)["input"].output  # one map: no tiles
    (shape,) = fx.outline_spans(_map_figure(image, "t"), [(0, (26, 27), (12, 14))]).layout.shapes
    assert (shape.y0, shape.y1, shape.x0, shape.x1) == (25.5, 27.5, 11.5, 14.5)
    assert not fx.outline_spans(_map_figure(image, "t"), []).layout.shapes


def test_channel_grid_and_cell_map_carry_the_values():
    _, records = _records()
    out = by_name(records)["conv_2_1"].output[0]
    grid = fx.channel_grid(out, "t", channel=3)
    heat, overlay = grid.data
    assert list(overlay.customdata) == list(range(10))  # one clickable point per tile
    (h, w), origins = grid.layout.meta["tile"], grid.layout.meta["origins"]
    z = np.asarray(heat.z)
    for c, (r0, c0) in enumerate(origins):
        np.testing.assert_array_equal(z[r0 : r0 + h, c0 : c0 + w], out[c].numpy())
        assert (overlay.x[c], overlay.y[c]) == (c0 + (w - 1) / 2, r0 + (h - 1) / 2)
    cells = fx.cell_map(out[3], "t", (5, 7))
    pts = cells.data[1]
    assert len(pts.x) == 14 * 14
    k = 5 * 14 + 7
    assert (pts.y[k], pts.x[k]) == (5, 7)
    assert np.float32(pts.customdata[k]) == out[3, 5, 7].numpy()


def test_pool_window_and_probabilities():
    model, records = _records()
    x_in = layer_input(records, "max_pool_1").output
    cell = pool_cell(x_in, model.layer("max_pool_1"), 1, 2, 3)
    fig = fx.pool_window(cell)
    assert fig.data[0].text[cell.argmax[0]][cell.argmax[1]] == f"{cell.value:.4f}"
    probs = by_name(records)["softmax"].output
    bars = fx.probabilities(probs, CLASS_NAMES, true_label=2).data[0]
    np.testing.assert_allclose(bars.y, probs[0].double().numpy())
    assert list(bars.x) == list(CLASS_NAMES)


def test_bars_name_the_models_own_classes():
    names = ("circle", "square", "star", "triangle")
    probs = torch.softmax(torch.tensor([[0.5, 2.0, -1.0, 0.1]]), dim=1)
    fig = fx.probabilities(probs, names, true_label=3)
    assert list(fig.data[0].x) == list(names)
    assert fig.layout.annotations[0].x == "triangle"
    z = torch.tensor([[0.5, 2.0, -1.0, 0.1]])
    bars = fx.logits(z, names, "logits").data[0]
    assert list(bars.x) == list(names)
    np.testing.assert_allclose(bars.y, z[0].double().numpy())


def test_an_rgb_input_is_drawn_in_its_colours():
    import io

    from PIL import Image

    chw = torch.zeros(3, 28, 28)
    chw[0, :, :14] = 1.0  # red on the left, blue on the right
    chw[2, :, 14:] = 0.5
    im = Image.open(io.BytesIO(fx.rgb_png(chw, size=56))).convert("RGB")
    assert im.size == (56, 56)
    assert im.getpixel((0, 0)) == (255, 0, 0) and im.getpixel((55, 55)) == (0, 0, 128)


def test_thumbnails_are_pngs():
    _, records = _records()
    for rec in records:
        assert fx.thumbnail_png(rec.output).startswith(b"\x89PNG")


def test_the_strip_shows_an_rgb_input_in_its_colours():
    import io

    from PIL import Image

    from ui.explore.view import _thumbnail

    model = build_model(TinyVGGConfig(input_shape=3), seed=3).eval()
    x = torch.zeros(1, 3, 28, 28)
    x[:, 1] = 1.0  # all green
    first, second = trace(model, x)[:2]
    im = Image.open(io.BytesIO(_thumbnail(first))).convert("RGB")
    assert im.getpixel((0, 0)) == (0, 255, 0)
    assert Image.open(io.BytesIO(_thumbnail(second))).mode == "L"  # a conv layer: grey


def test_figures_built_without_checks_are_what_plotly_s_own_validation_makes():
    """`figure()` skips plotly's per-property checks for speed; what it sends to the browser
    must be exactly what a validated figure sends (validation also turns colour-scale names
    like "Greys_r", which plotly.js does not know, into colours)."""
    import json

    import plotly.graph_objects as go
    import plotly.io as pio

    from ui.figures.common import feature_maps, image
    from ui.figures.draw import input_preview
    from ui.figures.playground import maps

    t = torch.randn(10, 14, 14)
    figures = [
        image(t[0], "one"), image(t[0].abs()), feature_maps(t, "all", names=list("abcdefghij")),
        feature_maps(t.relu()), fx.channel_grid(t, "grid", 3), fx.cell_map(t[2], "c", (4, 5)),
        fx.cell_map(t[2].relu(), "c", (0, 0)), input_preview(t[:1].sigmoid()),
        maps(torch.randn(12, 200, 150)),
    ]  # fmt: skip
    for fig in figures:
        checked = go.Figure(fig.to_dict())  # validates every property; raises on a bad one
        sent = json.loads(pio.to_json(fig, validate=False))
        assert sent == json.loads(pio.to_json(checked, validate=False))
        assert all(isinstance(tr.get("colorscale"), list) for tr in sent["data"] if "z" in tr)


def test_layer_input_and_output_grids_put_channel_k_in_the_same_place():
    """Beside each other, the layer's input and output grids tile the channels alike, at the
    same height, and that height fits the tiles (no blank band under them)."""
    from ui.explore import view as ev

    _, records = _records()
    rec = by_name(records)["conv_2_1"]
    prev = ev._map_figure(layer_input(records, "conv_2_1").output, "in")
    grid = fx.channel_grid(rec.output[0], "out", 0, ev.TILE_PX)
    assert prev.layout.meta["origins"] == grid.layout.meta["origins"]
    assert prev.layout.height == grid.layout.height == 2 * ev.TILE_PX + 60


def test_linear_and_softmax_sides_are_titled_bars_with_room_for_the_class_names():
    """The logits and probabilities, on either side of the layer view, say what they are and
    name every class; their margins grow to fit the names and ticks (fixed 4 px margins under
    plotly's own theme cut the class names and the ticks off)."""
    from ui.explore import view as ev

    _, records = _records()
    logits, probs = by_name(records)["linear"].output, by_name(records)["softmax"].output
    left = ev._map_figure(logits, "input: linear [1, 10]", CLASS_NAMES)
    right = ev._map_figure(probs, "output: softmax [1, 10]", CLASS_NAMES, softmax=True)
    out_linear = ev._map_figure(logits, "output: linear [1, 10]", CLASS_NAMES)
    for fig, title, values in ((left, "input: linear [1, 10]", logits),
                               (right, "output: softmax [1, 10]", probs),
                               (out_linear, "output: linear [1, 10]", logits)):  # fmt: skip
        assert fig.layout.title.text == title
        assert list(fig.data[0].x) == list(CLASS_NAMES)
        np.testing.assert_allclose(fig.data[0].y, values[0].double().numpy())
        assert fig.layout.xaxis.automargin and fig.layout.yaxis.automargin
    assert right.layout.yaxis.tickformat == ".0%"  # probabilities, in percent
    assert left.layout.yaxis.tickformat is None  # logits, raw


def test_kernels_figure_puts_every_weight_in_its_place():
    """Row block a = output channel a, column block b = input channel b, NaN gaps between;
    no grid lines drawn through the kernels."""
    model, _ = _records()
    w = model.layer("conv_2_1").weight.detach()
    fig = fx.kernels(w, "conv_2_1")
    z = np.asarray(fig.data[0].z, dtype=np.float64)
    o, i, kh, kw = w.shape
    assert z.shape == (o * (kh + 1) - 1, i * (kw + 1) - 1)
    for a in range(o):
        for b in range(i):
            block = z[a * (kh + 1) : a * (kh + 1) + kh, b * (kw + 1) : b * (kw + 1) + kw]
            np.testing.assert_array_equal(block, w[a, b].double().numpy())
    assert np.isnan(z[kh]).all() and np.isnan(z[:, kw]).all()  # the gaps
    assert fig.data[0].zmin == -fig.data[0].zmax  # signed weights: diverging around 0
    for axis in (fig.layout.xaxis, fig.layout.yaxis):
        assert axis.showgrid is False and axis.zeroline is False
    assert not fig.layout.shapes
    (row,) = fx.kernels(w, "conv_2_1", channel=3).layout.shapes  # output channel 3's kernels
    assert (row.y0, row.y1) == (3 * (kh + 1) - 0.5, 3 * (kh + 1) + kh - 0.5)
    assert (row.x0, row.x1) == (-0.5, i * (kw + 1) - 1.5)
