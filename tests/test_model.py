"""TinyVGG: the notebook's shapes and parameter names, layer names, checkpoints."""

from __future__ import annotations

import io
import os
import pickle

import pytest
import torch
from torch import nn

from tinyvgg.data import CLASS_NAMES
from tinyvgg.model import (
    LAYER_NAMES,
    CheckpointError,
    TinyVGG,
    TinyVGGConfig,
    build_model,
    checkpoint_bytes,
    count_params,
    load_checkpoint,
    same_kind,
    save_checkpoint,
)


class FashionMNISTModelV2(nn.Module):
    """An independent copy of learnpytorch.io's model (03_pytorch_computer_vision)."""

    def __init__(self, input_shape: int, hidden_units: int, output_shape: int, prefix="block"):
        super().__init__()

        def block(c_in):
            return nn.Sequential(
                nn.Conv2d(c_in, hidden_units, kernel_size=3, stride=1, padding=1),
                nn.ReLU(),
                nn.Conv2d(hidden_units, hidden_units, kernel_size=3, stride=1, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=2, stride=2),
            )

        self.prefix = prefix
        setattr(self, f"{prefix}_1", block(input_shape))
        setattr(self, f"{prefix}_2", block(hidden_units))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(in_features=hidden_units * 7 * 7, out_features=output_shape)
        )

    def forward(self, x):
        x = getattr(self, f"{self.prefix}_1")(x)
        x = getattr(self, f"{self.prefix}_2")(x)
        return self.classifier(x)


def test_notebook_shapes():
    model = build_model()
    x = torch.randn(1, 1, 28, 28)
    assert model(x).shape == torch.Size([1, 10])
    expected = {
        "conv_1_1": [1, 10, 28, 28], "relu_1_1": [1, 10, 28, 28], "conv_1_2": [1, 10, 28, 28],
        "relu_1_2": [1, 10, 28, 28], "max_pool_1": [1, 10, 14, 14], "conv_2_1": [1, 10, 14, 14],
        "relu_2_1": [1, 10, 14, 14], "conv_2_2": [1, 10, 14, 14], "relu_2_2": [1, 10, 14, 14],
        "max_pool_2": [1, 10, 7, 7], "flatten": [1, 490], "linear": [1, 10],
    }  # fmt: skip
    for name, layer in model.named_layers():
        x = layer(x)
        assert list(x.shape) == expected[name], name


def test_layer_names_and_kinds():
    model = build_model()
    names = [n for n, _ in model.named_layers()]
    assert names == list(LAYER_NAMES)
    kinds = [type(m).__name__ for _, m in model.named_layers()]
    assert kinds == ["Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d"] * 2 + ["Flatten", "Linear"]
    assert model.layer("conv_2_1") is model.conv_block_2[0]
    assert model.layer("linear") is model.classifier[1]


def test_parameter_names_match_the_notebook():
    ours = {k: v.shape for k, v in build_model().state_dict().items()}
    theirs = {
        k: v.shape
        for k, v in FashionMNISTModelV2(1, 10, 10, prefix="conv_block").state_dict().items()
    }
    assert ours == theirs
    assert count_params(build_model()) == 7_740  # 100 + 3 * 910 + 4_910


def test_seed_42_is_the_notebooks_init():
    torch.manual_seed(42)
    notebook = FashionMNISTModelV2(1, 10, 10, prefix="conv_block")
    ours = build_model(seed=42)
    for (k, a), (_, b) in zip(
        ours.state_dict().items(), notebook.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), k


@pytest.mark.parametrize("prefix", ["block", "conv_block"])
@pytest.mark.parametrize("hidden", [10, 16])
def test_notebook_state_dict_loads_with_identical_logits(tmp_path, prefix, hidden):
    torch.manual_seed(3)
    notebook = FashionMNISTModelV2(1, hidden, 10, prefix=prefix).eval()
    path = tmp_path / "model_2.pth"
    torch.save(notebook.state_dict(), path)  # exactly what the notebook saves
    model, metrics = load_checkpoint(path)
    assert model.config == TinyVGGConfig(1, hidden, 10)
    assert metrics == {}
    x = torch.randn(8, 1, 28, 28)
    with torch.inference_mode():
        assert torch.equal(model(x), notebook(x))


