"""Sketch augmentation: training images made to look more like drawings, batch by batch on the
training device, seeded and repeatable.

    augment = Augmenter("sketch", seed=42, device=device)
    x = augment(x)        # (B, 1, 28, 28) in [0, 1] -> the same shape and range

Each transform is a plain function of a batch and per-image settings, so each can be tested
alone: a left-right flip (people draw shoes facing either way; the dataset's face left), a
flat-filled silhouette, an outline of a given stroke width (a morphological gradient:
dilation minus erosion), a small affine jitter (rotation, scale, shift) and an ink level
(contrast and gamma). `Augmenter` draws which images get which, from its own generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

KINDS = ("sketch",)
INK = 0.1  # a pixel above this is part of the garment


def hflip(x: torch.Tensor, which: torch.Tensor) -> torch.Tensor:
    """Images (B, C, H, W) mirrored left-right where `which` (B,) is True."""
    return torch.where(which[:, None, None, None], x.flip(-1), x)


def silhouette(x: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
    """Each garment flat-filled at its image's `level` (B,): ink above INK, black elsewhere."""
    return (x > INK).to(x.dtype) * level[:, None, None, None]


def dilate(mask: torch.Tensor, width: int) -> torch.Tensor:
    """A (B, C, H, W) mask grown by `width` pixels in every direction (a square element)."""
    return F.max_pool2d(mask, 2 * width + 1, stride=1, padding=width) if width else mask


def erode(mask: torch.Tensor, width: int) -> torch.Tensor:
    """A mask shrunk by `width` pixels (pixels outside the image count as empty)."""
    return 1 - dilate(1 - mask, width)


def outline(x: torch.Tensor, width: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
    """Each garment's outline at its image's stroke `width` (B,) in pixels (1 or more) and
    ink `level` (B,): the pixels the shape's dilation by w//2 has and its erosion by w - w//2
    has not, so the stroke is w pixels wide, straddling the edge."""
    mask = (x > INK).to(x.dtype)
    out = torch.empty_like(x)
    for w in width.unique().tolist():  # a few stroke widths: one pass each
        rows = width == w
        m = mask[rows]
        ring = dilate(m, int(w) // 2) - erode(m, int(w) - int(w) // 2)
        out[rows] = ring
    return out * level[:, None, None, None]


def affine(x: torch.Tensor, angle: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor
           ) -> torch.Tensor:  # fmt: skip
    """Each image rotated by `angle` (B,) degrees, scaled by `scale` (B,) about its centre and
    shifted by `shift` (B, 2) pixels (x, y); black where nothing maps; bilinear."""
    b, _, h, w = x.shape
    a = angle * math.pi / 180
    cos, sin = torch.cos(a) / scale, torch.sin(a) / scale
    theta = torch.zeros(b, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1] = cos, -sin, sin, cos
    theta[:, 0, 2] = -shift[:, 0] * 2 / w  # output -> input coordinates: the inverse shift
    theta[:, 1, 2] = -shift[:, 1] * 2 / h
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def ink(x: torch.Tensor, gain: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    """Ink level: x ** gamma × gain per image (B,), kept in [0, 1]."""
    return (x.clamp(0, 1) ** gamma[:, None, None, None] * gain[:, None, None, None]).clamp(0, 1)


@dataclass(frozen=True)
class SketchSettings:
    """How often and how much: each image is flipped with p_flip; then it stays a photo, or
    becomes a silhouette or an outline (p_silhouette, p_outline); then jitter and ink."""

    p_flip: float = 0.5
    p_silhouette: float = 0.2
    p_outline: float = 0.2
    widths: tuple[int, ...] = (1, 2, 3)  # outline strokes, pixels at 28×28
    max_angle: float = 10.0  # degrees
    scales: tuple[float, float] = (0.85, 1.1)
    max_shift: float = 2.0  # pixels
    gains: tuple[float, float] = (0.7, 1.0)
    gammas: tuple[float, float] = (0.6, 1.5)


class Augmenter:
    """Sketch augmentation for training batches, from its own seeded generator on `device`."""

    def __init__(self, kind: str = "sketch", seed: int = 0, device: str | torch.device = "cpu",
                 settings: SketchSettings | None = None):  # fmt: skip
        if kind not in KINDS:
            raise ValueError(f"Augmentation must be one of {', '.join(KINDS)}, not {kind!r}.")
        self.settings = settings or SketchSettings()
        self.device = torch.device(device)
        self.g = torch.Generator(device=self.device).manual_seed(seed)

    def _u(self, n: int, lo: float = 0.0, hi: float = 1.0) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=self.g, device=self.device)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """A new batch (B, C, H, W) in [0, 1]; `x` is not changed."""
        s, b = self.settings, x.shape[0]
        x = hflip(x, self._u(b) < s.p_flip)
        pick = self._u(b)
        level = self._u(b, 0.6, 1.0)
        as_sil = pick < s.p_silhouette
        as_out = (pick >= s.p_silhouette) & (pick < s.p_silhouette + s.p_outline)
        widths = torch.tensor(s.widths, device=self.device)
        width = widths[torch.randint(len(s.widths), (b,), generator=self.g, device=self.device)]
        x = torch.where(as_sil[:, None, None, None], silhouette(x, level), x)
        x = torch.where(as_out[:, None, None, None], outline(x, width, level), x)
        x = affine(x, self._u(b, -s.max_angle, s.max_angle), self._u(b, *s.scales),
                   torch.stack([self._u(b, -s.max_shift, s.max_shift),
                                self._u(b, -s.max_shift, s.max_shift)], dim=1))  # fmt: skip
        return ink(x, self._u(b, *s.gains), self._u(b, *s.gammas))
