"""Atlas pictures: the crop is the field's pixels, the whole image outlines it; make-up bars."""

import io

import numpy as np
import torch
from PIL import Image

from tinyvgg.data import CLASS_NAMES
from ui.figures.atlas import GAP, example_png, makeup_bars


def _image() -> torch.Tensor:
    return torch.arange(28 * 28, dtype=torch.int64).reshape(28, 28).remainder(256).to(torch.uint8)


def test_example_shows_the_fields_pixels_and_outlines_them():
    image, field = _image(), ((4, 6), (10, 12))  # conv_1_1's 3×3 at (5, 11)
    tile = np.asarray(Image.open(io.BytesIO(example_png(image, field, box=84))).convert("RGB"))
    assert tile.shape == (84, 84 + GAP + 84, 3)
    crop = tile[:, :84, 0]  # 3×3 pixels at 28× each, grey
    want = image[4:7, 10:13].numpy().repeat(28, 0).repeat(28, 1)
    np.testing.assert_array_equal(crop, want)
    whole = tile[:, 84 + GAP :]  # 28×28 at 3× each
    assert tuple(whole[4 * 3, 11 * 3]) == (0xF5, 0xA6, 0x23)  # the outline, on the field's edge
    inside = whole[5 * 3 + 1, 11 * 3 + 1]
    assert tuple(inside) == (image[5, 11],) * 3  # inside: as it is
    outside = whole[20 * 3 + 1, 20 * 3 + 1]
    assert outside[0] == int(image[20, 20]) * 2 // 5  # outside: dimmed


def test_a_field_clipped_at_the_border_still_fits():
    tile = Image.open(io.BytesIO(example_png(_image(), ((0, 9), (18, 27)), box=84)))
    assert tile.size == (84 + GAP + 84, 84)


def test_makeup_bars_stack_each_channels_classes():
    counts = torch.tensor([[100] + [0] * 9, [10] * 10, [0] * 9 + [100]])
    fig = makeup_bars(counts, CLASS_NAMES, "make-up", channels=[0, 2])
    assert len(fig.data) == 10 and fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == list(CLASS_NAMES)
    assert list(fig.data[0].x) == [100, 0] and list(fig.data[9].x) == [0, 100]
    assert list(fig.data[0].y) == ["channel 0", "channel 2"]
    assert tuple(fig.layout.xaxis.range) == (0, 100)


def test_an_rgb_example_keeps_its_colours():
    image = torch.zeros(3, 28, 28, dtype=torch.uint8)
    image[0], image[2] = 200, 100  # purple
    tile = np.asarray(Image.open(io.BytesIO(example_png(image, ((4, 6), (10, 12)), box=84))))
    assert tuple(tile[42, 42]) == (200, 0, 100)  # the crop
    assert tuple(tile[5 * 3 + 1, 84 + GAP + 11 * 3 + 1]) == (200, 0, 100)  # inside the field
    assert tuple(tile[60, 84 + GAP + 60]) == (80, 0, 40)  # outside: dimmed


def test_a_synthetic_rgb_image_is_drawn_in_colour():
    from ui.figures.atlas import dream_png

    image = torch.zeros(3, 28, 28)
    image[1] = 1.0
    im = Image.open(io.BytesIO(dream_png(image, box=56)))
    assert im.mode == "RGB" and im.getpixel((10, 10)) == (0, 255, 0)
    grey = Image.open(io.BytesIO(dream_png(torch.full((1, 28, 28), 0.5), box=56)))
    assert grey.mode == "L" and grey.getpixel((10, 10)) == 128
