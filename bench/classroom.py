"""A classroom on one server: 30 students exploring, drawing and training at once (a benchmark).

    python bench/classroom.py                        # 30 sessions, 120 s measured
    python bench/classroom.py --sessions 5 --seconds 30 --no-browser   # a quick check
    python bench/classroom.py --soak 600             # 10 minutes, tabs closing and reopening
    python bench/classroom.py --compare              # one process, then replicas behind nginx
    python bench/classroom.py --url http://127.0.0.1:8080   # a running deployment

Starts the app (harness/servers.py), then opens `--sessions` real Streamlit sessions, a few
seconds apart (`--ramp`). `--trainers` of them (default 2) sit on /train: they pick a small
subset and many epochs, press Start, let the live view refresh itself, and press Start again
whenever their run ends, so one or two runs are always training or queued. Of the others, a
third (`--drawers`) also visit /draw now and then: the Upload tab, an upload of a Fashion-MNIST
garment (enlarged, dark on white, as a phone photo would be), then "Explore layer by layer".
The rest step through the explorer: Next through the layers, sometimes Prev, another sample,
Random, or a layer from the selectbox. Each waits `--think` seconds (uniform) between actions.
After the ramp the measurement runs `--seconds`; then every tab closes and, after `--grace`
seconds, the server's children are checked: no training worker may be left behind (the one
idle warm spare is expected).

An interaction is timed from sending it until its run chain has finished (`script_finished`,
after the callback's rerun if any) and all its output has arrived. Errors are exceptions the
app shows, st.error sentences, timeouts (`--timeout`), disconnects and missing widgets. The
live view's own refreshes are load, reported apart. Memory is the RSS of the server and its
children (psutil, once a second), CPU in cores; see classroom_monitor.py.

`--soak S` runs S seconds with churn: every tab closes after `--life` seconds (uniform) and a
new one opens in its place (trainers' tabs too, mid-run); memory is reported per minute, with
the first and last minute and the slope. Either mode prints one JSON line.

The client speaks Streamlit's own websocket protocol (st_client.py) rather than driving 30
headless Chromium pages: on this 2-core machine 30 browsers would measure the browsers, not the
server. `--browser` (on by default, `--no-browser` to skip) cross-checks it with one real
Chromium page during the measurement: Next through every layer, timed until painted, and the
page checked for exceptions and error messages (classroom_browser.py).

Where it runs: by default the benchmark starts one app process, which trains in worker
processes of its own. `--deploy replicas` starts deploy/local.sh's layout instead (Redis, one
Celery worker, two app replicas with TINYVGG_BROKER, nginx in front; harness/servers.py);
`--compare` runs both, one after the other with the same seed, and prints one JSON line with
both results and a side-by-side summary (`compare`: p50/p95, errors, the explorer's Next, and
where the CPU went: app servers, training, nginx + Redis, this client, the rest). `--url URL`
loads a deployment that already runs (deploy/local.sh, or another machine's); processes of
this machine named like a deployment's (streamlit run, a Celery worker, nginx, redis-server)
are measured as its parts.

Other options: `--max-runs N` sets TINYVGG_MAX_RUNS for the server (default: the app's own,
cores - 1); `--subset`/`--epochs` the trainers' settings; `--seed` the random choices.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import classroom_monitor as mon  # noqa: E402
from classroom_roles import ROLES, Context, garment_pngs  # noqa: E402
from st_client import StClient  # noqa: E402

from harness.servers import deployment, streamlit_server  # noqa: E402


def pct(values: list[float], q: float) -> float | None:
    """The q-quantile of `values`, rounded."""
    if not values:
        return None
    values = sorted(values)
    return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 1)


def times(records: list[dict]) -> dict:
    """Count, p50, p95 and max of these timed interactions, in milliseconds."""
    s = [r["s"] for r in records]
    return {"n": len(s), "p50_ms": pct(s, 0.5), "p95_ms": pct(s, 0.95),
            "max_ms": round(1000 * max(s), 1) if s else None}  # fmt: skip


def metrics(url: str) -> dict:
    """The server's own session counters (/_stcore/metrics)."""
    q = "?families=active_sessions&families=session_events"
    try:
        with urllib.request.urlopen(url + "/_stcore/metrics" + q, timeout=10) as r:
            text = r.read().decode()
    except OSError as e:  # e.g. the server has gone: reported, the run goes on
        return {"unavailable": str(e)[:100]}
    out = {}
    for line in text.splitlines():  # active_sessions 30 / session_events_total{type="connect"} 31
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name.split('"')[1] if '"' in name else name] = int(value)
    return out


