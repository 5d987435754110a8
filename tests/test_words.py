"""The explorer's words for each layer (ui/explore/words.py), against PyTorch's own outputs."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F

from tinyvgg import explain
from tinyvgg.activations import by_name, layer_input
from ui.explore import words


def bold(block: words.Block) -> float:
    """The number a block gives in bold: the value it explains."""
    return float(re.findall(r"\*\*(-?[\d.]+)\*\*", block.text)[-1])


def test_a_check_says_equal_within_the_tolerance_and_by_how_much_otherwise():
    assert words.check(0.5, 0.5 + 1e-6) == words.Block(
        "ok", "✓ equals the activation 0.500001 (difference 1.0e-06)"
    )
    assert words.check(0.5, 0.6) == words.Block(
        "bad", "✗ differs from the activation 0.600000 by 1.0e-01"
    )


@pytest.mark.parametrize("name", ["conv_1_1", "conv_1_2", "conv_2_1", "conv_2_2"])
def test_conv_words_give_the_activation_of_the_cell(traced, name):
    model, _, records = traced
    rec, source = by_name(records)[name], layer_input(records, name)
    cell = (3, 2, rec.shape[3] - 1)  # a cell on the padded edge
    ex = explain.conv_cell(source.output, model.layer(name), *cell)
    head = words.conv_head(model.layer(name), source.shape[2])
    assert [b.kind for b in head] == ["code", "md"]
    assert f"**{rec.shape[2]}**" in head[1].text  # the output size, as PyTorch made it
    c_in = source.shape[1]
    body = words.conv_body(name, ex, cell, c_in, "<table/>", float(rec.output[0, *cell]))
    assert [b.kind for b in body] == ["md", "html", "md", "ok"]
    assert body[1].text == "<table/>"
    assert bold(body[2]) == pytest.approx(float(rec.output[0, *cell]), abs=1e-6)
    assert ("1 input channel of" if c_in == 1 else f"{c_in} input channels") in body[0].text


def test_relu_words_count_the_zeroed_cells(traced):
    _, _, records = traced
    before, rec = by_name(records)["conv_1_1"].output, by_name(records)["relu_1_1"]
    body = words.relu_body("relu_1_1", explain.relu_cell(before, 1, 4, 5), (1, 4, 5),
                           float(rec.output[0, 1, 4, 5]))  # fmt: skip
    assert [b.kind for b in body] == ["md", "ok", "md"]
    assert bold(body[0]) == pytest.approx(float(F.relu(before)[0, 1, 4, 5]), abs=1e-6)
    assert f"{int((before < 0).sum()):,} of {before.numel():,} cells" in body[2].text


def test_pool_words_name_the_window_and_its_maximum(traced):
    model, _, records = traced
    layer, before = model.layer("max_pool_1"), by_name(records)["relu_1_2"].output
    ex = explain.pool_cell(before, layer, 2, 3, 4)
    head = words.pool_head(layer, before.shape[2])
    assert "nn.MaxPool2d(kernel_size=2, stride=2)" == head[0].text
    assert "**14**" in head[1].text
    body = words.pool_body("max_pool_1", "relu_1_2", ex, (2, 3, 4),
                           float(by_name(records)["max_pool_1"].output[0, 2, 3, 4]))  # fmt: skip
    assert [b.kind for b in body] == ["md", "ok"]
    assert "rows 6–7, columns 8–9 of `relu_1_2`" in body[0].text
    assert bold(body[0]) == pytest.approx(float(before[0, 2, 6:8, 8:10].max()), abs=1e-6)


def test_flatten_words_give_the_index_torch_flatten_uses(traced):
    _, _, records = traced
    src, flat = by_name(records)["max_pool_2"].output, by_name(records)["flatten"].output
    chw = tuple(src.shape[1:])
    k = explain.flatten_index(chw, 4, 5, 6)
    assert flat[0, k] == src.flatten(1)[0, k] == src[0, 4, 5, 6]
    body = words.flatten_body("max_pool_2", chw, (4, 5, 6), k, float(src[0, 4, 5, 6]),
                              float(flat[0, k]))  # fmt: skip
    assert [b.kind for b in body] == ["md", "ok"]
    assert f"**{k}**" in body[0].text
    assert words.flatten_head(chw, flat.shape[1])[0].text.startswith("10×7×7 → 490")


def test_linear_and_softmax_words_check_out(traced):
    model, _, records = traced
    feats, logits = by_name(records)["flatten"].output, by_name(records)["linear"].output
    con = explain.linear_contributions(feats, model.layer("linear"), 3)
    body = words.linear_body("Dress", con, feats.shape[1], float(logits[0, 3]))
    assert [b.kind for b in body] == ["md", "ok", "md"]
    assert bold(body[0]) == pytest.approx(float(logits[0, 3]), abs=1e-5)
    steps = explain.softmax_steps(logits)
    probs = torch.softmax(logits, dim=1)
    names = tuple(f"class {k}" for k in range(10))
    body = words.softmax_body(steps, names, "<t/>", probs, by_name(records)["softmax"].output)
    assert [b.kind for b in body] == ["md", "ok", "html", "caption"]
    assert bold(body[0]) == pytest.approx(float(probs.max()), abs=1e-6)
    assert f"*{names[int(probs.argmax())]}*" in body[0].text


def test_a_wrong_activation_is_reported_not_hidden(traced):
    _, _, records = traced
    before = by_name(records)["conv_1_1"].output
    body = words.relu_body("relu_1_1", explain.relu_cell(before, 0, 0, 0), (0, 0, 0), 123.0)
    assert body[1].kind == "bad" and "123.000000" in body[1].text


def _cell_for(records, layer: str) -> tuple[int, int, int]:
    """A cell inside `layer`'s output (of its input, for flatten), off the corner."""
    shape = (layer_input(records, layer) if layer == "flatten" else by_name(records)[layer]).shape
    if len(shape) != 4:
        return (0, 0, 0)
    return (min(3, shape[1] - 1), min(5, shape[2] - 1), shape[3] - 1)


