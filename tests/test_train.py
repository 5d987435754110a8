"""fit(): learning, stopping, events, results; evaluate(); the CLIs; devices."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import zipfile

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from tinyvgg import health
from tinyvgg.data import DeviceData
from tinyvgg.device import DeviceError, pick_device
from tinyvgg.evaluate import evaluate
from tinyvgg.model import build_model, load_checkpoint, save_checkpoint
from tinyvgg.shapes import SHAPES, shapes, shapes_zip
from tinyvgg.train import TrainConfig, fit

from .conftest import ROOT

SMALL = dict(subset=1024, test_subset=500, log_every=8, device="cpu")


def _run(cfg, **kw):
    events = []
    result = fit(cfg, on_event=events.append, **kw)
    return result, events


def test_short_fit_lowers_the_loss(real_data):
    train, test = real_data
    # SGD at lr 0.1 needs ~100 steps to leave the plateau at ln 10; 2 x 128 steps do it
    cfg = TrainConfig(epochs=2, subset=4096, test_subset=500, log_every=16, device="cpu")
    result, events = _run(cfg, train=train, test=test)
    steps = [e for e in events if e["kind"] == "step"]
    assert steps[0]["loss"] > 2.0  # chance is ln 10 = 2.303
    epochs = [e for e in events if e["kind"] == "epoch"]
    assert epochs[-1]["train_loss"] < steps[0]["loss"] - 0.5
    assert result.results["model_acc"] > 50.0


def test_events_arrive_in_order(real_data):
    train, test = real_data
    _, events = _run(TrainConfig(epochs=2, **SMALL), train=train, test=test)
    kinds = [e["kind"] for e in events if e["kind"] != "warning"]
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert kinds.count("epoch") == 2
    start = events[0]
    assert start["steps_per_epoch"] == 1024 // 32 and start["n_train"] == 1024
    steps = [e for e in events if e["kind"] == "step"]
    assert [s["global_step"] for s in steps] == sorted({s["global_step"] for s in steps})
    assert steps[-1]["global_step"] == start["total_steps"]
    assert all(s["images_per_s"] > 0 and 0 <= s["acc"] <= 100 for s in steps)
    # each epoch event follows its own steps
    first_epoch_end = kinds.index("epoch")
    assert all(e["epoch"] == 0 for e in events[1:first_epoch_end] if e["kind"] == "step")


def test_results_have_the_notebooks_keys(real_data):
    train, test = real_data
    result, events = _run(TrainConfig(epochs=1, **SMALL), train=train, test=test)
    assert {"model_name", "model_loss", "model_acc"} <= set(result.results)
    assert {"train_time_s", "device"} <= set(result.results)
    assert events[-1]["results"] == result.results
    # the final numbers are on the full 10k test set, not the per-epoch subset
    full = DeviceData.from_split(test, torch.device("cpu"))
    assert result.results["model_acc"] == pytest.approx(evaluate(result.model, full)["model_acc"])


def test_stop_flag_ends_the_run_within_one_step(real_data):
    train, test = real_data
    stop = threading.Event()
    events = []

    def on_event(e):
        events.append(e)
        if e["kind"] == "step" and e["step"] == 3:
            stop.set()

    cfg = TrainConfig(epochs=3, subset=1024, log_every=1, device="cpu")
    result = fit(cfg, on_event=on_event, stop=stop, train=train, test=test)
    steps = [e for e in events if e["kind"] == "step"]
    assert steps[-1]["global_step"] == 3  # no step ran after the flag was seen
    assert result.results["stopped"] is True
    assert events[-1]["kind"] == "end" and events[-1]["stopped"] is True


def test_stop_as_a_callable(real_data):
    train, test = real_data
    result = fit(TrainConfig(epochs=1, **SMALL), stop=lambda: True, train=train, test=test)
    assert result.results["stopped"] and result.results["epochs_done"] == 0


def test_seeded_runs_repeat(real_data):
    train, test = real_data
    a = fit(TrainConfig(epochs=1, **SMALL), train=train, test=test)
    b = fit(TrainConfig(epochs=1, **SMALL), train=train, test=test)
    for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values(), strict=True):
        assert torch.equal(x, y)


def test_adam_and_hidden_units(real_data):
    train, test = real_data
    cfg = TrainConfig(epochs=1, optimizer="adam", lr=0.003, hidden_units=4, subset=2048,
                      test_subset=500, device="cpu")  # fmt: skip
    result = fit(cfg, train=train, test=test)
    assert result.model.config.hidden_units == 4
    assert result.results["model_acc"] > 40.0


def test_a_run_stuck_at_chance_is_explained(real_data):
    train, test = real_data
    cfg = TrainConfig(epochs=1, lr=1.0, subset=4096, test_subset=200, device="cpu")
    _, events = _run(cfg, train=train, test=test)
    warnings = [e["message"] for e in events if e["kind"] == "warning"]
    assert len(warnings) == 1 and "stuck at chance" in warnings[0] and "seed" in warnings[0]


def test_a_diverging_run_is_explained(real_data):
    train, test = real_data
    cfg = TrainConfig(epochs=1, lr=30.0, subset=4096, test_subset=200, device="cpu")
    _, events = _run(cfg, train=train, test=test)
    warnings = [e["message"] for e in events if e["kind"] == "warning"]
    assert len(warnings) == 1 and "diverged" in warnings[0]


def test_a_healthy_run_has_no_warning(real_data):
    train, test = real_data
    cfg = TrainConfig(epochs=1, subset=4096, test_subset=200, device="cpu")
    _, events = _run(cfg, train=train, test=test)
    assert not [e for e in events if e["kind"] == "warning"]


@pytest.mark.parametrize(
    "bad", [dict(epochs=0), dict(batch_size=0), dict(optimizer="rmsprop"), dict(lr=-1.0)]
)
def test_bad_settings_are_one_sentence(bad):
    with pytest.raises(ValueError) as err:
        fit(TrainConfig(**bad))
    assert str(err.value).endswith(".") and "\n" not in str(err.value)


def test_evaluate_matches_pytorch(real_data):
    _, test = real_data
    model = build_model(seed=0)
    data = DeviceData.from_split(test, torch.device("cpu"), torch.arange(777))
    res = evaluate(model, data, name="model_2")
    with torch.inference_mode():
        logits = model(data.x)
    assert res["model_name"] == "model_2"
    assert res["model_loss"] == pytest.approx(F.cross_entropy(logits, data.y).item(), rel=1e-5)
    expected_acc = 100.0 * (logits.argmax(1) == data.y).float().mean().item()
    assert res["model_acc"] == pytest.approx(expected_acc)


def test_device_choice(monkeypatch):
    assert pick_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("TINYVGG_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")
    assert pick_device("auto").type in ("cuda", "mps", "cpu")
    with pytest.raises(DeviceError, match="Unknown device"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="not available"):
            pick_device("cuda")


def test_the_cpu_label_counts_its_threads_in_good_english():
    from tinyvgg.device import describe

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert describe(torch.device("cpu")) == "cpu (1 thread)"
        torch.set_num_threads(2)
        assert describe(torch.device("cpu")) == "cpu (2 threads)"
    finally:
        torch.set_num_threads(before)


def _cli(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, **kw
    )


def test_train_cli_then_evaluate_cli(real_data, tmp_path):
    out = tmp_path / "run.pt"
    p = _cli("tinyvgg.train", "--epochs", "1", "--subset", "512", "--seed", "42",
             "--device", "cpu", "--out", str(out))  # fmt: skip
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert any(line.startswith("Train loss: ") and "| Train acc: " in line for line in lines)
    assert any(line.startswith("Test loss: ") and "| Test acc: " in line for line in lines)
    assert any(line.startswith("Train time on cpu") for line in lines)
    results = json.loads(lines[-1])
    assert {"model_name", "model_loss", "model_acc", "train_time_s", "device"} <= set(results)
    model, metrics = load_checkpoint(out)
    assert metrics["model_acc"] == results["model_acc"]

    p = _cli("tinyvgg.evaluate", "--checkpoint", str(out), "--device", "cpu")
    assert p.returncode == 0, p.stderr
    evaluated = json.loads(p.stdout.strip().splitlines()[-1])
    assert set(evaluated) == {"model_name", "model_loss", "model_acc"}
    assert evaluated["model_acc"] == pytest.approx(results["model_acc"])


def test_cli_errors_are_one_line(tmp_path, capsys):
    """What a user gets wrong on the command line: exit code 2 and one line, no traceback.
    (The CLIs as real processes: test_train_cli_then_evaluate_cli.)"""
    from tinyvgg import evaluate as evaluate_cli
    from tinyvgg import train as train_cli

    junk = tmp_path / "junk.pt"
    junk.write_text("not a model")
    for main, args in (
        (evaluate_cli.main, ["--checkpoint", str(junk)]),
        (train_cli.main, ["--epochs", "0", "--out", ""]),
        (train_cli.main, ["--device", "tpu", "--epochs", "1", "--out", ""]),
    ):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.strip().count("\n") == 0, (args, err)


def test_a_failed_cuda_graph_capture_falls_back_to_eager_steps(monkeypatch):
    """The CUDA-graph step has a way out: if capture fails, training goes on eagerly, with a
    warning, and the eager steps match a plain EagerStep's exactly. (Runs on CPU with the CUDA
    stream calls stubbed; the capture itself needs a GPU.)"""
    import contextlib
    import types

    from tinyvgg.model import TinyVGGConfig, build_model
    from tinyvgg.steps import EagerStep, GraphStep

    stream = types.SimpleNamespace(wait_stream=lambda other: None)
    monkeypatch.setattr(torch.cuda, "Stream", lambda: stream)
    monkeypatch.setattr(torch.cuda, "current_stream", lambda: stream)
    monkeypatch.setattr(torch.cuda, "stream", lambda s: contextlib.nullcontext())

    def no_capture(self):
        raise RuntimeError("operation not permitted when stream is capturing")

    monkeypatch.setattr(GraphStep, "_capture", no_capture)
    g = torch.Generator().manual_seed(0)
    data = DeviceData(
        torch.rand(256, 1, 28, 28, generator=g), torch.randint(0, 10, (256,), generator=g)
    )
    models = [build_model(TinyVGGConfig(), seed=3) for _ in range(2)]
    opts = [torch.optim.SGD(m.parameters(), lr=0.1) for m in models]
    graph_step = GraphStep(models[0], opts[0], data, batch_size=32)
    eager_step = EagerStep(models[1], opts[1], data)
    with pytest.warns(RuntimeWarning, match="CUDA graph capture failed"):
        for b in range(8):
            idx = torch.arange(32 * b, 32 * (b + 1))
            graph_step(idx)
            eager_step(idx)
    assert graph_step.graph is False
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert graph_step.running(256) == eager_step.running(256)


@pytest.mark.parametrize(("hidden_units", "clip_norm"), [(10, None), (4, None), (10, 0.1)])
def test_the_written_out_sgd_step_matches_autograd_bit_for_bit(hidden_units, clip_norm):
    """SGDStep (the CPU's step) gives the weights, loss and accuracy of an autograd step with
    torch.optim.SGD exactly: zero backgrounds (ties in every pooling window), a short last
    batch, a learning rate that changes between steps (the cosine schedule), and gradients
    clipped as torch.nn.utils.clip_grad_norm_ clips them."""
    from tinyvgg.model import TinyVGGConfig, build_model
    from tinyvgg.steps import EagerStep, SGDStep, make_stepper

    g = torch.Generator().manual_seed(1)
    x = torch.rand(200, 1, 28, 28, generator=g)
    x[:, :, :9] = 0  # a blank top third, as Fashion-MNIST's backgrounds are
    x[x < 0.3] = 0
    data = DeviceData(
        x.contiguous(memory_format=torch.channels_last), torch.randint(0, 10, (200,), generator=g)
    )
    cfg = TinyVGGConfig(hidden_units=hidden_units)
    models = [build_model(cfg, seed=5).to(memory_format=torch.channels_last) for _ in range(2)]
    opts = [torch.optim.SGD(m.parameters(), lr=0.1) for m in models]
    written, autograd = (
        make_stepper(models[0], opts[0], data, 32, False, clip_norm),
        EagerStep(models[1], opts[1], data, clip_norm),
    )
    assert type(written) is SGDStep
    for step, lo in enumerate(range(0, 200, 32)):  # the last batch has 8 images
        for opt in opts:
            opt.param_groups[0]["lr"] = 0.1 / (1 + step)
        idx = torch.arange(lo, min(lo + 32, 200))
        written(idx)
        autograd(idx)
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert written.running(200) == autograd.running(200)
    assert written.running(200)[0] > 0
    if clip_norm is not None:  # it clipped: the weights are not plain SGD's (norms ~0.36 here)
        plain = build_model(cfg, seed=5).to(memory_format=torch.channels_last)
        sgd = torch.optim.SGD(plain.parameters(), lr=0.1)
        step = EagerStep(plain, sgd, data)
        for k, lo in enumerate(range(0, 200, 32)):
            sgd.param_groups[0]["lr"] = 0.1 / (1 + k)
            step(torch.arange(lo, min(lo + 32, 200)))
        assert not torch.equal(plain.layer("conv_1_1").weight, models[0].layer("conv_1_1").weight)


def test_steppers_are_chosen_by_optimizer_and_device():
    from tinyvgg.model import build_model
    from tinyvgg.steps import EagerStep, SGDStep, make_stepper

    data = DeviceData(torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,)))
    model = build_model(seed=0)
    choices = {
        "sgd": torch.optim.SGD(model.parameters(), lr=0.1),
        "momentum": torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
        "decay": torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=1e-4),
        "adam": torch.optim.Adam(model.parameters()),
    }
    kinds = {k: type(make_stepper(model, o, data, 32, graphed=True)) for k, o in choices.items()}
    assert kinds == {"sgd": SGDStep, "momentum": EagerStep, "decay": EagerStep, "adam": EagerStep}


def test_fit_on_the_cpu_keeps_freed_memory_for_reuse():
    """fit() sets glibc's thresholds once per process, so a step's activations reuse the heap
    instead of faulting in fresh pages (a third of the step's time on the 2-core machine)."""
    import resource

    from tinyvgg.device import keep_freed_memory
    from tinyvgg.model import build_model
    from tinyvgg.steps import make_stepper

    assert keep_freed_memory() and keep_freed_memory()  # idempotent
    data = DeviceData(torch.rand(320, 1, 28, 28).contiguous(memory_format=torch.channels_last),
                      torch.randint(0, 10, (320,)))  # fmt: skip
    model = build_model(seed=0).to(memory_format=torch.channels_last)
    step = make_stepper(model, torch.optim.SGD(model.parameters(), lr=0.01), data, 32, False)
    for b in range(3):
        step(torch.arange(32 * b, 32 * (b + 1)))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for b in range(3, 10):
        step(torch.arange(32 * b, 32 * (b + 1)))
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 7 * 400, faults  # ~1,200 a step with glibc's defaults; a few dozen now


# ---------------------------------------------------------------------------- other datasets

# Shapes learn well past 90% in a few seconds with Adam, a little wider (seed 0: 95.0%, 4 s on
# one busy core; seed 42 ends at 93.5%).
SHAPES_RECIPE = dict(data="shapes", epochs=6, batch_size=16, hidden_units=16, optimizer="adam",
                     lr=3e-3, seed=0, device="cpu", snapshots=0)  # fmt: skip


def test_shapes_learn_and_the_checkpoint_names_them(tmp_path):
    result, events = _run(TrainConfig(**SHAPES_RECIPE))
    start = events[0]
    assert start["dataset"] == "shapes" and start["classes"] == list(SHAPES)
    assert (start["channels"], start["n_train"], start["n_test_all"]) == (1, 1600, 400)
    assert start["steps_per_epoch"] == 100 and start["n_holdout"] == 0
    assert result.results["model_acc"] >= 90.0 and result.results["failed"] is None
    assert not [e for e in events if e["kind"] == "warning"]
    model = result.model
    assert model.classes == SHAPES and model.dataset == "shapes"
    assert (model.config.input_shape, model.config.output_shape) == (1, 4)
    save_checkpoint(tmp_path / "shapes.pt", model, result.results)
    back, metrics = load_checkpoint(tmp_path / "shapes.pt")
    assert back.classes == SHAPES and back.dataset == "shapes" and back.config == model.config
    assert metrics["model_acc"] == result.results["model_acc"]


def colour_folder(root, per_class: int = 8):
    """Class folders of RGB pictures of mixed sizes: a red, green or blue disc on grey."""
    colours = {"blue": (30, 60, 220), "green": (40, 200, 60), "red": (220, 40, 30)}
    rng = torch.Generator().manual_seed(0)
    for name, rgb in colours.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            w, h = (int(v) for v in torch.randint(20, 60, (2,), generator=rng))
            im = Image.new("RGB", (w, h), (128, 128, 128))
            r = min(w, h) // 3
            im.paste(Image.new("RGB", (2 * r, 2 * r), rgb), (w // 2 - r, h // 2 - r))
            im.save(root / name / f"{i}.png")
    return root


def test_an_rgb_folder_trains_and_holds_out_what_it_can(tmp_path):
    folder = colour_folder(tmp_path / "colours")
    cfg = TrainConfig(data=str(folder), channels=3, epochs=1, batch_size=4, holdout=5000,
                      device="cpu", snapshots=0)  # fmt: skip
    result, events = _run(cfg)
    start = events[0]
    assert start["dataset"] == "colours" and start["classes"] == ["blue", "green", "red"]
    # 3 x 8 images: 2 of each class tested; of the 18 left a fifth is held out (5,000 cannot be)
    assert start["channels"] == 3 and start["n_test_all"] == 6 and start["n_holdout"] == 3
    assert start["n_train"] == 15 and result.results["holdout_images"] == 3
    model = result.model
    assert (model.config.input_shape, model.config.output_shape) == (3, 3)
    assert model.classes == ("blue", "green", "red")


def test_a_holdout_that_leaves_nothing_of_a_chosen_subset_is_refused():
    data = shapes(per_class=10)
    cfg = TrainConfig(data="shapes", subset=8, holdout=8, epochs=1, device="cpu")
    with pytest.raises(ValueError, match="leaves none of the 8 to train on"):
        fit(cfg, data=data)


def test_an_in_memory_dataset_is_trained_on_and_its_name_kept():
    data = shapes(per_class=10, seed=3)
    result, events = _run(TrainConfig(data="my shapes", epochs=1, snapshots=0, device="cpu"),
                          data=data)  # fmt: skip
    assert events[0]["dataset"] == "shapes" and events[0]["n_train"] == len(data.train_labels)
    assert result.model.classes == SHAPES and events[0]["config"]["data"] == "my shapes"
    with pytest.raises(ValueError, match="not both"):
        fit(TrainConfig(), data=data, train=object())


@pytest.mark.parametrize(
    ("bad", "message"),
    [(dict(data="no/such/folder"), "No dataset 'no/such/folder'"), (dict(data=""), "empty"),
     (dict(channels=2), "Channels must be 1")],
)  # fmt: skip
def test_bad_data_settings_are_one_sentence(bad, message):
    with pytest.raises(ValueError, match=message) as err:
        fit(TrainConfig(**bad))
    assert str(err.value).endswith(".") and "\n" not in str(err.value)


def test_splits_stand_only_for_a_builtin_idx_dataset(real_data):
    with pytest.raises(ValueError, match="fashion-mnist, mnist or kmnist only"):
        fit(TrainConfig(data="shapes", epochs=1), train=real_data[0])


@pytest.mark.parametrize("k", [2, 4, 10, 100])
def test_chance_follows_the_number_of_classes(k):
    loss, acc = health.chance(k)
    assert loss == pytest.approx(math.log(k)) and acc == pytest.approx(100 / k)
    stuck = health.while_training(loss, acc, 500, 0.1, "sgd", 0, classes=k)
    assert stuck is not None and f"ln {k} = {math.log(k):.3f}" in stuck
    assert health.while_training(loss * 0.6, acc + 30, 500, 0.1, "sgd", 0, classes=k) is None
    assert health.verdict({"model_loss": loss, "model_acc": acc}, classes=k)[0] == "near chance"
    good = {"model_loss": loss / 4, "model_acc": acc + (100 - acc) / 2}
    assert health.verdict(good, classes=k) is None
    assert (
        f"the {acc:.0f}% of guessing"
        in health.verdict({"model_loss": loss, "model_acc": acc}, classes=k)[1]
    )


def test_the_clis_on_a_zip_of_class_folders(tmp_path, capsys):
    """train --data a .zip, then predict one of its images and evaluate on it, in-process."""
    from tinyvgg import evaluate as evaluate_cli
    from tinyvgg import predict as predict_cli
    from tinyvgg import train as train_cli

    archive = tmp_path / "toys.zip"
    archive.write_bytes(shapes_zip(per_class=40, seed=1))
    out = tmp_path / "toys.pt"
    assert train_cli.main(["--data", str(archive), "--epochs", "2", "--optimizer", "adam",
                           "--batch-size", "16", "--snapshots", "0", "--probe", "0",
                           "--device", "cpu", "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "toys (4 classes), 128 images" in printed
    model, metrics = load_checkpoint(out)
    assert model.classes == SHAPES and model.dataset == "toys"
    assert metrics["train_config"]["data"] == str(archive)

    star = tmp_path / "star.png"
    with zipfile.ZipFile(archive) as zf:
        star.write_bytes(zf.read("shapes/star/0003.png"))
    assert predict_cli.main(["--checkpoint", str(out), "--device", "cpu", str(star)]) == 0
    line = json.loads(capsys.readouterr().out)
    assert {t["class"] for t in line["top"]} <= set(SHAPES) and len(line["top"]) == 3

    assert evaluate_cli.main(["--checkpoint", str(out), "--data", str(archive)]) == 0
    evaluated = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert evaluated["model_acc"] == pytest.approx(metrics["model_acc"])
    assert evaluate_cli.main(["--checkpoint", str(out)]) == 2  # a folder's: --data is needed
    err = capsys.readouterr().err
    assert "'toys', which is not a built-in dataset" in err and err.count("\n") == 1
    assert evaluate_cli.main(["--data", "shapes"]) == 2  # the shipped model has 10 classes
    assert "shapes has 4 classes in 1 channel(s), but the model has 10" in capsys.readouterr().err
    assert train_cli.main(["--data", str(tmp_path / "none.zip"), "--out", ""]) == 2
    assert capsys.readouterr().err.startswith("error: No dataset")
