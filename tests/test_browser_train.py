"""The training page in Debian's Chromium: a live chart that grows, the comparison, Stop.

Timeouts are generous: the machine running the tests may be a busy 2-core box.
"""

from __future__ import annotations

import contextlib
import re
import time

import psutil
from playwright.sync_api import Page, expect

from harness.pages import POINTS_JS, choose, open_train_page, settled_points, wait_idle
from harness.servers import streamlit_server

from .test_browser_layout import layout_problems

LONG = 120_000  # ms


def set_epochs_to_one(page: Page) -> None:
    """Epochs to 1, once the page's run that drew the slider has ended: a run still on its way
    sets the slider to the default it started with (seen once through nginx under load)."""
    wait_idle(page)
    slider = page.get_by_test_id("stSlider").filter(has_text="Epochs").get_by_role("slider")
    slider.focus()
    slider.press("Home")
    expect(slider).to_have_attribute("aria-valuetext", "1")


def watch_points(page: Page, until, timeout_s: float = 120) -> list[int]:
    """The chart's point counts, sampled every 0.1 s until `until(counts)` holds."""
    counts: list[int] = []
    deadline = time.monotonic() + timeout_s
    while not until(counts):
        assert time.monotonic() < deadline, f"timed out; chart points seen: {counts}"
        counts.append(page.evaluate(POINTS_JS))
        time.sleep(0.1)
    return counts


def growth(counts: list[int]) -> list[int]:
    """The distinct positive counts, in the order seen."""
    out: list[int] = []
    for n in counts:
        if n > 0 and (not out or n != out[-1]):
            out.append(n)
    return out


def test_train_one_epoch_and_compare(page, app_url):
    open_train_page(page, app_url)
    choose(page, "Training images", "10,000")
    batch = page.get_by_test_id("stSlider").filter(has_text="Batch size")
    expect(batch.get_by_role("slider")).to_have_attribute("aria-valuetext", "32")  # its default
    expect(page.get_by_text("created with a default value")).to_have_count(0)  # no warning
    set_epochs_to_one(page)
    page.get_by_role("button", name="Start training").click()
    done = page.get_by_text("Compare the runs")
    counts = watch_points(page, lambda c: done.count() > 0)
    seen = growth(counts)
    assert len(seen) >= 3 and seen == sorted(seen), counts  # grew over at least two refreshes
    expect(page.get_by_text("Finished: test accuracy")).to_be_visible(timeout=LONG)
    table = page.get_by_test_id("stDataFrame")
    expect(table).to_be_visible(timeout=LONG)
    expect(table).to_contain_text("run 1 (sgd, lr 0.1, 1 epoch, 10,000 images)")
    for column in ("model_name", "model_loss", "model_acc", "train_time_s", "device"):
        expect(table).to_contain_text(column)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("run 1 (sgd")
    picker = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")
    expect(picker).to_have_value("run 1: SGD 0.1, 1 ep, 10k")
    assert picker.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "the run's name is cut"
    # the results beside an open sidebar on a 1024 px laptop: the gallery's titles whole
    page.set_viewport_size({"width": 1024, "height": 800})
    expect(page.locator(".st-key-train_gallery .js-plotly-plot")).to_be_visible(timeout=LONG)
    assert not layout_problems(page)


def test_a_slider_moved_at_once_keeps_the_new_batch_size(page, app_url):
    """Choosing training images sets the batch size to their default; moving another slider
    at once, before that default has reached the browser, must not send the old one back."""
    open_train_page(page, app_url)
    sliders = page.get_by_test_id("stSlider")
    batch = sliders.filter(has_text="Batch size").get_by_role("slider")
    epochs = sliders.filter(has_text="Epochs").get_by_role("slider")
    expect(batch).to_have_attribute("aria-valuetext", "16")  # 5,000 images
    for images, size in (("1,000", "8"), ("all 60,000", "32"), ("5,000", "16")) * 2:
        choose(page, "Training images", images)
        epochs.focus()
        epochs.press("ArrowRight")  # no wait: the choice's rerun may still be on its way
        wait_idle(page)
        expect(batch).to_have_attribute("aria-valuetext", size)
    expect(epochs).to_have_attribute("aria-valuetext", "9")
    expect(page.get_by_text("9 × 5,000 images")).to_be_visible()


