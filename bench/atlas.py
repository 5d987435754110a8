"""The channel atlas's time, and what a run's snapshots (the training replay) cost training.

    python bench/atlas.py [--repeats 5] [--train] [--replay-runs 3] [--replay-images 10000]

Atlas: `tinyvgg.atlas.build_atlas` for the shipped model over the 10,000 test images (and, with
`--train`, the 60,000 training images), every channel of every conv, ReLU and max-pool layer;
p50 and max over the repeats, after one untimed build. The issue's target: at most 10 s on the
2-core development machine for the test set.

Replay: one epoch of `fit()` on `--replay-images` training images with the training page's
recipe, with snapshots (TrainConfig's default, and the page's probe) and without, alternating
(the machine is noisy), `--replay-runs` of each; the ratio of the medians of the training
times. The issue's target: under 3% slower with snapshots. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tinyvgg.atlas import build_atlas  # noqa: E402
from tinyvgg.data import load_split  # noqa: E402
from tinyvgg.model import load_shipped  # noqa: E402
from tinyvgg.train import TrainConfig, fit  # noqa: E402

ATLAS_TARGET_S = 10.0
REPLAY_TARGET = 1.03


def time_atlas(split: str, repeats: int) -> dict:
    """p50 and max seconds of the shipped model's atlas over one split."""
    model = load_shipped()[0].eval()
    data = load_split(split)
    images = data.images.unsqueeze(1)
    build_atlas(model, images[:1000], data.labels[:1000])  # warm-up: allocations, kernels
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        build_atlas(model, images, data.labels)
        times.append(time.perf_counter() - t0)
    return {"images": len(data.labels), "p50_s": round(statistics.median(times), 3),
            "max_s": round(max(times), 3)}  # fmt: skip


def time_replay(runs: int, images: int, probe: int) -> dict:
    """Median training seconds of one epoch with and without snapshots, alternating."""
    train, test = load_split("train"), load_split("test")
    base = TrainConfig(epochs=1, subset=images, clip_norm=2.0, batch_size=32, log_every=50)
    on, off = (
        TrainConfig(**{**base.__dict__, "probe": probe}),
        TrainConfig(**{**base.__dict__, "snapshots": 0}),
    )
    times: dict[str, list[float]] = {"with": [], "without": []}
    kept = 0
    for _ in range(runs):
        for name, cfg in (("without", off), ("with", on)):
            result = fit(cfg, train=train, test=test)
            times[name].append(result.results["train_time_s"])
            if name == "with":
                kept = len(result.snapshots)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"images": images, "runs": runs, "probe": probe, "snapshots": kept,
            "with_s": times["with"], "without_s": times["without"],
            "ratio": round(med["with"] / med["without"], 4)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run both measurements, print a table and one JSON line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--train", action="store_true", help="also the 60,000 training images")
    p.add_argument("--replay-runs", type=int, default=3, help="0: skip the replay")
    p.add_argument("--replay-images", type=int, default=10_000)
    p.add_argument("--probe", type=int, default=None, help="probe images (default: the page's)")
    args = p.parse_args(argv)
    out = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    out["atlas_test"] = time_atlas("test", args.repeats)
    print(f"atlas, 10,000 test images: p50 {out['atlas_test']['p50_s']:.2f} s, "
          f"max {out['atlas_test']['max_s']:.2f} s (target {ATLAS_TARGET_S:.0f} s)")  # fmt: skip
    if args.train:
        out["atlas_train"] = time_atlas("train", max(1, args.repeats // 2))
        print(f"atlas, 60,000 training images: p50 {out['atlas_train']['p50_s']:.2f} s")
    out["atlas_meets_target"] = out["atlas_test"]["max_s"] <= ATLAS_TARGET_S
    if args.replay_runs:
        probe = args.probe if args.probe is not None else page_probe()
        r = out["replay"] = time_replay(args.replay_runs, args.replay_images, probe)
        print(f"one epoch on {r['images']:,} images: with {r['snapshots']} snapshots "
              f"{statistics.median(r['with_s']):.2f} s, without "
              f"{statistics.median(r['without_s']):.2f} s: x{r['ratio']:.3f} "
              f"(target under x{REPLAY_TARGET})")  # fmt: skip
        out["replay_meets_target"] = r["ratio"] < REPLAY_TARGET
    print(json.dumps(out))
    return 0


def page_probe() -> int:
    """The probe the training page gives its runs (0 when it gives none)."""
    try:
        from ui.training import REPLAY_PROBE  # the page's setting, if it has one
    except ImportError:
        return 0
    return int(REPLAY_PROBE)


if __name__ == "__main__":
    raise SystemExit(main())
