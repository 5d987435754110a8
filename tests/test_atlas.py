"""The channel atlas against a brute-force loop: the top images are really the arg-max ones."""

import pytest
import torch

from tinyvgg.activations import by_name, trace
from tinyvgg.atlas import LAYERS, build_atlas, dream
from tinyvgg.data import to_float
from tinyvgg.fields import receptive_field
from tinyvgg.model import load_shipped

N = 300


@pytest.fixture(scope="module")
def small(real_data):
    test = real_data[1]
    model = load_shipped()[0]
    images, labels = test.images[:N].unsqueeze(1), test.labels[:N]
    steps = []
    atlas = build_atlas(model, images, labels, batch=64, progress=steps.append)
    # brute force: every image alone through the traced layers, every channel's max and min
    maps = {name: [] for name in LAYERS}
    for k in range(N):
        records = by_name(trace(model, to_float(images[k : k + 1])[0]))
        for name in LAYERS:
            maps[name].append(records[name].output[0])
    return model, atlas, {n: torch.stack(v) for n, v in maps.items()}, labels, steps


@pytest.mark.parametrize("layer", LAYERS)
def test_top_images_are_the_arg_max_images(small, layer):
    model, atlas, maps, labels, _ = small
    m = maps[layer]  # (N, C, H, W)
    best = m.flatten(2).max(dim=2).values  # (N, C)
    for c in range(m.shape[1]):
        want = best[:, c].sort(descending=True).values[:9]
        got = atlas.top(layer, c)
        torch.testing.assert_close(torch.tensor([e.value for e in got]), want)
        for e in got:
            i, j = e.cell
            assert m[e.image, c, i, j] == pytest.approx(e.value, abs=1e-5)  # that cell
            assert best[e.image, c] == pytest.approx(e.value, abs=1e-5)  # that image's max
            assert e.field == receptive_field(model, layer, i, j)
            assert e.label == int(labels[e.image])


@pytest.mark.parametrize("layer", [n for n in LAYERS if n.startswith("conv")])
def test_bottom_images_are_the_arg_min_images(small, layer):
    _, atlas, maps, _, _ = small
    m = maps[layer]
    worst = m.flatten(2).min(dim=2).values
    for c in range(m.shape[1]):
        want = worst[:, c].sort().values[:9]
        got = atlas.bottom(layer, c)
        torch.testing.assert_close(torch.tensor([e.value for e in got]), want)
        for e in got:
            assert m[e.image, c, e.cell[0], e.cell[1]] == pytest.approx(e.value, abs=1e-5)


def test_class_makeup_counts_the_top_images_classes(small):
    _, atlas, maps, labels, _ = small
    best = maps["max_pool_2"].flatten(2).max(dim=2).values
    counts = atlas.makeup("max_pool_2")
    assert counts.shape == (10, 10)
    for c in range(10):
        top = atlas.highest["max_pool_2"].images[:, c]
        assert torch.equal(counts[c], torch.bincount(labels[top], minlength=10))
        assert int(counts[c].sum()) == 100
        # the 100 kept are the 100 largest values (ties aside)
        assert float(atlas.highest["max_pool_2"].values[-1, c]) == pytest.approx(
            float(best[:, c].sort(descending=True).values[99]), abs=1e-5
        )


def test_relu_has_no_bottom_and_progress_reaches_the_end(small):
    _, atlas, _, _, steps = small
    with pytest.raises(ValueError, match="only Conv2d layers"):
        atlas.bottom("relu_1_1", 0)
    assert steps == sorted(steps) and steps[-1] == 1.0 and len(steps) == -(-N // 64)


def test_the_same_atlas_whatever_the_batch_and_the_dtype(small, real_data):
    model, atlas, _, labels, _ = small
    other = build_atlas(model, to_float(real_data[1].images[:N]), labels, batch=N)
    for layer in LAYERS:
        torch.testing.assert_close(other.highest[layer].values, atlas.highest[layer].values)
        # (the images may differ among ties: a white patch saturates many images alike)


def test_synthetic_images_drive_their_channels_up_repeatably():
    model = load_shipped()[0]
    for p in model.parameters():
        p.requires_grad_(False)  # as the app shares it
    d = dream(model, "max_pool_2", steps=30)
    assert d.images.shape == (10, 1, 28, 28)
    assert 0.0 <= float(d.images.min()) and float(d.images.max()) <= 1.0
    assert (d.end > d.start).all()
    # `end` is each channel's mean at its own image, by the model itself
    with torch.no_grad():
        out = d.images
        for name, layer in model.named_layers():
            out = layer(out)
            if name == "max_pool_2":
                break
    torch.testing.assert_close(out[torch.arange(10), torch.arange(10)].mean(dim=(1, 2)), d.end)
    again = dream(model, "max_pool_2", steps=30)
    assert torch.equal(again.images, d.images)  # the same seed, the same images
    assert d.settings["steps"] == 30 and d.settings["tv"] == 0.5
    with pytest.raises(ValueError, match="flatten has no channel maps"):
        dream(model, "flatten")
    trainable = load_shipped()[0]  # as a session's own runs are: weights that want gradients
    dream(trainable, "conv_1_1", steps=3)
    assert all(p.grad is None for p in trainable.parameters())  # the images' gradients only


def test_a_model_with_fewer_outputs_than_the_datasets_classes(real_data):
    from tinyvgg.model import TinyVGGConfig, build_model

    model = build_model(TinyVGGConfig(output_shape=3), seed=1).eval()
    test = real_data[1]
    atlas = build_atlas(model, test.images[:200].unsqueeze(1), test.labels[:200])
    counts = atlas.makeup("conv_1_1")
    assert counts.shape == (10, 10) and int(counts[0].sum()) == 100
