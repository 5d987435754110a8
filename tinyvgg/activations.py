"""Trace an input through TinyVGG layer by layer, keeping every output.

The trace is an explicit loop over the named layers: no forward hooks, so a model shared by
every session of the app is never modified. The result is plain data (as CNN Explainer does):
views only read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tinyvgg.device import exact_fp32
from tinyvgg.model import TinyVGG, count_params


@dataclass(frozen=True)
class LayerRecord:
    """One layer of a trace: its name, kind, output and parameter count."""

    name: str  # "input", "conv_1_1", ..., "linear", "softmax"
    kind: str  # "Input", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "Softmax"
    output: torch.Tensor  # (1, C, H, W) or (1, F), detached, on the CPU
    params: int  # learnable parameters of the layer

    @property
    def shape(self) -> list[int]:
        """The output's shape, e.g. [1, 10, 28, 28]."""
        return list(self.output.shape)

    @property
    def shape_text(self) -> str:
        """The shape as the notebook prints it: `[1, 10, 28, 28]`."""
        return "[" + ", ".join(str(n) for n in self.output.shape) + "]"


def as_batch(x: torch.Tensor) -> torch.Tensor:
    """(28, 28), (1, 28, 28) or (1, 1, 28, 28) -> (1, 1, 28, 28) float."""
    x = x.float()
    while x.dim() < 4:
        x = x.unsqueeze(0)
    if x.shape[0] != 1:
        raise ValueError(f"trace takes one image, not a batch of {x.shape[0]}")
    return x


@torch.inference_mode()
def trace(model: TinyVGG, x: torch.Tensor) -> list[LayerRecord]:
    """Input, the twelve named layers, then softmax: each output as a CPU tensor."""
    device = next(model.parameters()).device
    exact_fp32(device)  # the explained cells are checked against these outputs
    x = as_batch(x).to(device)
    records = [LayerRecord("input", "Input", x.detach().cpu(), 0)]
    for name, layer in model.named_layers():
        x = layer(x)
        records.append(
            LayerRecord(name, type(layer).__name__, x.detach().cpu(), count_params(layer))
        )
    probs = torch.softmax(x, dim=1)
    records.append(LayerRecord("softmax", "Softmax", probs.detach().cpu(), 0))
    return records


def by_name(records: list[LayerRecord]) -> dict[str, LayerRecord]:
    """The records keyed by layer name."""
    return {r.name: r for r in records}


def layer_input(records: list[LayerRecord], name: str) -> LayerRecord:
    """The record feeding the layer `name` (the one before it in the trace)."""
    names = [r.name for r in records]
    i = names.index(name)
    if i == 0:
        raise ValueError("the input has no input")
    return records[i - 1]
