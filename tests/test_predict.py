"""The predict CLI: one JSON line per image, PyTorch's own softmax as the oracle."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from PIL import Image

from tinyvgg.calibration import UNSURE_BELOW
from tinyvgg.data import CLASS_NAMES
from tinyvgg.folders import to_input
from tinyvgg.model import SKETCH_CHECKPOINT, TinyVGGConfig, build_model, save_checkpoint
from tinyvgg.predict import main, model_input, probabilities, top_k
from tinyvgg.preprocess import preprocess
from tinyvgg.shapes import SHAPES

from .conftest import ROOT
from .test_preprocess import encode, garment


def _files(tmp_path):
    good = tmp_path / "tshirt.png"
    good.write_bytes(encode(garment(ink=30, paper=250)))
    junk = tmp_path / "notes.png"
    junk.write_text("not an image")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    return good, junk, empty


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.strip().splitlines()]


def test_top_k_is_the_models_softmax():
    model = build_model(seed=3).eval()
    x = preprocess(garment()).tensor
    probs = probabilities(model, x, torch.device("cpu"))
    with torch.no_grad():
        oracle = torch.softmax(model(x.unsqueeze(0)), dim=1)[0]
    torch.testing.assert_close(probs, oracle)
    top = top_k(probs, 3)
    order = oracle.argsort(descending=True)[:3]
    assert [name for name, _ in top] == [CLASS_NAMES[i] for i in order]
    assert [p for _, p in top] == [float(oracle[i]) for i in order]


def test_cli_good_and_bad_files(tmp_path, capsys):
    good, junk, empty = _files(tmp_path)
    missing = tmp_path / "missing.png"
    code = main([str(good), str(junk), str(empty), str(missing), "--top", "4"])
    out = _lines(capsys.readouterr().out)
    assert code == 1
    assert [line["file"] for line in out] == [str(good), str(junk), str(empty), str(missing)]
    assert len(out[0]["top"]) == 4 and "error" not in out[0]
    probs = [entry["prob"] for entry in out[0]["top"]]
    assert probs == sorted(probs, reverse=True) and all(0 <= p <= 1 for p in probs)
    assert "not an image" in out[1]["error"]
    assert "empty" in out[2]["error"]
    assert out[3]["error"] == "No such file."


def test_cli_matches_the_model_on_a_checkpoint(tmp_path, capsys):
    good, _, _ = _files(tmp_path)
    model = build_model(seed=11).eval()
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, model)
    assert main(["--checkpoint", str(ckpt), str(good)]) == 0
    (line,) = _lines(capsys.readouterr().out)
    with torch.no_grad():
        oracle = torch.softmax(model(preprocess(good.read_bytes()).tensor.unsqueeze(0)), 1)[0]
    top = oracle.topk(3)
    assert [e["class"] for e in line["top"]] == [CLASS_NAMES[i] for i in top.indices]
    assert [e["prob"] for e in line["top"]] == top.values.tolist()


def test_cli_as_a_process_has_no_tracebacks(tmp_path):
    """`python -m tinyvgg.predict`: a good file predicted, bad ones one error line each."""
    good, junk, empty = _files(tmp_path)
    assert SKETCH_CHECKPOINT.is_file()  # the default
    bad = subprocess.run(
        [sys.executable, "-m", "tinyvgg.predict", str(good), str(junk), str(empty)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 1 and "Traceback" not in bad.stderr + bad.stdout
    lines = _lines(bad.stdout)
    assert ["error" in line for line in lines] == [False, True, True]
    assert CLASS_NAMES.index(lines[0]["top"][0]["class"]) >= 0


def test_cli_with_a_bad_checkpoint_is_one_line(tmp_path, capsys):
    good, _, _ = _files(tmp_path)
    bad_ckpt = tmp_path / "bad.pt"
    bad_ckpt.write_bytes(b"junk")
    assert main([str(good)]) == 0  # the shipped model
    assert main(["--checkpoint", str(bad_ckpt), str(good)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.strip().count("\n") == 0 and "Traceback" not in err


def test_cli_applies_the_checkpoints_temperature_and_says_when_unsure(tmp_path, capsys):
    good, _, _ = _files(tmp_path)
    model = build_model(seed=11).eval()
    with torch.no_grad():
        logits = model(preprocess(good.read_bytes()).tensor.unsqueeze(0))
    for t in (0.05, 8.0):  # sharp: sure of its answer; soft: unsure
        ckpt = tmp_path / f"t{t}.pt"
        save_checkpoint(ckpt, model, {"temperature": t})
        assert main(["--checkpoint", str(ckpt), str(good), "--top", "10"]) == 0
        (line,) = _lines(capsys.readouterr().out)
        oracle = torch.softmax(logits / t, dim=1)[0]
        assert [e["prob"] for e in line["top"]] == oracle.sort(descending=True).values.tolist()
        assert sum(e["prob"] for e in line["top"]) == pytest.approx(1.0, abs=1e-5)
        assert line["top"][0]["class"] == CLASS_NAMES[int(logits.argmax())]  # argmax unchanged
        assert line["unsure"] is (float(oracle.max()) < UNSURE_BELOW)
    assert line["unsure"]  # at T = 8 this untrained model is far from sure


def test_the_cli_names_the_models_own_classes(tmp_path, capsys):
    good, _, _ = _files(tmp_path)
    model = build_model(TinyVGGConfig(output_shape=4), seed=5, classes=SHAPES, dataset="shapes")
    ckpt = tmp_path / "shapes.pt"
    save_checkpoint(ckpt, model.eval())
    assert main(["--checkpoint", str(ckpt), str(good), "--top", "4"]) == 0
    (line,) = _lines(capsys.readouterr().out)
    with torch.no_grad():
        oracle = torch.softmax(model(preprocess(good.read_bytes()).tensor.unsqueeze(0)), 1)[0]
    assert [e["class"] for e in line["top"]] == [SHAPES[i] for i in oracle.argsort(descending=True)]
    assert top_k(oracle, 2, ("a", "b", "c", "d"))[0][0] == "abcd"[int(oracle.argmax())]


def test_an_rgb_model_gets_an_rgb_input(tmp_path, capsys):
    """A 3-channel model sees the picture as its dataset's images were read (folders.to_input),
    in colour; a greyscale picture is read as RGB too."""
    classes = ("blue", "green", "red")
    model = build_model(TinyVGGConfig(input_shape=3, output_shape=3), seed=2, classes=classes,
                        dataset="colours").eval()  # fmt: skip
    ckpt = tmp_path / "rgb.pt"
    save_checkpoint(ckpt, model)
    picture = Image.new("RGB", (50, 30), (200, 30, 40))
    picture.paste(Image.new("RGB", (10, 10), (20, 40, 220)), (20, 10))
    path = tmp_path / "red.png"
    picture.save(path)
    grey = tmp_path / "grey.png"
    picture.convert("L").save(grey)
    assert main(["--checkpoint", str(ckpt), str(path), str(grey)]) == 0
    line, grey_line = _lines(capsys.readouterr().out)
    x = to_input(picture, channels=3).float() / 255  # (3, 28, 28)
    assert x[0].mean() > x[2].mean()  # red stays red: no greyscale on the way
    with torch.no_grad():
        oracle = torch.softmax(model(x.unsqueeze(0)), 1)[0]
    assert [e["class"] for e in line["top"]] == [
        classes[i] for i in oracle.argsort(descending=True)
    ]
    assert [e["prob"] for e in line["top"]] == oracle.sort(descending=True).values.tolist()
    assert "error" not in grey_line and len(grey_line["top"]) == 3


def test_a_model_of_own_images_reads_a_picture_as_its_dataset_did(tmp_path, capsys):
    """Dark ink on white stays dark on white (no inversion, no crop): as folders.to_input read
    the dataset's images; a built-in dataset's model gets the draw page's preprocessing."""
    classes = ("cross", "dot")
    own = build_model(TinyVGGConfig(output_shape=2), seed=3, classes=classes, dataset="marks")
    ckpt = tmp_path / "marks.pt"
    save_checkpoint(ckpt, own.eval())
    picture = Image.new("L", (40, 60), 255)
    picture.paste(Image.new("L", (10, 10), 0), (5, 5))
    path = tmp_path / "mark.png"
    picture.save(path)
    x = to_input(picture).float() / 255
    assert x[0, 0, 0] == 1.0  # white background, letterboxed in white
    assert torch.equal(model_input(path.read_bytes(), own), x)
    shapes = build_model(TinyVGGConfig(output_shape=4), seed=3, classes=SHAPES, dataset="shapes")
    pre = preprocess(path.read_bytes()).tensor
    assert torch.equal(model_input(path.read_bytes(), shapes), pre) and not torch.equal(pre, x)
    assert main(["--checkpoint", str(ckpt), str(path)]) == 0
    (line,) = _lines(capsys.readouterr().out)
    with torch.no_grad():
        oracle = torch.softmax(own(x.unsqueeze(0)), 1)[0]
    assert [e["prob"] for e in line["top"]] == oracle.sort(descending=True).values.tolist()