def test_checkpoint_round_trip(tmp_path):
    model = build_model(TinyVGGConfig(hidden_units=7), seed=1)
    path = tmp_path / "ck.pt"
    save_checkpoint(path, model, {"model_acc": 91.5, "history": [{"epoch": 0}]})
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"config", "state_dict", "metrics", "dataset"}
    assert raw["dataset"] == {"name": "Fashion-MNIST", "classes": list(CLASS_NAMES), "channels": 1}
    loaded, metrics = load_checkpoint(path)
    assert loaded.classes == CLASS_NAMES and loaded.dataset == "Fashion-MNIST"
    assert loaded.config.hidden_units == 7
    assert metrics["model_acc"] == 91.5
    for a, b in zip(loaded.state_dict().values(), model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert load_checkpoint(checkpoint_bytes(model))[0].config == model.config


def test_checkpoints_carry_the_dataset():
    classes = ("circle", "square", "star")
    model = build_model(TinyVGGConfig(input_shape=3, hidden_units=4, output_shape=3), seed=0,
                        classes=classes, dataset="shapes")  # fmt: skip
    loaded, _ = load_checkpoint(checkpoint_bytes(model))
    assert (loaded.classes, loaded.dataset, loaded.config) == (classes, "shapes", model.config)
    copy = same_kind(loaded, loaded.state_dict())
    assert (copy.classes, copy.dataset) == (classes, "shapes")
    assert torch.equal(copy.classifier[1].weight, model.classifier[1].weight)
    # a model without names: Fashion-MNIST's for 10 outputs, numbered otherwise
    assert TinyVGG(TinyVGGConfig(output_shape=3)).classes == ("class 0", "class 1", "class 2")
    with pytest.raises(ValueError):
        TinyVGG(TinyVGGConfig(output_shape=3), classes=("a", "b"))


@pytest.mark.parametrize("entry", [
    {"name": "shapes", "classes": ["a", "b"]},  # 2 names, 3 outputs
    {"name": "shapes", "classes": ["a", "b", 3]},
    {"name": "", "classes": ["a", "b", "c"]},
    {"name": "shapes", "classes": ["a", "b", "c" * 101]},
    {"name": "shapes", "classes": ["a", "b", "c"], "channels": 3},
    ["shapes"],
])  # fmt: skip
def test_a_bad_dataset_entry_is_one_sentence(entry):
    model = TinyVGG(TinyVGGConfig(output_shape=3))
    raw = torch.load(io.BytesIO(checkpoint_bytes(model)), weights_only=True)
    raw["dataset"] = entry
    buf = io.BytesIO()
    torch.save(raw, buf)
    with pytest.raises(CheckpointError, match="dataset entry|names .* classes"):
        load_checkpoint(buf.getvalue())


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/tinyvgg-pwned",))


def _one_sentence(message: str) -> bool:
    return message.count(". ") == 0 and message.endswith(".") and "\n" not in message


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"definitely not a checkpoint",
        pickle.dumps({"state_dict": _Evil()}),
        b"PK\x03\x04 truncated zip",
        "evil-torch-save",
    ],
    ids=["empty", "text", "malicious-pickle", "truncated-zip", "malicious-torch-save"],
)
def test_bad_files_give_one_sentence(payload):
    if os.path.exists("/tmp/tinyvgg-pwned"):
        os.remove("/tmp/tinyvgg-pwned")
    if payload == "evil-torch-save":
        payload = _saved({"state_dict": _Evil()})
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(payload)
    assert _one_sentence(str(err.value)), str(err.value)
    assert not os.path.exists("/tmp/tinyvgg-pwned")


@pytest.mark.parametrize(
    ("payload", "sentence"),
    [
        (b"not a checkpoint", "not a PyTorch checkpoint"),  # read as pickle opcodes, refused
        (b"hello world", "not a PyTorch checkpoint"),
        (pickle.dumps({"state_dict": _Evil()}), "plain Python pickle"),
        (pickle.dumps({"w": [1.0]}, protocol=5), "plain Python pickle"),
        ("evil-torch-save", "refused for safety"),
    ],
    ids=["text-as-opcodes", "text", "malicious-pickle", "plain-pickle", "malicious-torch-save"],
)
def test_the_sentence_names_the_cause(payload, sentence):
    """Junk is "not a checkpoint", a bare pickle is named as one, and only a torch.save file
    that holds code is "refused for safety"."""
    if payload == "evil-torch-save":
        payload = _saved({"state_dict": _Evil()})
    with pytest.raises(CheckpointError, match=sentence):
        load_checkpoint(payload)


def _saved(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    "obj",
    [
        torch.zeros(3),
        {"fc.weight": torch.zeros(2, 2)},
        {"config": {"hidden_units": 10}, "state_dict": {"a": 1}},
        {"config": {"colour": 3}, "state_dict": build_model().state_dict()},
        {"config": {"hidden_units": 12}, "state_dict": build_model().state_dict()},
        [1, 2, 3],
        {"config": {"hidden_units": 4096}, "state_dict": build_model().state_dict()},
        {**build_model().state_dict(), "classifier.1.weight": torch.zeros(1).expand(10**7, 490)},
    ],
    ids=[
        "tensor",
        "other-model",
        "non-tensor",
        "bad-config",
        "wrong-shape",
        "list",
        "config-claims-huge",
        "stride-0-giant",
    ],  # fmt: skip
)
def test_wrong_contents_give_one_sentence(obj):
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(_saved(obj))
    assert _one_sentence(str(err.value)), str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint file"):
        load_checkpoint(tmp_path / "nope.pt")


def test_repr_reads_like_the_notebook():
    text = repr(TinyVGG())
    assert "Conv2d(1, 10, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))" in text
    assert "MaxPool2d(kernel_size=2, stride=2, padding=0" in text
    assert "Linear(in_features=490, out_features=10, bias=True)" in text
