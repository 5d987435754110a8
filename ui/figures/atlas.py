"""The channel atlas as pictures: each example image with the receptive field of its strongest
cell (the crop, and where it sits in the whole image), and each channel's class make-up."""

from __future__ import annotations

import io

import plotly.graph_objects as go
import torch
from PIL import Image, ImageDraw

from ui.figures.explore import HIGHLIGHT

GAP = 4  # pixels between the crop and the whole image
CLASS_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)  # fmt: skip (Tableau 10: ten classes told apart)


def example_png(image: torch.Tensor, field: tuple[tuple[int, int], tuple[int, int]],
                box: int = 84) -> bytes:  # fmt: skip
    """One example as a PNG: on the left the receptive field's pixels (the crop, as large as
    the tile allows), on the right the whole uint8 image, (H, W) or (C, H, W) with 1 or 3
    channels, with the field outlined and the rest dimmed."""
    (r0, r1), (c0, c1) = field
    pic = _pil(image.detach().cpu().to(torch.uint8))  # greyscale or RGB
    crop = pic.crop((c0, r0, c1 + 1, r1 + 1))
    scale = max(1, box // max(crop.size))
    crop = crop.resize((crop.width * scale, crop.height * scale), Image.Resampling.NEAREST)
    zoom = max(1, box // max(pic.size))
    whole = pic.point(lambda v: v * 2 // 5).convert("RGB")  # dimmed outside the field
    whole.paste(pic.crop((c0, r0, c1 + 1, r1 + 1)).convert("RGB"), (c0, r0))
    whole = whole.resize((pic.width * zoom, pic.height * zoom), Image.Resampling.NEAREST)
    ImageDraw.Draw(whole).rectangle(
        (c0 * zoom, r0 * zoom, (c1 + 1) * zoom - 1, (r1 + 1) * zoom - 1), outline=HIGHLIGHT,
        width=2,
    )  # fmt: skip
    tile = Image.new("RGB", (box + GAP + whole.width, max(box, whole.height)), "white")
    tile.paste(crop.convert("RGB"), ((box - crop.width) // 2, (tile.height - crop.height) // 2))
    tile.paste(whole, (box + GAP, 0))
    buf = io.BytesIO()
    tile.save(buf, format="PNG")
    return buf.getvalue()


def _pil(image: torch.Tensor) -> Image.Image:
    """A uint8 (H, W), (1, H, W) or (3, H, W) image as a greyscale or RGB Pillow image."""
    if image.dim() == 3 and image.shape[0] == 3:
        return Image.fromarray(image.permute(1, 2, 0).contiguous().numpy(), mode="RGB")
    return Image.fromarray(image.reshape(image.shape[-2:]).numpy(), mode="L")


def dream_png(image: torch.Tensor, box: int = 84) -> bytes:
    """A synthetic (C, H, W) image in [0, 1] as a PNG `box` pixels square: RGB for 3
    channels, else greyscale (the mean of its channels)."""
    x = image.detach().cpu().float()
    x = x if x.shape[0] == 3 else x.mean(0)
    im = _pil((x.clamp(0, 1) * 255).round().to(torch.uint8))
    im = im.resize((box, box), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def makeup_bars(
    counts: torch.Tensor,
    class_names: tuple[str, ...],
    title: str | None = None,
    channels: list[int] | None = None,
    height: int | None = None,
) -> go.Figure:
    """Each channel's strongest images split by class: a stacked bar per channel (C, classes)
    counts, a colour per class; hover gives the class and the count."""
    channels = channels if channels is not None else list(range(counts.shape[0]))
    names = [f"channel {c}" for c in channels]
    fig = go.Figure()
    for k, name in enumerate(class_names):
        fig.add_bar(
            y=names, x=[int(counts[c, k]) for c in channels], name=name, orientation="h",
            marker_color=CLASS_COLOURS[k % len(CLASS_COLOURS)],
            hovertemplate=f"%{{y}}: %{{x}} {name}<extra></extra>",
        )  # fmt: skip
    total = int(counts[channels[0]].sum()) if channels else 0
    fig.update_layout(
        barmode="stack", title=title, height=height or 190 + 24 * len(channels),
        margin=dict(l=4, r=4, t=64 if title else 8, b=84),
        legend=dict(orientation="h", yref="container", y=0.0, yanchor="bottom", x=0,
                    font=dict(size=11)),
        xaxis=dict(range=[0, total], title=f"of the {total} strongest images"),
        yaxis=dict(autorange="reversed", automargin=True),
    )  # fmt: skip
    return fig
