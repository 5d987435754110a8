"""The playground's compute against PyTorch: shapes, formulas, checks, code, the notebook."""

from __future__ import annotations

import itertools
import math
import re

import pytest
import torch
from torch import nn

from tinyvgg import playground as pg
from tinyvgg.explain import output_hw
from tinyvgg.playground_code import (
    image_input_code,
    parse_padding,
    parse_size,
    pytorch_code,
    random_input_code,
)

CPU = torch.device("cpu")
pytestmark = [
    pytest.mark.filterwarnings("ignore:Initializing zero-element tensors:UserWarning"),
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning"),
]


def _torch_runs(fn) -> bool:
    try:
        fn()
        return True
    except (RuntimeError, ValueError):
        return False


def _evaluate_rule(**values: int) -> int:
    """pg.OUTPUT_SIZE_RULE, as written on the page, evaluated for these values."""
    expr = pg.OUTPUT_SIZE_RULE
    for mark, python in (("⌊", "math.floor("), ("⌋", ")"), ("×", "*"), ("−", "-")):
        expr = expr.replace(mark, python)
    for name, value in values.items():
        expr = re.sub(rf"\b{name}\b", str(value), expr)
    return eval(expr, {"math": math})


CONV_GRID = list(
    itertools.product(
        [(9, 11), (4, 3)],  # input (H, W)
        [1, 2, 3, (3, 5), 0],  # kernel_size
        [1, 2, (2, 1)],  # stride
        [0, 1, (1, 2), "same", "valid", -1],  # padding
        [1, 2, (1, 3)],  # dilation
    )
)


@pytest.mark.parametrize("hw,k,s,p,d", CONV_GRID)
def test_conv_shapes_and_formulas_equal_pytorch(hw, k, s, p, d):
    settings = pg.ConvSettings(2, 3, k, s, p, d, seed=0)
    x = torch.randn(1, 2, *hw)
    make = lambda: pg.build_conv(settings)(x)  # noqa: E731
    try:
        planned = pg.check_conv(settings, tuple(x.shape))
    except pg.SettingsError as e:
        assert not _torch_runs(make), f"we refused what PyTorch runs: {e}"
        assert str(e).endswith(".") and "\n" not in str(e)
        return
    y = make()
    assert planned == tuple(y.shape)
    axes = pg.conv_axes(settings, hw)
    assert (axes[0].out, axes[1].out) == tuple(y.shape[2:])
    assert output_hw(pg.build_conv(settings), hw) == tuple(y.shape[2:])
    for ax, n in zip(axes, y.shape[2:], strict=True):
        assert ax.formula().endswith(f"= {n}") and ax.latex().endswith(f"= {n}")
    for ax, n in zip(axes, y.shape[2:], strict=True):  # the page's caption, evaluated
        if ax.before == ax.after:  # "same" with an even kernel pads unevenly: not this rule
            values = dict(size=ax.size, padding=ax.before, dilation=ax.dilation,
                          kernel=ax.kernel, stride=ax.stride)  # fmt: skip
            assert _evaluate_rule(**values) == n


POOL_GRID = list(
    itertools.product(
        [(9, 11), (3, 2)],
        [1, 2, 3, (2, 3), 0],  # kernel_size
        [None, 1, 2, 0],  # stride
        [0, 1, (1, 0), 2, -1],  # padding
    )
)


@pytest.mark.parametrize("hw,k,s,p", POOL_GRID)
def test_pool_shapes_and_formulas_equal_pytorch(hw, k, s, p):
    settings = pg.PoolSettings(k, s, p)
    x = torch.randn(1, 4, *hw)
    make = lambda: pg.build_pool(settings)(x)  # noqa: E731
    try:
        planned = pg.check_pool(settings, tuple(x.shape))
    except pg.SettingsError as e:
        assert not _torch_runs(make), f"we refused what PyTorch runs: {e}"
        return
    y = make()
    assert planned == tuple(y.shape)
    axes = pg.pool_axes(settings, hw)
    assert (axes[0].out, axes[1].out) == tuple(y.shape[2:])
    assert output_hw(pg.build_pool(settings), hw) == tuple(y.shape[2:])


def test_the_notebooks_defaults():
    x = pg.random_input(pg.RandomInput())
    torch.manual_seed(42)
    images = torch.randn(size=(32, 3, 64, 64))
    assert torch.equal(x, images[0].unsqueeze(dim=0))
    torch.manual_seed(42)
    conv_layer = nn.Conv2d(in_channels=3, out_channels=10, kernel_size=3, stride=1, padding=0)
    ours = pg.build_conv(pg.ConvSettings())
    assert torch.equal(ours.weight, conv_layer.weight) and torch.equal(ours.bias, conv_layer.bias)
    stages = pg.run(x, ours, pg.build_pool(pg.PoolSettings()), False, CPU)
    assert stages.shapes() == [
        ("input", "torch.Size([1, 3, 64, 64])"),
        ("conv_layer", "torch.Size([1, 10, 62, 62])"),
        ("max_pool_layer", "torch.Size([1, 10, 31, 31])"),
    ]
    expected = nn.MaxPool2d(kernel_size=2)(conv_layer(images[0].unsqueeze(dim=0)))
    assert torch.equal(stages.pool, expected.detach())
    h = pg.conv_axes(pg.ConvSettings(), (64, 64))[0]
    assert h.formula() == "H_out = ⌊(64 + 2×0 − 1×(3 − 1) − 1) / 1⌋ + 1 = 62"
    assert pg.param_counts(ours) == (270, 10)
    assert sum(p.numel() for p in ours.parameters()) == 280