def test_a_slider_moved_at_once_keeps_the_new_dataset_s_epochs(page, app_url):
    """Choosing a dataset sets the epochs and the training images to its defaults (10 and
    all 1,600 for the shapes, 3 and 5,000 for Fashion-MNIST); moving another slider at once
    must not send the old ones back, nor show a box's first option."""
    open_train_page(page, app_url)
    sliders = page.get_by_test_id("stSlider")
    epochs = sliders.filter(has_text="Epochs").get_by_role("slider")
    rate = sliders.filter(has_text="Learning rate").get_by_role("slider")
    images = page.get_by_test_id("stSelectbox").filter(has_text="Training images")
    expect(epochs).to_have_attribute("aria-valuetext", "3")
    for dataset, n, subset in (("Shapes (a demo)", "10", "all 1,600"),
                               ("Fashion-MNIST", "3", "5,000")) * 2:  # fmt: skip
        page.get_by_test_id("stRadio").filter(has_text="Dataset").get_by_text(dataset).click()
        rate.focus()
        rate.press("ArrowLeft")  # no wait: the choice's rerun may still be on its way
        wait_idle(page)
        expect(epochs).to_have_attribute("aria-valuetext", n, timeout=LONG)
        expect(images.get_by_role("combobox")).to_have_value(subset)


def stop_in_the_first_epoch(page: Page, counts: list[int]) -> None:
    """Press Stop during the first of 1,875 steps an epoch (60,000 images, batch 32); the chart
    stops growing, the bar and the comparison say where it stopped."""
    page.get_by_role("button", name="Stop training").click()
    expect(page.get_by_text("Stopped early: test accuracy")).to_be_visible(timeout=LONG)
    wait_idle(page)  # the sentence comes before the chart in the run that writes both
    stopped_at = settled_points(page)
    time.sleep(1.5)  # longer than the live view's 1 s refresh: none adds points any more
    assert page.evaluate(POINTS_JS) == stopped_at
    assert 0 < stopped_at < 50 and growth(counts)[-1] <= stopped_at  # 50 points a whole epoch
    # the live view's bar (the replay below may have one of its own), once its rerun has landed
    bar = page.get_by_test_id("stProgress").filter(has_text=re.compile(r"step \d+/1875"))
    expect(bar).to_have_count(1, timeout=LONG)
    progress = bar.inner_text()
    step = int(re.search(r"step (\d+)/1875", progress).group(1))
    assert 0 < step < 1875, progress
    expect(page.get_by_role("button", name="Stop training")).to_be_disabled()
    table = page.get_by_test_id("stDataFrame")
    expect(table).to_contain_text("60,000 images")
    expect(table).to_contain_text(re.compile(r"stopped at epoch 1, step [\d,]+ of 1,875"))


def test_stop_in_the_middle_of_a_run(page, app_url):
    open_train_page(page, app_url)
    choose(page, "Training images", "all 60,000")
    # the batch size moves to the subset's default (32) before another widget sends its own
    batch = page.get_by_test_id("stSlider").filter(has_text="Batch size")
    expect(batch.get_by_role("slider")).to_have_attribute("aria-valuetext", "32")
    set_epochs_to_one(page)
    expect(batch.get_by_role("slider")).to_have_attribute("aria-valuetext", "32")
    page.get_by_role("button", name="Start training").click()
    counts = watch_points(page, lambda c: len(growth(c)) >= 2)
    stop_in_the_first_epoch(page, counts)


def _server_workers(port: int) -> list[psutil.Process]:
    """Training workers (not the resource tracker) of the server listening on `port`."""
    server = next(
        p for p in psutil.Process().children()
        if "streamlit" in " ".join(p.cmdline()) and str(port) in p.cmdline()
    )  # fmt: skip
    found = []
    for child in server.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
    return found


def test_closing_the_tab_ends_the_run(browser, real_data):
    with streamlit_server() as url:
        port = int(url.rsplit(":", 1)[1])
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        open_train_page(page, url)
        choose(page, "Training images", "all 60,000")
        page.get_by_role("button", name="Start training").click()
        watch_points(page, lambda c: len(growth(c)) >= 1)
        training = _server_workers(port)
        assert len(training) == 1  # the warm spare became this run's worker
        context.close()
        gone = psutil.wait_procs(training, timeout=15)[0]
        assert [p.pid for p in gone] == [training[0].pid]
