"""Profile every thread of one Python process (bench/classroom.py --profile FILE).

Put this folder on PYTHONPATH and set CLASSROOM_PROFILE=FILE: the process (not its children:
the variable is removed at once) runs cProfile in its main thread and in every thread it
starts (Streamlit runs each session's script in its own thread). Each thread's statistics are
merged when it ends; FILE (for `python -m pstats FILE`) is rewritten every 20 s and at exit,
so a server that is killed at the end still leaves its profile.
"""

import atexit
import cProfile
import os
import pstats
import threading

_out = os.environ.pop("CLASSROOM_PROFILE", None)
_lock = threading.Lock()
_merged: pstats.Stats | None = None
_run = threading.Thread.run


def _merge(profile: cProfile.Profile) -> None:
    global _merged
    profile.disable()  # in the thread it profiles: cProfile's enable/disable are per thread
    try:
        stats = pstats.Stats(profile)
    except TypeError:  # recorded nothing
        return
    with _lock:
        _merged = stats if _merged is None else _merged.add(stats)


def _profiled_run(self) -> None:
    profile = cProfile.Profile()
    profile.enable()
    try:
        _run(self)
    finally:
        _merge(profile)


def _dump() -> None:
    with _lock:
        if _merged is not None:
            _merged.dump_stats(_out)


def _dump_every(seconds: float) -> None:
    while not _stop.wait(seconds):
        _dump()


if _out:
    threading.Thread.run = _profiled_run
    _main = cProfile.Profile()
    _main.enable()
    _stop = threading.Event()
    threading.Thread(target=_dump_every, args=(20.0,), daemon=True, name="profile-dump").start()

    @atexit.register
    def _at_exit() -> None:
        _stop.set()
        _merge(_main)
        _dump()
