"""Shared figure pieces: colour scales, a greyscale image, a grid of feature maps."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import torch

SEQUENTIAL = "Greys_r"  # non-negative maps: black 0 to white max, like the garments
DIVERGING = "RdBu_r"  # signed maps: blue negative, white 0, red positive


def colour_range(t: torch.Tensor) -> dict:
    """One colour scale for a whole tensor: diverging around 0 when it has both signs."""
    lo, hi = float(t.min()), float(t.max())
    if lo < 0 < hi:
        m = max(-lo, hi)
        return {"colorscale": DIVERGING, "zmin": -m, "zmax": m, "zmid": 0.0}
    if hi <= lo:
        hi = lo + 1e-6
    return {"colorscale": SEQUENTIAL, "zmin": lo, "zmax": hi}


def image(hw: torch.Tensor, title: str | None = None, height: int = 280) -> go.Figure:
    """A single (H, W) map, rows top to bottom, value on hover."""
    fig = go.Figure(
        go.Heatmap(
            z=hw.detach().cpu().float().numpy(),
            hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>",
            **colour_range(hw),
        )
    )
    fig.update_yaxes(
        autorange="reversed", scaleanchor="x", constrain="domain", showticklabels=False
    )
    fig.update_xaxes(constrain="domain", showticklabels=False)
    fig.update_layout(height=height, margin=dict(l=4, r=4, t=30 if title else 4, b=4), title=title)
    return fig


def grid_shape(n: int, max_cols: int = 5) -> tuple[int, int]:
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def grid(n: int, cols: int, titles: list[str] | None = None, square: bool = True,
         hgap: float = 0.02, vgap: float = 0.12) -> tuple[list[tuple[str, str]], dict]:  # fmt: skip
    """Axes ("x3", "y3") for n panels in a grid, and the layout placing them, with titles.

    Laid out by hand rather than with make_subplots, which was 10x slower here and the
    explorer rebuilds figures on every interaction.
    """
    rows = math.ceil(n / cols)
    axes, layout, notes = [], {}, []
    for k in range(n):
        r, q = divmod(k, cols)
        s = "" if k == 0 else str(k + 1)
        x0, x1 = q / cols + hgap / 2, (q + 1) / cols - hgap / 2
        y1 = 1 - r / rows - (vgap / rows if titles else 0.01)
        y0 = 1 - (r + 1) / rows + 0.01
        layout[f"xaxis{s}"] = dict(domain=[x0, x1], anchor=f"y{s}", showticklabels=False,
                                   showgrid=False, zeroline=False, constrain="domain")  # fmt: skip
        layout[f"yaxis{s}"] = dict(domain=[y0, y1], anchor=f"x{s}", showticklabels=False,
                                   showgrid=False, zeroline=False, autorange="reversed",
                                   constrain="domain")  # fmt: skip
        if square:
            layout[f"yaxis{s}"]["scaleanchor"] = f"x{s}"
        if titles:
            notes.append(dict(text=titles[k], x=(x0 + x1) / 2, y=y1, xref="paper", yref="paper",
                              xanchor="center", yanchor="bottom", showarrow=False,
                              font=dict(size=11)))  # fmt: skip
        axes.append((f"x{s}", f"y{s}"))
    layout["annotations"] = notes
    return axes, layout


def feature_maps(
    chw: torch.Tensor,
    title: str | None = None,
    max_cols: int = 5,
    cell_px: int = 150,
    names: list[str] | None = None,
) -> go.Figure:
    """Every channel of a (C, H, W) map in one figure, on one shared colour scale."""
    chw = chw.detach().cpu().float()
    n = chw.shape[0]
    rows, cols = grid_shape(n, max_cols)
    axes, layout = grid(n, cols, names or [f"channel {c}" for c in range(n)])
    scale = colour_range(chw)
    data = [
        go.Heatmap(
            z=chw[c].numpy(), coloraxis="coloraxis", xaxis=xa, yaxis=ya,
            hovertemplate=f"channel {c}, row %{{y}}, col %{{x}}: %{{z:.4f}}<extra></extra>",
        )
        for c, (xa, ya) in enumerate(axes)
    ]  # fmt: skip
    coloraxis = {"colorscale": scale["colorscale"], "cmin": scale["zmin"], "cmax": scale["zmax"]}
    if "zmid" in scale:
        coloraxis["cmid"] = 0.0
    h, w = chw.shape[1:]
    for xa, ya in axes:  # fixed ranges: overlays drawn on top must not pad the axes
        layout["xaxis" + xa[1:]]["range"] = [-0.5, w - 0.5]
        layout["yaxis" + ya[1:]].update(range=[h - 0.5, -0.5], autorange=False)
    layout.update(
        coloraxis=coloraxis,
        height=rows * cell_px + 60,
        margin=dict(l=4, r=4, t=50 if title else 24, b=4),
        title=title,
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return go.Figure(data=data, layout=layout)
