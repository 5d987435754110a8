"""Attribution maps as figures: the input in grey under one signed map, and the exact
decomposition's shares on max_pool_2's grid. Tensors in, plotly Figures out."""

from __future__ import annotations

import plotly.graph_objects as go
import torch

from ui.figures.common import feature_maps, figure, image_spec, rgb_array

# Blue against the class, clear at zero (the garment shows through), red for it: one
# diverging scale, centred at zero, symmetric about it.
EVIDENCE = [
    [0.0, "rgba(33, 102, 172, 0.95)"],
    [0.25, "rgba(103, 169, 207, 0.75)"],
    [0.5, "rgba(247, 247, 247, 0.0)"],
    [0.75, "rgba(239, 138, 98, 0.75)"],
    [1.0, "rgba(178, 24, 43, 0.95)"],
]


def evidence_range(amap: torch.Tensor) -> float:
    """Half the colour scale's span: the largest |value| (never 0, so a flat map draws)."""
    return max(float(amap.abs().max()), 1e-12)


def overlay(x: torch.Tensor, amap: torch.Tensor, title: str | None = None,
            height: int = 360, unit: str = "logit") -> go.Figure:  # fmt: skip
    """The input, (H, W) in grey or (3, H, W) in its colours, with the signed (H, W) map over
    it: hover gives both values (an RGB pixel's three); the colour bar gives the scale,
    ±max|map|, in `unit`s (the map is never rescaled)."""
    rgb = x.dim() == 3
    a = amap.detach().cpu().float().numpy()
    m = evidence_range(amap)
    base, layout = image_spec(amap if rgb else x, title, height)
    if rgb:
        under = dict(type="image", z=rgb_array(x), colormodel="rgb", zmin=[0, 0, 0],
                     zmax=[255, 255, 255], hoverinfo="skip")  # fmt: skip
        pixel = x.detach().cpu().float().permute(1, 2, 0).numpy()
        shown = " (pixel %{customdata[0]:.3f}, %{customdata[1]:.3f}, %{customdata[2]:.3f})"
    else:
        pixel = x.detach().cpu().float().numpy()
        under = {k: v for k, v in base.items() if k not in ("hovertemplate", "zmid")}
        under |= dict(colorscale="Greys_r", zmin=float(min(pixel.min(), 0.0)),
                      zmax=float(max(pixel.max(), 1.0)), showscale=False,
                      hoverinfo="skip")  # fmt: skip
        shown = " (pixel %{customdata:.3f})"
    evidence = dict(
        type="heatmap", z=a, customdata=pixel, colorscale=EVIDENCE, zmin=-m, zmax=m, zmid=0.0,
        colorbar=dict(title=dict(text=unit, side="right"), thickness=14, tickformat=".3g"),
        hovertemplate="row %{y}, col %{x}: %{z:.4g} " + unit + shown + "<extra></extra>",
    )  # fmt: skip
    layout["meta"] = {"scale": m, "unit": unit}
    return figure([under, evidence], layout)


def shares_grid(shares: torch.Tensor, title: str | None = None, cell_px: int = 84) -> go.Figure:
    """The exact decomposition's (C, 7, 7) shares, a tile per channel of max_pool_2, on one
    scale centred at zero: hover gives each cell's W·a."""
    return feature_maps(shares, title=title, cell_px=cell_px)


def scale_text(amap: torch.Tensor, unit: str = "logit") -> str:
    """The colour scale in words, e.g. "colours from −0.0513 to +0.0513 logit, clear at 0"."""
    m = evidence_range(amap)
    return f"colours from −{m:.4g} to +{m:.4g} {unit}, clear at 0"
