"""Start the app as a real Streamlit server, and Debian's Chromium through Playwright."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(env: dict[str, str] | None = None, script: str = "app.py") -> Iterator[str]:
    """A freshly started `streamlit run app.py` (or `script`, relative to the repository or
    absolute), run from the repository; yields its base URL, stops it afterwards."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
        "--server.address", "127.0.0.1", "--server.headless", "true",
    ]  # fmt: skip
    log = (
        open(ROOT / ".pytest_cache" / f"streamlit-{port}.log", "wb")
        if (ROOT / ".pytest_cache").is_dir()
        else subprocess.DEVNULL
    )
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    with _running(proc, lambda: _healthy(url), "streamlit", lambda: "", timeout=60):
        yield url


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def chromium_path() -> str | None:
    """$CHROMIUM, Debian's /usr/bin/chromium, or one on PATH; None if there is none."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


class BrowserNotFound(RuntimeError):
    """No Chromium here: install Debian's chromium or set $CHROMIUM."""


def launch_browser(playwright):
    """Headless Chromium with the flags this machine needs; BrowserNotFound without one."""
    path = chromium_path()
    if path is None:
        raise BrowserNotFound("Chromium not found (install Debian's chromium or set $CHROMIUM)")
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)


class RedisNotFound(RuntimeError):
    """No redis-server here: install Debian's redis-server."""


@contextlib.contextmanager
def redis_server(folder: Path, port: int | None = None, persist: bool = False) -> Iterator[str]:
    """A `redis-server` on `port` (a free one by default), its log and data in `folder`: with
    `persist`, deploy/'s setting (every write in its append-only file before it answers, so a
    restart on the same folder loses nothing it acknowledged), else nothing kept on disk; yields
    its URL (redis://127.0.0.1:PORT), stops it afterwards. RedisNotFound without one."""
    exe = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin:/usr/bin")
    if exe is None:
        raise RedisNotFound("redis-server not found (install Debian's redis-server)")
    port = port or free_port()
    keep = ["--appendonly", "yes", "--appendfsync", "always"] if persist else ["--appendonly", "no"]
    cmd = [
        exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", *keep,
        "--dir", str(folder), "--logfile", str(folder / f"redis-{port}.log"),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    with _running(proc, lambda: _redis_pong(port), "redis-server", lambda: ""):
        yield f"redis://127.0.0.1:{port}"


@contextlib.contextmanager
def _running(proc: subprocess.Popen, ready, name: str, log, timeout: float = 20) -> Iterator[None]:
    """Until `proc` is `ready()` (RuntimeError with `log()` if it exits or takes over
    `timeout` s), then the body; `proc` is terminated (killed after 10 s) afterwards."""
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start (exit {proc.poll()}){log()}")
            time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _redis_pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def celery_worker(url: str, log: Path, device: str = "cpu") -> Iterator[subprocess.Popen]:
    """`python -m tinyvgg.jobs worker` on the broker `url` (its output in `log`), ready for
    jobs; killed afterwards. Its torch threads are the app's for a run on the same machine:
    $TINYVGG_RUN_THREADS, else the cores left after one (two threads on a busy 2-core machine
    wait on each other)."""
    threads = os.environ.get("TINYVGG_RUN_THREADS") or str(max(1, (os.cpu_count() or 1) - 1))
    env = {**os.environ, "TINYVGG_BROKER": url, "TINYVGG_DEVICE": device,
           "TINYVGG_RUN_THREADS": threads}  # fmt: skip
    cmd = [sys.executable, "-m", "tinyvgg.jobs", "worker", "--hostname", f"test-{os.getpid()}@%h"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    ready = lambda: b" ready." in log.read_bytes()  # noqa: E731
    with _running(proc, ready, "the worker", lambda: f":\n{log.read_text()[-2000:]}", timeout=60):
        try:
            yield proc
        finally:
            proc.kill()  # not Celery's warm shutdown, which waits for the run in hand


class NginxNotFound(RuntimeError):
    """No nginx here: install Debian's nginx."""


NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf.template"


def nginx_path() -> str | None:
    """nginx on PATH or Debian's /usr/sbin/nginx; None if there is none."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/bin")


def render_nginx_conf(listen: str, upstream_ports: list[int]) -> str:
    """deploy/nginx.conf.template for nginx on `listen` in front of replicas on local ports."""
    servers = " ".join(f"server 127.0.0.1:{p};" for p in upstream_ports)
    text = NGINX_TEMPLATE.read_text()
    return text.replace("${TINYVGG_LISTEN}", listen).replace("${TINYVGG_UPSTREAMS}", servers)


@contextlib.contextmanager
def nginx_proxy(upstream_ports: list[int], folder: Path) -> Iterator[str]:
    """nginx from deploy/nginx.conf.template on a free port in front of the replicas on
    `upstream_ports`, run by this user with everything (config, pid, temp files, its log
    nginx.log) in `folder`; yields its URL, stops it afterwards. NginxNotFound without one."""
    exe = nginx_path()
    if exe is None:
        raise NginxNotFound("nginx not found (install Debian's nginx)")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "nginx.conf"
    conf.write_text(render_nginx_conf(f"127.0.0.1:{port}", upstream_ports))
    log = folder / "nginx.log"
    # -e: its first log, before the config is read, is ours too (not /var/log/nginx)
    cmd = [exe, "-p", f"{folder}/", "-e", "stderr", "-c", str(conf), "-g", "daemon off;"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    # terminate: nginx's fast shutdown, the master stops its workers
    with _running(proc, lambda: _listening(port), "nginx", lambda: f":\n{log.read_text()}"):
        yield f"http://127.0.0.1:{port}"


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Deployment:
    """Where a deployment answers: nginx's URL, each replica's, and the broker's."""

    url: str
    replicas: list[str]
    broker: str


@contextlib.contextmanager
def deployment(folder: Path, replicas: int = 2, redis: str | None = None) -> Iterator[Deployment]:
    """deploy/local.sh's layout, on free ports: a redis-server (or the one at `redis`), one
    Celery worker, `replicas` app replicas with TINYVGG_BROKER set, nginx in front; logs in
    `folder`. RedisNotFound or NginxNotFound where one is missing."""
    if nginx_path() is None:
        raise NginxNotFound("nginx not found (install Debian's nginx)")
    with contextlib.ExitStack() as stack:
        if redis is None:
            (folder / "redis").mkdir(parents=True, exist_ok=True)
            redis = stack.enter_context(redis_server(folder / "redis"))
        broker = f"{redis}/0"
        stack.enter_context(celery_worker(broker, folder / "worker.log"))
        env = {"TINYVGG_BROKER": broker}
        urls = [stack.enter_context(streamlit_server(env=env)) for _ in range(replicas)]
        ports = [int(u.rsplit(":", 1)[1]) for u in urls]
        yield Deployment(stack.enter_context(nginx_proxy(ports, folder / "nginx")), urls, broker)