def test_building_leaves_the_global_rng_alone():
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    pg.build_conv(pg.ConvSettings(seed=1))
    pg.random_input(pg.RandomInput(seed=1))
    assert torch.equal(torch.rand(3), expected)


def test_maxpool_demo_picks_0_3367():
    x, out = pg.maxpool_demo()
    torch.manual_seed(42)
    assert torch.equal(x, torch.randn(size=(1, 1, 2, 2)))
    assert x.shape == (1, 1, 2, 2) and out.shape == (1, 1, 1, 1)
    assert f"{float(out):.4f}" == "0.3367" and float(out) == float(x.max())


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("whole_batch", [False, True])
def test_the_pytorch_lines_run_and_give_the_same_tensor(relu, whole_batch):
    spec = pg.RandomInput(batch=4, channels=2, height=12, width=10, seed=3, whole_batch=whole_batch)
    conv = pg.ConvSettings(2, 5, (3, 2), 2, (1, 0), (1, 2), bias=False, seed=9)
    pool = pg.PoolSettings(3, 1, 1)
    x = pg.random_input(spec)
    stages = pg.run(x, pg.build_conv(conv), pg.build_pool(pool), relu, CPU)
    code = pytorch_code(random_input_code(spec), conv, relu, pool, stages)
    scope = {"torch": torch, "nn": nn, "print": lambda *a: None}
    exec(code, scope)  # the lines the page shows are real PyTorch
    assert torch.equal(scope["x"], stages.pool)
    assert f"# {stages.conv.shape}" in code and f"# {stages.pool.shape}" in code
    assert "dilation=(1, 2)" in code and "bias=False" in code
    assert (stages.relu is not None) == relu == ("torch.relu" in code)


INVALID = [
    (dict(conv=pg.ConvSettings(kernel_size=70)), "covers 70 rows"),
    (dict(conv=pg.ConvSettings(kernel_size=3, dilation=40)), "must fit inside the padded input"),
    (dict(conv=pg.ConvSettings(padding="same", stride=2)), "padding='same' needs stride 1"),
    (dict(conv=pg.ConvSettings(in_channels=1)), "in_channels is 1"),
    (dict(conv=pg.ConvSettings(out_channels=0)), "out_channels must be at least 1; got 0"),
    (dict(conv=pg.ConvSettings(kernel_size=(3, 0))), "kernel_size must be at least 1"),
    (dict(conv=pg.ConvSettings(stride=-1)), "stride must be at least 1; got -1"),
    (dict(conv=pg.ConvSettings(padding=-2)), "padding must be at least 0"),
    (dict(conv=pg.ConvSettings(out_channels=5000)), "cap of 16,777,216 values"),
    (dict(conv=pg.ConvSettings(out_channels=2000, kernel_size=11, padding=5)), "multiply-adds"),
    (dict(pool=pg.PoolSettings(2, None, 2)), "at most half the kernel size"),
    (dict(pool=pg.PoolSettings(0)), "pool kernel_size must be at least 1"),
    (dict(pool=pg.PoolSettings(80)), "pooling window covers 80 rows"),
    (dict(inp=pg.RandomInput(height=0)), "input height must be at least 1; got 0"),
    (dict(inp=pg.RandomInput(batch=-3)), "input batch must be at least 1"),
    (dict(inp=pg.RandomInput(batch=10_000)), "random batch would be torch.Size"),
]


@pytest.mark.parametrize("bad,words", INVALID)
def test_invalid_settings_give_one_sentence(bad, words):
    inp = bad.get("inp", pg.RandomInput())
    with pytest.raises(pg.SettingsError) as e:
        pg.check_random(inp)
        out = pg.check_conv(bad.get("conv", pg.ConvSettings()), inp.shape)
        pg.check_pool(bad.get("pool", pg.PoolSettings()), out)
    message = str(e.value)
    assert words in message
    assert message.endswith(".") and "\n" not in message and "Traceback" not in message


def test_parsing_the_text_fields():
    assert parse_size("3", "k") == 3
    assert parse_size(" (3, 5) ", "k") == (3, 5)
    assert parse_size("3,5", "k") == (3, 5)
    assert parse_size("", "stride", blank_is_none=True) is None
    assert parse_padding("same") == "same" and parse_padding("'valid'") == "valid"
    assert parse_padding("1, 2") == (1, 2)
    for bad in ["", "abc", "1.5", "1, 2, 3"]:
        with pytest.raises(pg.SettingsError, match="kernel_size must be a whole number"):
            parse_size(bad, "kernel_size")
    with pytest.raises(pg.SettingsError, match="'same' or 'valid'"):
        parse_padding("full")


def test_a_test_image_is_loaded_as_its_dataset_is():
    """torchvision's own class for the datasets it has; a tensor of test images for the rest,
    and those lines give the very image."""
    assert image_input_code(3, "Dress")[0].startswith("test_data = datasets.FashionMNIST(")
    assert image_input_code(3, "7", "MNIST")[0].startswith("test_data = datasets.MNIST(")
    assert image_input_code(3, "お", "KMNIST")[0].startswith("test_data = datasets.KMNIST(")
    lines = image_input_code(3, "oak", "my leaves", channels=3)
    assert lines[0] == "# test_images: my leaves's test images, (N, 3, 28, 28) in [0, 1]"
    scope = {"test_images": torch.rand(5, 3, 28, 28)}
    exec("\n".join(lines), scope)
    assert torch.equal(scope["test_image"], scope["test_images"][3:4])
