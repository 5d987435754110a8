"""Attribution maps, each checked against PyTorch itself or the method's definition."""

import threading

import pytest
import torch
from torch.nn import functional as F

from tinyvgg.attribution import (
    IG_MAX_STEPS,
    IG_STEPS,
    IG_TOLERANCE,
    METHODS,
    AttributionError,
    attribute,
    attribute_all,
)
from tinyvgg.data import CLASS_NAMES, to_float
from tinyvgg.fields import receptive_field
from tinyvgg.model import LAYER_NAMES, build_model, load_shipped


@pytest.fixture(scope="module")
def shipped():
    model = load_shipped()[0]
    for p in model.parameters():
        p.requires_grad_(False)  # as the app shares it
    return model


@pytest.fixture(scope="module")
def samples(real_data):
    return to_float(real_data[1].images[:8])  # (8, 1, 28, 28)


def _untrained():
    return build_model(seed=3).eval()


def _logits(model, x):
    with torch.no_grad():
        return model(x)[0].detach().double()


def _score(model, x, target, versus=None):
    z = _logits(model, x)
    return z[target] - (z[versus] if versus is not None else 0)


def _random_inputs(n=3):
    g = torch.Generator().manual_seed(7)
    return [torch.randn(1, 1, 28, 28, generator=g) for _ in range(n)]


# ---------------------------------------------------------------------------- exact


def _exact_cases(shipped, samples):
    models = [("shipped", shipped), ("untrained", _untrained())]
    inputs = [samples[i : i + 1] for i in range(3)] + _random_inputs()
    return [(m, x) for _, m in models for x in inputs]


def test_exact_shares_add_up_to_the_logit_minus_its_bias(shipped, samples):
    for model, x in _exact_cases(shipped, samples):
        for target, versus in ((0, None), (4, None), (9, 7), (4, 2)):
            a = attribute(model, x, "exact", target, versus)
            b = model.layer("linear").bias.detach().double()
            bias = b[target] - (b[versus] if versus is not None else 0)
            want = float(_score(model, x, target, versus) - bias)
            assert a.expected == pytest.approx(want, abs=1e-5)
            assert abs(a.total - want) < 1e-5  # the map keeps the shares' sum
            assert abs(float(a.layer_map.double().sum()) - want) < 1e-5
            assert abs(a.delta) < 1e-5


def test_each_exact_share_is_its_weight_times_its_value(shipped, samples):
    from tinyvgg.activations import by_name, trace

    for model, x in _exact_cases(shipped, samples)[::2]:
        a_k = by_name(trace(model, x[0]))["max_pool_2"].output.reshape(-1).double()
        w = model.layer("linear").weight.detach().double()
        for target, versus in ((3, None), (4, 2)):
            want = w[target] * a_k - (w[versus] * a_k if versus is not None else 0)
            got = attribute(model, x, "exact", target, versus).layer_map.reshape(-1).double()
            torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-7)


