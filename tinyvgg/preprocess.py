"""Any image (an upload, a canvas drawing, a photo) -> the 1x28x28 tensor the model sees.

Fashion-MNIST items are light garments on a black background, cropped so that the longer side
of the garment spans all 28 pixels, centred, with the brightest pixel at 255 (Xiao et al. 2017;
in the test set 98% of items touch two opposite edges and 99.9% span at least 26 pixels).
`preprocess()` brings any picture to that form and keeps every intermediate image, with its
size, so a page can show the way there step by step. Pillow reads, converts and composites;
torchvision pads, resizes and makes the tensor.
"""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError
from torch.nn import functional as F

from tinyvgg.model import IMAGE_SIZE

FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
FORMAT_NAMES = "PNG, JPEG, WebP, BMP or GIF"
MAX_PIXELS = 25_000_000  # checked from the header, before decoding; Pillow's own guard is 89M
WORK_SIDE = 1024  # larger pictures are reduced to this longer side first: same result, faster
CONTENT_LEVEL = 0.2  # a pixel this far from the background (of the image's range) is garment
MIN_CONTRAST = 16  # grey levels: less between background and garment means a blank image
# Ink, in pixels of full contrast (the sum of every pixel's difference from the background /
# 255), below which a picture is nearly empty: an erased dot's faint edge, a speck.
MIN_INK_PIXELS, MIN_INK_FRACTION = 20, 0.0005  # ..., or this fraction of its area
# Strokes thinner than this, in pixels at 28x28, are thickened to it before resizing: the
# sketch model learned outlines 1-3 pixels wide, and a thin pen on a large picture would shrink
# to a faint thread a fraction of a pixel wide.
MIN_STROKE = 2.0
WHITE, BLACK = (255, 255, 255), (0, 0, 0)
# The first bytes of each format: a file that starts like one but fails to open is damaged.
_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
# Pillow raises these for files that are cut short or damaged inside.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)


class PreprocessError(ValueError):
    """An image this app cannot use; the message is one sentence for the user."""


class NearlyEmpty(PreprocessError):
    """An image with next to nothing on it: not an error, nothing to show the model yet."""


@dataclass(frozen=True)
class Step:
    """One intermediate image on the way to the model's input."""

    name: str  # e.g. "greyscale"
    image: Image.Image
    note: str = ""  # what happened, in a few words

    @property
    def size(self) -> tuple[int, int]:  # (width, height), as Pillow gives it
        """(width, height) of this step's image."""
        return self.image.size

    def __repr__(self) -> str:
        return (
            f"Step({self.name!r}, {self.image.mode} {self.size[0]}x{self.size[1]}, {self.note!r})"
        )


@dataclass(frozen=True)
class Preprocessed:
    """The tensor the model sees, and every step that led there."""

    tensor: torch.Tensor  # (1, 28, 28) float32 in [0, 1]
    steps: tuple[Step, ...]  # original first, the model's input last
    inverted: bool  # the colours were inverted (a light background)
    notes: tuple[str, ...] = ()  # conversions worth telling the user (first frame, 16-bit, ...)


def check_file_size(n_bytes: int, limit_mb: float) -> None:
    """Refuse a file over the upload limit (Streamlit's server.maxUploadSize, in MB)."""
    if n_bytes > limit_mb * 1024 * 1024:
        raise PreprocessError(
            f"The file is {n_bytes / 2**20:.1f} MB, over the upload limit of {limit_mb:g} MB."
        )


def _check_pixels(size: tuple[int, int]) -> None:
    w, h = size
    if w * h > MAX_PIXELS:
        raise PreprocessError(
            f"The image is {w}x{h} pixels ({w * h / 1e6:.0f} megapixels), over this app's limit "
            f"of {MAX_PIXELS / 1e6:.0f} megapixels."
        )


