"""fit()'s weight snapshots: when they are taken, what they hold, how they travel and load.

The oracle is PyTorch itself: a snapshot loaded into a fresh TinyVGG scores its probe images
exactly as logged, and the first and last snapshots are the seeded initial and the final weights.
"""

from __future__ import annotations

import io
import threading

import pytest
import torch

from tinyvgg import snapshots as snap
from tinyvgg.data import Split
from tinyvgg.model import (
    CheckpointError,
    TinyVGGConfig,
    build_model,
    checkpoint_bytes,
    count_params,
    load_checkpoint,
)
from tinyvgg.train import TrainConfig, fit
from tinyvgg.train import main as train_cli
from ui.training import MAX_HIDDEN

FAST = dict(test_subset=100, log_every=8, device="cpu", threads=1)


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _tiny_test(real_data, n: int = 64) -> Split:
    """A few test images: fit() scores the final model on all of them (10k would be slow)."""
    _, test = real_data
    return Split(test.images[:n], test.labels[:n])


@pytest.fixture(scope="module")
def probed_run(real_data):
    """A 2-epoch run of 32 steps an epoch, every snapshot scored on 200 test images."""
    train, test = real_data
    cfg = TrainConfig(epochs=2, subset=512, batch_size=16, probe=200, **FAST)
    events: list[dict] = []
    return fit(cfg, on_event=events.append, train=train, test=test), events, cfg


def test_the_schedule_is_log_spaced_and_deduplicated():
    steps = snap.schedule(313, 50)
    assert len(steps) == 50 and steps == sorted(set(steps))
    assert steps[:4] == [0, 1, 2, 3] and steps[-1] == 313
    gaps = [b - a for a, b in zip(steps, steps[1:], strict=False)]
    assert gaps[-1] > 10 * gaps[0]  # dense early, sparse late
    assert snap.schedule(10, 50) == list(range(11))  # a short run: every step, once
    assert snap.schedule(0, 50) == [0] and snap.schedule(100, 0) == []
    five = snap.schedule(96, 5)
    assert len(five) == 5 and five[0] == 0 and five[-1] == 96


@pytest.mark.parametrize("hidden", [1, 7, 10, 64, 128])
def test_the_size_of_a_snapshot_is_the_models(hidden):
    config = TinyVGGConfig(hidden_units=hidden)
    assert snap.param_count(config) == count_params(build_model(config))


def test_a_large_model_keeps_fewer_snapshots_within_5_mb():
    assert snap.snapshot_count(10, 50) == 50  # 31 KB each: 1.5 MB
    big = snap.snapshot_count(MAX_HIDDEN, 50)
    per = 4 * snap.param_count(TinyVGGConfig(hidden_units=MAX_HIDDEN))
    assert big >= 2 and big * per < 5_000_000
    assert snap.snapshot_count(10, 0) == 0
    assert snap.snapshot_count(512, 50) == 0  # not even two fit: none rather than over