def test_every_layer_s_words_check_out_against_its_output(traced):
    model, _, records = traced
    for rec in records:
        blocks = words.layer_words(records, model, rec.name, _cell_for(records, rec.name))
        checks = [b.kind for b in blocks if b.kind in ("ok", "bad")]
        assert checks == ([] if rec.name == "input" else ["ok"]), rec.name


def test_linear_words_explain_any_class(traced):
    model, _, records = traced
    logits = by_name(records)["linear"].output[0]
    for cls in range(10):
        blocks = words.layer_words(records, model, "linear", (0, 0, 0), cls)
        assert blocks[1].kind == "ok"
        assert bold(blocks[0]) == pytest.approx(float(logits[cls]), abs=1e-5)
    predicted = words.layer_words(records, model, "linear", (0, 0, 0))
    assert predicted == words.layer_words(records, model, "linear", (0, 0, 0),
                                          int(logits.argmax()))  # fmt: skip


def test_blocks_as_html_keep_their_words_and_escape_the_rest():
    blocks = [
        words.Block("code", "nn.MaxPool2d(kernel_size=2, stride=2)"),
        words.Block("md", "Window of `relu_1_2` <b>.  \nIts maximum **0.5** (*outlined*) \\+ 1"),
        words.Block("html", "<table><tr><td>1</td></tr></table>"),
        words.Block("ok", "✓ equals the activation 0.5 (difference 0.0e+00) & <more>"),
        words.Block("caption", "All `10` probabilities"),
    ]
    assert words.to_html(blocks).split("\n") == [
        '<pre class="words-code"><code>nn.MaxPool2d(kernel_size=2, stride=2)</code></pre>',
        "<p>Window of <code>relu_1_2</code> &lt;b&gt;.<br>Its maximum <strong>0.5</strong> "
        "(<em>outlined</em>) + 1</p>",
        "<table><tr><td>1</td></tr></table>",
        '<div class="words-ok">✓ equals the activation 0.5 (difference 0.0e+00) &amp; '
        "&lt;more&gt;</div>",
        '<p class="words-caption">All <code>10</code> probabilities</p>',
    ]


def test_code_spans_keep_their_stars_and_the_html_of_a_layer_has_no_markdown_left(traced):
    assert words.inline_html("`a**b**` and *x*") == "<code>a**b**</code> and <em>x</em>"
    model, _, records = traced
    for rec in records[1:]:
        text = words.to_html(words.layer_words(records, model, rec.name,
                                               _cell_for(records, rec.name)))  # fmt: skip
        plain = re.sub(r"<code>.*?</code>", "", text)
        assert "**" not in plain and "`" not in plain and "\\+" not in plain, rec.name
