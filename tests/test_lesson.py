"""The guided lesson's notes: every number in them against PyTorch computing it directly."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F

from tinyvgg.activations import trace
from tinyvgg.data import CLASS_NAMES, to_float
from tinyvgg.model import build_model, load_shipped
from ui.explore.guide import note
from ui.explore.state import LAYERS


def _inputs(real_data):
    test = real_data[1]
    yield to_float(test.images[3:4])[0], int(test.labels[3])
    yield torch.randn(1, 28, 28, generator=torch.Generator().manual_seed(42)), None


@pytest.mark.parametrize("untrained", [False, True])
def test_every_note_s_numbers_are_pytorch_s(real_data, untrained):
    model = build_model(seed=42).eval() if untrained else load_shipped()[0]
    for x, truth in _inputs(real_data):
        records = trace(model, x)
        notes = {layer: note(records, layer, truth) for layer in LAYERS}
        assert all(n.endswith((".", ")")) and "\n" not in n for n in notes.values())
        with torch.no_grad():
            b = x.unsqueeze(0)
            c11 = model.layer("conv_1_1")(b)
            r11 = F.relu(c11)
            r12 = F.relu(model.layer("conv_1_2")(r11))
            p1 = F.max_pool2d(r12, 2)
            logits = model(b)
        assert f"{int((b == 0).sum()):,} of them are exactly 0" in notes["input"]
        c, rest = divmod(int(c11[0].argmax()), 784)
        i, j = divmod(rest, 28)
        assert (
            f"channel {c} at row {i}, column {j} ({float(c11[0, c, i, j]):.2f})"
            in notes["conv_1_1"]
        )
        zeroed = int((c11 < 0).sum())
        assert f"here {zeroed:,} of 7,840 cells ({zeroed / 7840:.0%}) became 0" in notes["relu_1_1"]
        assert f"({int((p1 > 0).sum()):,} of 1,960 cells are above 0)" in notes["max_pool_1"]
        top = logits[0].argsort(descending=True)[:2].tolist()
        assert (
            f"The highest score is {CLASS_NAMES[top[0]]} ({float(logits[0, top[0]]):.2f})"
            in (notes["linear"])
        )
        p = torch.softmax(logits, 1)[0]
        k = int(p.argmax())
        assert f"{CLASS_NAMES[k]} gets {float(p[k]):.1%}" in notes["softmax"]
        if truth is not None:
            assert re.search(r": (right|wrong, it is [A-Za-z /-]+)\.$", notes["softmax"])
