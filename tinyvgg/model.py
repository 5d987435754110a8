"""TinyVGG (learnpytorch.io's FashionMNISTModelV2), its layer names, and checkpoints."""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, BinaryIO

import torch
from torch import nn

from tinyvgg.data import CLASS_NAMES, class_names

# Display names, in forward order: the contract between the engine and the pages.
LAYER_NAMES = (
    "conv_1_1", "relu_1_1", "conv_1_2", "relu_1_2", "max_pool_1",
    "conv_2_1", "relu_2_1", "conv_2_2", "relu_2_2", "max_pool_2",
    "flatten", "linear",
)  # fmt: skip

IMAGE_SIZE = 28  # Fashion-MNIST is 28x28; two 2x2 pools leave 7x7
WEIGHTS_DIR = Path(__file__).parent / "weights"
SHIPPED_CHECKPOINT = WEIGHTS_DIR / "tinyvgg_fashion_mnist.pt"  # the explorer's: 90.95% on test
SKETCH_CHECKPOINT = WEIGHTS_DIR / "tinyvgg_sketch.pt"  # the draw page's: trained on sketch-like
# augmentations (flips, silhouettes, outlines), far better on drawings, 86.33% on the test set


@dataclass(frozen=True)
class TinyVGGConfig:
    """What a TinyVGG is built from; checkpoints store it beside the weights."""

    input_shape: int = 1  # colour channels of the input image
    hidden_units: int = 10  # channels of every conv layer
    output_shape: int = 10  # number of classes


def _conv_block(c_in: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, hidden, kernel_size=3, stride=1, padding=1),
        nn.ReLU(),
        nn.Conv2d(hidden, hidden, kernel_size=3, stride=1, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=2),
    )


FASHION = "Fashion-MNIST"  # the dataset of a model that does not say which it learned
MAX_NAME = 100  # characters in a class or dataset name a checkpoint may carry


class TinyVGG(nn.Module):
    """The notebook's FashionMNISTModelV2: two conv-relu-conv-relu-maxpool blocks, then linear.

    `classes` (one name per output) and `dataset` (the name of what it learned) travel with the
    model and its checkpoints; every page and CLI reads them from here. Without them a model is
    Fashion-MNIST's (10 outputs) or has classes "class 0", "class 1"...
    """

    def __init__(
        self,
        config: TinyVGGConfig | None = None,
        classes: tuple[str, ...] | list[str] | None = None,
        dataset: str | None = None,
    ):
        super().__init__()
        self.config = config or TinyVGGConfig()
        c = self.config
        self.classes = tuple(classes) if classes is not None else class_names(c.output_shape)
        if len(self.classes) != c.output_shape:
            raise ValueError(f"{len(self.classes)} class names for {c.output_shape} outputs.")
        self.dataset = dataset or (FASHION if c.output_shape == len(CLASS_NAMES) else "unnamed")
        self.conv_block_1 = _conv_block(c.input_shape, c.hidden_units)
        self.conv_block_2 = _conv_block(c.hidden_units, c.hidden_units)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c.hidden_units * 7 * 7, c.output_shape),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, 28, 28) -> (B, classes)
        """Logits (N, 10) for images (N, C, 28, 28)."""
        return self.classifier(self.conv_block_2(self.conv_block_1(x)))

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        """The twelve layers in forward order, each with its display name."""
        modules = [*self.conv_block_1, *self.conv_block_2, *self.classifier]
        return list(zip(LAYER_NAMES, modules, strict=True))

    def layer(self, name: str) -> nn.Module:
        """The layer with this display name."""
        return dict(self.named_layers())[name]


def build_model(
    config: TinyVGGConfig | None = None,
    seed: int | None = 42,
    classes: tuple[str, ...] | list[str] | None = None,
    dataset: str | None = None,
) -> TinyVGG:
    """A freshly initialised TinyVGG; seed 42 gives the notebook's `torch.manual_seed(42)` init."""
    if seed is None:
        return TinyVGG(config, classes, dataset)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TinyVGG(config, classes, dataset)


def same_kind(model: TinyVGG, state_dict: dict[str, Any] | None = None) -> TinyVGG:
    """A new TinyVGG with `model`'s config, classes and dataset (and `state_dict`'s weights)."""
    out = TinyVGG(model.config, model.classes, model.dataset)
    if state_dict is not None:
        out.load_state_dict(state_dict)
    return out


# ---------------------------------------------------------------------------- checkpoints


