"""The attribute CLI: one JSON line and one PNG per image, the engine and the model as oracles."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from tinyvgg.attribute import BLUE, PAD, RED, ZOOM, main, overlay_png, resolve_class
from tinyvgg.attribution import attribute
from tinyvgg.data import CLASS_NAMES
from tinyvgg.folders import to_input
from tinyvgg.model import TinyVGGConfig, build_model, load_shipped, save_checkpoint
from tinyvgg.preprocess import preprocess
from tinyvgg.shapes import SHAPES

from .conftest import ROOT

SIDE = 28 * ZOOM


@pytest.fixture(scope="module")
def shipped():
    return load_shipped("sketch")[0].requires_grad_(False)  # the CLI's default: for drawings


@pytest.fixture
def shirt(tmp_path, monkeypatch):
    """A white T-shirt-like shape on black, as a PNG; the current folder is tmp_path."""
    im = Image.new("L", (120, 160), 0)
    body = [(30, 20), (90, 20), (115, 50), (100, 60), (90, 50), (90, 140), (30, 140), (30, 50),
            (20, 60), (5, 50)]  # fmt: skip
    ImageDraw.Draw(im).polygon(body, fill=230)
    path = tmp_path / "shirt.png"
    im.save(path)
    monkeypatch.chdir(tmp_path)
    return path


def _run(argv, capsys) -> tuple[int, dict | None, str]:
    """main(argv): its exit code, its JSON line (None if nothing was printed), its stderr."""
    code = main(argv)
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) <= 1, out
    return code, (json.loads(lines[0]) if lines else None), err


def _one_line_error(err: str) -> str:
    assert err.startswith("error: ") and err.endswith(".\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def _input(path):
    return preprocess(path.read_bytes()).tensor  # (1, 28, 28), as the CLI sees it


# ---------------------------------------------------------------------------- the CLI


def test_default_is_exact_for_the_predicted_class(shirt, shipped, capsys):
    code, line, err = _run([str(shirt)], capsys)
    assert code == 0 and err == ""
    x = _input(shirt)
    with torch.no_grad():
        logits = shipped(x.unsqueeze(0))[0]
    a = attribute(shipped, x, "exact", int(logits.argmax()))
    assert line == {"file": str(shirt)} | a.summary(CLASS_NAMES) | {
        "png": "shirt-exact.png", "scale": float(a.map.abs().max())}  # fmt: skip
    assert line["target"] == CLASS_NAMES[int(logits.argmax())] and "versus" not in line
    assert line["logit"] == pytest.approx(float(logits.max()), abs=1e-5)
    assert abs(line["delta"]) < 1e-3
    png = Image.open(shirt.parent / "shirt-exact.png")
    assert png.format == "PNG" and png.width == SIDE and png.height > SIDE
    expected = overlay_png(x, a.map, "any caption")
    assert np.array_equal(np.asarray(png.convert("RGB"))[:SIDE], np.asarray(expected)[:SIDE])


def test_versus_and_out(shirt, capsys):
    code, line, _ = _run(["--method", "ig", "--target", "Coat", "--versus", "pullover",
                          str(shirt)], capsys)  # fmt: skip
    assert code == 0
    assert (line["method"], line["target"], line["versus"]) == ("ig", "Coat", "Pullover")
    assert line["png"] == "shirt-ig-vs-pullover.png" and (shirt.parent / line["png"]).is_file()
    assert line["settings"]["steps"] >= 50 and abs(line["delta"]) <= 0.01 * abs(line["logit"]) + 1
    out = shirt.parent / "maps" / "why.png"
    out.parent.mkdir()
    code, line, _ = _run(["--method", "occlusion", "--target", "t-shirt", "--versus", "9",
                          "--out", str(out), str(shirt)], capsys)  # fmt: skip
    assert code == 0 and line["png"] == str(out) and out.is_file()
    assert (line["target"], line["versus"]) == ("T-shirt/top", "Ankle boot")
    assert line["settings"] == {"patch": 4, "stride": 2}
    assert Image.open(out).width == SIDE
    assert not (shirt.parent / "shirt-occlusion-vs-ankle-boot.png").exists()


@pytest.mark.parametrize(
    ("text", "name"),
    [("coat", "Coat"), (" COAT ", "Coat"), ("4", "Coat"), ("ankle boot", "Ankle boot"),
     ("Ankle-Boot", "Ankle boot"), ("t-shirt/top", "T-shirt/top"), ("top", "T-shirt/top"),
     ("shirt", "Shirt"), ("0", "T-shirt/top")],
)  # fmt: skip
def test_class_names_in_any_case(text, name):
    assert CLASS_NAMES[resolve_class(text, CLASS_NAMES)] == name


def test_a_class_name_through_main(shirt, capsys):
    code, line, _ = _run(["--target", "ANKLE BOOT", str(shirt)], capsys)
    assert code == 0 and line["target"] == "Ankle boot"


@pytest.mark.parametrize(
    ("argv", "nearest"),
    [(["--target", "cot"], "'Coat'"), (["--versus", "pullver"], "'Pullover'"),
     (["--target", "sneakers"], "'Sneaker'"), (["--target", "12"], None)],
)  # fmt: skip
def test_an_unknown_class_is_one_line_naming_the_nearest(shirt, capsys, argv, nearest):
    code, line, err = _run([*argv, str(shirt)], capsys)
    assert code == 2 and line is None
    _one_line_error(err)
    if nearest:
        assert f"the nearest is {nearest}" in err and all(n in err for n in CLASS_NAMES)
    else:
        assert "0 to 9" in err
    assert list(shirt.parent.glob("*.png")) == [shirt]


def test_bad_files_exit_1(shirt, capsys):
    code, line, err = _run([str(shirt.parent / "missing.png")], capsys)
    assert code == 1 and line is None
    assert _one_line_error(err).endswith("missing.png: No such file.\n")
    junk = shirt.parent / "notes.png"
    junk.write_text("not an image")
    code, line, err = _run([str(junk)], capsys)
    assert code == 1 and line is None and "not an image" in _one_line_error(err)


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--method", "occlusion", "--patch", "0"], "The patch must be 1 to 28 pixels wide, not 0."),
     (["--method", "occlusion", "--stride", "9"], "The stride must be 1 to the patch's size (4)"),
     (["--method", "ig", "--steps", "1"], "Integrated Gradients takes 2 to"),
     (["--target", "coat", "--versus", "COAT"], "Compare the class with another class")],
)  # fmt: skip
def test_bad_settings_are_one_sentence(shirt, capsys, argv, message):
    code, line, err = _run([*argv, str(shirt)], capsys)
    assert code == 2 and line is None
    assert _one_line_error(err).startswith(f"error: {message}")


def test_bad_checkpoint_or_out_path_exit_2(shirt, capsys):
    bad = shirt.parent / "bad.pt"
    bad.write_bytes(b"junk")
    code, line, err = _run(["--checkpoint", str(bad), str(shirt)], capsys)
    assert code == 2 and line is None and err.count("\n") == 1 and "Traceback" not in err
    nowhere = shirt.parent / "no" / "such" / "folder.png"
    code, line, err = _run(["--out", str(nowhere), str(shirt)], capsys)
    assert code == 2 and line is None
    assert _one_line_error(err).startswith(f"error: The PNG cannot be written to {nowhere}")


def test_as_a_process(shirt):
    """`python -m tinyvgg.attribute`: one JSON line and exit 0; an error is one line, exit 2."""
    out = shirt.parent / "why.png"
    cmd = [sys.executable, "-m", "tinyvgg.attribute", "--out", str(out), str(shirt)]
    good = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stderr
    (line,) = good.stdout.strip().splitlines()
    assert json.loads(line)["png"] == str(out) and out.is_file()
    bad = subprocess.run([*cmd, "--target", "cot"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert bad.returncode == 2 and bad.stdout == "" and "Traceback" not in bad.stderr
    assert _one_line_error(bad.stderr) and "'Coat'" in bad.stderr


def test_classes_are_the_models_own(shirt, capsys):
    """A shapes model: its class names in the JSON, as --target and in the unknown-class
    sentence; an RGB model explains the picture in colour, its map summed over channels."""
    model = build_model(TinyVGGConfig(output_shape=4), seed=1, classes=SHAPES, dataset="shapes")
    ckpt = shirt.parent / "shapes.pt"
    save_checkpoint(ckpt, model)
    code, line, _ = _run(["--checkpoint", str(ckpt), "--target", "STAR", str(shirt)], capsys)
    assert code == 0 and line["target"] == "star"
    expected = attribute(model.requires_grad_(False), _input(shirt), "exact", 2)
    assert line["sum"] == pytest.approx(expected.total, abs=1e-4)
    code, _, err = _run(["--checkpoint", str(ckpt), "--target", "coat", str(shirt)], capsys)
    assert code == 2 and "the classes are circle, square, star, triangle, or 0 to 3" in err

    rgb = build_model(TinyVGGConfig(input_shape=3, output_shape=3), seed=1,
                      classes=("blue", "green", "red"), dataset="colours")  # fmt: skip
    save_checkpoint(shirt.parent / "rgb.pt", rgb)
    code, line, _ = _run(["--checkpoint", str(shirt.parent / "rgb.pt"), "--target", "red",
                          "--method", "saliency", str(shirt)], capsys)  # fmt: skip
    assert code == 0 and line["target"] == "red"
    x = to_input(Image.open(shirt), channels=3).float() / 255
    expected = attribute(rgb.requires_grad_(False), x, "saliency", 2)
    assert line["sum"] == pytest.approx(expected.total, rel=1e-5)


# ---------------------------------------------------------------------------- the picture


def _at(im: Image.Image, row: int, col: int) -> np.ndarray:
    """The colour drawn for input pixel (row, col): the middle of its ZOOM×ZOOM block."""
    return np.asarray(im.convert("RGB"))[row * ZOOM + ZOOM // 2, col * ZOOM + ZOOM // 2].astype(int)


def _half_white():
    x = torch.zeros(1, 28, 28)
    x[:, :, 14:] = 1.0  # left half black, right half white
    return x


def test_overlay_colours_are_signed_and_symmetric():
    x, m = _half_white(), torch.zeros(28, 28)
    m[3, 3], m[5, 5], m[3, 20], m[7, 20] = 2.0, -1.0, 1.0, -2.0
    im = overlay_png(x, m, "Saliency: why Coat")
    assert im.width == SIDE and im.height > SIDE
    assert list(_at(im, 20, 3)) == [0, 0, 0]  # 0 on black: the input's own grey
    assert list(_at(im, 20, 20)) == [255, 255, 255]  # 0 on white
    assert list(_at(im, 3, 3)) == list(RED) and list(_at(im, 7, 20)) == list(BLUE)  # ±max
    half_blue, half_red = _at(im, 5, 5), _at(im, 3, 20)  # -max/2 on black, +max/2 on white
    assert list(half_blue) == list(np.rint(BLUE * 0.5).astype(int))
    assert half_blue[2] > half_blue[0] + 50 and half_blue[2] > half_blue[1]  # bluish
    assert list(half_red) == list(np.rint((255 + RED) * 0.5).astype(int))
    assert half_red[0] > half_red[1] + 50 and half_red[0] > half_red[2] + 50  # reddish


def test_overlay_is_never_min_max_normalised():
    x, m = _half_white(), torch.ones(28, 28)  # every value positive: all red, none neutral
    m[0, 0] = 2.0
    im = overlay_png(x, m, "c")
    assert list(_at(im, 10, 3)) == list(np.rint(RED * 0.5).astype(int))  # half of max, not 0
    scaled = overlay_png(x, m * 1000, "c")  # the colours depend on value / max|value| only
    assert np.array_equal(np.asarray(im)[:SIDE], np.asarray(scaled)[:SIDE])
    assert not np.array_equal(np.asarray(im)[SIDE:], np.asarray(scaled)[SIDE:])  # the legend


def test_overlay_of_a_zero_map_is_the_input_and_legend_is_a_diverging_bar():
    x = torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(0))
    im = overlay_png(x, torch.zeros(28, 28), "Grad-CAM: why Bag")
    grey = np.rint(x[0].numpy() * 255).astype(int)
    assert np.array_equal(np.asarray(im)[:SIDE:ZOOM, ::ZOOM, 0], grey)
    im = overlay_png(x, torch.randn(28, 28), "Occlusion: why Bag\nred: evidence for")
    bar = np.asarray(im)[SIDE + PAD + 5].astype(int)  # a row through the colour bar
    left, mid, right = bar[PAD + 2], bar[SIDE // 2 + 3], bar[SIDE - PAD - 3]
    assert left[2] > left[0] + 100 and right[0] > right[2] + 100  # blue ... red
    assert (mid > 240).all()  # white at 0
    assert (np.asarray(im)[SIDE + PAD + 20 :] < 100).any()  # text under the bar
