"""The layer playground: the notebook's nn.Conv2d -> (ReLU) -> nn.MaxPool2d, built and run live.

Settings arrive as plain values (the page's text already parsed by `parse_size` and
`parse_padding`); `check` turns every impossible combination into one sentence before anything
is allocated; `build_conv`, `build_pool` and `run` make and apply the real layers.
Shapes: x is (B, C, H, W).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from tinyvgg.explain import conv_pads, output_size, pair

MAX_VALUES = 2**24  # values per tensor: 64 MiB of float32, on a server a whole class shares
MAX_MACS = 2 * 10**9  # multiply-adds per conv run: about a second on two CPU cores

Size = int | tuple[int, int]
# The output size per axis as the page states it, from PyTorch's Conv2d and MaxPool2d docs.
OUTPUT_SIZE_RULE = "⌊(size + 2 × padding − dilation × (kernel − 1) − 1) / stride⌋ + 1"
Padding = int | tuple[int, int] | str  # or "same" / "valid"


class SettingsError(ValueError):
    """Settings that PyTorch (or the playground's cap) would reject; the message is one sentence."""


@dataclass(frozen=True)
class RandomInput:
    """The playground's random batch: its shape and seed."""

    batch: int = 32  # the notebook: torch.randn(size=(32, 3, 64, 64))
    channels: int = 3
    height: int = 64
    width: int = 64
    seed: int = 42
    whole_batch: bool = False  # feed all B images, not images[0].unsqueeze(dim=0)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """The shape fed to the conv layer."""
        return (self.batch if self.whole_batch else 1, self.channels, self.height, self.width)


@dataclass(frozen=True)
class ConvSettings:
    """An nn.Conv2d's settings, as a user types them."""

    in_channels: int = 3  # the notebook's conv_layer = nn.Conv2d(3, 10, 3, 1, 0)
    out_channels: int = 10
    kernel_size: Size = 3
    stride: Size = 1
    padding: Padding = 0
    dilation: Size = 1
    bias: bool = True
    seed: int = 42  # torch.manual_seed(seed) right before the constructor


@dataclass(frozen=True)
class PoolSettings:
    """An nn.MaxPool2d's settings, as a user types them."""

    kernel_size: Size = 2  # the notebook's nn.MaxPool2d(kernel_size=2)
    stride: Size | None = None  # None: the kernel size, PyTorch's default
    padding: Size = 0


def show(v: Size | str | None) -> str:
    """A setting as it is written in PyTorch: 3, (3, 5), 'same'."""
    return repr(v) if isinstance(v, str) else str(v)


# ------------------------------------------------------------------------- one axis, checks


@dataclass(frozen=True)
class Axis:
    """One spatial axis of a conv or pool: what the output-size formula is made of."""

    name: str  # "H" or "W"
    size: int
    kernel: int
    stride: int
    before: int  # padding at the top / left
    after: int  # padding at the bottom / right (differs only for an even "same" kernel)
    dilation: int = 1

    @property
    def span(self) -> int:
        """Input cells the (dilated) kernel covers: d(k - 1) + 1."""
        return self.dilation * (self.kernel - 1) + 1

    @property
    def padded(self) -> int:
        """The input's size along this axis with its padding."""
        return self.size + self.before + self.after

    @property
    def out(self) -> int:
        """The output's size along this axis, as PyTorch computes it."""
        return output_size(
            self.size + self.after - self.before,
            self.kernel,
            self.stride,
            self.before,
            self.dilation,
        )

    def formula(self) -> str:
        """The formula with this axis's numbers, e.g. H_out = ⌊(64 + 2×0 − 1×(3 − 1) − 1) / 1⌋ + 1 = 62."""  # noqa: E501
        pad = f"2×{self.before}" if self.before == self.after else f"{self.before} + {self.after}"
        return (
            f"{self.name}_out = ⌊({self.size} + {pad} − {self.dilation}×({self.kernel} − 1)"
            f" − 1) / {self.stride}⌋ + 1 = {self.out}"
        )

    def latex(self) -> str:
        """The output-size formula with this axis's numbers filled in, as LaTeX."""
        pad = (
            rf"2 \times {self.before}"
            if self.before == self.after
            else f"{self.before} + {self.after}"
        )
        return (
            rf"{self.name}_{{out}} = \left\lfloor \frac{{{self.size} + {pad} - "
            rf"{self.dilation} \times ({self.kernel} - 1) - 1}}{{{self.stride}}} "
            rf"\right\rfloor + 1 = {self.out}"
        )


def conv_axes(conv: ConvSettings, hw: tuple[int, int]) -> tuple[Axis, Axis]:
    """The conv's two axes; padding "same" pads d(k - 1) in all, the odd one bottom/right."""
    k, s, d = pair(conv.kernel_size), pair(conv.stride), pair(conv.dilation)
    pads = conv_pads(conv.padding, conv.kernel_size, conv.dilation)
    return tuple(Axis("HW"[a], hw[a], k[a], s[a], *pads[a], d[a]) for a in (0, 1))  # type: ignore


def pool_axes(pool: PoolSettings, hw: tuple[int, int]) -> tuple[Axis, Axis]:
    """The pool's two axes; without a stride it strides by its kernel size, as PyTorch does."""
    k, p = pair(pool.kernel_size), pair(pool.padding)
    s = pair(pool.stride) if pool.stride is not None else k
    return tuple(Axis("HW"[a], hw[a], k[a], s[a], p[a], p[a]) for a in (0, 1))  # type: ignore


def _at_least(value: Size, least: int, what: str) -> None:
    if min(pair(value)) < least:
        raise SettingsError(f"{what} must be at least {least}; got {show(value)}.")


def _fits(axes: tuple[Axis, Axis], what: str, source: str) -> None:
    for ax, cells in zip(axes, ("rows", "columns"), strict=True):
        if ax.span > ax.padded:
            raise SettingsError(
                f"The {what} covers {ax.span} {cells} (dilation {ax.dilation} × (kernel "
                f"{ax.kernel} − 1) + 1) but {source} has only {ax.padded} ({ax.size} + padding "
                f"{ax.before + ax.after}): the kernel must fit inside the padded input."
            )


def _capped(shape: tuple[int, ...], what: str) -> None:
    n = 1
    for d in shape:
        n *= d
    if n > MAX_VALUES:
        raise SettingsError(
            f"The {what} would be torch.Size({list(shape)}), {n:,} values ({n * 4 / 2**20:,.0f} "
            f"MiB), over the playground's cap of {MAX_VALUES:,} values (64 MiB) per tensor: "
            "use a smaller batch, fewer channels or a smaller image."
        )


def check_random(spec: RandomInput) -> None:
    """Every size of the random batch positive, and the batch under the cap."""
    for name in ("batch", "channels", "height", "width"):
        _at_least(getattr(spec, name), 1, f"The input {name}")
    _capped((spec.batch, spec.channels, spec.height, spec.width), "random batch")


def check_conv(conv: ConvSettings, x_shape: tuple[int, int, int, int]) -> tuple[int, ...]:
    """Raise SettingsError naming the first constraint broken; else the conv output's shape."""
    _at_least(conv.in_channels, 1, "in_channels")
    _at_least(conv.out_channels, 1, "out_channels")
    _at_least(conv.kernel_size, 1, "The conv kernel_size")
    _at_least(conv.stride, 1, "The conv stride")
    _at_least(conv.dilation, 1, "The conv dilation")
    if x_shape[1] != conv.in_channels:
        raise SettingsError(
            f"The input has {x_shape[1]} channel{'s' * (x_shape[1] != 1)} but in_channels is "
            f"{conv.in_channels}: a Conv2d's in_channels must equal the input's channels (dim 1)."
        )
    if conv.padding == "same" and max(pair(conv.stride)) > 1:
        raise SettingsError(
            f"padding='same' needs stride 1: PyTorch does not support it for strided "
            f"convolutions (stride is {show(conv.stride)})."
        )
    if isinstance(conv.padding, (int, tuple)):
        _at_least(conv.padding, 0, "The conv padding")
    axes = conv_axes(conv, x_shape[2:])
    _fits(axes, "conv kernel", "the padded input")
    k = pair(conv.kernel_size)
    _capped((conv.out_channels, conv.in_channels, *k), "conv weight")
    out = (x_shape[0], conv.out_channels, axes[0].out, axes[1].out)
    _capped(out, "conv output")
    macs = out[0] * out[1] * out[2] * out[3] * conv.in_channels * k[0] * k[1]
    if macs > MAX_MACS:
        raise SettingsError(
            f"The conv would take {macs:,} multiply-adds, over the playground's cap of "
            f"{MAX_MACS:,} (about a second of CPU): use a smaller batch, fewer channels, a "
            "smaller kernel or a smaller image."
        )
    return out


def check_pool(pool: PoolSettings, x_shape: tuple[int, int, int, int]) -> tuple[int, ...]:
    """As `check_conv`, for the max-pool applied to a tensor of shape x_shape."""
    _at_least(pool.kernel_size, 1, "The pool kernel_size")
    if pool.stride is not None:
        _at_least(pool.stride, 1, "The pool stride")
    _at_least(pool.padding, 0, "The pool padding")
    k, p = pair(pool.kernel_size), pair(pool.padding)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise SettingsError(
            f"MaxPool2d padding must be at most half the kernel size: padding "
            f"{show(pool.padding)} is more than kernel_size {show(pool.kernel_size)} // 2."
        )
    axes = pool_axes(pool, x_shape[2:])
    _fits(axes, "pooling window", "its padded input (the conv output)")
    out = (*x_shape[:2], axes[0].out, axes[1].out)
    _capped(out, "pool output")
    return out


# ------------------------------------------------------------------------ build and run


def random_input(spec: RandomInput) -> torch.Tensor:
    """The notebook's `torch.manual_seed(42); images = torch.randn(size=(32, 3, 64, 64))`."""
    g = torch.Generator().manual_seed(spec.seed)  # the same numbers, without the global RNG
    images = torch.randn(size=(spec.batch, spec.channels, spec.height, spec.width), generator=g)
    return images if spec.whole_batch else images[0].unsqueeze(dim=0)


def build_conv(conv: ConvSettings) -> nn.Conv2d:
    """`torch.manual_seed(seed)` then `nn.Conv2d(...)`, leaving the global RNG as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(conv.seed)
        return nn.Conv2d(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            bias=conv.bias,
        )


def build_pool(pool: PoolSettings) -> nn.MaxPool2d:
    """The nn.MaxPool2d these settings describe."""
    return nn.MaxPool2d(pool.kernel_size, stride=pool.stride, padding=pool.padding)


@dataclass(frozen=True)
class Stages:
    """Every tensor the playground shows, detached, on the CPU."""

    input: torch.Tensor  # (B, C_in, H, W)
    conv: torch.Tensor  # (B, C_out, H1, W1)
    relu: torch.Tensor | None  # like conv, when the ReLU is on
    pool: torch.Tensor  # (B, C_out, H2, W2)

    def shapes(self) -> list[tuple[str, str]]:
        """(step, shape as PyTorch prints it), e.g. ("conv_layer", "torch.Size([1, 10, 62, 62])")."""  # noqa: E501
        steps = [
            ("input", self.input),
            ("conv_layer", self.conv),
            ("relu", self.relu),
            ("max_pool_layer", self.pool),
        ]
        return [(name, str(t.shape)) for name, t in steps if t is not None]

    @property
    def pool_input(self) -> torch.Tensor:
        """What the max-pool reads: the ReLU's output when there is one, else the conv's."""
        return self.relu if self.relu is not None else self.conv


@torch.inference_mode()
def run(
    x: torch.Tensor, conv: nn.Conv2d, pool: nn.MaxPool2d, relu: bool, device: torch.device
) -> Stages:
    """Apply the real layers on `device` (copies of them, so the caller's stay on the CPU)."""
    conv_d = copy.deepcopy(conv).to(device) if device.type != "cpu" else conv
    h = x.to(device)
    c = conv_d(h)
    r = torch.relu(c) if relu else None
    p = pool(r if r is not None else c)
    cpu = lambda t: None if t is None else t.detach().cpu()
    return Stages(x.detach().cpu(), cpu(c), cpu(r), cpu(p))


def param_counts(conv: nn.Conv2d) -> tuple[int, int]:
    """(weights, biases) of the conv; ReLU and max-pool have none."""
    return conv.weight.numel(), (conv.bias.numel() if conv.bias is not None else 0)


def maxpool_demo() -> tuple[torch.Tensor, torch.Tensor]:
    """The notebook's `torch.manual_seed(42); random_tensor = torch.randn(size=(1, 1, 2, 2))`,
    and `nn.MaxPool2d(kernel_size=2)` of it (the 0.3367 is picked)."""
    random_tensor = torch.randn(size=(1, 1, 2, 2), generator=torch.Generator().manual_seed(42))
    return random_tensor, nn.MaxPool2d(kernel_size=2)(random_tensor)
