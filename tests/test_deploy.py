"""deploy/: two app replicas behind nginx (deploy/nginx.conf.template), training on a real Celery
worker through a real redis-server; every replica answers its health check directly and through
nginx, new browsers spread over both replicas and stay on theirs, and one browser session through
nginx explores, trains on the worker and uploads."""

from __future__ import annotations

import io
import os
import re
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest
import torch
from PIL import Image
from playwright.sync_api import expect

from harness import servers
from harness.pages import LONG, open_train_page
from harness.servers import NGINX_TEMPLATE, Deployment, nginx_path
from tinyvgg.data import CLASS_NAMES
from tinyvgg.model import load_shipped
from tinyvgg.preprocess import preprocess

from .test_browser_draw import _uploader
from .test_browser_train import set_epochs_to_one
from .test_jobs import ROOT, redis_url  # noqa: F401  (redis_url: a fixture)


@pytest.fixture(scope="module")
def deployment(redis_url, tmp_path_factory) -> Iterator[Deployment]:  # noqa: F811
    """Two replicas and one Celery worker on one Redis, nginx in front; skipped without nginx
    unless CI requires it."""
    if nginx_path() is None:
        if os.environ.get("TINYVGG_REQUIRE_NGINX") == "1":
            pytest.fail("nginx is required here (TINYVGG_REQUIRE_NGINX=1) but not found")
        pytest.skip("nginx not found (install Debian's nginx)")
    with servers.deployment(tmp_path_factory.mktemp("deploy"), redis=redis_url) as d:
        yield d


def _health(url: str) -> bytes:
    with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as r:
        return r.read()


def _active_sessions(url: str) -> int:
    """The replica's own count of connected sessions (/_stcore/metrics)."""
    with urllib.request.urlopen(url + "/_stcore/metrics?families=active_sessions") as r:
        line = next(x for x in r.read().decode().splitlines() if x.startswith("active_sessions"))
    return int(line.rsplit(" ", 1)[1])


def test_every_replica_answers_its_health_check(deployment):
    assert [_health(u) for u in deployment.replicas] == [b"ok", b"ok"]
    assert _health(deployment.url) == b"ok"


def test_nginx_pins_a_browser_by_a_cookie_of_its_own(deployment):
    with urllib.request.urlopen(deployment.url + "/_stcore/health") as r:
        route = SimpleCookie("; ".join(r.headers.get_all("Set-Cookie")))["tinyvgg_route"]
    assert route.value and route["path"] == "/" and route["httponly"]
    again = urllib.request.Request(
        deployment.url + "/_stcore/health", headers={"Cookie": f"tinyvgg_route={route.value}"}
    )
    with urllib.request.urlopen(again) as r:  # already pinned: no new cookie
        assert not any("tinyvgg_route" in c for c in r.headers.get_all("Set-Cookie") or [])


def test_nginx_takes_the_uploads_streamlit_takes():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    limit = config["server"]["maxUploadSize"]
    assert f"client_max_body_size {limit}m;" in NGINX_TEMPLATE.read_text()


def _garment(real_data, i: int) -> tuple[bytes, str]:
    """A test image as a PNG, and what the draw page's model calls it."""
    _, test = real_data
    buf = io.BytesIO()
    Image.fromarray(test.images[i].numpy()).save(buf, "PNG")
    model, _ = load_shipped("sketch")  # the draw page's model while the sidebar has the pretrained
    with torch.no_grad():
        expected = CLASS_NAMES[int(model(preprocess(buf.getvalue()).tensor[None]).argmax())]
    return buf.getvalue(), expected


def _upload(page, url: str, png: bytes, expected: str, name: str) -> None:
    """An upload on /draw: a PUT that must reach the replica holding this session."""
    if not page.url.startswith(url + "/draw"):
        page.goto(url + "/draw")
    expect(page.get_by_role("heading", name="Draw or upload a garment")).to_be_visible(timeout=LONG)
    _uploader(page).set_input_files({"name": name, "mimeType": "image/png", "buffer": png})
    expect(page.get_by_text(f"Prediction: {expected}")).to_be_visible(timeout=LONG)
    expect(page.get_by_text(f"input: upload: {name}")).to_be_visible()


def test_browsers_spread_over_the_replicas_and_stay_on_theirs(deployment, browser, real_data):
    """New browsers land on either replica, and each session's uploads reach its own (a PUT
    on the other replica would be refused: it holds no such session)."""
    on: dict[int, object] = {}  # replica -> a page whose session it holds
    contexts = []
    try:
        for _ in range(16):  # each lands on a replica at random: 16 all alike is 1 in 32,768
            before = [_active_sessions(u) for u in deployment.replicas]
            contexts.append(browser.new_context(viewport={"width": 1400, "height": 1000}))
            page = contexts[-1].new_page()
            page.goto(deployment.url + "/draw")
            heading = page.get_by_role("heading", name="Draw or upload a garment")
            expect(heading).to_be_visible(timeout=LONG)
            grew = []
            deadline = time.monotonic() + 30
            while not grew and time.monotonic() < deadline:
                now = [_active_sessions(u) for u in deployment.replicas]
                grew = [i for i, (a, b) in enumerate(zip(before, now, strict=True)) if b > a]
                time.sleep(0.1)
            assert grew, "no replica counted the new session"
            on.setdefault(grew[0], page)
            if len(on) == 2:
                break
        assert sorted(on) == [0, 1], "every browser landed on the same replica"
        for i, page in on.items():
            png, expected = _garment(real_data, i)
            _upload(page, deployment.url, png, expected, f"item{i}.png")
    finally:
        for c in contexts:
            c.close()


def test_a_session_through_nginx_explores_uploads_and_trains(deployment, page, real_data):
    proxy = deployment.url
    # the explorer draws its feature maps
    page.goto(proxy + "/explore")
    expect(page.get_by_role("heading", name="Layer explorer")).to_be_visible(timeout=LONG)
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=LONG)
    # an upload: a PUT that must reach the replica holding this session
    png, expected = _garment(real_data, 0)
    _upload(page, proxy, png, expected, "item0.png")
    # a run on the Celery worker, its events through Redis, the page through nginx's websocket
    open_train_page(page, proxy)
    expect(page.get_by_text("training workers (Celery)").first).to_be_visible()
    page.get_by_test_id("stRadio").filter(has_text="Dataset").get_by_text(
        "Shapes (a demo)").click()  # fmt: skip
    set_epochs_to_one(page)
    page.get_by_role("button", name="Start training").click()
    done = page.get_by_text(re.compile("Finished: test accuracy|did not learn")).first
    expect(done).to_be_visible(timeout=LONG)
