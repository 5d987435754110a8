"""Training inside the app vs the CLI, and the wait for the first chart point (a benchmark).

    python bench/train_page.py [--trials 3] [--subset "all 60,000"] [--epochs 1] [--browser-nice 0]

For each trial, in a real Streamlit server driven by Debian's Chromium: open /train, wait for
the warm worker to be idle, press Start and time the first point on the chart; let the run
finish with the live view refreshing every second; download its checkpoint (its metrics hold
the worker's numbers). Then run `python -m tinyvgg.train` with the same TrainConfig (threads
and logging included) while nothing else of ours runs. Two speeds are compared:
  reported  the median of the images/s that the worker / the CLI report while training
            (step events; the CLI's tqdm `img_s`), the first window left out
  overall   training images / fit()'s train_time_s (per-epoch test scoring included)
Prints one JSON line with medians over trials, the ratios app/CLI, and how busy the machine was.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import psutil
import torch
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from harness.pages import POINTS_JS, choose, open_train_page  # noqa: E402
from harness.servers import launch_browser, streamlit_server  # noqa: E402
from tinyvgg.model import load_checkpoint  # noqa: E402


def server_of(url: str) -> psutil.Process:
    """The Streamlit server process listening at `url`."""
    port = url.rsplit(":", 1)[1]
    return next(p for p in psutil.Process().children() if port in p.cmdline())


def wait_for_idle_spare(server: psutil.Process, timeout: float = 120) -> None:
    """Until the server's one worker process (the warm spare) has stopped using the CPU."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        spawned = [c for c in server.children() if "spawn_main" in " ".join(c.cmdline())]
        if len(spawned) == 1 and spawned[0].cpu_percent(interval=0.5) < 5:
            return
        time.sleep(0.5)
    raise RuntimeError("the warm worker did not become idle")


class OtherLoad:
    """Cores used by processes other than this one and its children, between start and stop."""

    def _times(self) -> dict[int, float]:
        ours = {psutil.Process().pid, *(c.pid for c in psutil.Process().children(recursive=True))}
        out = {}
        for p in psutil.process_iter():
            if p.pid not in ours:
                try:
                    t = p.cpu_times()
                    out[p.pid] = t.user + t.system
                except psutil.Error:
                    pass
        return out

    def __enter__(self) -> OtherLoad:
        self.t0, self.before = time.monotonic(), self._times()
        return self

    def __exit__(self, *exc) -> None:
        after = self._times()
        used = sum(t - self.before.get(pid, 0.0) for pid, t in after.items())
        self.cores = round(used / (time.monotonic() - self.t0), 2)


def cpu_seconds(procs: list[psutil.Process]) -> float:
    """CPU seconds used so far by these processes."""
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def browser_procs() -> list[psutil.Process]:
    """Chromium's processes (and Playwright's driver), all children of this process."""
    return [
        p for p in psutil.Process().children(recursive=True)
        if p.name().startswith(("chrom", "node", "headless"))
    ]  # fmt: skip


def app_trial(page, url: str, server: psutil.Process, subset: str, epochs: int) -> dict:
    """One run started from the page: first chart point, speeds, results."""
    open_train_page(page, url)
    choose(page, "Training images", subset)
    slider = page.get_by_test_id("stSlider").filter(has_text="Epochs").get_by_role("slider")
    slider.focus()
    slider.press("Home")
    for _ in range(epochs - 1):
        slider.press("ArrowRight")
    wait_for_idle_spare(server)
    browser = browser_procs()
    server_cpu, browser_cpu = cpu_seconds([server]), cpu_seconds(browser)
    with OtherLoad() as busy:
        page.get_by_role("button", name="Start training").click()
        t0 = time.monotonic()
        while page.evaluate(POINTS_JS) < 1:
            time.sleep(0.02)
        first_point = time.monotonic() - t0
        page.get_by_text("Compare the runs").wait_for(timeout=3_600_000)
        wall = time.monotonic() - t0
    cpu = {"server": (cpu_seconds([server]) - server_cpu) / wall,
           "browser": (cpu_seconds(browser) - browser_cpu) / wall}  # fmt: skip
    with page.expect_download() as download:
        page.get_by_role("button", name="Download checkpoint (.pt)").click()
    _, metrics = load_checkpoint(download.value.path())
    return {"first_point_s": first_point, "metrics": metrics, "other_cores": busy.cores,
            "cores_used_while_running": {k: round(v, 2) for k, v in cpu.items()}}  # fmt: skip


