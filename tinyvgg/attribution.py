"""Why a class: signed 28×28 attribution maps for one input and one class (or two).

    attribute(model, x, "exact", target=4)              # Coat
    attribute(model, x, "ig", target=4, versus=2)       # why Coat and not Pullover

Five methods. One is ours and exact: the linear layer's logit is Σ_k W[c, k]·a[k] + b[c] over
the 490 values `a` of max_pool_2, so each value's share W[c, k]·a[k] adds up to logit − bias.
The other four come from Captum (`Saliency`, `IntegratedGradients`, `Occlusion`,
`LayerGradCam`). Every map is in logit units and signed: positive is evidence for the target,
negative against it. With `versus`, the explained score is logit[target] − logit[versus].

Thread safety: a model shared between sessions gets no hooks. Grad-CAM, the one method that
hooks a layer, runs on a per-call copy (31 KB); the rest only run the model forward and ask
autograd for input gradients. Gradients are needed, so this works under `inference_mode` too
(it is left for the call).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from tinyvgg.fields import receptive_field
from tinyvgg.model import TinyVGG

METHODS = ("exact", "saliency", "ig", "occlusion", "gradcam")
LABELS = {
    "exact": "Exact decomposition",
    "saliency": "Saliency",
    "ig": "Integrated Gradients",
    "occlusion": "Occlusion",
    "gradcam": "Grad-CAM",
}
# What each method measures, and its known weakness: one sentence each, shown beside the map.
SENTENCES = {
    "exact": "Each of max_pool_2's values times its weight in the linear layer: these "
    "shares add up to the logit minus its bias exactly; spread over each value's 16×16 "
    "receptive field, the map blurs where inside that field the evidence lies.",
    "saliency": "How fast the logit changes as each pixel changes (its gradient): cheap, but "
    "noisy and local; it says what would move the score, not what made it.",
    "ig": "Gradients averaged along the path from a black image to this one, times each pixel: "
    "they add up to the logit's rise from black (the delta says how closely), but black "
    "pixels always get zero, whatever their role.",
    "occlusion": "How much the logit falls when a black patch covers each place: easy to read "
    "and needs no gradients, but the answer depends on the patch's size, stride and colour (a "
    "black patch on the black background changes nothing).",
    "gradcam": "conv_2_2's channels weighted by their mean gradient, positive part only: shows "
    "roughly where the evidence is, but coarse, at 14×14 (each cell drawn as 2×2 pixels).",
}
IG_STEPS = 50  # the first try; see _integrated_gradients
IG_TOLERANCE = 0.01  # the map adds up to the logit's rise within 1%
IG_MAX_STEPS = 800  # past it, the page shows the delta as it is
IG_RULE = "riemann_middle"  # as close as Gauss-Legendre per step here, and faster on 2 cores
OCCLUSION_PATCH, OCCLUSION_STRIDE = 4, 2
GRADCAM_LAYER = "conv_2_2"


class AttributionError(ValueError):
    """Settings that cannot make a map; the message is one sentence."""


@dataclass(frozen=True)
class Attribution:
    """One method's map for one input, with the numbers that let a reader check it."""

    method: str
    target: int
    versus: int | None
    map: torch.Tensor  # (H, W) float32 on the CPU, signed, in logit units
    score: float  # what is explained, at the input: logit[target] (− logit[versus])
    total: float  # the map's sum
    expected: float | None = None  # what `total` adds up to in theory (exact, IG), else None
    layer_map: torch.Tensor | None = None  # exact: (C, 7, 7) shares; Grad-CAM: (14, 14)
    settings: dict = field(default_factory=dict)

    @property
    def delta(self) -> float | None:
        """`total` − `expected`: how far the map is from adding up (IG's convergence delta)."""
        return None if self.expected is None else self.total - self.expected

    def summary(self, class_names: list[str] | tuple[str, ...]) -> dict:
        """A JSON-ready line: method, target, logit, sum of attributions, delta."""
        out = {"method": self.method, "target": class_names[self.target]}
        if self.versus is not None:
            out["versus"] = class_names[self.versus]
        out |= {"logit": self.score, "sum": self.total, "delta": self.delta}
        return out | ({"settings": self.settings} if self.settings else {})


