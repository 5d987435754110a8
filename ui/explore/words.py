"""What the explorer says each layer did: blocks of text computed from the live tensors, each
with a visible check against the layer's own output. Pure functions, no `st.` calls.

explain.py shows the blocks with Streamlit's elements between the widgets that pick the cell,
one element a block, by kind: `code` (a line of Python), `md` (markdown), `html`, `ok` and
`bad` (the check), `caption`. `layer_words` gives a whole layer's blocks at once and `to_html`
writes blocks as one piece of HTML, for a page that draws the layer itself.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import torch
from torch import nn

from tinyvgg.activations import LayerRecord, by_name, layer_input
from tinyvgg.explain import (
    Contributions,
    ConvCell,
    PoolCell,
    ReluCell,
    SoftmaxSteps,
    conv_cell,
    conv_padding,
    flatten_index,
    linear_contributions,
    output_size,
    pair,
    pool_cell,
    relu_cell,
    softmax_steps,
    stride_of,
)
from tinyvgg.model import TinyVGG
from ui.figures.arithmetic import conv_arithmetic_html, softmax_table_html

TOLERANCE = 1e-5  # an explanation this close to the activation equals it


@dataclass(frozen=True)
class Block:
    kind: str  # code, md, html, ok, bad or caption
    text: str


def check(explained: float, actual: float) -> Block:
    """Whether the explained value is the activation, to TOLERANCE."""
    diff = abs(explained - actual)
    if diff <= TOLERANCE:
        return Block("ok", f"✓ equals the activation {actual:.6f} (difference {diff:.1e})")
    return Block("bad", f"✗ differs from the activation {actual:.6f} by {diff:.1e}")


def channels(n: int) -> str:
    """'1 input channel', '10 input channels'."""
    return f"{n} input channel{'s' if n != 1 else ''}"


def _size(h: int, k: int, s: int, p: int) -> str:
    return (f"Output size: ⌊(H + 2p − k) / s⌋ + 1 = ⌊({h} + 2·{p} − {k}) / {s}⌋ + 1 = "
            f"**{output_size(h, k, s, p)}**")  # fmt: skip


def conv_head(layer: nn.Conv2d, h: int) -> list[Block]:
    """The layer as Python and its output size, for an input `h` rows high."""
    (k, _), (s, _), (p, _) = layer.kernel_size, layer.stride, conv_padding(layer)
    return [Block("code", f"nn.Conv2d(in_channels={layer.in_channels}, out_channels="
                          f"{layer.out_channels}, kernel_size={k}, stride={s}, padding={p})"),
            Block("md", _size(h, k, s, p))]  # fmt: skip


def conv_body(name: str, ex: ConvCell, cell: tuple[int, int, int], in_channels: int,
              table: str, actual: float) -> list[Block]:  # fmt: skip
    """The sum that makes `name[0, c, i, j]`: the window, the table of products (`table`,
    HTML), the per-channel sums and the check."""
    c, i, j = cell
    rows, cols = ex.window.rows, ex.window.cols
    sums = " + ".join(f"{v:.4f}" for v in ex.channel_sums.tolist())
    return [
        Block("md", f"Output `{name}[0, {c}, {i}, {j}]` = Σ over {channels(in_channels)} of "
                    f"(input rows {rows[0]}…{rows[-1]}, columns {cols[0]}…{cols[-1]}) × "
                    f"kernel {c} + bias. Cells marked *pad* are the zero padding."),
        Block("html", table),
        Block("md", f"Per-channel sums {sums} \\+ bias {ex.bias:.4f} = **{ex.value:.6f}**"),
        check(ex.value, actual),
    ]  # fmt: skip


def relu_body(name: str, ex: ReluCell, cell: tuple[int, int, int], actual: float) -> list[Block]:
    """max(0, x) for the cell, the check, and how many cells ReLU zeroed."""
    c, i, j = cell
    return [
        Block("md", f"`{name}[0, {c}, {i}, {j}]` = max(0, {ex.before:.6f}) = **{ex.after:.6f}**"),
        check(ex.after, actual),
        Block("md", f"{ex.zeroed:,} of {ex.total:,} cells ({ex.zeroed / ex.total:.1%}) were "
                    "negative and are now 0."),
    ]  # fmt: skip


def pool_head(layer: nn.MaxPool2d, h: int) -> list[Block]:
    """The layer as Python and its output size, for an input `h` rows high."""
    (k, _), (s, _), (p, _) = map(pair, (layer.kernel_size, stride_of(layer), layer.padding))
    return [Block("code", f"nn.MaxPool2d(kernel_size={layer.kernel_size}, stride={layer.stride})"),
            Block("md", f"{_size(h, k, s, p)}: each {k}×{k} window, {s} apart, keeps its "
                        "largest value")]  # fmt: skip


def pool_body(name: str, source: str, ex: PoolCell, cell: tuple[int, int, int],
              actual: float) -> list[Block]:  # fmt: skip
    """The window of `source` whose maximum is the cell, and the check."""
    c, i, j = cell
    r, q = ex.window.rows, ex.window.cols
    return [Block("md", f"Window: channel {c}, rows {r[0]}–{r[-1]}, columns {q[0]}–{q[-1]} of "
                        f"`{source}`.  \nIts maximum **{ex.value:.6f}** (outlined) becomes "
                        f"`{name}[0, {c}, {i}, {j}]`."),
            check(ex.value, actual)]  # fmt: skip


def flatten_head(chw: tuple[int, int, int], n: int) -> list[Block]:
    """How (C, H, W) maps become a vector of `n`."""
    return [Block("md", f"{chw[0]}×{chw[1]}×{chw[2]} → {n}: channels one after another, "
                        "each read row by row.")]  # fmt: skip


def flatten_body(source: str, chw: tuple[int, int, int], cell: tuple[int, int, int], k: int,
                 before: float, actual: float) -> list[Block]:  # fmt: skip
    """Where `source[0, c, i, j]` (value `before`) lands in the vector (index `k`)."""
    c, i, j = cell
    return [Block("md", f"`{source}[0, {c}, {i}, {j}]` lands at index {c}·{chw[1] * chw[2]} + "
                        f"{i}·{chw[2]} + {j} = **{k}** of `flatten`, value {actual:.6f}"),
            check(before, actual)]  # fmt: skip


def linear_body(name: str, con: Contributions, features: int, actual: float) -> list[Block]:
    """The logit of class `name` as bias plus weights times features, and the check."""
    return [
        Block("md", f"logit[{name}] = bias {con.bias:.4f} + Σ weight · feature over "
                    f"{features} features = **{con.logit:.6f}**"),
        check(con.logit, actual),
        Block("md", f"**Features that contribute most** to *{name}* (weight × value)"),
    ]  # fmt: skip


def softmax_body(steps: SoftmaxSteps, names: tuple[str, ...], table: str, theirs: torch.Tensor,
                 outputs: torch.Tensor) -> list[Block]:  # fmt: skip
    """Softmax written out for the predicted class, checked against `theirs` (torch.softmax
    of the logits), the table of every class (`table`, HTML) and the largest difference from
    the layer's `outputs`."""
    ours = steps.probs
    pred = int(ours.argmax())
    torch_p = float(theirs.reshape(-1)[pred])
    worst = float((ours - outputs.reshape(-1).double().cpu()).abs().max())
    return [
        Block("md", f"softmax(z)ₖ = exp(zₖ − max z) / Σⱼ exp(zⱼ − max z); for *{names[pred]}*: "
                    f"**{float(ours[pred]):.6f}**"),
        check(float(ours[pred]), torch_p),
        Block("html", table),
        Block("caption", f"Subtracting max z changes nothing but keeps exp from overflowing. "
                         f"All {len(ours)} probabilities against `softmax`'s output: largest "
                         f"difference {worst:.1e}."),
    ]  # fmt: skip


