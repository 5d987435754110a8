"""A demo dataset drawn on the fly: circles, squares, stars and triangles (4 x 500 images), so
a new user can try "bring your own dataset" without finding data, and tests have real images.

`shapes()` gives the dataset; `shapes_zip()` the same images as PNGs in a zip laid out as a
user's upload would be (`read_zip(shapes_zip(n, s), seed=s)` equals `shapes(n, s)`).
"""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np
import torch
from PIL import Image, ImageDraw

from tinyvgg.datasets import Dataset
from tinyvgg.folders import SIZE, split_indices, to_input

SHAPES = ("circle", "square", "star", "triangle")  # the classes, in sorted order (as a folder's)


def _draw(kind: str, rng: np.random.Generator, size: int) -> Image.Image:
    """One light shape on black, drawn 4x larger and box-reduced (anti-aliased)."""
    s = 4 * size
    r = rng.uniform(0.22, 0.45) * s
    cx, cy = rng.uniform(r + 2, s - r - 2, size=2)
    turn, ink = rng.uniform(0, 2 * math.pi), int(rng.integers(150, 256))
    width = max(1, round(rng.uniform(1.0, 3.0) * s / SIZE))  # 1-3 px strokes at 28x28
    paint = {"fill": ink} if rng.random() < 0.5 else {"outline": ink, "width": width}
    im = Image.new("L", (s, s), 0)
    draw = ImageDraw.Draw(im)
    if kind == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], **paint)
    else:  # a regular polygon; a star's every other corner is pulled in
        n, inner = {"square": (4, 1.0), "triangle": (3, 1.0), "star": (10, 0.45)}[kind]
        q = [r * (inner if i % 2 else 1.0) for i in range(n)]
        a = [turn + 2 * math.pi * i / n for i in range(n)]
        draw.polygon([(cx + q[i] * math.cos(a[i]), cy + q[i] * math.sin(a[i])) for i in range(n)],
                     **paint)  # fmt: skip
    return im.reduce(4)


def _shape_images(per_class: int, seed: int, size: int) -> list[tuple[str, Image.Image]]:
    rng = np.random.default_rng(seed)
    return [(kind, _draw(kind, rng, size)) for kind in SHAPES for _ in range(per_class)]


def shapes(per_class: int = 500, seed: int = 0, size: int = 28, test_share: float = 0.2) -> Dataset:
    """A demo dataset: circles, squares, stars and triangles, light on black, seeded."""
    drawn = _shape_images(per_class, seed, size)
    x = torch.stack([to_input(im) for _, im in drawn])  # (4 * per_class, 1, 28, 28)
    y = torch.tensor([SHAPES.index(kind) for kind, _ in drawn])
    tr, te = split_indices(y, len(SHAPES), seed, test_share)
    split = f"a seeded {1 - test_share:.0%}/{test_share:.0%} split of each class"
    return Dataset("shapes", SHAPES, x[tr], y[tr], x[te], y[te], split=split)


def shapes_zip(per_class: int = 500, seed: int = 0, size: int = 28) -> bytes:
    """The images of `shapes(per_class, seed, size)` as PNGs in a zip: shapes/<class>/0000.png."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:  # PNGs are compressed already
        for i, (kind, im) in enumerate(_shape_images(per_class, seed, size)):
            png = io.BytesIO()
            im.save(png, "PNG")
            zf.writestr(f"shapes/{kind}/{i % per_class:04d}.png", png.getvalue())
    return buf.getvalue()