async def slot(i: int, role: str, ctx: Context) -> None:
    """One student's seat: a tab in this role, reopened when it breaks or (soak) expires."""
    rng = random.Random(ctx.seed * 1000 + i)
    await ctx.pause(i * ctx.ramp / max(ctx.sessions, 1))
    page, query, behave = ROLES[role]
    while not ctx.stop.is_set():
        end = time.monotonic() + (rng.uniform(*ctx.life) if ctx.life else 1e9)
        q = query(rng) + ("&pane=0" if ctx.classic and page == "explore" else "")
        tab = StClient(ctx.url, page, q.lstrip("&"), timeout=ctx.timeout)
        try:
            await ctx.measured("open", tab, tab.open())
            await behave(tab, ctx, rng, end)
        except Exception as e:  # the tab broke: recorded, and a new tab takes its place
            if not getattr(e, "recorded", False):
                text = f"{type(e).__name__}: {e}"[:200]
                ctx.errors.append({"t": round(ctx.monitor.now(), 1), "kind": "client",
                                   "action": role, "text": text})  # fmt: skip
            await ctx.pause(1.0)
        finally:
            await tab.close()
            ctx.tabs_closed += 1


async def classroom(ctx: Context, args, replicas: list[str]) -> dict:
    """Every session, started a few seconds apart (`--ramp`), for the measured time."""
    roles = ["trainer"] * args.trainers + ["drawer"] * args.drawers
    roles += ["student"] * (args.sessions - len(roles))
    for url in replicas:  # each server's first run loads everything
        warm = StClient(url, "explore", timeout=120)
        await warm.open()
        await warm.close()
    tasks = [asyncio.create_task(slot(i, r, ctx)) for i, r in enumerate(roles)]
    await ctx.pause(ctx.ramp + 5)
    ctx.window = (ctx.monitor.now(), ctx.monitor.now() + args.seconds)
    browser = None
    if args.browser:
        from classroom_browser import cross_check

        browser = asyncio.create_task(
            asyncio.to_thread(cross_check, ctx.url, ctx.seed, ctx.classic)
        )
    await ctx.pause(args.seconds / 2)
    active = [await asyncio.to_thread(metrics, u) for u in replicas]
    await ctx.pause(args.seconds / 2)
    ctx.stop.set()
    await asyncio.gather(*tasks)
    return {"server_sessions_mid_window": active[0] if len(active) == 1 else active,
            "browser": await browser if browser else None}  # fmt: skip


def report(ctx: Context, args, extra: dict, before: dict, after: dict) -> dict:
    """The JSON line's dict."""
    t0, t1 = ctx.window
    inside = [r for r in ctx.records if t0 <= r["t"] < t1]
    acts = [r for r in inside if r["kind"] not in ("open", "refresh")]
    kinds = sorted({r["kind"] for r in ctx.records})
    samples = [s for s in ctx.monitor.samples if t0 <= s.t < t1]
    out = {
        "mode": "soak" if args.soak else "bench", "sessions": args.sessions,
        "trainers": args.trainers, "drawers": args.drawers, "seconds": args.seconds,
        "think_s": ctx.think, "interactions": len(acts),
        "p50_ms": pct([r["s"] for r in acts], 0.5), "p95_ms": pct([r["s"] for r in acts], 0.95),
        "max_ms": round(1000 * max((r["s"] for r in acts), default=0), 1),
        "errors": len(ctx.errors),
        "error_kinds": {k: sum(e["kind"] == k for e in ctx.errors)
                        for k in sorted({e["kind"] for e in ctx.errors})},
        "error_examples": ctx.errors[:5],
        "by_kind": {k: times(rs) for k in kinds if (rs := [r for r in inside if r["kind"] == k])},
        "opens_all": times([r for r in ctx.records if r["kind"] == "open"]),
        "training": {"runs_started": ctx.runs_started, "runs_ended": ctx.runs_ended},
        "tabs_closed": ctx.tabs_closed,
        "server": mon.summary(samples),
        "server_whole_run": {k: v for k, v in mon.summary(ctx.monitor.samples).items()
                             if k.endswith("peak_mb") or k == "children_max"},
        "machine_before": before, **extra, "after_close": after,
    }  # fmt: skip
    if args.soak:
        out["memory_trend"] = mon.trend(samples)
    return out


@contextlib.contextmanager
def started(kind: str, args, folder: Path) -> Iterator[tuple[str, list[str], dict]]:
    """(the URL to load, each app server's URL, the deployment's processes by part): one app
    process with its own training workers ("one"), or deploy/local.sh's layout ("replicas":
    Redis, a Celery worker, two replicas, nginx); stopped afterwards."""
    if kind == "one":
        env = {"TINYVGG_MAX_RUNS": str(args.max_runs)} if args.max_runs else {}
        with streamlit_server(env) as url:
            yield url, [url], {"app": [mon.server_of(url)], "training": [], "proxy": []}
    else:
        with deployment(folder) as d:
            yield d.url, d.replicas, mon.parts_of(psutil.Process().children())


