"""The channel atlas: for every channel of every Conv2d, ReLU and MaxPool2d layer, the images
of a dataset that excite it most (and, before a ReLU, least), where, and of which class.

    atlas = build_atlas(model, images, labels)       # the 10k test set: about a second
    atlas.top("conv_2_1", 3)                          # the 9 strongest: Example(image, value, ...)
    atlas.makeup("conv_2_1")                          # (C, classes) counts among the top 100

One batched pass with no gradients, layer by layer (no hooks): each channel's largest value
over its map, per image, and where it is, merged batch by batch into a running top 100.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from tinyvgg.fields import receptive_field
from tinyvgg.model import LAYER_NAMES, TinyVGG

LAYERS = LAYER_NAMES[: LAYER_NAMES.index("max_pool_2") + 1]  # the layers with channel maps
KEEP = 100  # images kept per channel and direction: the class make-up counts them
SHOWN = 9  # images shown per channel and direction
BATCH = 1000


@dataclass(frozen=True)
class Example:
    """One image's strongest (or weakest) cell for a channel, and the pixels behind it."""

    image: int  # index in the dataset the atlas was built from
    value: float  # the channel's activation there
    cell: tuple[int, int]  # (row, column) in the layer's map
    field: tuple[tuple[int, int], tuple[int, int]]  # its receptive field: (rows, columns)
    label: int  # the image's class


@dataclass(frozen=True)
class Ranked:
    """A layer's KEEP best images per channel, best first: values, image indices and the flat
    position of the extreme cell, each (KEEP, C)."""

    values: torch.Tensor
    images: torch.Tensor
    cells: torch.Tensor


@dataclass(frozen=True)
class Atlas:
    """What excites each channel of each layer, over one dataset."""

    highest: dict[str, Ranked]  # every layer in LAYERS
    lowest: dict[str, Ranked]  # the Conv2d layers: their most negative values
    labels: torch.Tensor  # (N,) the dataset's classes
    map_hw: dict[str, tuple[int, int]]  # each layer's map size
    model: TinyVGG  # for the receptive fields
    classes: int

    def top(self, layer: str, channel: int, n: int = SHOWN) -> list[Example]:
        """The n images whose largest value in this channel is the largest, largest first."""
        return self._examples(self.highest[layer], layer, channel, n)

    def bottom(self, layer: str, channel: int, n: int = SHOWN) -> list[Example]:
        """The n images whose smallest value in this channel is the most negative (conv
        layers only: after a ReLU nothing is below 0)."""
        if layer not in self.lowest:
            raise ValueError(f"{layer} has no negative values to rank; only Conv2d layers do.")
        return self._examples(self.lowest[layer], layer, channel, n)

    def makeup(self, layer: str, n: int = KEEP) -> torch.Tensor:
        """(C, classes): how the n strongest images of each channel split over the classes."""
        top = self.highest[layer].images[:n]  # (n, C)
        counts = torch.zeros(top.shape[1], self.classes, dtype=torch.int64)
        counts.scatter_add_(1, self.labels[top].T, torch.ones_like(top.T))
        return counts

    def _examples(self, ranked: Ranked, layer: str, channel: int, n: int) -> list[Example]:
        w = self.map_hw[layer][1]
        out = []
        for k in range(min(n, ranked.values.shape[0])):
            i, j = divmod(int(ranked.cells[k, channel]), w)
            image = int(ranked.images[k, channel])
            field = receptive_field(self.model, layer, i, j)
            value = float(ranked.values[k, channel])
            out.append(Example(image, value, (i, j), field, int(self.labels[image])))
        return out


def _merge(kept: Ranked | None, values: torch.Tensor, cells: torch.Tensor, first: int,
           keep: int, largest: bool = True) -> Ranked:  # fmt: skip
    """The best `keep` of what was kept and a new batch's (B, C) values: the largest first,
    or the smallest first when not `largest`."""
    images = torch.arange(first, first + values.shape[0]).unsqueeze(1).expand_as(values)
    if kept is not None:
        values = torch.cat([kept.values, values])
        images = torch.cat([kept.images, images])
        cells = torch.cat([kept.cells, cells])
    best = values.topk(min(keep, values.shape[0]), dim=0, largest=largest).indices  # (keep, C)
    return Ranked(values.gather(0, best), images.gather(0, best), cells.gather(0, best))


