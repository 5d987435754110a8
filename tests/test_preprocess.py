"""Preprocessing: every bad input gives one sentence; every image mode gives the same garment."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from tinyvgg.preprocess import (
    MAX_PIXELS,
    WORK_SIDE,
    NearlyEmpty,
    PreprocessError,
    check_file_size,
    fill_closed,
    preprocess,
    stroke_width,
    thicken,
)

# A T-shirt, in fractions of the picture: body, sleeves, neck.
TSHIRT = [(0.3, 0.1), (0.42, 0.1), (0.5, 0.18), (0.58, 0.1), (0.7, 0.1), (0.95, 0.3),
          (0.85, 0.42), (0.75, 0.35), (0.75, 0.9), (0.25, 0.9), (0.25, 0.35), (0.15, 0.42),
          (0.05, 0.3)]  # fmt: skip


def garment(size=(200, 160), ink=220, paper=0, box=None) -> Image.Image:
    """An 'L' picture of a T-shirt drawn in `ink` on `paper`, inside box (l, t, r, b)."""
    w, h = size
    left, top, right, bottom = box or (0, 0, w, h)
    im = Image.new("L", size, paper)
    pts = [(left + x * (right - left), top + y * (bottom - top)) for x, y in TSHIRT]
    ImageDraw.Draw(im).polygon(pts, fill=ink)
    return im


def encode(im: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def one_sentence(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert msg[0].isupper() and msg.endswith(".") and "\n" not in msg and len(msg) < 200, msg
    assert "Traceback" not in msg
    return msg


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height; its pixel data is a stub never decoded."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = lambda kind, data: (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    )
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"x") + chunk(b"IEND", b"")


REFERENCE = preprocess(garment()).tensor  # light T-shirt on black, mode L


# ------------------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (b"hello, this is a text file\n", "not an image"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "not an image"),
        (encode(garment(), "TIFF"), "not an image"),  # an image, but not a format we take
        (encode(garment())[:300], "truncated or corrupt"),
        (encode(garment(), "JPEG")[:400], "truncated or corrupt"),
        (encode(garment(), "JPEG")[:200] + bytes(range(256)) * 8, "truncated or corrupt"),
        (png_header_only(6000, 6000), "megapixels"),  # our limit, from the header alone
        (png_header_only(20000, 20000), "decompression-bomb"),  # Pillow's own guard
        (encode(Image.new("L", (64, 64), 255)), "blank"),
        (encode(Image.new("RGBA", (64, 64), (0, 0, 0, 0))), "transparent"),
    ],
    ids=["zero-bytes", "text", "pdf", "tiff", "truncated-png", "truncated-jpeg", "corrupt-jpeg",
         "too-many-pixels", "decompression-bomb", "blank-white", "all-transparent"],
)  # fmt: skip
def test_bad_files_give_one_sentence(data, words):
    with pytest.raises(PreprocessError) as e:
        preprocess(data)
    assert words in one_sentence(e)


def test_pixel_limit_is_checked_before_decoding():
    assert 6000 * 6000 > MAX_PIXELS
    # Decoding this stub would fail as corrupt; the size error shows the header alone was read.
    with pytest.raises(PreprocessError, match="6000x6000"):
        preprocess(png_header_only(6000, 6000))


def test_blank_canvas_and_erased_drawing():
    with pytest.raises(PreprocessError) as e:
        preprocess(np.zeros((320, 320, 4), np.uint8))  # nothing drawn: all transparent
    assert "transparent" in one_sentence(e)
    erased = np.zeros((320, 320, 4), np.uint8)
    erased[100:200, 100:200] = (255, 255, 255, 255)  # eraser strokes: paper-coloured ink
    with pytest.raises(PreprocessError) as e:
        preprocess(erased, background=(255, 255, 255))
    assert "blank" in one_sentence(e)


def test_upload_over_the_size_limit():
    check_file_size(5 * 2**20, 5)  # exactly at the limit is fine
    with pytest.raises(PreprocessError) as e:
        check_file_size(6 * 2**20 + 1, 5)
    assert "over the upload limit of 5 MB" in one_sentence(e)


@pytest.mark.parametrize("array", [np.zeros((3, 4, 5, 6), np.uint8), np.zeros((8, 8), np.float32)])
def test_arrays_that_are_not_images(array):
    with pytest.raises(PreprocessError) as e:
        preprocess(array)
    one_sentence(e)


# -------------------------------------------------------------------- modes and formats


def _in_mode(mode: str) -> tuple[Image.Image, str]:
    """The reference T-shirt in `mode`, and the file format that stores that mode."""
    g = garment()
    if mode == "L":
        return g, "PNG"
    if mode == "LA":  # light ink, transparent background
        return Image.merge("LA", (g, g.point(lambda v: 255 if v else 0))), "PNG"
    if mode == "RGB":
        return Image.merge("RGB", (g, g, g)), "PNG"
    if mode == "RGBA":
        return Image.merge("RGBA", (g, g, g, g.point(lambda v: 255 if v else 0))), "PNG"
    if mode == "P":
        return g.convert("P"), "GIF"
    if mode == "CMYK":  # the same light grey on black, in ink: K = 255 - grey
        k = g.point(lambda v: 255 - v)
        zero = Image.new("L", g.size, 0)
        return Image.merge("CMYK", (zero, zero, zero, k)), "JPEG"
    if mode == "I;16":
        return Image.fromarray(np.asarray(g).astype(np.uint16) * 257), "PNG"
    raise ValueError(mode)


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "P", "CMYK", "I;16"])
def test_every_mode_gives_the_same_garment(mode):
    im, fmt = _in_mode(mode)
    assert im.mode == mode
    for source in (im, encode(im, fmt, quality=95) if fmt == "JPEG" else encode(im, fmt)):
        x = preprocess(source).tensor
        assert x.shape == (1, 28, 28) and x.dtype == torch.float32
        assert 0.0 <= float(x.min()) and float(x.max()) == pytest.approx(1.0)
        tol = 0.03 if fmt == "JPEG" else 1e-6
        assert (x - REFERENCE).abs().mean() <= tol, mode


def test_16_bit_is_scaled_not_clipped():
    im = Image.fromarray(np.asarray(garment(ink=128)).astype(np.uint16) * 257)  # mid grey
    pre = preprocess(encode(im))
    assert pre.steps[0].image.mode == "I;16"
    assert "16-bit greyscale scaled to 8 bits." in pre.notes
    grey = next(s for s in pre.steps if s.name == "greyscale").image
    assert np.asarray(grey).max() == 128  # Pillow's convert("L") would have clipped to 255


def test_palette_with_a_transparent_colour():
    g = garment(ink=255)
    pal = g.convert("P")
    pal.info["transparency"] = pal.getpixel((0, 0))  # the black background is transparent
    pre = preprocess(encode(pal))
    assert "Palette image with a transparent colour." in pre.notes
    assert pre.steps[1].name == "composited" and "transparency put on" in pre.steps[1].note
    assert (pre.tensor - preprocess(g).tensor).abs().max() < 1e-6


def test_animated_gif_uses_its_first_frame():
    frames = [garment(), Image.new("L", (200, 160), 0), garment(ink=90)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100)
    pre = preprocess(buf.getvalue())
    assert "Animated image: using its first frame." in pre.notes
    assert (pre.tensor - REFERENCE).abs().max() < 1e-6


def test_webp_and_bmp_are_read():
    for fmt in ("WEBP", "BMP"):
        x = preprocess(
            encode(garment(), fmt, lossless=True) if fmt == "WEBP" else encode(garment(), fmt)
        )
        assert (x.tensor - REFERENCE).abs().mean() < 0.01, fmt


def test_exif_rotation_is_applied():
    im = garment(size=(200, 100))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    pre = preprocess(encode(im.convert("RGB"), "JPEG", exif=exif))
    assert pre.steps[0].size == (100, 200)


# ------------------------------------------------------------------------ the garment itself


def test_transparent_canvas_drawing_gives_a_garment():
    """A canvas sends ink on a transparent background; dropping alpha would leave black on
    black. Both inks, on an automatic background or the paper given, give the T-shirt."""
    shape = np.asarray(garment(size=(320, 320))) > 0
    for ink in (0, 255):
        rgba = np.zeros((320, 320, 4), np.uint8)
        rgba[shape] = (ink, ink, ink, 255)
        for paper in (None, (255 - ink,) * 3):
            pre = preprocess(rgba, background=paper)
            x = pre.tensor
            assert float(x.max()) == 1.0 and (x > 0.5).float().mean() > 0.3
            assert pre.inverted == (ink == 0)
            assert (x - preprocess(garment(size=(320, 320), ink=255)).tensor).abs().max() < 1e-6


def test_dark_on_light_and_light_on_dark_agree():
    light_on_dark = preprocess(garment(ink=220, paper=0))
    dark_on_light = preprocess(garment(ink=35, paper=255))
    assert not light_on_dark.inverted and dark_on_light.inverted
    assert (light_on_dark.tensor - dark_on_light.tensor).abs().max() < 0.02
    photo = encode(garment(ink=35, paper=255).convert("RGB"), "JPEG", quality=85)
    assert (preprocess(photo).tensor - light_on_dark.tensor).abs().mean() < 0.03


def test_auto_invert_off_keeps_the_colours():
    pre = preprocess(garment(ink=35, paper=255), auto_invert=False)
    assert not pre.inverted and pre.steps[3].name == "not inverted"
    assert float(pre.tensor[0, 0, 0]) == pytest.approx(1.0)  # the white background stays


def test_tiny_garment_in_a_corner_ends_centred_and_filling_the_frame():
    im = garment(size=(400, 400), box=(2, 3, 32, 43))  # 30x40 pixels at the top left
    x = preprocess(im).tensor[0]
    rows = torch.nonzero((x > 0.2).any(1)).flatten()
    cols = torch.nonzero((x > 0.2).any(0)).flatten()
    assert rows.min() == 0 and rows.max() == 27  # the longer side spans the frame
    left, right = int(cols.min()), 27 - int(cols.max())
    assert abs(left - right) <= 1 and left > 0  # the shorter side is centred
    assert x.mean() > 0.25


def test_steps_are_named_and_sized():
    pre = preprocess(garment(size=(3000, 2000), ink=40, paper=250))
    names = [s.name for s in pre.steps]
    assert names == ["original", "reduced", "composited", "greyscale", "inverted", "levels",
                     "cropped", "square", "28x28", "input"]  # fmt: skip
    assert pre.steps[0].size == (3000, 2000) and max(pre.steps[1].size) == WORK_SIDE
    sq = pre.steps[7].size
    assert sq[0] == sq[1] == max(pre.steps[6].size)
    assert pre.steps[-1].size == pre.steps[-2].size == (28, 28)
    np.testing.assert_allclose(
        np.asarray(pre.steps[-1].image) / 255.0, pre.tensor[0].numpy(), atol=1 / 255
    )
    assert all(isinstance(s.note, str) and s.note for s in pre.steps)


def test_fashion_mnist_items_pass_nearly_unchanged(real_data):
    """A Fashion-MNIST image is already in the model's form: preprocessing barely moves it,
    and the shipped model says the same thing about it."""
    from tinyvgg.model import load_shipped

    _, test = real_data
    raw = test.images[:300].float().unsqueeze(1) / 255.0
    pre = torch.stack([preprocess(Image.fromarray(im.numpy())).tensor for im in test.images[:300]])
    assert (pre - raw).abs().mean() < 0.08
    model, _ = load_shipped()
    with torch.no_grad():
        agree = (model(pre).argmax(1) == model(raw).argmax(1)).float().mean()
    assert agree >= 0.93


def _erased_dot(size: int = 320) -> np.ndarray:
    """A canvas's RGBA after a black dot (brush 22) was painted over with the white eraser:
    only the anti-aliased rims of the two strokes are left where they did not quite match."""
    rgba = np.zeros((size, size, 4), np.uint8)  # the canvas: transparent where nothing is
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - 160.3, xx - 140.7)
    rim = (r > 10.4) & (r < 11.6)  # the last pixel ring the eraser's edge did not cover
    rgba[rim] = (0, 0, 0, 70)  # faint black
    inside = r <= 10.4
    rgba[inside] = (255, 255, 255, 255)  # the eraser: paper-white ink
    return rgba


def test_a_nearly_empty_drawing_is_nothing_drawn_not_a_garment():
    with pytest.raises(NearlyEmpty) as e:
        preprocess(_erased_dot(), background=(255, 255, 255))
    assert one_sentence(e).startswith("There is almost nothing on this image")
    assert isinstance(e.value, PreprocessError)  # still one sentence, no model
    speck = Image.new("L", (1000, 1000), 255)
    ImageDraw.Draw(speck).point([(500, 500), (501, 500)], fill=0)
    with pytest.raises(NearlyEmpty):
        preprocess(encode(speck))


def test_a_small_drawing_is_still_a_drawing():
    dot = np.zeros((320, 320, 4), np.uint8)
    yy, xx = np.mgrid[:320, :320]
    dot[np.hypot(yy - 160, xx - 160) < 11] = (0, 0, 0, 255)  # one dab of a 22 px brush
    assert preprocess(dot, background=(255, 255, 255)).tensor.shape == (1, 28, 28)
    small = garment(size=(1000, 1000), ink=220, paper=0, box=(480, 480, 530, 530))  # 50 px
    assert preprocess(encode(small)).tensor.shape == (1, 28, 28)


def _outline(size: int = 600, width: int = 4, gap: bool = False) -> Image.Image:
    """A light T-shirt outline `width` pixels wide on black; with `gap`, left open at the hem."""
    im = Image.new("L", (size, size), 0)
    pts = [(x * size, y * size) for x, y in TSHIRT]
    d = ImageDraw.Draw(im)
    if gap:  # everything but the hem (the edge from (0.75, 0.9) to (0.25, 0.9))
        d.line(pts[9:] + pts[:9], fill=255, width=width)
    else:
        d.line(pts + pts[:1], fill=255, width=width, joint="curve")
    return im


def test_stroke_width_of_strokes_and_of_filled_shapes():
    lines = np.zeros((200, 200), np.uint8)
    lines[20:180, 50:54] = 255  # a stroke 4 wide
    lines[20:180, 120:124] = 255
    assert stroke_width(lines) == pytest.approx(4, rel=0.1)
    assert stroke_width(np.asarray(garment(size=(200, 200)))) > 30  # filled: far wider
    one = np.zeros((28, 28), np.uint8)
    one[4:24, 10] = 255
    assert stroke_width(one) == pytest.approx(2.0)  # 1 reads as 2: a 28x28 picture stays


def test_thicken_grows_light_strokes_by_the_radius():
    im = Image.new("L", (9, 9), 0)
    im.putpixel((4, 4), 200)
    out = np.asarray(thicken(im, 2))
    assert (out[2:7, 2:7] == 200).all() and out.sum() == 25 * 200  # a 5x5 square


def test_fill_closed_fills_inside_outlines_only():
    filled, did = fill_closed(_outline(120, 3))
    a = np.asarray(filled)
    assert did and a[60, 60] == 255  # the body's middle, inside the outline
    assert a[5, 5] == 0 and a[110, 110] == 0  # outside stays background
    _, did = fill_closed(_outline(120, 3, gap=True))
    assert not did  # an open outline has no inside


def test_thin_strokes_are_thickened_as_a_step_and_filled_shapes_are_not():
    pre = preprocess(encode(_outline(600, 4)))
    step = next(s for s in pre.steps if s.name == "thickened")
    square = next(s for s in pre.steps if s.name == "square")
    assert "thickened to 2" in step.note and step.size == square.size
    thin = preprocess(encode(_outline(600, 4)), thicken_strokes=False)
    assert pre.tensor.sum() > 1.5 * thin.tensor.sum()  # more ink at 28x28
    assert all(s.name != "thickened" for s in preprocess(encode(garment())).steps)
    names = [s.name for s in preprocess(encode(_outline(600, 4)), fill_outlines=True).steps]
    assert names[names.index("square") + 1 : names.index("square") + 3] == ["filled", "28x28"]


def test_fashion_mnist_items_are_never_thickened(real_data):
    for img in real_data[1].images[:200]:
        pre = preprocess(encode(Image.fromarray(img.numpy())))
        assert all(s.name != "thickened" for s in pre.steps)
