"""What the server costs while the classroom runs: memory and CPU, sampled with psutil.

The deployment is sorted into parts (`parts_of`): "app", the `streamlit run` processes (one,
or each replica); "training", their children (the local training workers, the one warm spare
included, and multiprocessing's resource tracker) and Celery workers (`tinyvgg.jobs worker`);
"proxy", nginx and redis-server. "Server" below is the app processes themselves. Memory is
the sum of their RSS, sampled every second; shared pages, such as torch's libraries (a bare
`import torch` is ~650 MB RSS with the CUDA wheel installed here), count once per process, so
this is an upper bound.
Every `full_every` seconds a footprint is sampled too: the processes' private memory (USS)
plus the largest one's shared part, i.e. shared library pages counted once. (PSS would split
those pages with every other process mapping them, on this machine other users' processes of
the same venv, and so understate it.) CPU is in cores (1.0 = one core busy). "Client" is this
benchmark's own process; "others" is what the rest of the machine used meanwhile (other users
of a shared machine, and the cross-check's Chromium): its busy cores minus the deployment's and
the client's.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from statistics import mean

import psutil

MB = 1024 * 1024


def server_of(url: str) -> psutil.Process:
    """The `streamlit run` child of this process that serves `url`."""
    port = url.rsplit(":", 1)[1]
    return next(p for p in psutil.Process().children() if port in p.cmdline())


def part(proc: psutil.Process) -> str | None:
    """What this process is in a deployment: app, training, proxy, or None."""
    with contextlib.suppress(psutil.Error):
        cmd = " ".join(proc.cmdline())
        if "streamlit" in cmd and " run " in cmd:
            return "app"
        if ("tinyvgg.jobs" in cmd or "celery" in cmd) and "worker" in cmd:
            return "training"
        if proc.name().startswith(("nginx", "redis-server")):
            return "proxy"
    return None


def parts_of(procs) -> dict[str, list[psutil.Process]]:
    """The deployment's top processes among `procs`, by part (a process whose parent is one
    of them is left to `_tree`)."""
    found = {p.pid: (p, k) for p in procs if (k := part(p))}
    out: dict[str, list[psutil.Process]] = {"app": [], "training": [], "proxy": []}
    for p, k in found.values():
        with contextlib.suppress(psutil.Error):
            if p.ppid() not in found:
                out[k].append(p)
    return out


def local_deployment() -> dict[str, list[psutil.Process]]:
    """A deployment's parts among every process on this machine (bench/classroom.py --url):
    any `streamlit run`, Celery worker, nginx or redis-server here counts."""
    return parts_of(psutil.process_iter())


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        return [proc, *proc.children(recursive=True)]
    return []


def _busy_seconds(t) -> float:
    return t.user + t.system + getattr(t, "nice", 0.0) + getattr(t, "irq", 0.0) + getattr(
        t, "softirq", 0.0
    ) + getattr(t, "steal", 0.0)  # fmt: skip


@dataclass
class Sample:
    """One reading of the server's memory and CPU."""

    t: float  # seconds since the monitor started
    rss_mb: float  # server + children
    server_rss_mb: float
    footprint_mb: float | None  # sum of USS + largest shared part, every full_every seconds
    children: int
    server_cores: float  # the app processes alone
    worker_cores: float  # training: their children and Celery workers
    proxy_cores: float  # nginx and redis-server
    client_cores: float  # this benchmark's own process (the websocket clients)
    others_cores: float  # the rest of the machine (Chromium of the cross-check included)
    loadavg: float


