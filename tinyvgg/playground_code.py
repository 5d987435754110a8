"""What a user types and reads in the playground: settings text in, PyTorch lines out."""

from __future__ import annotations

from tinyvgg.playground import (
    ConvSettings,
    Padding,
    PoolSettings,
    RandomInput,
    SettingsError,
    Size,
    Stages,
    show,
)

# ------------------------------------------------------------------------------- parsing


def parse_size(text: str, name: str, blank_is_none: bool = False) -> Size | None:
    """'3' -> 3 and '3, 5' or '(3, 5)' -> (3, 5); anything else is a SettingsError."""
    s = text.strip().strip("()[]").strip()
    if not s and blank_is_none:
        return None
    try:
        nums = [int(p) for p in s.split(",")]
    except ValueError:
        nums = []
    if len(nums) not in (1, 2):
        raise SettingsError(
            f"{name} must be a whole number or two separated by a comma, like 3 or 3, 5; "
            f"got '{text}'."
        )
    return nums[0] if len(nums) == 1 else (nums[0], nums[1])


def parse_padding(text: str, name: str = "padding") -> Padding:
    """Like `parse_size`, and also 'same' or 'valid' (with or without quotes)."""
    word = text.strip().strip("'\"").strip().lower()
    if word in ("same", "valid"):
        return word
    if word.isalpha():
        raise SettingsError(f"{name} must be a whole number, two of them, 'same' or 'valid'.")
    return parse_size(text, name)  # type: ignore[return-value]


# ------------------------------------------------------------------------ the PyTorch lines


def _kwargs(**kw: object) -> str:
    return ", ".join(f"{k}={show(v)}" for k, v in kw.items())  # type: ignore[arg-type]


def random_input_code(spec: RandomInput) -> list[str]:
    """The notebook's lines that make this random batch."""
    feed = "images" if spec.whole_batch else "images[0].unsqueeze(dim=0)"
    return [
        f"torch.manual_seed({spec.seed})",
        f"images = torch.randn(size={(spec.batch, spec.channels, spec.height, spec.width)})",
        f"test_image = {feed}",
    ]


TORCHVISION = {"Fashion-MNIST": "FashionMNIST", "MNIST": "MNIST", "KMNIST": "KMNIST"}


def image_input_code(index: int, label: str, dataset: str = "Fashion-MNIST",
                     channels: int = 1) -> list[str]:  # fmt: skip
    """The lines that load test image `index` of `dataset` as the input: torchvision's own for
    the datasets it has, else from a tensor of the dataset's test images."""
    if dataset in TORCHVISION:
        return [
            f'test_data = datasets.{TORCHVISION[dataset]}(root="data", train=False, '
            "transform=ToTensor())",
            f"test_image = test_data[{index}][0].unsqueeze(dim=0)  # {label}",
        ]
    return [
        f"# test_images: {dataset}'s test images, (N, {channels}, 28, 28) in [0, 1]",
        f"test_image = test_images[{index}].unsqueeze(dim=0)  # {label}",
    ]


def drawn_input_code(label: str) -> list[str]:
    """The lines that stand for the drawing as the input."""
    return [f"test_image = drawing.unsqueeze(dim=0)  # {label}: (1, 28, 28) in [0, 1]"]


def pytorch_code(
    input_lines: list[str], conv: ConvSettings, relu: bool, pool: PoolSettings, stages: Stages
) -> str:
    """The lines that make and run these layers, with the shapes PyTorch prints as comments."""
    extra = {"dilation": conv.dilation} if conv.dilation != 1 else {}
    if not conv.bias:
        extra["bias"] = False
    conv_args = _kwargs(
        in_channels=conv.in_channels,
        out_channels=conv.out_channels,
        kernel_size=conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        **extra,
    )
    pool_kw = {"kernel_size": pool.kernel_size}
    if pool.stride is not None:
        pool_kw["stride"] = pool.stride
    if pool.padding != 0:
        pool_kw["padding"] = pool.padding
    lines = [
        *input_lines,
        f"print(test_image.shape)  # {stages.input.shape}",
        "",
        f"torch.manual_seed({conv.seed})",
        f"conv_layer = nn.Conv2d({conv_args})",
        f"max_pool_layer = nn.MaxPool2d({_kwargs(**pool_kw)})",
        "",
        f"x = conv_layer(test_image)  # {stages.conv.shape}",
    ]
    if relu:
        lines.append(f"x = torch.relu(x)  # {stages.conv.shape}")
    lines.append(f"x = max_pool_layer(x)  # {stages.pool.shape}")
    return "\n".join(lines)
