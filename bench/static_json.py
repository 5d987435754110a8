"""JSON a page fetches from the app's static folder, written after the run that asks for it
(client_step.py's `--lazy`; the explorer's element sends its layers with its runs instead).

A page that steps through every layer of an input in the browser needs every layer's data,
which takes the server far longer to build than the one layer it shows first. So the run
sends the layer shown, and asks for the rest here: a thread (no `st.` call) builds it and
writes it to `static/`, where the browser fetches it (served at `app/static/`, cached like
any static file). Until it is whole the file holds `null`, and the browser tries again.

Files are named by a digest of their key, which must name everything the content depends
on; written whole or not at all; the newest `keep` of a prefix are kept. Where the folder
cannot be written, nothing is ever `ready` and the page stays on what its runs send.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ui.kept_plot import STATIC

PENDING = "null"  # a file's content while it is being built

# The page's side: `fetchStatic(url)` fetches a file once per page, trying again while it
# holds `null` or is not there yet, for a minute at most (the runs send what is shown
# meanwhile); `staticJson[url]` holds it once here.
FETCH_JS = r"""
const staticJson = window.__staticJson ??= {};
const staticFetches = window.__staticFetches ??= {};
const fetchStatic = url => staticFetches[url] ??= new Promise(resolve => {
  let tries = 0;
  const again = () => { if (++tries < 400) setTimeout(go, 150); };
  const go = () => fetch(url, {cache: 'no-cache'}).then(r => r.ok ? r.json() : null)
    .then(value => value !== null ? resolve(staticJson[url] = value) : again(), again);
  go();
});
"""


class StaticJson:
    """`static/{prefix}-{digest}.json` files, built in a thread by `write_later`."""

    def __init__(self, prefix: str, folder: Path = STATIC, keep: int = 200) -> None:
        self.prefix, self.folder, self.keep = prefix, folder, keep
        self._lock = threading.Lock()
        self._pending: dict[str, threading.Thread] = {}
        self.failed: set[str] = set()  # keys whose file could not be built or written

    def name(self, key: str) -> str:
        return f"{self.prefix}-{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"

    def url(self, key: str) -> str:
        """Where the browser fetches the file for `key`."""
        return f"app/static/{self.name(key)}"

    def ready(self, key: str) -> bool:
        """Whether `key`'s file is there, whole (not the `null` it holds while being built)."""
        path = self.folder / self.name(key)
        try:
            size = path.stat().st_size
            return size > 0 and (size != len(PENDING) or path.read_text() != PENDING)
        except OSError:
            return False

    def write_later(self, key: str, build: Callable[[], Any], delay: float = 0.0) -> None:
        """Build `build()` and write it as the file for `key` in a thread, `delay` seconds
        from now (the run that asks is not slowed by it), unless the file is there, being
        written, or failed before (a read-only folder is not tried again)."""
        with self._lock:
            if key in self._pending or key in self.failed or self.ready(key):
                return
            try:  # the browser finds `null` until the file is whole, not a missing file
                self.folder.mkdir(parents=True, exist_ok=True)
                (self.folder / self.name(key)).write_text(PENDING)
            except OSError:
                self.failed.add(key)
                return
            thread = threading.Timer(delay, self._write, args=(key, build))
            thread.daemon = True
            self._pending[key] = thread
        thread.start()

    def wait(self, key: str, timeout: float | None = None) -> bool:
        """Wait for `key`'s thread, if one runs; whether its file is there."""
        thread = self._pending.get(key)
        if thread is not None:
            thread.join(timeout)
        return self.ready(key)

    def _write(self, key: str, build: Callable[[], Any]) -> None:
        path = self.folder / self.name(key)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            text = json.dumps(build(), separators=(",", ":"))
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_text(text)
            tmp.replace(path)  # a browser asking at the same moment gets all or nothing
            self._prune()
        except OSError:  # a read-only folder, a full disk: the page steps through its runs
            self._fail(key, tmp)
        except Exception:
            self._fail(key, tmp)
            raise  # the thread's traceback goes to the server's log
        finally:
            with self._lock:
                self._pending.pop(key, None)

    def _fail(self, key: str, tmp: Path) -> None:
        """No file for `key`: neither its part written nor its `null` left behind."""
        self.failed.add(key)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
            (self.folder / self.name(key)).unlink(missing_ok=True)

    def _prune(self) -> None:
        """Remove all but the newest `keep` files of this prefix."""

        def age(p: Path) -> float:
            try:
                return p.stat().st_mtime
            except OSError:  # removed meanwhile by another server
                return 0.0

        files = sorted(self.folder.glob(f"{self.prefix}-*.json"), key=age)
        for old in files[: max(0, len(files) - self.keep)]:
            old.unlink(missing_ok=True)