class _Score(nn.Module):
    """The explained score as a model with one output: logit[target] (− logit[versus])."""

    def __init__(self, model: nn.Module, target: int, versus: int | None):
        super().__init__()
        self.model, self.target, self.versus = model, target, versus

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N,)
        logits = self.model(x)
        s = logits[:, self.target]
        return s if self.versus is None else s - logits[:, self.versus]


def _classes(model: TinyVGG, target: int, versus: int | None) -> None:
    n = model.config.output_shape
    for what, c in (("target", target), ("versus", versus)):
        if c is not None and not 0 <= c < n:
            raise AttributionError(f"The {what} class must be 0 to {n - 1}, not {c}.")
    if versus is not None and versus == target:
        raise AttributionError("Compare the class with another class, not with itself.")


def attribute(
    model: TinyVGG,
    x: torch.Tensor,
    method: str,
    target: int,
    versus: int | None = None,
    *,
    steps: int = IG_STEPS,
    patch: int = OCCLUSION_PATCH,
    stride: int = OCCLUSION_STRIDE,
) -> Attribution:
    """The `method` map of one input `x` (1, C, H, W) or (C, H, W) for class `target`
    (against `versus`). `steps` is IG's; `patch` and `stride` are occlusion's."""
    if method not in METHODS:
        raise AttributionError(f"The method must be one of {', '.join(METHODS)}, not {method!r}.")
    _classes(model, target, versus)
    device = next(model.parameters()).device
    with torch.inference_mode(False), torch.enable_grad():
        x = x.detach().clone().reshape(1, *x.shape[-3:]).float().to(device)
        if method == "exact":
            return _exact(model, x, target, versus)
        score = float(_Score(model, target, versus)(x).detach()[0])
        if method == "saliency":
            return _saliency(model, x, target, versus, score)
        if method == "ig":
            return _integrated_gradients(model, x, target, versus, score, steps)
        if method == "occlusion":
            return _occlusion(model, x, target, versus, score, patch, stride)
        return _gradcam(model, x, target, versus, score)


def attribute_all(model: TinyVGG, x: torch.Tensor, target: int, versus: int | None = None,
                  **settings) -> dict[str, Attribution]:  # fmt: skip
    """Every method's map, by method name."""
    return {m: attribute(model, x, m, target, versus, **settings) for m in METHODS}


