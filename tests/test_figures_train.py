"""Training figures and metrics against plain PyTorch/Python computing the same thing."""

from __future__ import annotations

import numpy as np
import torch

from tinyvgg.data import CLASS_NAMES, DeviceData
from tinyvgg.evaluate import confusion_matrix, pick_examples, predict
from tinyvgg.model import build_model
from ui.figures import train as figs


def test_predict_is_the_models_argmax():
    model = build_model(seed=3)
    x = torch.rand(300, 1, 28, 28)
    data = DeviceData(x, torch.zeros(300, dtype=torch.long))
    with torch.inference_mode():
        expected = model(x).argmax(1)
    assert torch.equal(predict(model, data, batch_size=64), expected)


def test_confusion_matrix_counts_pairs():
    g = torch.Generator().manual_seed(0)
    preds, labels = (
        torch.randint(0, 10, (500,), generator=g),
        torch.randint(0, 10, (500,), generator=g),
    )
    cm = confusion_matrix(preds, labels, 10)
    for t in range(10):
        for p in range(10):
            assert cm[t, p] == int(((labels == t) & (preds == p)).sum())
    assert cm.sum() == 500 and cm.trace() == int((preds == labels).sum())


def test_pick_examples_mistakes_only():
    labels = torch.arange(20) % 10
    preds = labels.clone()
    preds[[3, 7, 11]] = (preds[[3, 7, 11]] + 1) % 10
    assert sorted(pick_examples(preds, labels, 10, mistakes_only=True).tolist()) == [3, 7, 11]
    some = pick_examples(preds, labels, 5, seed=1)
    assert len(some) == 5 and len(set(some.tolist())) == 5
    assert torch.equal(some, pick_examples(preds, labels, 5, seed=1))  # a fixed sample


def test_curves_hold_the_events():
    steps = [{"global_step": s, "loss": 2.3 - s / 100, "acc": s / 2} for s in (5, 10, 15, 20)]
    epochs = [{"epoch": 0, "test_loss": 1.1, "test_acc": 61.0}]
    fig = figs.curves(steps, epochs, steps_per_epoch=20)
    loss_train, loss_test, acc_train, acc_test = fig.data
    assert list(loss_train.x) == [0.25, 0.5, 0.75, 1.0]
    assert list(loss_train.y) == [s["loss"] for s in steps]
    assert list(acc_train.y) == [s["acc"] for s in steps]
    assert list(loss_test.x) == [1] and list(loss_test.y) == [1.1] and list(acc_test.y) == [61.0]


def test_kernel_picture_colours_every_weight():
    w = torch.randn(10, 1, 3, 3)
    img = figs.kernels_image(w.tolist(), cell=4, gap=2)
    assert img.shape == (2 * 12 + 2, 5 * 12 + 4 * 2, 3) and img.dtype == np.uint8
    table, m = figs.colour_table(), w.abs().max()
    for c in range(10):
        r0, c0 = (c // 5) * 14, (c % 5) * 14
        for i in range(3):
            for j in range(3):
                expected = table[round(((w[c, 0, i, j] / m + 1) / 2 * 255).item())]
                block = img[r0 + 4 * i : r0 + 4 * i + 4, c0 + 4 * j : c0 + 4 * j + 4]
                assert (block == expected).all()
    assert (img[12:14] == 255).all()  # white gaps between rows of kernels
    # the scale is symmetric: the largest |w| is the darkest blue or red end
    assert tuple(table[0]) == (5, 48, 97) and tuple(table[255]) == (103, 0, 31)


def test_gallery_titles_and_colours():
    images = torch.randint(0, 256, (3, 28, 28), dtype=torch.uint8)
    fig = figs.gallery(images, [0, 3, 9], [0, 2, 9], CLASS_NAMES)
    notes = fig.layout.annotations
    assert [n.text for n in notes] == [
        f"✓ {CLASS_NAMES[0]}", f"✗ {CLASS_NAMES[3]}<br>is {CLASS_NAMES[2]}", f"✓ {CLASS_NAMES[9]}",
    ]  # fmt: skip
    assert [n.font.color for n in notes] == [figs.RIGHT, figs.WRONG, figs.RIGHT]
    assert torch.equal(torch.tensor(fig.data[1].z), images[1].float())
    axes = [fig.layout[k] for k in fig.layout if k.startswith(("xaxis", "yaxis"))]
    assert len(axes) == 2 * 3  # the images stand alone: no tick marks or grid on their edges
    assert all(a.ticks == "" and a.showgrid is False and not a.showticklabels for a in axes)


def test_gallery_shows_colour_images_in_colour():
    images = torch.randint(0, 256, (2, 3, 28, 28), dtype=torch.uint8)
    fig = figs.gallery(images, [0, 1], [0, 0], ["red", "blue"])
    assert [t.type for t in fig.data] == ["image", "image"]
    assert torch.equal(torch.tensor(fig.data[1].z), images[1].permute(1, 2, 0))
    grey = figs.gallery(images[:, :1], [0, 1], [0, 0], ["red", "blue"])  # (N, 1, 28, 28)
    assert grey.data[0].type == "heatmap"
    assert torch.equal(torch.tensor(grey.data[0].z), images[0, 0].float())


def test_confusion_figure_and_comparison():
    cm = torch.arange(100).view(10, 10)
    fig = figs.confusion(cm, CLASS_NAMES)
    assert list(fig.data[0].x) == list(CLASS_NAMES) == list(fig.data[0].y)
    assert [list(r) for r in fig.data[0].z] == cm.tolist()
    rows = [{"model_name": "run 1", "model_acc": 80.5}, {"model_name": "run 2", "model_acc": 85.0}]
    bars = figs.comparison(rows).data[0]
    assert list(bars.y) == ["run 1", "run 2"] and list(bars.x) == [80.5, 85.0]
    long = [{"model_name": "run 3 (sgd, lr 0.1, 3 epochs, 5,000 images)", "model_acc": 77.1}]
    fig = figs.comparison(long)
    assert list(fig.data[0].y) == [long[0]["model_name"]]  # whole on hover
    assert list(fig.layout.yaxis.ticktext) == ["run 3<br>(sgd, lr 0.1, 3 epochs, 5,000 images)"]
