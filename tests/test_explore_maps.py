"""The explorer's maps for a layer (ui/explore/view.py: input_map, output_map, channel_map):
pure functions of the trace, holding that layer's own values."""

from __future__ import annotations

import numpy as np
import pytest

from tinyvgg.activations import by_name, layer_input
from tinyvgg.explain import flatten_index, source_cells
from ui.explore.state import Trace
from ui.explore.view import channel_map, input_map, output_map


@pytest.fixture(scope="module")
def tr(traced):
    model, _, records = traced
    return Trace(("random-weights", "randn"), records, model)


def tile(fig, channel: int) -> np.ndarray:
    """Channel `channel`'s tile of a channel grid's mosaic."""
    z = np.asarray(fig.data[0].z, dtype=np.float32)
    (h, w), (r0, c0) = fig.layout.meta["tile"], fig.layout.meta["origins"][channel]
    return z[r0 : r0 + h, c0 : c0 + w]


@pytest.mark.parametrize("layer", ["conv_1_1", "relu_1_2", "max_pool_1", "conv_2_2"])
def test_a_layer_s_maps_hold_its_own_values(tr, layer):
    out, before = by_name(tr.records)[layer].output[0], layer_input(tr.records, layer).output[0]
    cell = (2, 3, 4)
    grid = output_map(tr, layer, cell)
    for c in range(out.shape[0]):
        np.testing.assert_array_equal(tile(grid, c), out[c].numpy())
    np.testing.assert_array_equal(np.asarray(channel_map(tr, layer, cell).data[0].z,
                                             dtype=np.float32), out[2].numpy())  # fmt: skip
    inp = input_map(tr, layer, cell)
    if before.shape[0] > 1:
        for c in range(before.shape[0]):
            np.testing.assert_array_equal(tile(inp, c), before[c].numpy())
    spans = source_cells(tr.model.layer(layer), tuple(before.shape), *cell)
    assert len(inp.layout.shapes) == len(spans)  # the cells the picked one comes from
    assert grid.layout.shapes[0].line.width == 4  # the picked channel


def test_flatten_marks_the_picked_cell_and_its_index(tr):
    src = by_name(tr.records)["max_pool_2"].output
    cell = (4, 5, 6)
    inp, vec = input_map(tr, "flatten", cell), output_map(tr, "flatten", cell)
    (shape,) = inp.layout.shapes
    assert tile(inp, 4)[5, 6] == src[0, 4, 5, 6]
    assert (shape.x0, shape.y0) == (inp.layout.meta["origins"][4][1] + 6 - 0.5,
                                    inp.layout.meta["origins"][4][0] + 5 - 0.5)  # fmt: skip
    k = flatten_index(tuple(src.shape[1:]), *cell)
    row, col = divmod(k, 49)  # a row of the vector per channel of max_pool_2's 7×7 maps
    (mark,) = vec.layout.shapes
    assert (mark.x0 + 0.5, mark.y0 + 0.5) == (col, row)
    assert np.asarray(vec.data[0].z, dtype=np.float32)[row, col] == src[0, 4, 5, 6]


def test_the_last_layers_are_bars_of_their_own_values(tr):
    for layer in ("linear", "softmax"):
        fig = output_map(tr, layer, (0, 0, 0))
        values = [v for t in fig.data for v in (t.x if t.orientation == "h" else t.y)]
        np.testing.assert_allclose(sorted(values), sorted(by_name(tr.records)[layer]
                                   .output[0].tolist()), rtol=1e-6)  # fmt: skip