def _cpu_map(t: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) attributions as one (H, W) map: channels summed (an RGB input's three)."""
    return t.detach().sum(dim=1)[0].float().cpu()


def _done(method, target, versus, t, score, expected=None, layer_map=None, **settings):
    m = _cpu_map(t) if t.dim() == 4 else t.detach().float().cpu()
    return Attribution(method, target, versus, m, score, float(m.double().sum()), expected,
                       layer_map, settings)  # fmt: skip


# ---------------------------------------------------------------------------- exact


def pooled_features(model: TinyVGG, x: torch.Tensor) -> torch.Tensor:
    """max_pool_2's output (N, C, 7, 7): the linear layer's input before flattening."""
    return model.conv_block_2(model.conv_block_1(x))


def linear_shares(model: TinyVGG, a: torch.Tensor, target: int, versus: int | None
                  ) -> tuple[torch.Tensor, float]:  # fmt: skip
    """W[target, k]·a[k] (− W[versus, k]·a[k]) for each cell of max_pool_2's `a` (1, C, 7, 7),
    shaped like it, and the bias they leave out."""
    linear: nn.Linear = model.layer("linear")
    w, b = linear.weight.detach(), linear.bias.detach()
    if versus is not None:
        w, b = w[target] - w[versus], b[target] - b[versus]
    else:
        w, b = w[target], b[target]
    return (w * a.reshape(-1)).reshape(a.shape[1:]), float(b)


def _exact(model: TinyVGG, x: torch.Tensor, target: int, versus: int | None) -> Attribution:
    with torch.no_grad():
        a = pooled_features(model, x)
        logits = model.layer("linear")(a.flatten(1))[0]
    shares, bias = linear_shares(model, a, target, versus)
    score = float(logits[target] - (logits[versus] if versus is not None else 0.0))
    spread = spread_over_fields(shares.sum(dim=0).cpu(), model, "max_pool_2", tuple(x.shape[-2:]))
    return _done("exact", target, versus, spread, score, score - bias, shares.float().cpu())


def spread_over_fields(cells: torch.Tensor, model: TinyVGG, layer: str,
                       image_hw: tuple[int, int]) -> torch.Tensor:  # fmt: skip
    """An (h, w) map of `layer`'s cells spread over the image: each cell's value shared evenly
    by the pixels of its receptive field (clipped at the border), so the sum is kept."""
    h, w = cells.shape
    out = torch.zeros(image_hw, dtype=torch.float64)
    for i in range(h):
        for j in range(w):
            (r0, r1), (c0, c1) = receptive_field(model, layer, i, j, image_hw)
            out[r0 : r1 + 1, c0 : c1 + 1] += float(cells[i, j]) / ((r1 - r0 + 1) * (c1 - c0 + 1))
    return out


# ---------------------------------------------------------------------------- Captum


def _saliency(model, x, target, versus, score) -> Attribution:
    from captum.attr import Saliency

    grads = Saliency(_Score(model, target, versus)).attribute(x.requires_grad_(), abs=False)
    return _done("saliency", target, versus, grads, score)


def _integrated_gradients(model, x, target, versus, score, steps) -> Attribution:
    """IG from a black image, in one batched pass of `steps` images; the steps double until
    the map adds up to within IG_TOLERANCE of the logit's rise (ReLU kinks make 50 too few
    for some inputs), at most IG_MAX_STEPS."""
    from captum.attr import IntegratedGradients

    if not 2 <= steps <= IG_MAX_STEPS:
        raise AttributionError(f"Integrated Gradients takes 2 to {IG_MAX_STEPS:,} steps, not "
                               f"{steps}.")  # fmt: skip
    f = _Score(model, target, versus)
    baseline = torch.zeros_like(x)
    with torch.no_grad():
        rise = score - float(f(baseline)[0])
    ig = IntegratedGradients(f)
    while True:
        attr = ig.attribute(x, baselines=baseline, n_steps=steps, method=IG_RULE)
        total = float(attr.detach().double().sum())
        if abs(total - rise) <= IG_TOLERANCE * max(abs(rise), 0.01) or steps * 2 > IG_MAX_STEPS:
            break
        steps *= 2
    return _done("ig", target, versus, attr, score, rise, steps=steps)


def _occlusion(model, x, target, versus, score, patch, stride) -> Attribution:
    from captum.attr import Occlusion

    h, w = x.shape[-2:]
    if not 1 <= patch <= min(h, w):
        raise AttributionError(f"The patch must be 1 to {min(h, w)} pixels wide, not {patch}.")
    if not 1 <= stride <= patch:
        raise AttributionError(f"The stride must be 1 to the patch's size ({patch}), not {stride}.")
    windows = (-(-(h - patch) // stride) + 1) * (-(-(w - patch) // stride) + 1)  # last ones cut
    with torch.no_grad():
        attr = Occlusion(_Score(model, target, versus)).attribute(
            x, sliding_window_shapes=(x.shape[1], patch, patch),
            strides=(x.shape[1], stride, stride), baselines=0.0,
            perturbations_per_eval=min(windows, 256),
        )  # fmt: skip
    # Captum gives each channel of a pixel the pixel's change: one channel's is the map
    return _done("occlusion", target, versus, attr[:, :1], score, patch=patch, stride=stride)


def _gradcam(model, x, target, versus, score) -> Attribution:
    from captum.attr import LayerGradCam

    private = copy.deepcopy(model)  # Captum hooks the layer: never on a shared model
    cam = LayerGradCam(_Score(private, target, versus), private.layer(GRADCAM_LAYER)).attribute(
        x, relu_attributions=True
    )  # (1, 1, 14, 14)
    up = F.interpolate(cam, size=tuple(x.shape[-2:]), mode="nearest")
    return _done("gradcam", target, versus, up, score, layer_map=cam[0, 0].detach().float().cpu(),
                 layer=GRADCAM_LAYER)  # fmt: skip
