"""The playground's figures: feature maps of each step, the conv kernels, the 2x2 max-pool demo."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from tinyvgg.explain import pool_cell
from ui.figures.common import colour_range, feature_maps

MAX_MAPS = 16  # channels drawn per step; the shapes say how many there are
MAX_SIDE = 128  # cells per side drawn per map: a 512x512 map shows every 4th
MAX_KERNEL_OUT, MAX_KERNEL_IN = 10, 4


def maps(chw: torch.Tensor, cell_px: int = 150) -> go.Figure:
    """The first MAX_MAPS channels of one image's (C, H, W) maps, on one colour scale.

    Maps over MAX_SIDE cells show every k-th row and column (hover gives the real indices).
    """
    chw = chw[:MAX_MAPS]
    n, h, w = chw.shape
    return feature_maps(chw, max_cols=5 if n <= 10 else 8, cell_px=cell_px, step=map_step(h, w))


def map_step(h: int, w: int) -> int:
    """Draw every k-th row and column so that no map sends more than MAX_SIDE² values."""
    return max(1, math.ceil(max(h, w) / MAX_SIDE))


def kernels(weight: torch.Tensor) -> go.Figure:
    """Conv weights (C_out, C_in, kh, kw) tiled in one map: a row of kernels per input channel,
    a column per output channel, a blank cell between them."""
    w = weight.detach().cpu().float()[:MAX_KERNEL_OUT, :MAX_KERNEL_IN]
    c_out, c_in, kh, kw = w.shape
    z = torch.full((c_in * (kh + 1) - 1, c_out * (kw + 1) - 1), float("nan"))
    who = torch.full((*z.shape, 4), -1)  # (out, in, row, col) under each cell
    for o in range(c_out):
        for i in range(c_in):
            r, c = i * (kh + 1), o * (kw + 1)
            z[r : r + kh, c : c + kw] = w[o, i]
            grid = torch.stack(torch.meshgrid(torch.arange(kh), torch.arange(kw), indexing="ij"))
            who[r : r + kh, c : c + kw] = torch.cat(
                [torch.tensor([o, i]).expand(kh, kw, 2), grid.permute(1, 2, 0)], dim=-1
            )
    fig = go.Figure(go.Heatmap(
        z=z.numpy(), customdata=who.numpy(), hoverongaps=False,
        colorbar=dict(thickness=12, title=dict(text="weight", side="right")),
        hovertemplate="weight[%{customdata[0]}, %{customdata[1]}, %{customdata[2]}, "
                      "%{customdata[3]}] = %{z:.4f}<extra></extra>",
        **colour_range(w),
    ))  # fmt: skip
    fig.update_xaxes(tickvals=[o * (kw + 1) + (kw - 1) / 2 for o in range(c_out)],
                     ticktext=[f"out {o}" for o in range(c_out)], side="top")  # fmt: skip
    fig.update_yaxes(tickvals=[i * (kh + 1) + (kh - 1) / 2 for i in range(c_in)],
                     ticktext=[f"in {i}" for i in range(c_in)])  # fmt: skip
    _square(fig)
    cell_px = min(40, 1100 / z.shape[1])  # the page is about 1100 px wide
    fig.update_layout(height=int(min(700, max(160, z.shape[0] * cell_px + 50))),
                      margin=dict(l=4, r=4, t=30, b=4), plot_bgcolor="white")  # fmt: skip
    return fig


def _square(fig: go.Figure) -> None:
    """Rows top to bottom, square cells, no grid."""
    fig.update_yaxes(autorange="reversed", showgrid=False, zeroline=False, constrain="domain")
    fig.update_xaxes(showgrid=False, zeroline=False, constrain="domain")
    fig.for_each_yaxis(lambda ax: ax.update(scaleanchor=ax.anchor or "x"))


def maxpool_demo(x: torch.Tensor, out: torch.Tensor) -> go.Figure:
    """The notebook's 2x2 tensor with the picked maximum outlined, and the 1x1 result."""
    pool = torch.nn.MaxPool2d(kernel_size=2)
    cell = pool_cell(x, pool, 0, 0, 0)
    scale = {"colorscale": "Blues", "zmin": float(x.min()) - 0.1, "zmax": float(x.max())}
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.6, 0.4],
        horizontal_spacing=0.15,
        subplot_titles=[
            f"random_tensor<br>{tuple(x.shape)}",
            f"max_pool_layer(random_tensor)<br>{tuple(out.shape)}",
        ],
    )
    # the result's title is wider than its 1x1 plot: flush with the figure's right edge, not
    # centred over the plot and cut off there
    fig.layout.annotations[1].update(x=1, xanchor="right")
    fig.update_annotations(font_size=12)  # apart on a phone
    for col, t in ((1, x[0, 0]), (2, out[0, 0])):
        fig.add_trace(
            go.Heatmap(
                z=t.numpy(),
                text=[[f"{v:.4f}" for v in row] for row in t.tolist()],
                texttemplate="%{text}",
                textfont_size=18,
                showscale=False,
                hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>",
                **scale,
            ),
            row=1,
            col=col,
        )
    a, b = cell.argmax
    fig.add_shape(
        type="rect",
        x0=b - 0.5,
        x1=b + 0.5,
        y0=a - 0.5,
        y1=a + 0.5,
        line=dict(color="#ff8c00", width=4),
        row=1,
        col=1,
    )
    _square(fig)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(height=270, margin=dict(l=10, r=10, t=56, b=10))
    return fig