def open_image(data: bytes) -> tuple[Image.Image, list[str]]:
    """Decode an image file's bytes (first frame), checking its pixel count before decoding."""
    if len(data) == 0:
        raise PreprocessError("The file is empty (0 bytes).")
    notes = []
    try:
        im = Image.open(io.BytesIO(data), formats=FORMATS)
        _check_pixels(im.size)  # the header is read; the pixels are not yet
        if getattr(im, "is_animated", False):
            notes.append("Animated image: using its first frame.")
            im.seek(0)
        if im.format == "JPEG" and max(im.size) > 2 * WORK_SIDE:
            im.draft(None, (WORK_SIDE, WORK_SIDE))  # decode at 1/2, 1/4 or 1/8 scale
        im.load()
        ImageOps.exif_transpose(im, in_place=True)  # phone photos store their rotation in EXIF
    except PreprocessError:
        raise  # too many pixels: already one sentence (it is a ValueError, caught below)
    except Image.DecompressionBombError as e:
        raise PreprocessError(
            "The image has far too many pixels to decode safely (Pillow's decompression-bomb "
            f"guard); the limit is {MAX_PIXELS / 1e6:.0f} megapixels."
        ) from e
    except UnidentifiedImageError as e:
        if data.startswith(_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
            raise PreprocessError(
                "The image file is truncated or corrupt, so its pixels cannot be read."
            ) from e
        raise PreprocessError(
            f"This file is not an image this app can read ({FORMAT_NAMES})."
        ) from e
    except _DECODE_ERRORS as e:
        raise PreprocessError(
            "The image file is truncated or corrupt, so its pixels cannot be read."
        ) from e
    return im, notes


def _from_array(a: np.ndarray) -> Image.Image:
    """A canvas's (H, W, 4) uint8 RGBA array, or any (H, W[, 1|3|4]) uint8/uint16 array."""
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or 0 in a.shape:
        raise PreprocessError(f"An array of shape {tuple(a.shape)} is not an image.")
    if a.dtype == np.uint16 and a.ndim == 2:
        return Image.fromarray(a)
    if a.dtype != np.uint8:
        raise PreprocessError(f"An image array must hold uint8 values, not {a.dtype}.")
    return Image.fromarray(np.ascontiguousarray(a))


def to_rgba(im: Image.Image) -> tuple[Image.Image, list[str]]:
    """Any Pillow mode -> RGBA, scaling 16-bit and float greyscale instead of clipping it."""
    notes = []
    if im.mode.startswith("I"):  # I;16 (16-bit PNG) and I: Pillow's convert("L") would clip
        a = np.asarray(im).astype(np.float64)
        im = Image.fromarray(np.clip(a / 257.0, 0, 255).round().astype(np.uint8))
        notes.append("16-bit greyscale scaled to 8 bits.")
    elif im.mode == "F":
        a = np.asarray(im).astype(np.float64)
        scale = 255.0 if np.nanmax(a) <= 1.0 else 1.0
        im = Image.fromarray(np.clip(np.nan_to_num(a * scale), 0, 255).round().astype(np.uint8))
    elif im.mode == "CMYK":
        im = im.convert("RGB")
        notes.append("CMYK colours converted to RGB.")
    elif im.mode in ("P", "PA") and ("transparency" in im.info or im.mode == "PA"):
        notes.append("Palette image with a transparent colour.")
    elif im.mode not in ("1", "L", "LA", "La", "P", "RGB", "RGBA", "RGBa", "RGBX"):
        try:
            im = im.convert("RGB")  # YCbCr, HSV, ...
        except ValueError as e:
            raise PreprocessError(f"Images in colour mode {im.mode} are not supported.") from e
    return im.convert("RGBA"), notes


def _contrasting(rgba: Image.Image, alpha: np.ndarray) -> tuple[int, int, int]:
    """White behind dark ink, black behind light ink (ink = the visible pixels)."""
    luma = np.asarray(rgba.convert("L"), dtype=np.float64)
    ink = float((luma * alpha).sum() / alpha.sum())
    return WHITE if ink < 128 else BLACK


def composite(
    rgba: Image.Image, background: tuple[int, int, int] | None
) -> tuple[Image.Image, str]:
    """Put the image on an opaque background (the given colour, or one contrasting the ink)."""
    alpha = np.asarray(rgba.getchannel("A"), dtype=np.float64)
    if alpha.max() == 0:
        raise PreprocessError("The image is blank: every pixel is transparent.")
    if alpha.min() == 255:
        return rgba.convert("RGB"), "no transparency"
    colour = background or _contrasting(rgba, alpha)
    base = Image.new("RGBA", rgba.size, (*colour, 255))
    name = "white" if colour == WHITE else "black" if colour == BLACK else f"rgb{colour}"
    return Image.alpha_composite(base, rgba).convert("RGB"), f"transparency put on {name}"


def _border_level(a: np.ndarray) -> float:
    """The background's grey level: the median of a thin ring around the edge."""
    k = max(1, round(0.02 * min(a.shape)))
    ring = np.concatenate([a[:k].ravel(), a[-k:].ravel(), a[:, :k].ravel(), a[:, -k:].ravel()])
    return float(np.median(ring))


def _levels(grey: Image.Image, bg: float) -> Image.Image:
    """Map the background level to 0 and the brightest pixel to 255 (as Fashion-MNIST has)."""
    peak = float(np.asarray(grey).max())
    scale = 255.0 / max(peak - bg, 1.0)
    return grey.point([int(np.clip(round((v - bg) * scale), 0, 255)) for v in range(256)])


def _analyse(a: np.ndarray) -> tuple[float, tuple[int, int, int, int], bool]:
    """(background level, the garment's bounding box, is the garment darker than the background)."""
    bg = _border_level(a)
    diff = a.astype(np.float64) - bg
    if np.abs(diff).max() < MIN_CONTRAST:
        raise PreprocessError(
            "The image is blank: there is no garment on it, only a flat background."
        )
    if np.abs(diff).sum() / 255 < max(MIN_INK_PIXELS, MIN_INK_FRACTION * a.size):
        raise NearlyEmpty(
            "There is almost nothing on this image: only a few faint pixels stand out from the "
            "background (what an eraser leaves, say), too little to show the model."
        )
    content = np.abs(diff) > CONTENT_LEVEL * np.abs(diff).max()
    box = Image.fromarray((content * 255).astype(np.uint8)).getbbox()  # (left, top, right, bottom)
    return bg, box, float(diff[content].sum()) < 0


def _square(im: Image.Image, fill: int) -> Image.Image:
    """Pad to a square with the background, the content centred."""
    w, h = im.size
    s = max(w, h)
    left, top = (s - w) // 2, (s - h) // 2
    return TF.pad(im, [left, top, s - w - left, s - h - top], fill=fill)


def stroke_width(a: np.ndarray) -> float:
    """The typical width in pixels of the ink in a light-on-black image (H, W) uint8: twice
    its ink pixels over its edge pixels (ink with a dark 4-neighbour). A stroke w wide and L
    long has about w*L ink pixels and 2L edge pixels; a filled shape has far more ink than
    edge. Widths of 1 read as 2 (each of its pixels is an edge), so an image already at 28x28
    is never thickened."""
    mask = a > CONTENT_LEVEL * 255
    inner = mask.copy()
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    inner[[0, -1], :] = inner[:, [0, -1]] = False  # past the frame is background
    edge = int((mask & ~inner).sum())
    return 2 * float(mask.sum()) / max(edge, 1)


def thicken(im: Image.Image, radius: int) -> Image.Image:
    """Light strokes on black grown by `radius` pixels every way (a square max filter, run as
    two 1-D passes so that a large radius on a large picture stays fast)."""
    x = TF.pil_to_tensor(im).float()[None]  # (1, 1, H, W)
    k = 2 * radius + 1
    x = F.max_pool2d(x, (1, k), stride=1, padding=(0, radius))
    x = F.max_pool2d(x, (k, 1), stride=1, padding=(radius, 0))
    return TF.to_pil_image(x[0].to(torch.uint8))


def fill_closed(im: Image.Image) -> tuple[Image.Image, bool]:
    """Light outlines on black with every closed region inside them filled at the ink's
    brightest level; (image, whether anything was filled). Regions the background reaches
    from any edge of the frame stay black."""
    a = np.asarray(im)
    mask = np.pad(a > CONTENT_LEVEL * 255, 1)  # a background ring joins every edge's regions
    reach = Image.fromarray(mask.astype(np.uint8) * 255).copy()  # fromarray: read-only
    ImageDraw.floodfill(reach, (0, 0), 128)  # the background the frame's edges reach
    inside = (np.asarray(reach) == 0)[1:-1, 1:-1]
    if not inside.any():
        return im, False
    return Image.fromarray(np.where(inside, a.max(), a).astype(np.uint8)), True


def _original(
    source: Image.Image | bytes | bytearray | np.ndarray,
) -> tuple[Image.Image, list[str], list[Step]]:
    """The source as a Pillow image (a file decoded, its pixels checked), the notes on its
    decoding, and the first step: the original."""
    notes: list[str] = []
    if isinstance(source, (bytes, bytearray)):
        im, notes = open_image(bytes(source))
        kind = f"{im.format} file"
    elif isinstance(source, np.ndarray):
        im, kind = _from_array(source), "pixel array"
    elif isinstance(source, Image.Image):
        _check_pixels(source.size)
        im, kind = source, "image"
    else:
        raise TypeError(f"preprocess() takes an image, bytes or an array, not {type(source)}")
    return im, notes, [Step("original", im, f"{kind}, mode {im.mode}")]


def preprocess(
    source: Image.Image | bytes | bytearray | np.ndarray,
    *,
    auto_invert: bool = True,
    background: tuple[int, int, int] | None = None,
    thicken_strokes: bool = True,
    fill_outlines: bool = False,
) -> Preprocessed:
    """Any image -> the (1, 28, 28) tensor in [0, 1] plus every step on the way.

    `background` is the colour transparent pixels are put on (a canvas's paper); None picks
    white behind dark ink and black behind light ink. With `auto_invert`, a garment darker than
    its background (dark on light) is inverted to light on black. With `thicken_strokes`,
    strokes that would be thinner than MIN_STROKE pixels at 28x28 are thickened to it; with
    `fill_outlines`, closed outlines are filled. Raises PreprocessError (one sentence) for
    anything unusable.
    """
    im, notes, steps = _original(source)
    rgba, more = to_rgba(im)
    notes += more
    if max(rgba.size) > WORK_SIDE:
        rgba = ImageOps.contain(rgba, (WORK_SIDE, WORK_SIDE), Image.Resampling.BILINEAR)
        steps.append(Step("reduced", rgba, f"longer side to {WORK_SIDE} for speed"))
    rgb, note = composite(rgba, background)
    steps.append(Step("composited", rgb, note))
    grey = rgb.convert("L")
    steps.append(Step("greyscale", grey, "ITU-R 601 luma"))

    bg, box, darker = _analyse(np.asarray(grey))
    inverted = auto_invert and darker
    if inverted:  # Fashion-MNIST garments are light on black
        grey, bg, darker = ImageOps.invert(grey), 255 - bg, False
        why = "light background" if bg < 128 else "garment darker than its background"
        steps.append(Step("inverted", grey, f"{why}, so inverted"))
    else:
        why = "automatic inversion is off" if darker else "garment lighter than its background"
        steps.append(Step("not inverted", grey, why))
    if not darker:  # background to 0 and the brightest pixel to 255
        grey, bg = _levels(grey, bg), 0.0
        steps.append(Step("levels", grey, "background to black, brightest to white"))
    cropped = grey.crop(box)
    steps.append(Step("cropped", cropped, "to the garment's bounding box"))
    square = _square(cropped, fill=round(bg))
    steps.append(Step("square", square, "padded, garment centred"))
    if not darker and fill_outlines:
        square, filled = fill_closed(square)
        steps.append(Step("filled", square, "closed outlines filled" if filled
                          else "no closed outline to fill"))  # fmt: skip
    if not darker and thicken_strokes:
        per_px = IMAGE_SIZE / square.size[0]  # one pixel here, in pixels at 28x28
        width = stroke_width(np.asarray(square)) * per_px
        if width < MIN_STROKE:
            square = thicken(square, math.ceil((MIN_STROKE - width) / per_px / 2))
            note = f"strokes {width:.1f} px wide at 28×28, thickened to {MIN_STROKE:g}"
            steps.append(Step("thickened", square, note))
    small = TF.resize(square, [IMAGE_SIZE, IMAGE_SIZE], antialias=True)
    steps.append(Step("28x28", small, "resized (bilinear, antialiased)"))

    x = TF.pil_to_tensor(small).float() / 255.0  # (1, 28, 28)
    if not darker and 0 < float(x.max()) < 1:
        x = x / x.max()  # resizing dims thin strokes; Fashion-MNIST's brightest pixel is 1.0
    steps.append(Step("input", TF.to_pil_image(x), f"values in [0, 1], brightest {x.max():.2f}"))
    return Preprocessed(x.contiguous(), tuple(steps), inverted, tuple(notes))


def as_dataset_reads(
    source: Image.Image | bytes | bytearray | np.ndarray,
    channels: int = 1,
    background: tuple[int, int, int] | None = None,
) -> Preprocessed:
    """An image as a folder dataset's images were read (`tinyvgg.folders.to_input`: colour
    mode, transparency over the border's colour, letterboxed to 28x28, no inversion), for a
    model trained on the user's own images: (channels, 28, 28) in [0, 1] and its two steps.
    `background`: the colour under transparent pixels (a canvas's paper). Raises
    PreprocessError (one sentence) for anything unusable."""
    from tinyvgg.datasets import DatasetError
    from tinyvgg.folders import to_input

    im, notes, steps = _original(source)
    if background is not None and im.mode in ("RGBA", "LA"):
        paper = Image.new("RGBA", im.size, (*background, 255))
        im = Image.alpha_composite(paper, im.convert("RGBA")).convert("RGB")
    try:
        x = to_input(im, channels=channels)
    except DatasetError as e:
        raise PreprocessError(str(e)) from e
    shown = Image.fromarray(x[0].numpy() if channels == 1 else x.permute(1, 2, 0).numpy())
    steps.append(Step("as the dataset", shown, "letterboxed to 28×28, as its images were read"))
    return Preprocessed(x.float().div(255), tuple(steps), inverted=False, notes=tuple(notes))


def read_input(
    source: Image.Image | bytes | bytearray | np.ndarray,
    own: int = 0,
    *,
    auto_invert: bool = True,
    fill_outlines: bool = False,
    background: tuple[int, int, int] | None = None,
) -> Preprocessed:
    """A picture as a model sees it: `preprocess` for a built-in dataset's model (`own` 0), or
    for a model of the user's own images with `own` input channels, `as_dataset_reads`."""
    if own:
        return as_dataset_reads(source, own, background)
    return preprocess(source, auto_invert=auto_invert, background=background,
                      fill_outlines=fill_outlines)  # fmt: skip