def cli_trial(cfg: dict) -> dict:
    """The same run through `python -m tinyvgg.train`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cli.pt"
        args = [sys.executable, "-m", "tinyvgg.train", "--epochs", str(cfg["epochs"]),
                "--lr", str(cfg["lr"]), "--batch-size", str(cfg["batch_size"]),
                "--hidden-units", str(cfg["hidden_units"]), "--optimizer", cfg["optimizer"],
                "--seed", str(cfg["seed"]), "--device", cfg["device"],
                "--threads", str(cfg["threads"]), "--log-every", str(cfg["log_every"]),
                "--test-subset", str(cfg["test_subset"]), "--out", str(out)]  # fmt: skip
        if cfg["subset"]:
            args += ["--subset", str(cfg["subset"])]
        with OtherLoad() as busy:
            p = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True)
        _, metrics = load_checkpoint(out)
    reported = [float(x) for x in re.findall(r"img_s=(\d+)", p.stderr)]
    return {"reported": median(reported[1:] or reported), "metrics": metrics,
            "other_cores": busy.cores}  # fmt: skip


def overall(metrics: dict) -> float:
    """Training images per second over the whole run."""
    cfg = metrics["train_config"]
    return (cfg["subset"] or 60_000) * metrics["epochs_done"] / metrics["train_time_s"]


def main() -> None:
    """Run the trials and print one JSON line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trials", type=int, default=3)
    p.add_argument("--subset", default="all 60,000", help="the page's option label")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument(
        "--run-threads",
        type=int,
        default=None,
        help="$TINYVGG_RUN_THREADS for the server (default: the app's own choice)",
    )
    p.add_argument("--browser-nice", type=int, default=0,
                   help="run Chromium at this niceness: in class the browser is on another "
                        "machine, here it shares the server's cores")  # fmt: skip
    args = p.parse_args()
    rows = []
    env = {"TINYVGG_RUN_THREADS": str(args.run_threads)} if args.run_threads else {}
    with streamlit_server(env) as url, sync_playwright() as pw:
        browser = launch_browser(pw)
        server = server_of(url)
        for trial in range(args.trials):
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(120_000)
            for proc in browser_procs():
                with contextlib.suppress(psutil.Error):
                    proc.nice(args.browser_nice)
            app = app_trial(page, url, server, args.subset, args.epochs)
            page.context.close()
            cli = cli_trial(app["metrics"]["train_config"])
            rows.append({"app": app, "cli": cli})
            print(f"trial {trial + 1}: first point {app['first_point_s']:.2f} s, app "
                  f"{app['metrics']['images_per_s']:.0f} vs cli {cli['reported']:.0f} img/s; "
                  f"others used {app['other_cores']} / {cli['other_cores']} cores",
                  file=sys.stderr)  # fmt: skip
        browser.close()
    app_rep = median(r["app"]["metrics"]["images_per_s"] for r in rows)
    cli_rep = median(r["cli"]["reported"] for r in rows)
    app_all = median(overall(r["app"]["metrics"]) for r in rows)
    cli_all = median(overall(r["cli"]["metrics"]) for r in rows)
    print(json.dumps({
        "device": rows[0]["app"]["metrics"]["device"], "trials": args.trials,
        "browser_nice": args.browser_nice,
        "train_config": rows[0]["app"]["metrics"]["train_config"],
        "first_point_s": [round(r["app"]["first_point_s"], 2) for r in rows],
        "first_point_s_median": round(median(r["app"]["first_point_s"] for r in rows), 2),
        "app_reported_img_s": round(app_rep), "cli_reported_img_s": round(cli_rep),
        "reported_ratio": round(app_rep / cli_rep, 3),
        "app_overall_img_s": round(app_all), "cli_overall_img_s": round(cli_all),
        "overall_ratio": round(app_all / cli_all, 3),
        "machine": {"cpus": os.cpu_count(), "torch_threads_default": torch.get_num_threads(),
                    "loadavg_at_end": os.getloadavg(),
                    "other_cores_during_app": [r["app"]["other_cores"] for r in rows],
                    "other_cores_during_cli": [r["cli"]["other_cores"] for r in rows],
                    "app_cores_used": [r["app"]["cores_used_while_running"] for r in rows]},
    }))  # fmt: skip


if __name__ == "__main__":
    main()