@torch.no_grad()
def build_atlas(
    model: TinyVGG,
    images: torch.Tensor,
    labels: torch.Tensor,
    keep: int = KEEP,
    batch: int = BATCH,
    progress: Callable[[float], None] | None = None,
) -> Atlas:
    """The atlas of `model` over `images` (N, C, 28, 28) float (or uint8, scaled as
    `ToTensor()`) with their `labels` (N,). `progress(fraction)` after each batch."""
    device = next(model.parameters()).device
    layers = [(name, m) for name, m in model.named_layers() if name in LAYERS]
    highest: dict[str, Ranked | None] = dict.fromkeys(LAYERS)
    lowest: dict[str, Ranked | None] = {n: None for n, m in layers if isinstance(m, nn.Conv2d)}
    map_hw: dict[str, tuple[int, int]] = {}
    n = images.shape[0]
    for first in range(0, n, batch):
        x = images[first : first + batch].to(device)
        x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
        for name, layer in layers:
            x = layer(x)
            map_hw[name] = tuple(x.shape[-2:])
            flat = x.flatten(2)  # (B, C, H*W)
            v, at = flat.max(dim=2)
            highest[name] = _merge(highest[name], v.cpu(), at.cpu(), first, keep)
            if name in lowest:
                v, at = flat.min(dim=2)
                lowest[name] = _merge(lowest[name], v.cpu(), at.cpu(), first, keep, False)
        if progress is not None:
            progress(min(first + batch, n) / n)
    labels = labels.cpu().long()  # the dataset's classes, whatever the model's outputs
    classes = max(model.config.output_shape, int(labels.max()) + 1 if len(labels) else 0)
    return Atlas(highest, lowest, labels, map_hw, model, classes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Dream:
    """Synthetic images, one per channel, that drive a layer's channels up: not dataset images.
    Gradient ascent from faint noise on each channel's mean activation, minus a total-variation
    penalty (smooth images), each step jittered by a random shift, pixels kept in [0, 1]."""

    images: torch.Tensor  # (C, 1, H, W) in [0, 1]
    start: torch.Tensor  # (C,) each channel's mean activation at the noise it started from
    end: torch.Tensor  # (C,) and at its image
    settings: dict


def _tv(x: torch.Tensor) -> torch.Tensor:
    """Total variation per image: mean absolute difference of neighbouring pixels."""
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean(dim=(1, 2, 3)) + (
        x[..., :, 1:] - x[..., :, :-1]
    ).abs().mean(dim=(1, 2, 3))


def dream(model: TinyVGG, layer: str, steps: int = 200, lr: float = 0.05, tv: float = 0.5,
          jitter: int = 1, seed: int = 0) -> Dream:  # fmt: skip
    """The activation-maximisation image of every channel of `layer`, in one batch (image c
    maximises channel c); autograd on the images only, no hooks, so a shared model is safe."""
    if layer not in LAYERS:
        raise ValueError(f"{layer} has no channel maps; the layers are {', '.join(LAYERS)}.")
    device = next(model.parameters()).device
    upto = [m for name, m in model.named_layers()[: LAYER_NAMES.index(layer) + 1]]
    channels = model.config.hidden_units
    g = torch.Generator().manual_seed(seed)
    c_in = model.config.input_shape
    with torch.inference_mode(False), torch.enable_grad():
        x = (0.5 + 0.02 * torch.randn(channels, c_in, 28, 28, generator=g)).to(device)
        x.requires_grad_()
        pick = torch.arange(channels, device=device)

        def objective(images: torch.Tensor) -> torch.Tensor:  # (C,) mean of channel c at image c
            a = images
            for m in upto:
                a = m(a)
            return a[pick, pick].mean(dim=(1, 2))

        with torch.no_grad():
            start = objective(x).cpu()
        opt = torch.optim.Adam([x], lr=lr)
        for _ in range(steps):
            dy, dx = (int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=g))
            shifted = torch.roll(x, (dy, dx), dims=(2, 3))
            loss = -(objective(shifted) - tv * _tv(shifted)).sum()
            (x.grad,) = torch.autograd.grad(loss, [x])  # the images' only: no weight's .grad
            opt.step()
            with torch.no_grad():
                x.clamp_(0.0, 1.0)
        with torch.no_grad():
            end = objective(x).cpu()
    settings = {"steps": steps, "lr": lr, "tv": tv, "jitter": jitter, "seed": seed,
                "start": "0.5 + 0.02 × noise", "optimizer": "Adam"}  # fmt: skip
    return Dream(x.detach().cpu(), start, end, settings)
