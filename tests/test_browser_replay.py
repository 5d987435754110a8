"""The training replay in Debian's Chromium: train a small run, scrub its snapshots, open one in
the explorer."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from harness.pages import LONG, choose, expect_url, open_train_page

from .test_browser_layout import layout_problems
from .test_browser_train import set_epochs_to_one


def expect_title(page: Page, key: str, text: str, timeout: float | None = None) -> None:
    """The chart with this key, titled `text` (and only it: a redrawn plotly chart is briefly
    there twice)."""
    expect(page.locator(f".st-key-{key} .gtitle")).to_have_text([text], timeout=timeout)


def test_scrub_a_run_and_open_a_snapshot_in_the_explorer(page, app_url):
    open_train_page(page, app_url)
    choose(page, "Training images", "1,000")  # batch 8: 125 steps
    batch = page.get_by_test_id("stSlider").filter(has_text="Batch size").get_by_role("slider")
    expect(batch).to_have_attribute("aria-valuetext", "8")  # the choice's run has drawn it
    set_epochs_to_one(page)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("Finished: test accuracy")).to_be_visible(timeout=LONG)
    # the replay followed the run's newest snapshot while it trained: its end
    expect_title(page, "replay_kernels", "conv_1_1's kernels at step 125 · epoch 1", LONG)
    slider = page.get_by_test_id("stSlider").filter(has_text="Snapshot").get_by_role("slider")
    slider.focus()
    slider.press("Home")
    expect(slider).to_have_attribute("aria-valuetext", "step 0 · epoch 1")
    expect_title(page, "replay_kernels", "conv_1_1's kernels at step 0 · epoch 1")
    slider.press("End")
    expect_title(page, "replay_kernels", "conv_1_1's kernels at step 125 · epoch 1")
    slider.press("ArrowLeft")
    expect(slider).not_to_have_attribute("aria-valuetext", "step 125 · epoch 1")
    step = re.fullmatch(r"step (\d+) · epoch 1", slider.get_attribute("aria-valuetext")).group(1)
    assert 0 < int(step) < 125
    expect_title(page, "replay_maps", f"conv_1_1 at step {step} · epoch 1")
    expect(page.locator(".st-key-replay_curves .js-plotly-plot")).to_be_visible()
    assert not layout_problems(page)
    page.get_by_role("button", name="Open in the explorer").click()
    expect(page.get_by_role("heading", name="Layer explorer")).to_be_visible(timeout=LONG)
    picker = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")
    expect(picker).to_have_value(f"run 1 @ step {step}")
    expect_url(page, "sample=0", "layer=conv_1_1")
