"""Evaluate a checkpoint on the 10k Fashion-MNIST test set.

    python -m tinyvgg.evaluate [--checkpoint PATH] [--device auto]

Prints the notebook's results dict as one JSON line. PATH may be the shipped checkpoint (the
default), one written by `python -m tinyvgg.train`, or a notebook `state_dict`.
"""

from __future__ import annotations

import argparse
import json
import sys

from tinyvgg.data import DataError, DeviceData, load_split
from tinyvgg.device import DeviceError, pick_device
from tinyvgg.model import SHIPPED_CHECKPOINT, CheckpointError, load_checkpoint
from tinyvgg.train import evaluate


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tinyvgg.evaluate", description=__doc__.split("\n")[0]
    )
    p.add_argument("--checkpoint", default=str(SHIPPED_CHECKPOINT))
    p.add_argument("--device", default=None, help="auto, cuda, mps or cpu")
    p.add_argument("--name", default=None, help="model_name in the results")
    args = p.parse_args(argv)
    try:
        device = pick_device(args.device)
        model, metrics = load_checkpoint(args.checkpoint)
        test = DeviceData.from_split(load_split("test"), device)
    except (CheckpointError, DataError, DeviceError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    name = args.name or metrics.get("model_name") or type(model).__name__
    print(json.dumps(evaluate(model.to(device), test, name=name)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
