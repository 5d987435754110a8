"""The replay's figures against the tensors they are drawn from."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import torch

from ui.figures import replay as figs

from .conftest import ROOT


def test_kernels_are_conv_1_1s_weights_on_the_runs_scale():
    w = torch.randn(10, 1, 3, 3)
    fig = figs.kernels(w, "step 5 · epoch 1", scale=4.0)
    heat = fig.data[0]
    assert fig.layout.title.text == "conv_1_1's kernels at step 5 · epoch 1"
    assert (heat.zmin, heat.zmax, heat.zmid) == (-4.0, 4.0, 0.0)
    z, (h, w_) = np.asarray(heat.z), fig.layout.meta["tile"]
    for c, (r0, c0) in enumerate(fig.layout.meta["origins"]):
        assert np.array_equal(z[r0 : r0 + h, c0 : c0 + w_], w[c, 0].numpy())
    # without a scale: this snapshot's own, symmetric
    own = figs.kernels(w, "x").data[0]
    assert own.zmax == -own.zmin == float(w.abs().max())


def test_the_runs_scale_is_its_largest_weight():
    ws = [torch.full((2, 1, 3, 3), 0.5), torch.tensor([[[[-2.0]]]]), torch.zeros(3, 1, 3, 3)]
    assert figs.kernel_scale(ws) == 2.0 and figs.kernel_scale([]) == 0.0


def test_many_channels_wrap_into_wider_rows():
    fig = figs.maps(torch.rand(128, 7, 7), "max_pool_2", "step 1 · epoch 1")
    assert fig.layout.meta["channels"] == 128
    origins = fig.layout.meta["origins"]
    cols = len({c for _, c in origins})
    assert cols >= 8 and fig.layout.height < 900  # not 26 rows of five


def test_the_curves_mark_the_snapshots_step():
    steps = [{"global_step": s, "loss": 2.3 - s / 100, "acc": s / 2} for s in (10, 20, 30, 40)]
    epochs = [{"epoch": 0, "test_loss": 1.0, "test_acc": 60.0}]
    fig = figs.curves_at(steps, epochs, 40, step=30, loss=2.0, acc=15.0)
    assert [s.x0 for s in fig.layout.shapes] == [0.75, 0.75]
    assert [s.xref for s in fig.layout.shapes] == ["x", "x2"]
    marks = [t for t in fig.data if t.name == "this snapshot"]
    assert [(t.x[0], t.y[0], t.yaxis) for t in marks] == [(0.75, 2.0, "y"), (0.75, 15.0, "y2")]
    assert list(fig.data[0].y) == [s["loss"] for s in steps]  # the run's own curve
    # the initial weights: no running numbers, only the line
    assert len(figs.curves_at(steps, epochs, 40, 0, None, None).data) == 4


def test_top3_is_the_draw_pages_bars():
    fig = figs.top3([("Coat", 0.5), ("Shirt", 0.3), ("Pullover", 0.1)], "step 0 · epoch 1")
    assert fig.layout.title.text == "Top 3 at step 0 · epoch 1"
    assert list(fig.data[0].y) == ["Pullover", "Shirt", "Coat"]


def test_the_figure_module_imports_no_streamlit():
    code = "import sys, ui.figures.replay; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
