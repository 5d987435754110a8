"""The kernel slide: every frame is the real layer's output at that position."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from torch import nn

from tinyvgg.slide import frame_cell, frame_count, multiply_add, slide_step
from ui.figures.slide import slide_figure

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

LAYERS = [
    lambda: nn.Conv2d(2, 3, 3),
    lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1),
    lambda: nn.Conv2d(2, 3, (3, 5), stride=(1, 2), padding=(2, 0)),
    lambda: nn.Conv2d(2, 3, 3, dilation=2, padding=2),
    lambda: nn.Conv2d(2, 3, (2, 3), dilation=(2, 1), stride=(3, 2)),
    lambda: nn.Conv2d(2, 3, 4, padding="same"),  # even kernel: the extra row/column goes last
    lambda: nn.Conv2d(2, 3, (3, 4), padding="same", dilation=(1, 3)),
    lambda: nn.Conv2d(2, 3, 3, padding="valid", bias=False),
    lambda: nn.MaxPool2d(2),
    lambda: nn.MaxPool2d(3, stride=2, padding=1),
    lambda: nn.MaxPool2d((2, 3), stride=(1, 2), padding=(1, 1)),
    lambda: nn.MaxPool2d(3, stride=1, dilation=2, padding=1),
]


@pytest.mark.parametrize("make", LAYERS)
def test_every_frame_is_the_real_output(make):
    torch.manual_seed(0)
    layer = make()
    x = torch.randn(1, 2, 9, 11)
    with torch.inference_mode():
        y = layer(x)
    n = frame_count(x, layer)
    assert n == y.shape[2] * y.shape[3]
    for c in range(y.shape[1]):
        for f in range(n):
            step = slide_step(x, layer, c, f)
            i, j = divmod(f, y.shape[3])  # row by row
            assert (step.row, step.col) == (i, j) == frame_cell(x, layer, f)
            assert step.value == pytest.approx(float(y[0, c, i, j]), abs=1e-5), (c, i, j)


def test_frames_outside_the_output_are_refused():
    layer = nn.MaxPool2d(2)
    x = torch.randn(1, 1, 4, 4)
    with pytest.raises(IndexError):
        slide_step(x, layer, 0, 4)


@pytest.mark.parametrize("frame", [0, 7, 19])
def test_the_figure_shows_the_output_written_so_far(frame):
    torch.manual_seed(1)
    layer = nn.Conv2d(2, 4, (3, 2), stride=2, padding=1, dilation=(1, 2))
    x = torch.randn(1, 2, 8, 10)
    y = layer(x).detach()
    fig = slide_figure(x, layer, 3, frame, out=y)
    out = np.asarray(fig.data[-1].z, dtype=np.float64).reshape(-1)  # the output panel
    expected = y[0, 3].reshape(-1).numpy().astype(np.float64)
    np.testing.assert_allclose(out[: frame + 1], expected[: frame + 1], rtol=1e-6)
    assert np.isnan(out[frame + 1 :]).all()
    step = slide_step(x, layer, 3, frame)
    assert f"= {step.value:.4f}" in fig.layout.title.text
    # one box per kernel tap on every input channel drawn, at the window's input positions
    taps = {(round(s.y0 + 0.5), round(s.x0 + 0.5)) for s in fig.layout.shapes if s.line.width == 2}
    assert taps == {(r, c) for r in step.cell.window.rows for c in step.cell.window.cols}
    # the padded input: real values inside, NaN (drawn as padding) outside
    inp = fig.data[0]  # input channel 0
    z, rows, cols = np.asarray(inp.z, dtype=np.float64), list(inp.y), list(inp.x)
    assert rows[0] == -1 and cols[0] == -1  # padding 1 on each side
    np.testing.assert_allclose(z[1:-1, 1:-1], x[0, 0].numpy(), rtol=1e-6)
    assert np.isnan(z[0]).all() and np.isnan(z[:, 0]).all()


def test_the_output_panel_numbers_its_rows_on_its_right():
    """Its tick labels would otherwise sit in the narrow gap beside it, over the last input."""
    layer = nn.Conv2d(3, 10, 3)
    fig = slide_figure(torch.randn(1, 3, 64, 64), layer, 0, 0)
    out_y = fig.layout[fig.data[-1].yaxis.replace("y", "yaxis")]
    assert out_y.side == "right" and out_y.showticklabels
    assert fig.layout.margin.r >= 30  # room for them
    first_in_y = fig.layout[fig.data[0].yaxis.replace("y", "yaxis")]
    assert first_in_y.side is None and first_in_y.showticklabels  # the inputs' stay on the left


def test_panel_titles_sit_on_their_own_panels_in_two_short_lines():
    """Each title is placed on its panel's axes (a square panel is shorter than its domain: a
    title at the domain's top floated over a blank band), in lines short enough for a panel
    90 px wide."""
    layer = nn.Conv2d(3, 10, 3)
    fig = slide_figure(torch.randn(1, 3, 64, 64), layer, 0, 0)
    axes = {t.xaxis for t in fig.data}
    notes = fig.layout.annotations
    assert {n.xref.removesuffix(" domain") for n in notes} == axes
    for n in notes:
        assert n.yref == n.xref.replace("x", "y") and (n.x, n.y, n.yanchor) == (0.5, 1, "bottom")
        assert max(len(line) for line in n.text.split("<br>")) <= 16, n.text


def test_large_maps_are_cropped_around_the_window():
    layer = nn.Conv2d(1, 1, 3, padding=1)
    x = torch.randn(1, 1, 100, 120)
    frame = 50 * 120 + 70  # output cell (50, 70)
    fig = slide_figure(x, layer, 0, frame, view=30)
    inp = fig.data[0]  # input channel 0
    rows, cols = list(inp.y), list(inp.x)
    assert len(rows) == 30 and len(cols) == 30
    assert rows[0] <= 49 and rows[-1] >= 51 and cols[0] <= 69 and cols[-1] >= 71
    np.testing.assert_allclose(
        np.asarray(inp.z, dtype=np.float64),
        x[0, 0, rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].numpy(),
        rtol=1e-6,
    )
    crop = f"100×120 input: showing rows {rows[0]}…{rows[-1]}, columns {cols[0]}…{cols[-1]}"
    assert crop in fig.layout.title.text  # the slide says what it leaves out
    whole = slide_figure(torch.randn(1, 1, 8, 8), layer, 0, 3, view=30)
    assert "showing rows" not in whole.layout.title.text


def test_one_colour_language_and_padding_named_only_when_there_is_some():
    """The slide's maps use the app's scales (grey for one-signed, red-blue for signed), and
    padding a colour in neither; an input panel says 'padded' only when the layer pads."""
    from ui.figures.common import DIVERGING, SEQUENTIAL
    from ui.figures.slide import PAD_COLOUR

    x = torch.rand(1, 1, 6, 6)  # one-signed, as an image
    conv = nn.Conv2d(1, 2, 3, padding=1)
    fig = slide_figure(x, conv, 0, 0)
    titles = [a.text for a in fig.layout.annotations]
    assert "input ch 0<br>padded" in titles
    assert fig.layout.plot_bgcolor == PAD_COLOUR
    scales = {tuple(map(tuple, t.colorscale)) for t in fig.data if t.colorscale is not None}
    allowed = {tuple(map(tuple, go.Heatmap(colorscale=n).colorscale))
               for n in (SEQUENTIAL, DIVERGING)}  # fmt: skip
    assert scales <= allowed, "a colour scale the rest of the app does not use"
    pool = slide_figure(x, nn.MaxPool2d(2), 0, 0)
    assert "input ch 0<br>no padding" in [a.text for a in pool.layout.annotations]


def test_the_multiply_add_text_adds_up():
    torch.manual_seed(2)
    layer = nn.Conv2d(2, 2, 3, padding=1)
    x = torch.randn(1, 2, 5, 5)
    step = slide_step(x, layer, 1, 0)
    text = multiply_add(step)
    assert text.endswith(f"= {step.value:.4f}")
    assert "10 taps on padding" in text  # the corner: 5 of 9 taps per channel are padding
    assert f"bias: {step.cell.bias:.4f}" in text
    assert math.isclose(float(step.cell.channel_sums.sum()) + step.cell.bias, step.value)


def test_the_pool_text_names_the_max():
    pool = nn.MaxPool2d(2)
    x = torch.tensor([[[[0.1, 0.9], [0.3, 0.2]]]])
    text = multiply_add(slide_step(x, pool, 0, 0))
    assert "max(0.1000, 0.9000, 0.3000, 0.2000)" in text and text.count("0.9000") == 2


def test_zero_products_are_written_without_a_minus_sign():
    """0 × a negative weight is -0.0 in floating point: the slide writes 0.000, in the panel
    under the window and in the multiply-add text; negative values keep their sign."""
    layer = nn.Conv2d(2, 1, 3, padding=1)
    with torch.no_grad():
        layer.weight.fill_(-0.5)
        layer.bias.zero_()
    x = torch.zeros(1, 2, 5, 5)
    x[0, 1] = 1.0
    frame = 2 * 5 + 2  # the centre: no padding
    step = slide_step(x, layer, 0, frame)
    assert torch.signbit(step.cell.products[0]).all()
    fig = slide_figure(x, layer, 0, frame)
    texts = [t for tr in fig.data if tr.text is not None for row in tr.text for t in row]
    assert texts.count("0.000") == 9 and texts.count("-0.500") == 9
    assert not any(t.startswith("-0.000") for t in texts)
    notes = " ".join(a.text for a in fig.layout.annotations)
    assert "Σ = 0.0000" in notes and "Σ = -4.5000" in notes and "-0.0000" not in notes
    text = multiply_add(step)
    assert "-0.0000" not in text and "= 0.0000" in text and "(-0.5000)" in text


def test_one_input_channel_is_one_channel():
    layer = nn.Conv2d(1, 2, 3, padding=1)
    text = multiply_add(slide_step(torch.rand(1, 1, 5, 5), layer, 0, 6))
    assert "its 1 input channel, + bias" in text and "channels" not in text.splitlines()[0]
    layer = nn.Conv2d(3, 2, 3, padding=1)
    assert "all 3 input channels" in multiply_add(slide_step(torch.rand(1, 3, 5, 5), layer, 0, 6))