class CheckpointError(ValueError):
    """A file that is not a usable TinyVGG checkpoint; the message is one sentence."""


# Some copies of the notebook name the blocks `block_1`/`block_2` (learnpytorch.io's own
# notebook does); ours follows the issue's `conv_block_*`. Both load.
_KEY_ALIASES = {"block_1.": "conv_block_1.", "block_2.": "conv_block_2."}


def _normalise_keys(state_dict: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in state_dict.items():
        key = key.removeprefix("module.").removeprefix("_orig_mod.")  # DataParallel / compile
        for old, new in _KEY_ALIASES.items():
            if key.startswith(old):
                key = new + key[len(old) :]
        out[key] = value
    return out


MAX_SIZES = TinyVGGConfig(input_shape=4, hidden_units=512, output_shape=100)  # at most ~40 MB


def infer_config(state_dict: dict[str, Any]) -> TinyVGGConfig:
    """Read the config off the weight shapes of a TinyVGG state_dict."""
    try:
        first = state_dict["conv_block_1.0.weight"]  # (hidden, in, 3, 3)
        last = state_dict["classifier.1.weight"]  # (classes, hidden*7*7)
        config = TinyVGGConfig(int(first.shape[1]), int(first.shape[0]), int(last.shape[0]))
    except (KeyError, AttributeError, IndexError) as e:
        raise CheckpointError(
            "This file holds weights, but not those of a TinyVGG (conv_block_1, conv_block_2, "
            "classifier)."
        ) from e
    # Shapes can lie (a stride-0 tensor claims any size from a few bytes): bound them.
    if any(not 1 <= v <= m for v, m in zip(asdict(config).values(), asdict(MAX_SIZES).values(),
                                            strict=True)):  # fmt: skip
        raise CheckpointError(f"The checkpoint's sizes are out of range ({config}).")
    return config


def _config_from(raw: Any) -> TinyVGGConfig:
    names = {f.name for f in fields(TinyVGGConfig)}
    if not isinstance(raw, dict) or not set(raw) <= names:
        raise CheckpointError("The checkpoint's config is not a TinyVGG config.")
    try:  # checked against the weights' own shapes by the caller
        return TinyVGGConfig(**{k: int(v) for k, v in raw.items()})
    except (TypeError, ValueError) as e:
        raise CheckpointError("The checkpoint's config is not a TinyVGG config.") from e


def _dataset_from(raw: Any, config: TinyVGGConfig) -> tuple[tuple[str, ...] | None, str | None]:
    """(class names, dataset name) from a checkpoint's "dataset" entry; (None, None) without one
    (a notebook state_dict, or a checkpoint from before datasets: Fashion-MNIST's)."""
    if raw is None:
        return None, None
    ok = isinstance(raw, dict) and isinstance(raw.get("name"), str)
    classes = raw.get("classes") if ok else None
    ok = ok and isinstance(classes, (list, tuple)) and all(isinstance(c, str) for c in classes)
    if not ok or not all(0 < len(t) <= MAX_NAME for t in (raw["name"], *classes)):
        raise CheckpointError("The checkpoint's dataset entry is not a name and class names.")
    channels = raw.get("channels", config.input_shape)
    if len(classes) != config.output_shape or channels != config.input_shape:
        raise CheckpointError(
            f"The checkpoint names {len(classes)} classes but its weights have "
            f"{config.output_shape} outputs (or its channels differ from its weights')."
        )
    return tuple(classes), raw["name"]


def _shared(snapshot: dict[str, Any], state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """The snapshot with the final weights' own tensors when it holds the same values:
    torch.save then writes them once (the last snapshot of a run is its final weights)."""
    weights = snapshot.get("state_dict") or {}
    same = set(weights) == set(state) and all(torch.equal(weights[k], state[k]) for k in state)
    return {**snapshot, "state_dict": dict(state)} if same else snapshot


def save_checkpoint(
    path: str | os.PathLike | BinaryIO,
    model: TinyVGG,
    metrics: dict | None = None,
    snapshots: list[dict[str, Any]] | None = None,
) -> None:
    """Write `{"config", "state_dict", "metrics", "dataset"}` with torch.save (weights saved on
    the CPU; "dataset" holds the model's dataset name, class names and input channels), plus
    `"snapshots"` (plain dicts, see tinyvgg.snapshots) when given."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    payload = {"config": asdict(model.config), "state_dict": state, "metrics": metrics or {},
               "dataset": {"name": model.dataset, "classes": list(model.classes),
                           "channels": model.config.input_shape}}  # fmt: skip
    if snapshots:
        payload["snapshots"] = [_shared(s, state) for s in snapshots]
    torch.save(payload, path)


def checkpoint_bytes(
    model: TinyVGG, metrics: dict | None = None, snapshots: list[dict[str, Any]] | None = None
) -> bytes:
    """The checkpoint as bytes, for a download button."""
    buf = io.BytesIO()
    save_checkpoint(buf, model, metrics, snapshots)
    return buf.getvalue()


def read_checkpoint(source: str | os.PathLike | bytes | BinaryIO) -> Any:
    """What a checkpoint file holds, read with `weights_only=True` on the CPU; a file that is
    not a safe torch.save file raises CheckpointError with one sentence."""
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)) and not Path(source).is_file():
        raise CheckpointError(f"No checkpoint file at {source}.")
    try:
        with warnings.catch_warnings():  # torch warns about odd pickles it is about to refuse
            warnings.simplefilter("ignore")
            return torch.load(source, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds for junk; all mean one thing here
        msg = str(e).lower()
        refused = "weights only load failed" in msg or "unpickl" in msg
        if refused and "unsupported operand" in msg:  # an opcode torch's safe reader lacks
            if _starts_like_a_pickle(source):
                raise CheckpointError(
                    "This file is a plain Python pickle, not a torch.save checkpoint; such "
                    "files can run code when read, so only torch.save files are accepted."
                ) from e
            refused = False  # bytes read as opcodes: not a pickle at all
        if refused:
            raise CheckpointError(
                "This file contains objects other than tensors (code or custom classes), which "
                "are refused for safety; save the model's state_dict instead."
            ) from e
        raise CheckpointError(
            "This file is not a PyTorch checkpoint (torch.load could not read it)."
        ) from e


def _starts_like_a_pickle(source: str | os.PathLike | BinaryIO) -> bool:
    """Whether the file opens with pickle's PROTO opcode (protocol 2 and later)."""
    try:
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as f:
                head = f.read(1)
        else:
            source.seek(0)
            head = source.read(1)
    except (OSError, AttributeError, ValueError):
        return False
    return head == b"\x80"


def load_checkpoint(
    source: str | os.PathLike | bytes | BinaryIO,
) -> tuple[TinyVGG, dict[str, Any]]:
    """Load our checkpoint format or a bare notebook state_dict; returns (model on CPU, metrics)."""
    return model_from(read_checkpoint(source))


def model_from(raw: Any) -> tuple[TinyVGG, dict[str, Any]]:
    """(model on CPU, metrics) from what `read_checkpoint` returned."""
    if not isinstance(raw, dict):
        raise CheckpointError("This file holds a single object, not a model's weights.")
    if "state_dict" in raw:
        state, metrics = raw["state_dict"], raw.get("metrics") or {}
        config = _config_from(raw["config"]) if "config" in raw else None
    else:
        state, metrics, config = raw, {}, None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError("The checkpoint's state_dict does not hold tensors.")
    state = _normalise_keys(state)
    inferred = infer_config(state)
    if config is not None and config != inferred:
        # Build from what the weights are, never from a declared size alone (a 5 MB file
        # must not make the server allocate a model of any size it likes).
        raise CheckpointError(
            f"The checkpoint's config (hidden_units={config.hidden_units}) does not match its "
            f"weights (hidden_units={inferred.hidden_units})."
        )
    config = inferred
    classes, dataset = _dataset_from(raw.get("dataset") if "state_dict" in raw else None, config)
    model = TinyVGG(config, classes, dataset)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise CheckpointError(
            "The weights do not fit a TinyVGG with "
            f"hidden_units={config.hidden_units} (names or shapes differ)."
        ) from e
    if not isinstance(metrics, dict):
        metrics = {}
    return model.eval(), metrics


def load_shipped(kind: str = "fashion") -> tuple[TinyVGG, dict[str, Any]]:
    """A pretrained TinyVGG committed under tinyvgg/weights/: "fashion" (the explorer's, best
    on Fashion-MNIST) or "sketch" (the draw page's, best on drawings)."""
    paths = {"fashion": SHIPPED_CHECKPOINT, "sketch": SKETCH_CHECKPOINT}
    if kind not in paths:
        raise ValueError(f"The shipped models are fashion and sketch, not {kind!r}.")
    return load_checkpoint(paths[kind])


def count_params(module: nn.Module) -> int:
    """Number of learnable parameters."""
    return sum(p.numel() for p in module.parameters())
