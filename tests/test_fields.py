"""Receptive fields, with PyTorch as the oracle: a cell moves only when a pixel inside its
field changes, and some pixel inside it moves it."""

import pytest
import torch

from tinyvgg.fields import receptive_field
from tinyvgg.model import LAYER_NAMES, build_model

FIELD_LAYERS = LAYER_NAMES[: LAYER_NAMES.index("max_pool_2") + 1]


@pytest.fixture(scope="module")
def pokes():
    """The untrained model, and each layer's output for an input with each pixel in turn
    raised (rows 0-783) and for the input itself (row 784): the same batch, the same sums."""
    model = build_model(seed=3).eval()
    x = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(1)) + 0.5
    batch = x.repeat(785, 1, 1, 1)
    batch[:784].view(784, 784)[torch.arange(784), torch.arange(784)] += 3.0
    outs = {}
    with torch.no_grad():
        for name, layer in model.named_layers():
            batch = layer(batch)
            outs[name] = batch
            if name == "max_pool_2":
                break
    return model, outs


@pytest.mark.parametrize("layer", FIELD_LAYERS)
def test_receptive_field_is_what_changes_the_cell(pokes, layer):
    model, outs = pokes
    out, base = outs[layer][:784], outs[layer][784]
    h = base.shape[-1]
    for i, j in ((0, 0), (0, h - 1), (h - 1, 0), (h - 1, h - 1), (h // 2, h // 2), (h // 2, 1)):
        (r0, r1), (c0, c1) = receptive_field(model, layer, i, j)
        moved = (out[:, :, i, j] != base[:, i, j]).any(dim=1).reshape(28, 28)
        inside = torch.zeros(28, 28, dtype=torch.bool)
        inside[r0 : r1 + 1, c0 : c1 + 1] = True
        assert not (moved & ~inside).any(), (layer, i, j)
        assert moved.any(), (layer, i, j)


def test_receptive_field_sizes():
    model = build_model(seed=3)
    assert receptive_field(model, "conv_1_1", 5, 5) == ((4, 6), (4, 6))
    assert receptive_field(model, "relu_1_2", 5, 5) == ((3, 7), (3, 7))
    assert receptive_field(model, "max_pool_1", 5, 5) == ((8, 13), (8, 13))
    assert receptive_field(model, "max_pool_2", 3, 3) == ((6, 21), (6, 21))  # 16×16
    assert receptive_field(model, "max_pool_2", 0, 6) == ((0, 9), (18, 27))  # clipped
    with pytest.raises(ValueError, match="linear has no receptive field"):
        receptive_field(model, "linear", 0, 0)
