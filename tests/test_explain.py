"""Oracle tests: every traced output and every explained cell against PyTorch itself."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tinyvgg.activations import by_name, layer_input
from tinyvgg.explain import (
    conv_cell,
    flatten_index,
    linear_contributions,
    output_size,
    pool_cell,
    relu_cell,
    softmax,
    softmax_steps,
    source_cells,
    unflatten_index,
)
from tinyvgg.model import LAYER_NAMES


def test_trace_equals_applying_the_layers(traced):
    model, x, records = traced
    assert [r.name for r in records] == ["input", *LAYER_NAMES, "softmax"]
    h = x.unsqueeze(0)
    assert torch.equal(records[0].output, h)
    with torch.inference_mode():
        for name, layer in model.named_layers():
            h = layer(h)
            assert torch.equal(by_name(records)[name].output, h), name
        assert torch.equal(records[-2].output, model(x.unsqueeze(0)))
        assert torch.allclose(records[-1].output, torch.softmax(model(x.unsqueeze(0)), dim=1))
    assert by_name(records)["conv_1_1"].shape_text == "[1, 10, 28, 28]"
    assert by_name(records)["flatten"].shape_text == "[1, 490]"
    assert by_name(records)["conv_1_2"].params == 910


def test_trace_leaves_the_model_alone(traced):
    model, x, _ = traced
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


CELLS = [(0, 0, 0), (3, 0, 27), (9, 27, 27), (5, 13, 0), (2, 14, 9), (7, 27, 5)]


@pytest.mark.parametrize("name", ["conv_1_1", "conv_1_2", "conv_2_1", "conv_2_2"])
@pytest.mark.parametrize("cell", CELLS)
def test_conv_cell_equals_the_activation(traced, name, cell):
    model, _, records = traced
    out = by_name(records)[name].output
    c, i, j = (cell[0], min(cell[1], out.shape[2] - 1), min(cell[2], out.shape[3] - 1))
    x_in = layer_input(records, name).output
    explained = conv_cell(x_in, model.layer(name), c, i, j)
    assert explained.value == pytest.approx(float(out[0, c, i, j]), abs=1e-5)
    assert float(explained.channel_sums.sum()) + explained.bias == explained.value
    # zero padding shows at the borders
    if i == 0:
        assert not explained.window.inside[0].any() and (explained.patch[:, 0] == 0).all()


def test_random_conv_cells(traced):
    model, _, records = traced
    g = torch.Generator().manual_seed(0)
    for _ in range(40):
        name = ["conv_1_1", "conv_1_2", "conv_2_1", "conv_2_2"][
            int(torch.randint(4, (1,), generator=g))
        ]
        out = by_name(records)[name].output
        c, i, j = (int(torch.randint(n, (1,), generator=g)) for n in out.shape[1:])
        cell = conv_cell(layer_input(records, name).output, model.layer(name), c, i, j)
        assert cell.value == pytest.approx(float(out[0, c, i, j]), abs=1e-5)


@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=3, stride=2, padding=1),
        dict(kernel_size=(3, 5), stride=(1, 2), padding=(2, 0)),
        dict(kernel_size=3, dilation=2, padding=2),
        dict(kernel_size=4, padding="same"),
        dict(kernel_size=3, padding="valid", bias=False),
    ],
)
def test_conv_cell_general_layers(kw):
    torch.manual_seed(1)
    layer = nn.Conv2d(3, 4, **kw)
    x = torch.randn(1, 3, 11, 13)
    y = layer(x).detach()
    for c, i, j in [(0, 0, 0), (3, y.shape[2] - 1, y.shape[3] - 1), (1, y.shape[2] // 2, 1)]:
        assert conv_cell(x, layer, c, i, j).value == pytest.approx(float(y[0, c, i, j]), abs=1e-5)


@pytest.mark.parametrize("name", ["max_pool_1", "max_pool_2"])
def test_pool_window_max_is_the_pooled_value(traced, name):
    model, _, records = traced
    out = by_name(records)[name].output
    x_in = layer_input(records, name).output
    for c in range(out.shape[1]):
        for i, j in [(0, 0), (out.shape[2] - 1, out.shape[3] - 1), (3, 5)]:
            cell = pool_cell(x_in, model.layer(name), c, i, j)
            assert cell.value == float(out[0, c, i, j])
            assert cell.values.max() == cell.value
            assert cell.window.rows == [2 * i, 2 * i + 1]


def test_pool_with_padding_and_stride():
    layer = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
    x = torch.randn(1, 2, 9, 9)
    y = layer(x)
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            assert pool_cell(x, layer, 1, i, j).value == float(y[0, 1, i, j])


def test_relu_cell(traced):
    _, _, records = traced
    before = by_name(records)["conv_1_1"].output
    after = by_name(records)["relu_1_1"].output
    cell = relu_cell(before, 2, 4, 4)
    assert cell.after == float(after[0, 2, 4, 4]) == max(0.0, cell.before)
    assert cell.zeroed == int(((before < 0) & (after == 0)).sum())


def test_flatten_positions(traced):
    _, _, records = traced
    pooled = by_name(records)["max_pool_2"].output
    flat = by_name(records)["flatten"].output
    for c, i, j in [(0, 0, 0), (9, 6, 6), (3, 2, 5)]:
        k = flatten_index((10, 7, 7), c, i, j)
        assert flat[0, k] == pooled[0, c, i, j]
        assert unflatten_index((10, 7, 7), k) == (c, i, j)


def test_linear_and_softmax(traced):
    model, _, records = traced
    feats = by_name(records)["flatten"].output
    logits = by_name(records)["linear"].output
    for cls in range(10):
        con = linear_contributions(feats, model.layer("linear"), cls)
        assert con.logit == pytest.approx(float(logits[0, cls]), abs=1e-5)
        assert abs(con.products[con.top[0]]) == con.products.abs().max()
    assert torch.allclose(softmax(logits).float(), torch.softmax(logits, dim=1)[0], atol=1e-7)
    assert torch.allclose(softmax(logits).float(), F.softmax(logits, dim=1)[0], atol=1e-7)


def test_softmax_steps_against_torch(traced):
    _, _, records = traced
    logits = by_name(records)["linear"].output
    z64 = logits[0].double()
    steps = softmax_steps(logits)
    assert torch.equal(steps.logits, z64)
    assert steps.shifted.max() == 0 and torch.equal(steps.shifted, z64 - z64.max())
    assert torch.allclose(steps.exps, torch.exp(z64 - z64.max()), rtol=1e-15, atol=0)
    assert steps.total == pytest.approx(float(steps.exps.sum()), rel=1e-15)
    assert torch.allclose(steps.probs, torch.softmax(z64, dim=0), rtol=1e-12, atol=1e-15)
    # logits far too big for a naive exp: the shift keeps every step finite
    big = softmax_steps(torch.tensor([[1000.0, 999.0, -1000.0]]))
    assert torch.isfinite(big.exps).all() and big.total == pytest.approx(1 + math.exp(-1))
    oracle = torch.softmax(torch.tensor([1000.0, 999.0, -1000.0]).double(), dim=0)
    assert torch.allclose(big.probs, oracle)


@pytest.mark.parametrize("size", [5, 28, 64])
@pytest.mark.parametrize(
    "k,s,p,d", [(3, 1, 0, 1), (3, 1, 1, 1), (5, 2, 2, 1), (3, 2, 0, 2), (2, 2, 0, 1)]
)
def test_output_size_formula(size, k, s, p, d):
    x = torch.zeros(1, 1, size, size)
    if size + 2 * p >= d * (k - 1) + 1:
        conv = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
        assert conv(x).shape[-1] == output_size(size, k, s, p, d)
    if p <= k // 2:
        for ceil in (False, True):
            pool = nn.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
            assert pool(x).shape[-1] == output_size(size, k, s, p, d, ceil)


@pytest.mark.parametrize("name", ["conv_1_1", "conv_1_2", "relu_1_1", "max_pool_1", "conv_2_1",
                                  "max_pool_2"])  # fmt: skip
def test_source_cells_are_exactly_what_the_output_cell_reads(traced, name):
    """PyTorch as the oracle: changing an input cell inside the spans changes the output cell
    (for most cells), changing every cell outside them changes nothing."""
    model, _, records = traced
    layer = model.layer(name)
    x = layer_input(records, name).output.detach().clone()
    c_out, h_out, w_out = by_name(records)[name].output.shape[1:]
    g = torch.Generator().manual_seed(len(name))
    for _ in range(6):
        c, i, j = (int(torch.randint(n, (1,), generator=g)) for n in (c_out, h_out, w_out))
        if _ == 0:
            i, j = 0, w_out - 1  # a corner: the window partly over the padding
        spans = source_cells(layer, tuple(x.shape[1:]), c, i, j)
        inside = torch.zeros_like(x, dtype=torch.bool)
        for k, (r0, r1), (c0, c1) in spans:
            assert 0 <= r0 <= r1 < x.shape[2] and 0 <= c0 <= c1 < x.shape[3]
            inside[0, k, r0 : r1 + 1, c0 : c1 + 1] = True
        before = layer(x)[0, c, i, j]
        noise = torch.randn(x.shape, generator=g) * 5
        outside = torch.where(inside, x, x + noise)  # every cell outside the spans changed
        assert torch.equal(layer(outside)[0, c, i, j], before)
        if not isinstance(layer, nn.MaxPool2d):  # a max ignores all but its largest input
            assert layer(torch.where(inside, x + noise.abs() + 1, x))[0, c, i, j] != before
    assert source_cells(model.layer("linear"), (10, 7, 7), 0, 0, 0) == []
