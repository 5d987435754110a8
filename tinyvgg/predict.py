"""Classify image files with a TinyVGG, through the same preprocessing as the app's draw page.

    python -m tinyvgg.predict [--checkpoint PATH] [--top 3] [--no-invert] IMAGE...

A greyscale model gets the draw page's preprocessing (tinyvgg.preprocess); an RGB one the
conversion its dataset's images had (tinyvgg.folders.to_input). Class names are the model's own.
Prints one JSON line per image: {"file": ..., "top": [{"class": ..., "prob": ...}, ...],
"unsure": ...} or {"file": ..., "error": "one sentence"}; exits 1 if any image failed, 2 if the
model did not load. Probabilities are calibrated with the checkpoint's temperature where it has
one; "unsure" is true when the top one is under tinyvgg.calibration.UNSURE_BELOW.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from tinyvgg.calibration import calibrated, is_unsure, temperature_of
from tinyvgg.data import class_names
from tinyvgg.datasets import DatasetError, is_builtin
from tinyvgg.device import DeviceError, pick_device
from tinyvgg.folders import to_input
from tinyvgg.model import SKETCH_CHECKPOINT, CheckpointError, TinyVGG, load_checkpoint
from tinyvgg.preprocess import PreprocessError, open_image, read_input

MAX_FILE_MB = 50  # the CLI reads whole files; the app's own limit is server.maxUploadSize


@torch.inference_mode()
def probabilities(
    model: TinyVGG, x: torch.Tensor, device: torch.device, temperature: float = 1.0
) -> torch.Tensor:
    """softmax(logits / temperature) for one (C, 28, 28) input -> (classes,) on the CPU."""
    logits = model(x.unsqueeze(0).to(device))  # (1, classes)
    return calibrated(logits.float(), temperature)[0].cpu()


def top_k(
    probs: torch.Tensor, k: int = 3, classes: Sequence[str] | None = None
) -> list[tuple[str, float]]:
    """The k most likely (class name, probability), most likely first; `classes` are the
    model's (`model.classes`), by default Fashion-MNIST's for 10, else "class 0", ..."""
    names = tuple(classes) if classes is not None else class_names(probs.numel())
    values, indices = probs.topk(min(k, probs.numel()))
    return [(names[i], float(v)) for v, i in zip(values.tolist(), indices.tolist(), strict=True)]


def model_input(data: bytes, model: TinyVGG, auto_invert: bool = True) -> torch.Tensor:
    """An image file's bytes as the (C, 28, 28) float input in [0, 1] `model` takes: for a
    model of the user's own images, the conversion its images had (`as_dataset_reads`); else
    the draw page's preprocessing for a greyscale model and the folder conversion in RGB for
    an RGB one. PreprocessError with one sentence for what cannot be used."""
    channels = model.config.input_shape
    own = channels if channels in (1, 3) and not is_builtin(model.dataset) else 0
    if own or channels == 1:
        return read_input(data, own, auto_invert=auto_invert).tensor
    if channels != 3:
        raise PreprocessError(f"This model takes {channels} channels; images give 1 or 3.")
    image, _ = open_image(data)
    try:
        return to_input(image, channels=3).float().div(255)
    except DatasetError as e:  # a colour mode Pillow cannot convert
        raise PreprocessError(str(e)) from e


def cli_model(checkpoint: str, device: str | None) -> tuple[TinyVGG, torch.device, float] | None:
    """A command line's model, in eval mode on its device, and its temperature; None after
    printing one line that says why it did not load (the command then exits 2)."""
    try:
        where = pick_device(device)
        model, metrics = load_checkpoint(checkpoint)
    except (CheckpointError, DeviceError) as e:
        print(f"error: {e}", file=sys.stderr)
        return None
    return model.to(where).eval(), where, temperature_of(metrics)


def read_image_file(path: str) -> bytes:
    """A file's bytes, up to MAX_FILE_MB; PreprocessError with one sentence otherwise."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_MB * 2**20:
            raise PreprocessError(f"The file is {size / 2**20:.0f} MB, over {MAX_FILE_MB} MB.")
        return p.read_bytes()
    except IsADirectoryError as e:
        raise PreprocessError("This is a folder, not an image file.") from e
    except FileNotFoundError as e:
        raise PreprocessError("No such file.") from e
    except OSError as e:
        raise PreprocessError(f"The file cannot be read ({e.strerror or e}).") from e


def classify_file(
    path: str,
    model: TinyVGG,
    device: torch.device,
    top: int = 3,
    auto_invert: bool = True,
    temperature: float = 1.0,
) -> dict:
    """One JSON-ready line for one file: its top classes, or its error as one sentence."""
    try:
        x = model_input(read_image_file(path), model, auto_invert)
    except PreprocessError as e:
        return {"file": path, "error": str(e)}
    probs = probabilities(model, x, device, temperature)
    pairs = top_k(probs, top, model.classes)
    return {"file": path, "top": [{"class": c, "prob": p} for c, p in pairs],
            "unsure": is_unsure(probs)}  # fmt: skip


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def main(argv: list[str] | None = None) -> int:
    """Predict images from the command line: one JSON line per image; exit code 1 if any failed."""
    p = argparse.ArgumentParser(
        prog="python -m tinyvgg.predict", description=__doc__.split("\n")[0]
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="PNG, JPEG, WebP, BMP or GIF files")
    p.add_argument("--checkpoint", default=str(SKETCH_CHECKPOINT),
                   help="default: the shipped sketch model, the best on drawings")  # fmt: skip
    p.add_argument("--top", type=_positive, default=3, help="how many classes to list")
    p.add_argument("--no-invert", action="store_true", help="never invert light backgrounds")
    p.add_argument("--device", default=None, help="auto, cuda, mps or cpu")
    args = p.parse_args(argv)
    if (loaded := cli_model(args.checkpoint, args.device)) is None:
        return 2
    model, device, temperature = loaded
    failed = False
    for path in args.images:
        line = classify_file(path, model, device, args.top, not args.no_invert, temperature)
        failed |= "error" in line
        print(json.dumps(line), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