def measure(args, url: str, replicas: list[str], parts: dict) -> dict:
    """The classroom on the deployment at `url` (its app servers at `replicas`, where known),
    after a look at how busy the machine is; the JSON line's dict."""
    before = mon.machine_load()
    monitor = mon.Monitor(parts).start()
    ctx = Context(url=url, monitor=monitor, sessions=args.sessions, ramp=args.ramp,
                  think=tuple(map(float, args.think.split(","))), timeout=args.timeout,
                  life=tuple(map(float, args.life.split(","))) if args.soak else None,
                  subset=args.subset, epochs=args.epochs, seed=args.seed,
                  images=garment_pngs(16, args.seed), classic=args.classic)  # fmt: skip
    extra = asyncio.run(classroom(ctx, args, replicas))
    time.sleep(args.grace)
    after = mon.leftovers(parts)
    after["server_sessions"] = [metrics(u) for u in replicas]
    monitor.stop()
    after["rss_mb"] = round(monitor.samples[-1].rss_mb) if monitor.samples else None
    after["server_exited_at_s"] = monitor.server_gone_at  # None: it served to the end
    logs = [ROOT / ".pytest_cache" / f"streamlit-{u.rsplit(':', 1)[1]}.log" for u in replicas]
    logs = [log for log in logs if log.exists()]
    after["server_logs"] = [str(log.relative_to(ROOT)) for log in logs]
    after["server_log_tracebacks"] = sum(
        log.read_text(errors="replace").count("Traceback") for log in logs
    )
    out = report(ctx, args, extra, before, after)
    out["deployment"] = {k: len(v) for k, v in parts.items()} | {"url": url}
    return out


def side_by_side(one: dict, replicas: dict) -> dict:
    """The figures to compare: replicas' over one process's."""

    def ratio(a, b):
        return round(a / b, 2) if a and b else None

    keys = ("p50_ms", "p95_ms", "errors", "interactions")
    out = {k: [one[k], replicas[k]] for k in keys}
    out |= {f"next_{k}": [one["by_kind"].get("next", {}).get(k), replicas["by_kind"].get(
        "next", {}).get(k)] for k in ("p50_ms", "p95_ms")}  # fmt: skip
    out["p95_ratio"] = ratio(replicas["p95_ms"], one["p95_ms"])
    out["cores"] = {part: [one["server"].get(f"{part}_cores_mean"),
                           replicas["server"].get(f"{part}_cores_mean")]
                    for part in ("server", "worker", "proxy", "client", "others")}  # fmt: skip
    return out


def main() -> None:
    """Run the classroom benchmark and print one JSON line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sessions", type=int, default=30)
    p.add_argument("--seconds", type=float, default=120, help="measured time after the ramp")
    p.add_argument("--soak", type=float, default=0, help="seconds of soak, with tab churn")
    p.add_argument("--trainers", type=int, default=2)
    p.add_argument("--drawers", type=int, default=None, help="default: a third of the rest")
    p.add_argument("--think", default="2,6", help="seconds between a tab's actions: min,max")
    p.add_argument("--life", default="60,180", help="soak: a tab's lifetime in s: min,max")
    p.add_argument("--ramp", type=float, default=15, help="seconds over which tabs open")
    p.add_argument("--timeout", type=float, default=30, help="seconds before a run is late")
    p.add_argument("--grace", type=float, default=15, help="after closing, before the check")
    p.add_argument("--max-runs", type=int, default=None, help="TINYVGG_MAX_RUNS")
    p.add_argument("--subset", default="10,000", help="trainers' 'Training images' option")
    p.add_argument("--epochs", type=int, default=20, help="trainers' epochs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--classic", action="store_true", help="the explorer's layer view drawn "
                   "with Streamlit's widgets (?pane=0), not the element")  # fmt: skip
    p.add_argument("--browser", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--url", help="load a deployment that already runs here or elsewhere")
    p.add_argument("--deploy", choices=("one", "replicas"), default="one",
                   help="what to start: one app process with its own training workers, or "
                        "Redis, a Celery worker, two replicas and nginx")  # fmt: skip
    p.add_argument("--compare", action="store_true",
                   help="both deployments, one after the other, in one JSON line")  # fmt: skip
    args = p.parse_args()
    args.trainers = min(args.trainers, args.sessions)
    if args.drawers is None:
        args.drawers = (args.sessions - args.trainers) // 3
    if args.soak:
        args.seconds = args.soak
    (ROOT / ".pytest_cache").mkdir(exist_ok=True)  # harness/servers.py keeps servers' logs there
    if args.url:  # its processes, where they run here, are found by name
        print(json.dumps(measure(args, args.url.rstrip("/"), [args.url.rstrip("/")],
                                 mon.local_deployment())))  # fmt: skip
        return
    results = {}
    for kind in ("one", "replicas") if args.compare else (args.deploy,):
        with tempfile.TemporaryDirectory() as tmp, started(kind, args, Path(tmp)) as running:
            results[kind] = measure(args, *running)
    if not args.compare:
        print(json.dumps(results[args.deploy]))
        return
    print(
        json.dumps(
            {
                "compare": side_by_side(results["one"], results["replicas"]),
                "one_process": results["one"],
                "replicas": results["replicas"],
            }
        )
    )


if __name__ == "__main__":
    main()
