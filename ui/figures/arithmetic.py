"""The conv cell's arithmetic as a light HTML table: cheap to render, readable on a projector.

For every input channel: input patch (padding marked) × kernel = products → their sum.
Thirty small plotly heatmaps with text took most of a rerun's paint time; plain HTML does not.
"""

from __future__ import annotations

import html

import torch

from tinyvgg.explain import ConvCell

STYLE = """<style>
.ar-grid {display: flex; flex-wrap: wrap; gap: 10px 24px; font-size: 0.78rem;
          font-variant-numeric: tabular-nums;
          overflow-x: auto;}  /* a phone scrolls a block sideways rather than cutting it */
/* blocks of one width (two a row on a very wide column), never narrower than their numbers */
.ar-grid > div {flex: 1 1 36em; min-width: min-content;}
.ar-row {display: flex; align-items: center; gap: 6px;}
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
                v = float(m[a, b])
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
