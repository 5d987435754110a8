"""bench/static_json.py, client_step.py's files: JSON built in a thread after the run, written
whole, the newest kept."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from static_json import StaticJson  # noqa: E402


def test_a_key_s_file_is_built_once_and_served_from_the_static_folder(tmp_path):
    store, builds = StaticJson("layers", folder=tmp_path), []
    layers = [{"name": "conv_1_1", "z": [0.5, -1.25]}]

    def build():
        builds.append(1)
        return layers

    assert not store.ready("a")
    store.write_later("a", build)
    assert store.wait("a", 10)
    assert json.loads((tmp_path / store.name("a")).read_text()) == layers
    store.write_later("a", build)  # there already: not built again
    assert store.wait("a", 10) and len(builds) == 1
    assert store.url("a") == f"app/static/{store.name('a')}"
    assert store.name("a") != store.name("b") and store.name("a").startswith("layers-")
    assert not list(tmp_path.glob("*.tmp"))


def test_calls_while_a_key_is_being_built_start_nothing_more(tmp_path):
    store, started, go = StaticJson("x", folder=tmp_path), [], threading.Event()

    def build():
        started.append(1)
        go.wait(10)
        return {"k": 1}

    for _ in range(5):
        store.write_later("k", build)
    assert (tmp_path / store.name("k")).read_text() == "null"  # what a browser finds meanwhile
    assert not store.ready("k")
    go.set()
    assert store.wait("k", 10)
    assert len(started) == 1


def test_only_the_newest_files_of_a_prefix_are_kept(tmp_path):
    store = StaticJson("layers", folder=tmp_path, keep=3)
    other = tmp_path / "plotly-7.1.0.min.js"
    other.write_text("//")
    for k in range(5):
        store.write_later(str(k), lambda k=k: [k])
        assert store.wait(str(k), 10)
        os.utime(tmp_path / store.name(str(k)), (k + 1, k + 1))  # in order of age
    store.write_later("5", lambda: [5])
    assert store.wait("5", 10)
    assert sorted(p.name for p in tmp_path.glob("layers-*")) == sorted(
        store.name(k) for k in ("3", "4", "5")
    )
    assert other.exists()


def test_an_unwritable_folder_leaves_the_page_on_its_runs(tmp_path):
    folder = tmp_path / "static"
    folder.write_text("a file where the folder should be")
    store = StaticJson("layers", folder=folder)
    store.write_later("a", lambda: [1])
    assert not store.wait("a", 10)
    assert "a" in store.failed
    store.write_later("a", lambda: pytest.fail("tried again"))
    assert not store.wait("a", 10)


def test_a_build_that_fails_writes_nothing_and_is_logged(tmp_path):
    store, seen = StaticJson("layers", folder=tmp_path), []
    hook, threading.excepthook = threading.excepthook, lambda args: seen.append(args.exc_type)
    try:
        store.write_later("a", lambda: 1 / 0)
        assert not store.wait("a", 10)
    finally:
        threading.excepthook = hook
    assert seen == [ZeroDivisionError] and "a" in store.failed
    assert not list(tmp_path.iterdir())


def test_a_delayed_write_waits_before_it_builds(tmp_path):
    store, started = StaticJson("x", folder=tmp_path), []
    store.write_later("k", lambda: started.append(time.monotonic()) or [1], delay=0.3)
    asked = time.monotonic()
    assert not store.ready("k") and not started
    assert store.wait("k", 10)
    assert started[0] - asked >= 0.25
