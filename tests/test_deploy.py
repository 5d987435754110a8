"""deploy/: two app replicas behind nginx (deploy/nginx.conf.template), training on a real Celery
worker through a real redis-server; every replica answers its health check directly and through
nginx, and one browser session through nginx explores, trains on the worker and uploads."""

from __future__ import annotations

import contextlib
import io
import os
import re
import tomllib
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import torch
from PIL import Image
from playwright.sync_api import expect

from harness.pages import LONG, open_train_page
from harness.servers import NGINX_TEMPLATE, nginx_path, nginx_proxy, streamlit_server
from tinyvgg.data import CLASS_NAMES
from tinyvgg.model import load_shipped
from tinyvgg.preprocess import preprocess

from .test_browser_draw import _uploader
from .test_browser_train import set_epochs_to_one
from .test_jobs import ROOT, celery_worker, redis_url  # noqa: F401  (redis_url: a fixture)


@pytest.fixture(scope="module")
def deployment(redis_url, tmp_path_factory) -> Iterator[tuple[list[str], str]]:  # noqa: F811
    """(the replicas' URLs, nginx's URL): two replicas and one Celery worker on one Redis, nginx
    in front; skipped without nginx unless CI requires it."""
    if nginx_path() is None:
        if os.environ.get("TINYVGG_REQUIRE_NGINX") == "1":
            pytest.fail("nginx is required here (TINYVGG_REQUIRE_NGINX=1) but not found")
        pytest.skip("nginx not found (install Debian's nginx)")
    folder = tmp_path_factory.mktemp("deploy")
    broker = f"{redis_url}/0"
    with contextlib.ExitStack() as stack:
        stack.enter_context(celery_worker(broker, folder / "worker.log"))
        env = {"TINYVGG_BROKER": broker}
        replicas = [stack.enter_context(streamlit_server(env=env)) for _ in range(2)]
        ports = [urlsplit(u).port for u in replicas]
        yield replicas, stack.enter_context(nginx_proxy(ports, folder / "nginx"))


def _health(url: str) -> bytes:
    with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as r:
        return r.read()


def test_every_replica_answers_its_health_check(deployment):
    replicas, proxy = deployment
    assert [_health(u) for u in replicas] == [b"ok", b"ok"]
    assert _health(proxy) == b"ok"


def test_nginx_takes_the_uploads_streamlit_takes():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    limit = config["server"]["maxUploadSize"]
    assert f"client_max_body_size {limit}m;" in NGINX_TEMPLATE.read_text()


def test_a_session_through_nginx_explores_uploads_and_trains(deployment, page, real_data):
    _, proxy = deployment
    # the explorer draws its feature maps
    page.goto(proxy + "/explore")
    expect(page.get_by_role("heading", name="Layer explorer")).to_be_visible(timeout=LONG)
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=LONG)
    # an upload: a PUT that must reach the replica holding this session
    _, test = real_data
    buf = io.BytesIO()
    Image.fromarray(test.images[0].numpy()).save(buf, "PNG")
    model, _ = load_shipped("sketch")  # the draw page's model while the sidebar has the pretrained
    with torch.no_grad():
        expected = CLASS_NAMES[int(model(preprocess(buf.getvalue()).tensor[None]).argmax())]
    page.goto(proxy + "/draw")
    expect(page.get_by_role("heading", name="Draw or upload a garment")).to_be_visible(timeout=LONG)
    _uploader(page).set_input_files(
        {"name": "item0.png", "mimeType": "image/png", "buffer": buf.getvalue()}
    )
    expect(page.get_by_text(f"Prediction: {expected}")).to_be_visible(timeout=LONG)
    expect(page.get_by_text("input: upload: item0.png")).to_be_visible()
    # a run on the Celery worker, its events through Redis, the page through nginx's websocket
    open_train_page(page, proxy)
    expect(page.get_by_text("training workers (Celery)").first).to_be_visible()
    page.get_by_test_id("stRadio").filter(has_text="Dataset").get_by_text(
        "Shapes (a demo)").click()  # fmt: skip
    set_epochs_to_one(page)
    page.get_by_role("button", name="Start training").click()
    done = page.get_by_text(re.compile("Finished: test accuracy|did not learn")).first
    expect(done).to_be_visible(timeout=LONG)
