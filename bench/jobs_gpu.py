"""A Celery worker on a GPU, as the README's deployment runs one (issue 28): a fresh redis-server,
`python -m tinyvgg.jobs worker` with TINYVGG_DEVICE=cuda, and jobs submitted as the app
submits them (CeleryJobs, device left to the worker); their events, model and results come
back through Redis. Run by bench/gpu_checks.sh (step `jobs`); needs redis-server and celery.

    python bench/jobs_gpu.py [--epochs 6] [--device cuda]

Prints one JSON line: the device each run reports, its steps, seconds from submit to the
first step and to the end, test accuracy, and the checkpoint's predictions on the CPU against
the worker's own (the model travels intact).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from harness.servers import celery_worker, redis_server  # noqa: E402
from tinyvgg.data import to_float  # noqa: E402
from tinyvgg.jobs import CeleryJobs  # noqa: E402
from tinyvgg.model import load_checkpoint  # noqa: E402
from tinyvgg.shapes import shapes  # noqa: E402
from tinyvgg.train import TrainConfig  # noqa: E402


def one_run(jobs: CeleryJobs, cfg: TrainConfig, timeout: float) -> dict:
    """Submit `cfg`, follow it to its end; what it reported."""
    t0 = time.monotonic()
    run = jobs.submit(cfg)
    first = None
    while run.status not in ("finished", "stopped", "failed", "cancelled"):
        if first is None and any(e["kind"] == "step" for e in run.events_since(0)):
            first = time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            run.stop()
            break
        time.sleep(0.02)
    run.wait(30)
    events = run.events_since(0)
    start = next((e for e in events if e["kind"] == "start"), {})
    out = {"status": run.status, "error": run.error, "device": start.get("device"),
           "steps": max((e["global_step"] for e in events if e["kind"] == "step"), default=0),
           "first_step_s": round(first, 2) if first else None,
           "total_s": round(time.monotonic() - t0, 2)}  # fmt: skip
    if run.checkpoint:
        model, _ = load_checkpoint(run.checkpoint)  # on the CPU, here
        data = shapes()
        with torch.no_grad():
            preds = model(to_float(data.test_images)).argmax(1)
        agree = float((preds == run.test_preds).float().mean())
        out |= {"test_acc": run.results.get("model_acc"), "cpu_agrees_with_worker": agree,
                "train_time_s": run.results.get("train_time_s")}  # fmt: skip
    return out


def main() -> None:
    """Run the check and print one JSON line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--device", default="cuda", help="the worker's TINYVGG_DEVICE")
    p.add_argument("--timeout", type=float, default=120)
    args = p.parse_args()
    # the README's recipe for the shapes demo (93.5% on a CPU); "auto": the worker decides
    cfg = TrainConfig(data="shapes", optimizer="adam", lr=0.003, epochs=args.epochs, batch_size=16,
                      hidden_units=16, seed=0, log_every=10, device="auto")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with redis_server(folder) as url:
            broker = f"{url}/0"
            with celery_worker(broker, folder / "worker.log", device=args.device):
                jobs = CeleryJobs(broker)
                out = {"worker_device": args.device,
                       "cold": one_run(jobs, cfg, args.timeout),  # the worker's first job
                       "warm": one_run(jobs, replace(cfg, seed=1), args.timeout)}  # fmt: skip
            out["worker_log_tail"] = (folder / "worker.log").read_text()[-600:]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
