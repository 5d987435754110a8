"""Shared fixtures: an isolated cache, the real dataset when present, tiny IDX files."""

from __future__ import annotations

import gzip
import os
import struct
import sys
import tempfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# One cache for the whole run, away from the user's own; set before tinyvgg reads it.
os.environ.setdefault("TINYVGG_CACHE", tempfile.mkdtemp(prefix="tinyvgg-test-cache-"))
os.environ["TINYVGG_NO_DOWNLOAD"] = "1"  # tests never reach for the network
os.environ.setdefault("TINYVGG_DEVICE", "cpu")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Test processes share the cores: one thread each (and in what they start), as torch's
    # threads spin-wait for each other when there are more of them than cores.
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

from tinyvgg import data  # noqa: E402
from tinyvgg.activations import trace  # noqa: E402
from tinyvgg.model import build_model  # noqa: E402


def write_idx(path: Path, array: torch.Tensor) -> None:
    """Write an IDX file (big-endian header, uint8 payload), gzipped when the name ends in .gz."""
    header = struct.pack(">HBB", 0, 0x08, array.dim()) + b"".join(
        struct.pack(">I", n) for n in array.shape
    )
    blob = header + array.to(torch.uint8).contiguous().numpy().tobytes()
    path.write_bytes(gzip.compress(blob) if path.suffix == ".gz" else blob)


@pytest.fixture
def tiny_idx(tmp_path) -> tuple[Path, dict[str, tuple[torch.Tensor, torch.Tensor]]]:
    """A folder with the four IDX files (train gzipped, test not) and the arrays written."""
    g = torch.Generator().manual_seed(0)
    written = {}
    for split, n, gz in (("train", 12, ".gz"), ("test", 5, "")):
        images = torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8)
        labels = torch.randint(0, 10, (n,), generator=g, dtype=torch.uint8)
        img_name, lbl_name = data.FILES[split]
        write_idx(tmp_path / (img_name + gz), images)
        write_idx(tmp_path / (lbl_name + gz), labels)
        written[split] = (images, labels.long())
    return tmp_path, written


def _real_data_available() -> bool:
    try:
        data.dataset_root(download=False)
        return True
    except data.DataError:
        return False


@pytest.fixture(scope="session")
def traced():
    """A TinyVGG of random weights (seed 7), a random input and its trace."""
    model = build_model(seed=7).eval()
    torch.manual_seed(42)
    x = torch.randn(1, 28, 28)
    return model, x, trace(model, x)


@pytest.fixture(scope="session")
def real_data():
    """The real Fashion-MNIST (train, test); skipped where absent unless CI requires it."""
    if not _real_data_available():
        if os.environ.get("TINYVGG_REQUIRE_DATA") == "1":
            pytest.fail("Fashion-MNIST is required here (TINYVGG_REQUIRE_DATA=1) but not found")
        pytest.skip("Fashion-MNIST not available (install Debian's dataset-fashion-mnist)")
    return data.load_split("train"), data.load_split("test")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, shared by the browser tests."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from harness.servers import BrowserNotFound, launch_browser

    sync_api.expect.set_options(timeout=30_000)  # a busy 2-core machine is slow to rerun
    with sync_api.sync_playwright() as pw:
        try:
            b = launch_browser(pw)
        except BrowserNotFound as e:
            if os.environ.get("TINYVGG_REQUIRE_BROWSER") == "1":
                pytest.fail(f"Chromium is required here (TINYVGG_REQUIRE_BROWSER=1): {e}")
            pytest.skip(str(e))
        yield b
        b.close()


@pytest.fixture(scope="session")
def app_url(real_data):
    """One Streamlit server for the browser tests that do not need a fresh one."""
    from harness.servers import streamlit_server

    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser_context(browser):
    """One context for the tests' pages: from its HTTP cache, pages after the first load
    Streamlit's and plotly's scripts without asking the server again."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    """A new tab, 1400x1000; each holds its own Streamlit session, and no cookie of an earlier
    test (teacher mode is kept in one)."""
    browser_context.clear_cookies()
    p = browser_context.new_page()
    p.set_default_timeout(30_000)
    yield p
    p.close()


@pytest.fixture
def train_page(real_data, monkeypatch):
    """The training page through AppTest, on the real data; every run ended afterwards."""
    from streamlit.testing.v1 import AppTest

    from tinyvgg import runs

    # Runs start their own worker (the warm spare: tests/test_worker.py and the browser tests):
    # a spare started after every run would only be ended unused.
    monkeypatch.setenv("TINYVGG_WARM_WORKER", "0")
    at = AppTest.from_file("../app.py", default_timeout=60).run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    yield at
    runs.shutdown()
