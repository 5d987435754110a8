"""A teacher's own images in Debian's Chromium: upload a zip of class folders on /train, read
its summary, train on it, then explore one of its test images with its class names."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from harness.pages import LONG, open_train_page
from tinyvgg.shapes import SHAPES, shapes_zip


def test_upload_a_zip_train_on_it_and_explore_a_sample(page, app_url):
    open_train_page(page, app_url)
    page.get_by_test_id("stRadio").filter(has_text="Dataset").get_by_text(
        "Your own images (.zip)").click()  # fmt: skip
    main = page.get_by_test_id("stMain")
    dropzone = main.get_by_test_id("stFileUploaderDropzone")
    expect(dropzone).to_have_attribute("aria-disabled", "false", timeout=LONG)
    expect(main.get_by_text("50MB per file • ZIP")).to_be_visible()  # the dataset's own limit
    main.get_by_test_id("stFileUploaderDropzoneInput").set_input_files({
        "name": "blocks.zip", "mimeType": "application/zip",
        "buffer": shapes_zip(per_class=100, seed=2)})  # fmt: skip
    summary = re.compile(r"blocks: 4 classes, greyscale 28×28 images; 320 for training and 80")
    expect(main.get_by_text(summary)).to_be_visible(timeout=LONG)
    table = main.get_by_test_id("stTable")
    for shape in SHAPES:
        expect(table).to_contain_text(shape)
    expect(main.locator(".st-key-train_dataset_examples .js-plotly-plot")).to_be_visible()
    page.get_by_test_id("stRadio").filter(has_text="Optimizer").get_by_text("Adam").click()
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("Finished: test accuracy")).to_be_visible(timeout=LONG)
    expect(page.get_by_text("on all 80 test images")).to_be_visible()
    picker = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")
    expect(picker).to_have_value(re.compile(r"^run 1"))
    # the explorer, in the same session: one of the upload's test images, its classes
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Explore layers").click()
    expect(page.get_by_role("heading", name="Layer explorer")).to_be_visible(timeout=LONG)
    expect(page.get_by_text("blocks test image")).to_be_visible(timeout=LONG)
    truth = page.get_by_text(re.compile(r"^Truth: (circle|square|star|triangle)"))
    expect(truth).to_be_visible(timeout=LONG)
    expect(page.get_by_test_id("stMetricValue").first).to_have_text(
        re.compile(r"^(circle|square|star|triangle)$"))  # fmt: skip
    for garment in ("Ankle boot", "Pullover", "T-shirt/top"):
        expect(page.get_by_test_id("stMain").get_by_text(garment)).to_have_count(0)
