"""What the server costs while the classroom runs: memory and CPU, sampled with psutil.

The server is the `streamlit run` process; its children are the training workers (the one
warm spare included) and multiprocessing's resource tracker. Memory is the sum of their RSS,
sampled every second; shared pages, such as torch's libraries (a bare `import torch` is ~650 MB
RSS with the CUDA wheel installed here), count once per process, so this is an upper bound.
Every `full_every` seconds a footprint is sampled too: the processes' private memory (USS)
plus the largest one's shared part, i.e. shared library pages counted once. (PSS would split
those pages with every other process mapping them, on this machine other users' processes of
the same venv, and so understate it.) CPU is in cores (1.0 = one core busy). "Client" is this
benchmark's own process; "others" is what the rest of the machine used meanwhile (other users
of a shared machine, and the cross-check's Chromium): its busy cores minus the server's and
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
    server_cores: float  # the server process alone
    worker_cores: float  # its children (training workers)
    client_cores: float  # this benchmark's own process (the websocket clients)
    others_cores: float  # the rest of the machine (Chromium of the cross-check included)
    loadavg: float


@dataclass
class Monitor:
    """Samples the server every `every` seconds in a thread, until `stop()`."""

    server: psutil.Process
    every: float = 1.0
    full_every: float = 5.0
    samples: list[Sample] = field(default_factory=list)
    server_gone_at: float | None = None  # when the server process was found gone

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

    def _loop(self) -> None:
        last_t, last_machine = time.monotonic(), _busy_seconds(psutil.cpu_times())
        last = {p.pid: self._cpu_seconds(p) for p in _tree(self.server)}
        last_me = self._cpu_seconds(self._me)
        next_full = 0.0
        while not self._stop.wait(self.every):
            now, machine = time.monotonic(), _busy_seconds(psutil.cpu_times())
            dt = max(now - last_t, 1e-6)
            procs, rss = _tree(self.server), {}
            cpu = {}
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    rss[p.pid] = p.memory_info().rss / MB
                    cpu[p.pid] = self._cpu_seconds(p)
            if self.server.pid not in rss:
                self.server_gone_at = now - self._t0
                break
            used = {pid: (c - last.get(pid, c)) / dt for pid, c in cpu.items()}
            footprint = None
            if now >= next_full:
                next_full, footprint = now + self.full_every, self._footprint(procs)
            me = self._cpu_seconds(self._me)
            client = (me - last_me) / dt
            mine = sum(used.values()) + client
            self.samples.append(Sample(
                t=now - self._t0, rss_mb=sum(rss.values()),
                server_rss_mb=rss.get(self.server.pid, 0.0), footprint_mb=footprint,
                children=len(rss) - 1,
                server_cores=used.get(self.server.pid, 0.0),
                worker_cores=sum(v for pid, v in used.items() if pid != self.server.pid),
                client_cores=client, others_cores=max(0.0, (machine - last_machine) / dt - mine),
                loadavg=os.getloadavg()[0],
            ))  # fmt: skip
            last_t, last_machine, last, last_me = now, machine, cpu, me


def summary(samples: list[Sample]) -> dict:
    """Peak and mean memory, mean and peak CPU, over the given samples."""
    if not samples:
        return {}
    cores = [s.server_cores + s.worker_cores for s in samples]
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


def leftovers(server: psutil.Process, settle: float = 2.0) -> dict:
    """The server's children once every session has closed: training workers must be gone.

    Expected: multiprocessing's resource tracker and at most one idle warm spare (a worker
    that is ready but has no job; it uses no CPU). A child that is busy, or a second worker,
    is a run left behind.
    """
    kids = []
    with contextlib.suppress(psutil.Error):
        kids = server.children(recursive=True)
    for k in kids:
        with contextlib.suppress(psutil.Error):
            k.cpu_percent(None)
    time.sleep(settle)
    rows = []
    for k in kids:
        with contextlib.suppress(psutil.Error):
            cmd = " ".join(k.cmdline())
            kind = ("resource_tracker" if "resource_tracker" in cmd
                    else "worker" if "spawn_main" in cmd else "other")  # fmt: skip
            rows.append({"pid": k.pid, "kind": kind, "cpu_pct": round(k.cpu_percent(None)),
                         "rss_mb": round(k.memory_info().rss / MB)})  # fmt: skip
    workers = [r for r in rows if r["kind"] == "worker"]
    busy = [r for r in workers if r["cpu_pct"] > 20]
    left = max(len(workers) - 1, len(busy))  # beyond the one idle spare
    return {"children": rows, "workers_left_behind": left}
