"""The conv cell's arithmetic as a light HTML table: cheap to render, readable on a projector.

For every input channel: input patch (padding marked) × kernel = products → their sum.
Thirty small plotly heatmaps with text took most of a rerun's paint time; plain HTML does not.
"""

from __future__ import annotations

import html

import torch

from tinyvgg.explain import ConvCell, SoftmaxSteps

STYLE = """<style>
.ar-grid {display: flex; flex-wrap: wrap; gap: 10px 24px; font-size: 0.78rem;
          font-variant-numeric: tabular-nums;
          overflow-x: auto;}  /* a phone scrolls a block sideways rather than cutting it */
/* blocks of one width (two a row on a very wide column), never narrower than their numbers */
.ar-grid > div {flex: 1 1 36em; min-width: min-content;}
/* too narrow for a whole block (a phone): "products → sum" wraps under "patch × kernel =" */
.ar-row {display: flex; flex-wrap: wrap; align-items: center; gap: 6px;}
.ar-row table {border-collapse: collapse;}
.ar-row td {width: 3.6em; height: 1.7em; text-align: center; border: 1px solid #ddd;
            color: #111;}
.ar-row td.pad {color: #888; font-style: italic; background: #f3f3f3;}
.ar-op {font-size: 1.1rem; color: #555;}
.ar-head {font-size: 0.72rem; color: #666; margin-bottom: 2px;}
.ar-sum {font-weight: 600;}
</style>"""


def _bg(v: float, vmax: float) -> str:
    """Red for positive, blue for negative, stronger with |v| (as the diverging maps)."""
    a = 0.0 if vmax <= 0 else min(abs(v) / vmax, 1.0) * 0.75
    rgb = "214,96,77" if v >= 0 else "67,147,195"
    return f"background: rgba({rgb},{a:.2f})"


def _table(m: torch.Tensor, fmt: str, inside: torch.Tensor | None = None) -> str:
    vmax = float(m.abs().max())
    rows = []
    for a in range(m.shape[0]):
        cells = []
        for b in range(m.shape[1]):
            if inside is not None and not inside[a, b]:
                cells.append('<td class="pad">pad</td>')
            else:
                v = float(m[a, b]) + 0.0  # 0 × a negative weight is -0.0: written 0.0000
                cells.append(f'<td style="{_bg(v, vmax)}">{v:{fmt}}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def conv_arithmetic_html(cell: ConvCell, source: str = "input") -> str:
    """One block per input channel: patch × kernel = products, and the products' sum."""
    blocks = []
    for k in range(cell.patch.shape[0]):
        head = html.escape(f"{source} channel {k} · kernel [{cell.channel}, {k}]")
        blocks.append(
            f'<div><div class="ar-head">{head}</div><div class="ar-row">'
            f"{_table(cell.patch[k], '.3f', cell.window.inside)}<span class='ar-op'>×</span>"
            f"{_table(cell.kernel[k], '.3f')}<span class='ar-op'>=</span>"
            f"{_table(cell.products[k], '.4f')}<span class='ar-op'>→</span>"
            f"<span class='ar-sum'>{float(cell.channel_sums[k]):.4f}</span></div></div>"
        )
    return STYLE + '<div class="ar-grid">' + "".join(blocks) + "</div>"


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
SOFTMAX_STYLE = """<style>
.sm-wrap {overflow-x: auto;}  /* a phone scrolls the table sideways rather than cutting it */
.sm {border-collapse: collapse; font-size: 0.85rem; font-variant-numeric: tabular-nums;}
.sm th, .sm td {white-space: nowrap; padding: 3px 12px; text-align: right;
                border-bottom: 1px solid #e6e6e6;}
.sm th:first-child, .sm td:first-child {text-align: left; padding-left: 4px;}
.sm tr.pick td {font-weight: 600; background: rgba(245,166,35,0.18);}
.sm tr.sum td {border-top: 2px solid #bbb; border-bottom: none;}
@media (max-width: 640px) {  /* a phone: the five columns fit without scrolling */
  .sm {font-size: 0.72rem;}
  .sm th, .sm td {padding: 3px 4px;}
  .sm th {white-space: normal;}
}
</style>"""


def plain(v: float) -> str:
    """Six decimals, or for tiny values five significant digits as m·10⁻ⁿ (not 0.000000)."""
    if v == 0 or abs(v) >= 1e-3:
        return f"{v:.6f}"
    mantissa, exponent = f"{v:.4e}".split("e")
    return f"{mantissa}·10{str(int(exponent)).translate(SUPERSCRIPT)}"


def softmax_table_html(steps: SoftmaxSteps, names: list[str], bold: int) -> str:
    """softmax step by step: a row per class (row `bold` highlighted), then the sums."""
    head = "".join(f"<th>{h}</th>" for h in
                   ("class", "z", "z − max z", "exp(z − max z)", "÷ Σ = probability"))  # fmt: skip
    rows = []
    for k, name in enumerate(names):
        cells = [html.escape(name), f"{float(steps.logits[k]):.4f}",
                 f"{float(steps.shifted[k]):.4f}", plain(float(steps.exps[k])),
                 plain(float(steps.probs[k]))]  # fmt: skip
        css = ' class="pick"' if k == bold else ""
        rows.append(f"<tr{css}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    total = ["Σ", "", "", f"{steps.total:.9f}", plain(float(steps.probs.sum()))]
    rows.append('<tr class="sum">' + "".join(f"<td>{c}</td>" for c in total) + "</tr>")
    return (f'{SOFTMAX_STYLE}<div class="sm-wrap"><table class="sm"><tr>{head}</tr>'
            f'{"".join(rows)}</table></div>')  # fmt: skip
