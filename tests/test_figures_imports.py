"""Imports the figure builders rely on when several sessions build figures at once."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pandas_is_fully_imported_with_the_figure_builders():
    # bench/classroom.py found the race: a live-view refresh failed with "partially initialized
    # module 'pandas'" while another session's /draw run imported pandas for the first time.
    code = (
        "import sys, ui.figures; pd = sys.modules.get('pandas'); "
        "print(pd is not None and hasattr(pd, 'Series') and hasattr(pd, 'Index'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "True"
