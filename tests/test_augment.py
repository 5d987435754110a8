"""Sketch augmentation: each transform on tiny hand-made images, then the whole, seeded."""

import pytest
import torch

from tinyvgg.augment import (
    Augmenter,
    affine,
    dilate,
    edges,
    erode,
    hflip,
    ink,
    outline,
    silhouette,
)


def _square(n: int = 9, lo: int = 2, hi: int = 6, value: float = 0.5) -> torch.Tensor:
    """A (1, 1, n, n) black image with a grey square on rows and columns lo..hi."""
    x = torch.zeros(1, 1, n, n)
    x[..., lo : hi + 1, lo : hi + 1] = value
    return x


def test_hflip_mirrors_only_the_chosen_images():
    x = torch.arange(2 * 3 * 3, dtype=torch.float32).reshape(2, 1, 3, 3)
    out = hflip(x, torch.tensor([True, False]))
    assert torch.equal(out[0, 0], x[0, 0].flip(-1)) and torch.equal(out[1], x[1])


def test_silhouette_fills_the_garment_flat():
    x = _square(value=0.3)
    x[..., 4, 4] = 0.05  # faint: not ink
    out = silhouette(x, torch.tensor([0.8]))
    want = _square(value=1.0) * 0.8
    want[..., 4, 4] = 0.0
    assert torch.equal(out, want)


def test_a_cut_above_a_dark_seam_keeps_it_a_line():
    x = _square(value=0.8)
    x[..., 2:7, 4] = 0.3  # a darker seam down the middle, as a coat's opening
    flat = silhouette(x, torch.tensor([1.0]))  # cut at INK: the seam filled over
    assert torch.equal(flat, (_square() > 0).float())
    seam = silhouette(x, torch.tensor([1.0]), cut=torch.tensor([0.5]))
    assert seam[0, 0, 2:7, 4].sum() == 0 and seam[0, 0, 2:7, 3].sum() == 5  # kept a line
    ring = outline(x, torch.tensor([1]), torch.tensor([1.0]), cut=torch.tensor([0.5]))
    assert ring[0, 0, 4, 3] == 1 and ring[0, 0, 4, 5] == 1  # both sides of the seam drawn


def test_a_relative_cut_keeps_a_faint_seam_in_a_bright_garment():
    x = _square(value=0.9)
    x[..., 2:7, 4] = 0.6  # only a little darker: no single grey level cuts it from the rest
    lo = torch.tensor([1.0])
    assert torch.equal(silhouette(x, lo, cut=0.1), (_square() > 0).float())
    seam = silhouette(x, lo, cut=0.1, relative=torch.tensor([0.75]))[0, 0]
    want = (_square() > 0).float()[0, 0]
    want[2:7, 4] = 0  # 0.6 < 0.75 × 0.9, the brightest pixel beside it; nothing else is cut
    assert torch.equal(seam, want)
    assert torch.equal(silhouette(x, lo, cut=0.1, relative=0.6), (_square() > 0).float())
    ring = outline(x, torch.tensor([1]), lo, cut=0.1, relative=torch.tensor([0.75]))[0, 0]
    assert ring[4, 3] == 1 and ring[4, 5] == 1 and ring[4, 4] == 0  # the seam drawn as a line
    flat = silhouette(_square(value=0.3), lo, relative=torch.tensor([0.85]))
    assert torch.equal(flat, (_square() > 0).float())  # a flat garment loses nothing


def test_edges_draw_where_the_grey_changes():
    x = _square(value=0.8)
    x[..., 2:7, 4] = 0.3
    out = edges(x, torch.tensor([0.4]), torch.tensor([0.75]))[0, 0]
    assert set(out.unique().tolist()) == {0.0, 0.75}
    assert out[4, 0] == 0 and out[4, 1] == 0.75 and out[4, 2] == 0.75  # the square's border...
    assert out[4, 3] == 0.75 and out[4, 4] == 0.75  # ...and the seam: 0.8 next to 0.3
    inside = _square(n=15, lo=2, hi=12, value=0.8)
    assert edges(inside, torch.tensor([0.4]), torch.tensor([1.0]))[0, 0, 7, 7] == 0  # flat
    assert edges(x, torch.tensor([0.6]), torch.tensor([1.0]))[0, 0, 4, 4] == 0  # 0.5 < 0.6