def test_exact_map_spreads_each_share_over_its_receptive_field(shipped, samples):
    x = samples[:1]
    a = attribute(shipped, x, "exact", 0)
    want = torch.zeros(28, 28, dtype=torch.float64)
    cells = a.layer_map.double().sum(0)
    for i in range(7):
        for j in range(7):
            (r0, r1), (c0, c1) = receptive_field(shipped, "max_pool_2", i, j)
            want[r0 : r1 + 1, c0 : c1 + 1] += cells[i, j] / ((r1 - r0 + 1) * (c1 - c0 + 1))
    torch.testing.assert_close(a.map.double(), want, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------- Captum


def test_saliency_is_the_gradient_of_the_logit(shipped, samples):
    for model in (shipped, _untrained()):
        x = samples[1:2].clone().requires_grad_()
        for target, versus in ((2, None), (2, 6)):
            z = model(x)[0]
            s = z[target] - (z[versus] if versus is not None else 0)
            (g,) = torch.autograd.grad(s, x)
            got = attribute(model, samples[1:2], "saliency", target, versus).map
            torch.testing.assert_close(got, g[0, 0])


def test_integrated_gradients_add_up_within_one_percent(shipped, samples):
    """For a class's logit, within 1% of its rise from black; for a pair of classes, within
    1% or at the most steps, with the delta reported as it is."""
    black = torch.zeros(1, 1, 28, 28)
    for i in range(len(samples)):
        x = samples[i : i + 1]
        target = int(_logits(shipped, x).argmax())
        for versus in (None, (target + 1) % 10):
            a = attribute(shipped, x, "ig", target, versus)
            rise = float(
                _score(shipped, x, target, versus) - _score(shipped, black, target, versus)
            )
            assert a.expected == pytest.approx(rise, abs=1e-5)
            assert a.delta == pytest.approx(a.total - a.expected)
            assert a.settings["steps"] >= IG_STEPS
            within = abs(a.total - rise) <= IG_TOLERANCE * max(abs(rise), 0.01) + 1e-6
            assert within or (versus is not None and a.settings["steps"] == IG_MAX_STEPS)


def test_integrated_gradients_match_a_hand_riemann_sum():
    """With the steps fixed (a model whose maps add up at once), IG is the path integral's
    midpoint sum of the gradient, times the input."""
    model = _untrained()
    x = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(4))
    a = attribute(model, x, "ig", 1)
    n = a.settings["steps"]
    alphas = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    path = (alphas.float()[:, None, None, None] * x).requires_grad_()
    (g,) = torch.autograd.grad(model(path)[:, 1].sum(), path)
    torch.testing.assert_close(a.map, (g.mean(0) * x)[0, 0], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("patch, stride", [(4, 2), (5, 3), (3, 3)])
def test_occlusion_is_a_plain_loop_over_patches(shipped, samples, patch, stride):
    """Each pixel gets the mean fall of the score over the patches that cover it; patches
    step by the stride from the top left, and the last ones, cut by the border, still count."""
    x, target = samples[2:3], 5
    base = float(_score(shipped, x, target))
    total = torch.zeros(28, 28, dtype=torch.float64)
    count = torch.zeros(28, 28, dtype=torch.float64)
    starts = [k * stride for k in range(-(-(28 - patch) // stride) + 1)]  # the last one cut
    for r in starts:
        for c in starts:
            covered = x.clone()
            covered[..., r : r + patch, c : c + patch] = 0.0
            total[r : r + patch, c : c + patch] += base - float(_score(shipped, covered, target))
            count[r : r + patch, c : c + patch] += 1
    want = torch.where(count > 0, total / count.clamp(min=1), 0.0)
    a = attribute(shipped, x, "occlusion", target, patch=patch, stride=stride)
    torch.testing.assert_close(a.map.double(), want, rtol=1e-4, atol=1e-5)
    assert a.settings == {"patch": patch, "stride": stride}


def test_gradcam_is_relu_of_channels_weighted_by_mean_gradient(shipped, samples):
    for model in (shipped, _untrained()):
        x = samples[3:4]
        for target, versus in ((7, None), (7, 5)):
            a = x
            for name, m in model.named_layers():
                a = m(a)
                if name == "conv_2_2":
                    acts = a
                    break
            acts = acts.detach().requires_grad_()
            rest = acts
            for _, m in model.named_layers()[LAYER_NAMES.index("conv_2_2") + 1 :]:
                rest = m(rest)
            s = rest[0, target] - (rest[0, versus] if versus is not None else 0)
            (g,) = torch.autograd.grad(s, acts)
            alpha = g.mean(dim=(2, 3), keepdim=True)
            cam = F.relu((alpha * acts).sum(dim=1))[0].detach()
            got = attribute(model, x, "gradcam", target, versus)
            torch.testing.assert_close(got.layer_map, cam, rtol=1e-5, atol=1e-7)
            up = cam.repeat_interleave(2, 0).repeat_interleave(2, 1)
            torch.testing.assert_close(got.map, up, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------- contract


def test_every_map_is_signed_28x28_with_its_score(shipped, samples):
    x = samples[4:5]
    maps = attribute_all(shipped, x, 3, 6)
    assert list(maps) == list(METHODS)
    for m, a in maps.items():
        assert a.map.shape == (28, 28) and a.map.dtype == torch.float32, m
        assert a.score == pytest.approx(float(_score(shipped, x, 3, 6)), abs=1e-5), m
        assert a.total == pytest.approx(float(a.map.double().sum())), m
        line = a.summary(CLASS_NAMES)
        assert line["target"] == "Dress" and line["versus"] == "Shirt"
        assert set(line) >= {"method", "logit", "sum", "delta"}
    assert maps["saliency"].map.min() < 0 < maps["saliency"].map.max()  # not normalised


def test_the_same_under_inference_mode_and_for_a_3d_input(shipped, samples):
    x = samples[5:6]
    alone = attribute_all(shipped, x, 1)
    with torch.inference_mode():
        inside = attribute_all(shipped, x.clone(), 1)
    flat = attribute_all(shipped, x[0], 1)
    for m in METHODS:
        torch.testing.assert_close(inside[m].map, alone[m].map)
        torch.testing.assert_close(flat[m].map, alone[m].map)


def test_two_sessions_at_once_get_the_maps_they_get_alone(shipped, samples):
    jobs = [(samples[i : i + 1], t, v) for i, t, v in ((0, 9, None), (6, 1, 3), (7, 6, 0))]
    alone = [attribute_all(shipped, x, t, v) for x, t, v in jobs]
    results, errors = {}, []

    def run(k):
        try:
            for _ in range(3):
                for n, (x, t, v) in enumerate(jobs):
                    results[(k, n)] = attribute_all(shipped, x, t, v)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    for (_, n), maps in results.items():
        for m in METHODS:
            torch.testing.assert_close(maps[m].map, alone[n][m].map)
    for _, layer in shipped.named_layers():  # nothing was left hooked on the shared model
        assert not layer._forward_hooks and not layer._forward_pre_hooks


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": "lime"}, "method must be one of"),
        ({"target": 10}, "target class must be 0 to 9"),
        ({"versus": 4}, "not with itself"),
        ({"method": "ig", "steps": 1}, "2 to 800 steps"),
        ({"method": "occlusion", "patch": 0}, "patch must be 1 to 28"),
        ({"method": "occlusion", "stride": 5}, "stride must be 1 to the patch"),
    ],
)
def test_bad_settings_are_one_sentence(kwargs, message):
    args = {"method": "exact", "target": 4} | kwargs
    with pytest.raises(AttributionError, match=message):
        attribute(_untrained(), torch.zeros(1, 1, 28, 28), **args)