def layer_words(records: list[LayerRecord], model: TinyVGG, layer: str,
                cell: tuple[int, int, int], cls: int | None = None) -> list[Block]:  # fmt: skip
    """Everything the explorer says `layer` did, at `cell` (of flatten's input, for flatten)
    and, for the linear layer, class `cls` (default: the predicted one). The input says
    nothing."""
    rec = by_name(records)[layer]
    if layer == "input":
        return []
    source = layer_input(records, layer)
    x, c, i, j = source.output, *cell
    if rec.kind == "Conv2d":
        ex = conv_cell(x, model.layer(layer), c, i, j)
        return [*conv_head(model.layer(layer), x.shape[2]),
                *conv_body(layer, ex, cell, x.shape[1], conv_arithmetic_html(ex, source.name),
                           float(rec.output[0, c, i, j]))]  # fmt: skip
    if rec.kind == "ReLU":
        return relu_body(layer, relu_cell(x, c, i, j), cell, float(rec.output[0, c, i, j]))
    if rec.kind == "MaxPool2d":
        pool, actual = model.layer(layer), float(rec.output[0, c, i, j])
        ex = pool_cell(x, pool, c, i, j)
        return [*pool_head(pool, x.shape[2]), *pool_body(layer, source.name, ex, cell, actual)]
    if rec.kind == "Flatten":
        chw = tuple(x.shape[1:])
        k = flatten_index(chw, c, i, j)
        return [*flatten_head(chw, rec.shape[1]),
                *flatten_body(source.name, chw, cell, k, float(x[0, c, i, j]),
                              float(rec.output[0, k]))]  # fmt: skip
    names = model.classes
    if rec.kind == "Linear":
        cls = int(rec.output[0].argmax()) if cls is None else cls
        con = linear_contributions(x, model.layer(layer), cls)
        return linear_body(names[cls], con, x.shape[1], float(rec.output[0, cls]))
    steps = softmax_steps(x)
    table = softmax_table_html(steps, names, int(steps.probs.argmax()))
    return softmax_body(steps, names, table, torch.softmax(x, dim=1), rec.output)


_SPLIT_CODE = re.compile(r"(`[^`]+`)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_EM = re.compile(r"(?<![\w*])\*(?![\s*])(.+?)(?<![\s*])\*(?![\w*])")


def inline_html(md: str) -> str:
    """The markdown the blocks use (code spans, bold, italics, a line break as two spaces
    and a newline, an escaped +) as HTML, everything else escaped."""
    out = []
    for part in _SPLIT_CODE.split(md):
        if len(part) > 1 and part[0] == part[-1] == "`":
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        text = html.escape(part, quote=False).replace("\\+", "+").replace("  \n", "<br>")
        text = _BOLD.sub(r"<strong>\1</strong>", text)
        out.append(_EM.sub(r"<em>\1</em>", text))
    return "".join(out)


def to_html(blocks: list[Block]) -> str:
    """The blocks as HTML: a paragraph each, the code line in <pre>, the check in a box of
    class `words-ok` or `words-bad`, the caption of class `words-caption`."""
    out = []
    for b in blocks:
        if b.kind == "code":
            out.append(f'<pre class="words-code"><code>{html.escape(b.text)}</code></pre>')
        elif b.kind == "html":
            out.append(b.text)
        elif b.kind in ("ok", "bad"):
            out.append(f'<div class="words-{b.kind}">{html.escape(b.text)}</div>')
        else:
            cls = ' class="words-caption"' if b.kind == "caption" else ""
            out.append(f"<p{cls}>{inline_html(b.text)}</p>")
    return "\n".join(out)