def test_dilate_and_erode_by_hand():
    m = (_square() > 0).float()
    assert torch.equal(dilate(m, 1), (_square(lo=1, hi=7) > 0).float())
    assert torch.equal(erode(m, 1), (_square(lo=3, hi=5) > 0).float())
    assert torch.equal(dilate(m, 0), m)


@pytest.mark.parametrize("w, lo, hi", [(1, 2, 6), (2, 1, 7), (3, 1, 7)])
def test_outline_is_a_ring_of_the_stroke_width(w, lo, hi):
    out = outline(_square(), torch.tensor([w]), torch.tensor([1.0]))[0, 0]
    outer = torch.zeros(9, 9)
    outer[lo : hi + 1, lo : hi + 1] = 1
    inner_lo, inner_hi = lo + w, hi - w
    inner = torch.zeros(9, 9)
    if inner_lo <= inner_hi:
        inner[inner_lo : inner_hi + 1, inner_lo : inner_hi + 1] = 1
    assert torch.equal(out, outer - inner)  # w pixels wide, straddling the square's edge


def test_affine_identity_rotation_and_shift():
    x = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    same = affine(x, torch.zeros(2), torch.ones(2), torch.zeros(2, 2))
    torch.testing.assert_close(same, x, atol=1e-6, rtol=0)
    dot = torch.zeros(1, 1, 8, 8)
    dot[..., 3, 2] = 1.0
    moved = affine(dot, torch.zeros(1), torch.ones(1), torch.tensor([[2.0, 1.0]]))
    assert moved[0, 0].argmax() == 4 * 8 + 4  # two right, one down
    turned = affine(dot, torch.tensor([90.0]), torch.ones(1), torch.zeros(1, 2))
    assert turned[0, 0].max() > 0.99  # a quarter turn moves a pixel onto a pixel


def test_ink_gain_and_gamma():
    x = torch.tensor([0.0, 0.25, 1.0]).reshape(1, 1, 1, 3)
    out = ink(x, torch.tensor([0.8]), torch.tensor([0.5]))
    torch.testing.assert_close(out.flatten(), torch.tensor([0.0, 0.4, 0.8]))


def test_the_augmenter_keeps_shape_and_range_and_repeats_under_its_seed(real_data):
    from tinyvgg.data import to_float

    x = to_float(real_data[0].images[:256])
    a = Augmenter("sketch", seed=5)(x)
    b = Augmenter("sketch", seed=5)(x)
    c = Augmenter("sketch", seed=6)(x)
    assert a.shape == x.shape and a.dtype == x.dtype
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert torch.equal(a, b) and not torch.equal(a, c)
    torch.testing.assert_close(x, to_float(real_data[0].images[:256]))  # x untouched
    flat = (a > 0.1).float().mean(dim=(1, 2, 3)) < (x > 0.1).float().mean(dim=(1, 2, 3)) * 0.7
    assert 0.05 < float(flat.float().mean()) < 0.5  # some became outlines, not most
    with pytest.raises(ValueError, match="Augmentation must be one of sketch"):
        Augmenter("mixup")


def test_fit_with_sketch_augmentation_learns_and_repeats(real_data):
    from tinyvgg.train import TrainConfig, fit

    cfg = TrainConfig(epochs=1, subset=2000, batch_size=16, clip_norm=2.0, augment="sketch",
                      snapshots=0, log_every=25)  # fmt: skip
    losses = []
    a = fit(cfg, on_event=lambda e: losses.append(e["loss"]) if e["kind"] == "step" else None,
            train=real_data[0], test=real_data[1])  # fmt: skip
    assert losses[-1] < losses[0]  # the running loss falls...
    assert a.results["model_acc"] > 30  # ...and it learns through the augmentation (chance: 10)
    b = fit(cfg, train=real_data[0], test=real_data[1])
    for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.equal(p, q)  # the same seed, the same augmented batches, the same weights
    plain = fit(TrainConfig(**{**cfg.__dict__, "augment": None}), train=real_data[0],
                test=real_data[1])  # fmt: skip
    assert not torch.equal(plain.model.layer("conv_1_1").weight, a.model.layer("conv_1_1").weight)
    with pytest.raises(ValueError, match="Augment must be one of sketch"):
        fit(TrainConfig(augment="mixup"))