def test_snapshots_count_steps_and_the_ends(probed_run):
    result, events, cfg = probed_run
    total = result.results["total_steps"]
    assert total == 64
    steps = [s.step for s in result.snapshots]
    assert steps == snap.schedule(total, 50) and len(steps) == 50
    assert steps[0] == 0 and steps[-1] == total and steps == sorted(set(steps))
    assert events[0]["snapshot_steps"] == steps
    assert _same(result.snapshots[0].state_dict, build_model(seed=cfg.seed).state_dict())
    assert _same(result.snapshots[-1].state_dict, result.model.state_dict())
    first, later = result.snapshots[0], result.snapshots[1:]
    assert first.train_loss is None and first.epoch == 0
    assert all(s.epoch == (s.step - 1) // 32 for s in later)
    assert all(s.train_loss > 0 and 0 <= s.train_acc <= 100 for s in later)
    # the last one's running numbers are the last epoch's
    assert later[-1].train_loss == pytest.approx(result.history[-1]["train_loss"])


def test_snapshot_events_carry_the_same_weights(probed_run):
    result, events, _ = probed_run
    sent = [e for e in events if e["kind"] == "snapshot"]
    assert [e["step"] for e in sent] == [s.step for s in result.snapshots]
    # plain data a process queue can carry: (shape, bytes) per weight, no tensor
    assert all(isinstance(b, bytes) for e in sent for _, b in e["state"].values())
    for e, s in zip(sent, result.snapshots, strict=True):
        back = snap.from_event(e)
        assert back.step == s.step and back.probe_acc == s.probe_acc
        assert _same(back.state_dict, s.state_dict)
    # each event is sent before the step event that follows it
    kinds = [(e["kind"], e.get("global_step", e.get("step"))) for e in events]
    assert kinds.index(("snapshot", 8)) < kinds.index(("step", 8))


def test_each_snapshot_reproduces_its_probe_exactly(probed_run, real_data):
    result, _, _ = probed_run
    _, test = real_data
    probe = snap.probe_set(test, 200)
    assert torch.equal(probe.y, test.labels[:200])
    accs = set()
    for s in result.snapshots:
        model = s.model().to(memory_format=torch.channels_last)  # as fit() trains on the CPU
        assert s.probe_images == 200
        loss, acc = snap.measure_probe(model, probe)
        assert acc == s.probe_acc and loss == s.probe_loss, s
        with torch.inference_mode():  # and against the model's own forward, by hand
            right = (model(probe.x).argmax(1) == probe.y).sum().item()
        assert 100.0 * right / 200 == s.probe_acc
        accs.add(acc)
    assert len(accs) > 3  # it did learn along the way


def test_a_stopped_run_ends_with_its_final_weights(real_data):
    train, test = real_data
    stop = threading.Event()

    def on_event(e):
        if e["kind"] == "step" and e["global_step"] == 3:
            stop.set()

    cfg = TrainConfig(epochs=3, subset=1024, snapshots=5, **{**FAST, "log_every": 1})
    result = fit(cfg, on_event=on_event, stop=stop, train=train, test=_tiny_test(real_data))
    assert result.results["stopped"] and result.results["steps_done"] == 3
    assert snap.schedule(96, 5) == [0, 1, 5, 21, 96]  # 3 was not planned...
    assert [s.step for s in result.snapshots] == [0, 1, 3]  # ...but is where it stopped
    last = result.snapshots[-1]
    assert _same(last.state_dict, result.model.state_dict())
    assert last.epoch == 0 and last.train_loss is not None


def test_snapshots_off(real_data):
    train, _ = real_data
    cfg = TrainConfig(epochs=1, subset=64, snapshots=0, **FAST)
    events: list[dict] = []
    result = fit(cfg, on_event=events.append, train=train, test=_tiny_test(real_data))
    assert result.snapshots == [] and not [e for e in events if e["kind"] == "snapshot"]
    with pytest.raises(ValueError, match="Snapshots"):
        fit(TrainConfig(snapshots=1))


def test_the_cli_checkpoint_keeps_them_and_loads_weights_only(real_data, tmp_path, capsys):
    path = tmp_path / "run.pt"
    code = train_cli(["--epochs", "1", "--subset", "128", "--batch-size", "16", "--device",
                      "cpu", "--test-subset", "50", "--snapshots", "6", "--probe", "50",
                      "--out", str(path)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    raw = torch.load(path, weights_only=True)
    entries = raw["snapshots"]
    assert [e["step"] for e in entries] == snap.schedule(8, 6)
    assert all(isinstance(e["state_dict"]["conv_block_1.0.weight"], torch.Tensor)
               for e in entries)  # fmt: skip
    assert all(e["probe_images"] == 50 and 0 <= e["probe_acc"] <= 100 for e in entries)
    loaded = snap.load_snapshots(path)
    assert [s.step for s in loaded] == [e["step"] for e in entries]
    model, _ = load_checkpoint(path)
    assert _same(loaded[-1].state_dict, model.state_dict())
    assert loaded[3].probe_acc == entries[3]["probe_acc"]


def test_old_checkpoints_and_notebook_state_dicts_have_none(tmp_path):
    model = build_model(seed=1)
    assert snap.load_snapshots(checkpoint_bytes(model, {"model_acc": 50.0})) == []
    path = tmp_path / "model_2.pth"
    torch.save(model.state_dict(), path)
    assert snap.load_snapshots(path) == []
    assert load_checkpoint(path)[0].config == model.config


def _snapshots_of(hidden: int, n: int) -> tuple[torch.nn.Module, list[snap.Snapshot]]:
    """n snapshots of a model of that width (weights nudged between them); the model is left
    at the last one's weights."""
    model = build_model(TinyVGGConfig(hidden_units=hidden), seed=0)
    rec = snap.Recorder(list(range(n)), None, lambda e: None)
    for step in range(n):
        if step:
            with torch.no_grad():
                for p in model.parameters():
                    p.add_(0.01)
        rec.take(model, step, 0, (1.0, 50.0))
    return model, rec.taken


def test_a_checkpoint_at_the_largest_width_stays_under_5_mb():
    count = snap.snapshot_count(MAX_HIDDEN, 50)
    model, taken = _snapshots_of(MAX_HIDDEN, count)
    data = checkpoint_bytes(model, {"history": []}, snap.plain_list(taken))
    assert len(data) < 5_000_000  # the last snapshot shares the final weights' storage
    back = snap.load_snapshots(data)
    assert [s.step for s in back] == list(range(count))
    assert _same(back[0].state_dict, taken[0].state_dict)


def test_a_one_step_fit_at_the_largest_width(real_data):
    train, _ = real_data
    cfg = TrainConfig(epochs=1, subset=8, batch_size=8, hidden_units=MAX_HIDDEN, **FAST)
    result = fit(cfg, train=train, test=_tiny_test(real_data, 8))
    assert [s.step for s in result.snapshots] == [0, 1]
    assert sum(s.nbytes() for s in result.snapshots) < 5_000_000


def _with_snapshots(entries) -> bytes:
    model = build_model(TinyVGGConfig(hidden_units=2), seed=0)
    buf = io.BytesIO()
    torch.save({"config": {"hidden_units": 2}, "state_dict": model.state_dict(), "metrics": {},
                "snapshots": entries}, buf)  # fmt: skip
    return buf.getvalue()


def _entry(**state_changes) -> dict:
    state = dict(build_model(TinyVGGConfig(hidden_units=2), seed=1).state_dict(), **state_changes)
    return {"step": 3, "epoch": 0, "train_loss": 1.0, "train_acc": 50.0, "state_dict": state}


@pytest.mark.parametrize(
    "entries",
    [
        # a stride-0 tensor claiming a huge shape from a few bytes: refused, never copied
        [_entry(**{"conv_block_1.0.weight": torch.zeros(1).expand(100_000, 100_000)})],
        [_entry(**{"conv_block_1.0.weight": torch.zeros(2, 1, 3, 3, dtype=torch.long)})],
        [{**_entry(), "state_dict": {"x": torch.zeros(1)}}],
        [{**_entry(), "step": "three"}],
        [{"epoch": 0, "state_dict": {}}],
        [_entry()] * (snap.MAX_LOADED + 1),
        "not a list",
    ],
    ids=["lying-shape", "integers", "other-names", "no-number", "no-step", "too-many", "no-list"],
)
def test_a_hostile_snapshot_list_is_refused(entries):
    with pytest.raises(CheckpointError) as err:
        snap.load_snapshots(_with_snapshots(entries))
    assert "\n" not in str(err.value) and str(err.value).endswith(".")


def test_a_good_list_loads_and_its_numbers_are_checked():
    (one,) = snap.load_snapshots(_with_snapshots([{**_entry(), "probe_acc": float("nan")}]))
    assert one.step == 3 and one.train_acc == 50.0 and one.probe_acc is None
