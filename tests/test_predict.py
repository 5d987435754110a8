"""The predict CLI: one JSON line per image, PyTorch's own softmax as the oracle."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from tinyvgg.calibration import UNSURE_BELOW
from tinyvgg.data import CLASS_NAMES
from tinyvgg.model import SKETCH_CHECKPOINT, build_model, save_checkpoint
from tinyvgg.predict import main, probabilities, top_k
from tinyvgg.preprocess import preprocess

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