@dataclass
class Monitor:
    """Samples the deployment's parts every `every` seconds in a thread, until `stop()`."""

    parts: dict[str, list[psutil.Process]]
    every: float = 1.0
    full_every: float = 5.0
    samples: list[Sample] = field(default_factory=list)
    server_gone_at: float | None = None  # when every app process was found gone

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._procs: dict[int, psutil.Process] = {}
        self._cpu: dict[int, float] = {}
        self._me = psutil.Process()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="classroom-monitor", daemon=True)

    def start(self) -> Monitor:
        """Sample in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join(5)

    def now(self) -> float:
        """Seconds since the monitor started."""
        return time.monotonic() - self._t0

    def _cpu_seconds(self, proc: psutil.Process) -> float:
        with contextlib.suppress(psutil.Error):
            t = proc.cpu_times()  # not children_*: a reaped worker's whole life would land at once
            return t.user + t.system
        return self._cpu.get(proc.pid, 0.0)

    @staticmethod
    def _footprint(procs: list[psutil.Process]) -> float:
        private, shared = 0.0, 0.0
        for p in procs:
            with contextlib.suppress(psutil.Error):
                m = p.memory_full_info()
                private, shared = private + m.uss / MB, max(shared, (m.rss - m.uss) / MB)
        return private + shared

    def _procs_by_part(self) -> dict[int, str]:
        """Every process of the deployment now: pid -> part (an app's children: training)."""
        out = {}
        for name, roots in self.parts.items():
            for root in roots:
                for p in _tree(root):
                    out.setdefault(p.pid, "training" if p is not root and name == "app" else name)
                    self._procs[p.pid] = self._procs.get(p.pid, p)
        return out

    def _loop(self) -> None:
        last_t, last_machine = time.monotonic(), _busy_seconds(psutil.cpu_times())
        last = {pid: self._cpu_seconds(self._procs[pid]) for pid in self._procs_by_part()}
        apps = {p.pid for p in self.parts.get("app", [])}
        last_me = self._cpu_seconds(self._me)
        next_full = 0.0
        while not self._stop.wait(self.every):
            now, machine = time.monotonic(), _busy_seconds(psutil.cpu_times())
            dt = max(now - last_t, 1e-6)
            kinds, rss, cpu = self._procs_by_part(), {}, {}
            procs = [self._procs[pid] for pid in kinds]
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    rss[p.pid] = p.memory_info().rss / MB
                    cpu[p.pid] = self._cpu_seconds(p)
            if apps and not apps & rss.keys():
                self.server_gone_at = now - self._t0
                break
            used = {pid: (c - last.get(pid, c)) / dt for pid, c in cpu.items()}
            by_part = {k: sum(v for pid, v in used.items() if kinds[pid] == k)
                       for k in ("app", "training", "proxy")}  # fmt: skip
            footprint = None
            if now >= next_full:
                next_full, footprint = now + self.full_every, self._footprint(procs)
            me = self._cpu_seconds(self._me)
            client = (me - last_me) / dt
            mine = sum(used.values()) + client
            self.samples.append(Sample(
                t=now - self._t0, rss_mb=sum(rss.values()),
                server_rss_mb=sum(rss.get(pid, 0.0) for pid in apps), footprint_mb=footprint,
                children=sum(kinds[pid] == "training" for pid in rss),
                server_cores=by_part["app"], worker_cores=by_part["training"],
                proxy_cores=by_part["proxy"], client_cores=client,
                others_cores=max(0.0, (machine - last_machine) / dt - mine),
                loadavg=os.getloadavg()[0],
            ))  # fmt: skip
            last_t, last_machine, last, last_me = now, machine, cpu, me


def summary(samples: list[Sample]) -> dict:
    """Peak and mean memory, mean and peak CPU, over the given samples."""
    if not samples:
        return {}
    cores = [s.server_cores + s.worker_cores + s.proxy_cores for s in samples]
    foot = [s.footprint_mb for s in samples if s.footprint_mb is not None] or [0.0]
    return {
        "rss_peak_mb": round(max(s.rss_mb for s in samples)),
        "rss_mean_mb": round(mean(s.rss_mb for s in samples)),
        "footprint_peak_mb": round(max(foot)),
        "footprint_mean_mb": round(mean(foot)),
        "server_rss_peak_mb": round(max(s.server_rss_mb for s in samples)),
        "server_rss_mean_mb": round(mean(s.server_rss_mb for s in samples)),
        "children_max": max(s.children for s in samples),
        "server_cores_mean": round(mean(s.server_cores for s in samples), 2),
        "worker_cores_mean": round(mean(s.worker_cores for s in samples), 2),
        "proxy_cores_mean": round(mean(s.proxy_cores for s in samples), 2),
        "cores_mean": round(mean(cores), 2),
        "cores_peak": round(max(cores), 2),
        "client_cores_mean": round(mean(s.client_cores for s in samples), 2),
        "others_cores_mean": round(mean(s.others_cores for s in samples), 2),
        "loadavg_mean": round(mean(s.loadavg for s in samples), 2),
    }


def _slope(samples: list[Sample], attr: str) -> float:
    """Least-squares slope of `attr` in MB per minute."""
    xs, ys = [s.t / 60 for s in samples], [getattr(s, attr) for s in samples]
    mx, my = mean(xs), mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return round(sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / max(sxx, 1e-9), 1)


def trend(samples: list[Sample], minute: float = 60.0) -> dict:
    """Memory over time: per-minute means, least-squares slopes (all, and the second half).

    The total moves by a worker's ~1 GB whenever a run's worker starts or ends, so the server
    process's own RSS is the one to read for a leak.
    """
    if len(samples) < 3:
        return {}
    t0, t1 = samples[0].t, samples[-1].t
    minutes = [[s for s in samples if t0 + k * minute <= s.t < t0 + (k + 1) * minute]
               for k in range(int((t1 - t0) // minute) + 1)]  # fmt: skip
    minutes = [m for m in minutes if m]
    half = [s for s in samples if s.t >= (t0 + t1) / 2]
    return {
        "rss_mb_per_minute": [round(mean(s.rss_mb for s in m)) for m in minutes],
        "server_rss_mb_per_minute": [round(mean(s.server_rss_mb for s in m)) for m in minutes],
        "rss_slope_mb_per_min": _slope(samples, "rss_mb"),
        "server_rss_slope_mb_per_min": _slope(samples, "server_rss_mb"),
        "server_rss_slope_second_half_mb_per_min": _slope(half, "server_rss_mb"),
        "server_rss_first_minute_mb": round(mean(s.server_rss_mb for s in minutes[0])),
        "server_rss_last_minute_mb": round(mean(s.server_rss_mb for s in minutes[-1])),
    }


def machine_load(seconds: float = 3.0) -> dict:
    """How busy the machine is now: busy cores over `seconds`, and the load average."""
    busy = psutil.cpu_percent(interval=seconds) / 100 * psutil.cpu_count()
    return {"cores": psutil.cpu_count(), "busy_cores": round(busy, 2),
            "loadavg": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip


def leftovers(parts: dict[str, list[psutil.Process]], settle: float = 2.0) -> dict:
    """The training processes once every session has closed: no run may be left behind.

    Expected of each app process: multiprocessing's resource tracker and at most one idle warm
    spare (a worker that is ready but has no job; it uses no CPU); a child that is busy, or a
    second worker, is a run left behind. A Celery worker stays, idle: busy, it holds a run
    that nobody watches any more.
    """
    groups = [(app, _tree(app)[1:]) for app in parts.get("app", [])]
    groups += [(None, _tree(w)) for w in parts.get("training", [])]
    for _, procs in groups:
        for k in procs:
            with contextlib.suppress(psutil.Error):
                k.cpu_percent(None)
    time.sleep(settle)
    rows, left = [], 0
    for app, procs in groups:
        mine = []
        for k in procs:
            with contextlib.suppress(psutil.Error):
                cmd = " ".join(k.cmdline())
                kind = ("resource_tracker" if "resource_tracker" in cmd
                        else "worker" if "spawn_main" in cmd
                        else "celery" if app is None else "other")  # fmt: skip
                mine.append({"pid": k.pid, "kind": kind, "cpu_pct": round(k.cpu_percent(None)),
                             "rss_mb": round(k.memory_info().rss / MB)})  # fmt: skip
        workers = [r for r in mine if r["kind"] in ("worker", "celery")]
        busy = [r for r in workers if r["cpu_pct"] > 20]
        spare = 1 if app is not None else len(workers)  # one idle spare; Celery workers stay
        left += max(len(workers) - spare, len(busy))
        rows += mine
    return {"children": rows, "workers_left_behind": left}
