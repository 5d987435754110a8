"""What the CUDA path's choices are worth, measured side by side on one GPU.

    python bench/cuda_probe.py [--epochs 3] [--images 10]

Prints one JSON line:
- `{tf32,fp32}_max_error`: over the conv layers, for `--images` test images, the largest gap
  between the GPU's activation and the same multiply-add done in float64 on the CPU (what the
  explorer shows and checks within 1e-5), with cuDNN's TF32 convolutions on (PyTorch's
  default) and off (what `tinyvgg.device.exact_fp32` sets); for the shipped model and, as
  `..._h32`, an untrained TinyVGG with 32 hidden units (forward pass only: a profile of the
  training step shows which of its gradient kernels are TF32);
- `cold_fit_s`: `fit()` in a fresh process (CUDA already initialised), with reproducible
  cuDNN kernels (the default) and with `cudnn_benchmark`, alternating, two runs each;
- `warm_fit_s`: the same in this process after a warm-up, and with eager steps
  (`cuda_graphs=False`) once;
- `seeded_repeat_max_diff`: the largest weight difference between two runs with one seed,
  for each cuDNN setting.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tinyvgg.data import load_split, to_float  # noqa: E402
from tinyvgg.model import TinyVGGConfig, build_model, load_shipped  # noqa: E402
from tinyvgg.train import TrainConfig, fit  # noqa: E402

CUDA = torch.device("cuda")


@torch.inference_mode()
def errors(model, x: torch.Tensor) -> float:
    """The largest conv-cell error against float64 on the CPU."""
    worst = 0.0
    h = x.to(CUDA)
    for _, layer in model.named_layers():  # the explicit loop trace() runs
        out = layer(h)
        if isinstance(layer, torch.nn.Conv2d):
            w, b = layer.weight.cpu().double(), layer.bias.cpu().double()
            exact = F.conv2d(h.cpu().double(), w, b, padding=layer.padding)
            worst = max(worst, (exact - out.cpu().double()).abs().max().item())
        h = out
    return worst


def timed_fit(cfg: TrainConfig, train, test) -> tuple[float, torch.nn.Module]:
    """fit()'s wall time with these settings, and its model."""
    t0 = time.perf_counter()
    result = fit(cfg, train=train, test=test)
    return time.perf_counter() - t0, result.model


MODES = {"deterministic": False, "benchmark": True}  # name: cudnn_benchmark


def cold(mode: str, epochs: int) -> float:
    """fit()'s time in a fresh process (this script with --cold)."""
    cmd = [sys.executable, __file__, "--cold", mode, "--epochs", str(epochs)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return round(float(done.stdout.strip().splitlines()[-1]), 3)


def main() -> None:
    """Run the CUDA probes and print one JSON line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--images", type=int, default=10)
    p.add_argument("--cold", choices=MODES, help=argparse.SUPPRESS)  # one fit; print its time
    args = p.parse_args()
    if not torch.cuda.is_available():
        sys.exit("error: this probe needs a CUDA GPU.")
    train, test = load_split("train"), load_split("test")
    if args.cold:
        cfg = TrainConfig(epochs=args.epochs, device="cuda", cudnn_benchmark=MODES[args.cold])
        torch.zeros(1, device=CUDA)  # the CUDA context, which the app has long before a run
        print(timed_fit(cfg, train, test)[0])
        return
    out = {"device": torch.cuda.get_device_name(), "torch": torch.__version__}
    models = {"": load_shipped()[0], "_h32": build_model(TinyVGGConfig(hidden_units=32), seed=0)}
    for suffix, model in models.items():
        model = model.to(CUDA).eval()
        for tf32 in (True, False):
            torch.backends.cudnn.allow_tf32 = tf32
            worst = max(errors(model, to_float(test.images[i : i + 1])) for i in range(args.images))
            out[f"{'tf32' if tf32 else 'fp32'}_max_error{suffix}"] = worst
    torch.backends.cudnn.allow_tf32 = False

    out["cold_fit_s"] = {mode: [] for mode in MODES}
    for _ in range(2):
        for mode in MODES:
            out["cold_fit_s"][mode].append(cold(mode, args.epochs))

    timed_fit(TrainConfig(epochs=1, subset=4096, device="cuda"), train, test)  # warm up
    warm = out["warm_fit_s"] = {}
    for mode, bench in MODES.items():
        cfg = TrainConfig(epochs=args.epochs, device="cuda", cudnn_benchmark=bench)
        warm[mode] = round(timed_fit(cfg, train, test)[0], 3)
    cfg = TrainConfig(epochs=args.epochs, device="cuda", cuda_graphs=False)
    warm["eager_steps"] = round(timed_fit(cfg, train, test)[0], 3)

    out["seeded_repeat_max_diff"] = {}
    for mode, bench in MODES.items():
        one = TrainConfig(epochs=1, subset=8192, device="cuda", cudnn_benchmark=bench)
        a, b = timed_fit(one, train, test)[1], timed_fit(one, train, test)[1]
        pairs = zip(a.parameters(), b.parameters(), strict=True)
        out["seeded_repeat_max_diff"][mode] = max((x - y).abs().max().item() for x, y in pairs)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
