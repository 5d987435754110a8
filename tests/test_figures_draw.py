"""The draw page's figures show the tensor's own numbers."""

import numpy as np
import torch
from PIL import Image

from ui.figures.draw import input_preview, thumbnail, top_k_bars


def test_input_preview_is_the_tensor_on_a_fixed_scale():
    x = torch.rand(1, 28, 28)
    trace = input_preview(x).data[0]
    np.testing.assert_array_equal(np.asarray(trace.z), x[0].numpy())
    assert (trace.zmin, trace.zmax) == (0.0, 1.0)  # 0 is black, 1 is white, as the model sees


def test_top_k_bars_carry_the_probabilities_most_likely_on_top():
    top = [("Sneaker", 0.7), ("Sandal", 0.2), ("Ankle boot", 0.05)]
    bar = top_k_bars(top).data[0]
    assert list(bar.y) == ["Ankle boot", "Sandal", "Sneaker"]  # plotly draws bottom up
    np.testing.assert_allclose(bar.x, [5.0, 20.0, 70.0])
    assert list(bar.text) == ["5.0%", "20.0%", "70.0%"]


def test_thumbnail_enlarges_small_images_by_whole_pixels():
    im = Image.fromarray(np.arange(28 * 28, dtype=np.uint8).reshape(28, 28))
    big = thumbnail(im, box=160)
    assert big.size == (140, 140)  # 5x: every pixel a 5x5 square
    a = np.asarray(big.convert("L"))
    assert (a[:5, :5] == 0).all() and a[5, 5] == 29
    assert max(thumbnail(Image.new("RGB", (1000, 500)), box=160).size) == 160


def test_thumbnail_shows_transparency_on_a_checkerboard():
    rgba = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    out = np.asarray(thumbnail(rgba, box=64))
    assert len({tuple(p) for p in out.reshape(-1, 3)}) == 2  # two greys, not black


def test_every_step_is_a_tile_of_one_size():
    """A wide cropped garment, a tall one and the 28x28 input all make box x box tiles, the
    picture centred on the mat, its pixels whole."""
    from ui.figures.draw import MAT, step_tile

    for im in (Image.new("L", (361, 241), 255), Image.new("RGB", (80, 300)),
               Image.fromarray(np.full((28, 28), 200, np.uint8))):  # fmt: skip
        tile = step_tile(im, box=150)
        assert tile.size == (150, 150)
    a = np.asarray(tile)  # the 28x28 one: 5x, so 140x140 in the middle, a 5 px mat around
    assert tuple(a[0, 0]) == MAT and tuple(a[75, 75]) == (200, 200, 200)
    assert (a[5:145, 5:145] == 200).all()


def test_top_k_labels_never_turn_on_their_side():
    bar = top_k_bars([("Coat", 0.86), ("Pullover", 0.13), ("Shirt", 0.01)]).data[0]
    assert bar.textangle == 0
    assert list(bar.textposition) == ["outside", "outside", "inside"]  # bottom up
