"""The CUDA path: the captured training step, where tensors live, and the numbers a GPU shows.

Skipped where there is no CUDA GPU (CI has none). `bench/gpu_checks.sh` runs this file, the
training tests and the speed benchmark on a GPU machine in one go.
"""

from __future__ import annotations

import warnings

import pytest
import torch

from tinyvgg import train as train_module
from tinyvgg.activations import by_name, layer_input, trace
from tinyvgg.data import DeviceData, to_float
from tinyvgg.device import pick_device
from tinyvgg.evaluate import evaluate
from tinyvgg.explain import conv_cell
from tinyvgg.model import build_model, load_checkpoint, load_shipped, save_checkpoint
from tinyvgg.predict import probabilities
from tinyvgg.steps import EagerStep, GraphStep, make_stepper
from tinyvgg.train import TrainConfig, fit

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

CUDA = torch.device("cuda")


def _spy_on_steppers(monkeypatch, module) -> list:
    """Every stepper `module` makes from now on, in order."""
    made = []

    def spy(*args, **kwargs):
        made.append(make_stepper(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(module, "make_stepper", spy)
    return made


@pytest.fixture
def steppers(monkeypatch) -> list:
    """Every stepper fit() makes, in order."""
    return _spy_on_steppers(monkeypatch, train_module)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_fit_on_cuda_replays_a_captured_step_and_learns(real_data, steppers, optimizer):
    train, test = real_data
    # 8196 images: 256 full batches replayed and a short one of 4 run eagerly, every epoch
    cfg = TrainConfig(epochs=2, subset=8196, test_subset=500, log_every=16, device="cuda",
                      optimizer=optimizer)  # fmt: skip
    events = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a failed capture warns and goes eager
        result = fit(cfg, on_event=events.append, train=train, test=test)
    (stepper,) = steppers
    assert type(stepper) is GraphStep and isinstance(stepper.graph, torch.cuda.CUDAGraph)
    assert events[0]["device"].startswith("cuda (")
    assert result.results["device"] == events[0]["device"]
    assert all(p.device.type == "cuda" for p in result.model.parameters())
    assert not [e for e in events if e["kind"] == "warning"]
    steps = [e for e in events if e["kind"] == "step"]
    epochs = [e for e in events if e["kind"] == "epoch"]
    assert steps[0]["loss"] > 2.0 and epochs[-1]["train_loss"] < steps[0]["loss"] - 0.5
    assert result.results["model_acc"] > 50.0
    # the final numbers are the trained model's own, on the full test set
    full = DeviceData.from_split(test, CUDA)
    assert result.results["model_acc"] == pytest.approx(evaluate(result.model, full)["model_acc"])


def test_a_cosine_schedule_runs_eagerly_on_cuda(real_data, steppers):
    train, test = real_data
    cfg = TrainConfig(epochs=1, subset=1024, test_subset=200, device="cuda", schedule="cosine")
    result = fit(cfg, train=train, test=test)
    assert type(steppers[0]) is EagerStep  # a captured step would bake one learning rate in
    assert result.results["epochs_done"] == 1


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_captured_step_matches_the_eager_step(optimizer, monkeypatch):
    """Two epochs of 10 full batches and a short one: warm-up steps on a side stream, the
    capture, replays, an eager short batch into the graph's own gradients, replays again."""
    g = torch.Generator().manual_seed(0)
    n = 32 * 10 + 8
    data = DeviceData(torch.rand(n, 1, 28, 28, generator=g).to(CUDA),
                      torch.randint(0, 10, (n,), generator=g).to(CUDA))  # fmt: skip
    models = [build_model(seed=3).to(CUDA).train() for _ in range(2)]
    if optimizer == "sgd":
        opts = [torch.optim.SGD(m.parameters(), lr=0.1) for m in models]
    else:  # fit() makes Adam capturable when it captures the step; the same math on both sides
        opts = [torch.optim.Adam(m.parameters(), lr=1e-3, capturable=True) for m in models]
    graph_step = GraphStep(models[0], opts[0], data, batch_size=32)
    eager_step = EagerStep(models[1], opts[1], data)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)  # the same kernels in both
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)
    for _ in range(2):
        graph_step.reset()
        eager_step.reset()
        for lo in range(0, n, 32):
            idx = torch.arange(lo, min(lo + 32, n), device=CUDA)
            graph_step(idx)
            eager_step(idx)
        loss_g, acc_g = graph_step.running(n)
        loss_e, acc_e = eager_step.running(n)
        assert loss_g == pytest.approx(loss_e, rel=1e-5) and acc_g == acc_e
    assert isinstance(graph_step.graph, torch.cuda.CUDAGraph)
    pairs = zip(models[0].parameters(), models[1].parameters(), strict=True)
    diff = max((a - b).abs().max().item() for a, b in pairs)
    assert diff == 0, f"{optimizer}: captured and eager steps differ by up to {diff:.2e}"


def test_seeded_cuda_runs_repeat_exactly(real_data):
    """fit() asks cuDNN for deterministic kernels for the run, then restores its settings."""
    train, test = real_data
    cudnn = torch.backends.cudnn
    before = cudnn.benchmark, cudnn.deterministic
    cfg = TrainConfig(epochs=1, subset=8192, test_subset=500, device="cuda")
    a, b = (fit(cfg, train=train, test=test) for _ in range(2))
    for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values(), strict=True):
        assert torch.equal(x, y)
    assert a.results["model_acc"] == b.results["model_acc"]
    assert (cudnn.benchmark, cudnn.deterministic) == before


def test_stop_flag_ends_a_cuda_run_within_one_step(real_data):
    train, test = real_data
    events = []
    stop = []

    def on_event(e):
        events.append(e)
        if e["kind"] == "step" and e["step"] == 6:  # after the capture: replays are running
            stop.append(True)

    cfg = TrainConfig(epochs=2, subset=1024, log_every=1, device="cuda")
    result = fit(cfg, on_event=on_event, stop=lambda: bool(stop), train=train, test=test)
    steps = [e for e in events if e["kind"] == "step"]
    assert steps[-1]["global_step"] == 6
    assert result.results["stopped"] is True and events[-1]["kind"] == "end"


def test_a_model_trained_on_cuda_saves_and_loads_on_the_cpu(real_data, tmp_path):
    train, test = real_data
    result = fit(TrainConfig(epochs=1, subset=2048, test_subset=200, device="cuda"),
                 train=train, test=test)  # fmt: skip
    path = tmp_path / "cuda.pt"
    save_checkpoint(path, result.model, result.results)
    model, metrics = load_checkpoint(path)
    assert all(p.device.type == "cpu" for p in model.parameters())
    x = to_float(test.images[:256])
    with torch.inference_mode():
        on_cpu, on_cuda = model(x), result.model.eval()(x.to(CUDA)).cpu()
    torch.testing.assert_close(on_cpu, on_cuda, rtol=1e-4, atol=1e-4)
    cpu_acc = evaluate(model, DeviceData.from_split(test, torch.device("cpu")))["model_acc"]
    assert metrics["model_acc"] == pytest.approx(cpu_acc, abs=0.03)  # at most 3 of 10k differ


def test_picking_cuda_makes_convolutions_exact_fp32():
    """PyTorch lets cuDNN use TF32 (10-bit mantissas), which it does for the step's gradients."""
    torch.backends.cudnn.allow_tf32 = True  # PyTorch's default
    assert pick_device("cuda") == CUDA
    assert torch.backends.cudnn.allow_tf32 is False


@pytest.fixture(scope="module")
def shipped_on_both():
    model, _ = load_shipped()
    on_cuda, _ = load_shipped()
    return model.eval(), on_cuda.to(CUDA).eval()


@pytest.mark.parametrize("index", [0, 17, 4242])
def test_the_explorer_s_numbers_on_cuda(real_data, shipped_on_both, index):
    """A trace on the GPU equals the CPU's, and every explained conv cell equals the GPU's
    activation within the explorer's 1e-5 check, borders included."""
    torch.backends.cudnn.allow_tf32 = True  # PyTorch's default: trace() must not depend on it
    _, test = real_data
    cpu_model, cuda_model = shipped_on_both
    x = to_float(test.images[index : index + 1])[0]  # (1, 28, 28)
    on_cpu, on_cuda = trace(cpu_model, x), trace(cuda_model, x)
    for a, b in zip(on_cpu, on_cuda, strict=True):
        assert a.name == b.name and a.output.device.type == b.output.device.type == "cpu"
        torch.testing.assert_close(a.output, b.output, rtol=1e-5, atol=1e-5, msg=a.name)
    g = torch.Generator().manual_seed(index)
    for name in ("conv_1_1", "conv_1_2", "conv_2_1", "conv_2_2"):
        out = by_name(on_cuda)[name].output
        _, c, h, w = out.shape
        cells = [(0, 0, 0), (c - 1, h - 1, w - 1), (1, 0, w - 1)] + [
            tuple(int(torch.randint(n, (1,), generator=g)) for n in (c, h, w)) for _ in range(20)
        ]
        x_in = layer_input(on_cuda, name).output
        for ch, i, j in cells:
            explained = conv_cell(x_in, cuda_model.layer(name), ch, i, j)
            assert abs(explained.value - float(out[0, ch, i, j])) <= 1e-5, (name, ch, i, j)
    probs = probabilities(cuda_model, x, CUDA)
    torch.testing.assert_close(probs, by_name(on_cpu)["softmax"].output[0], rtol=1e-5, atol=1e-6)


def test_a_training_worker_trains_on_cuda(real_data):
    from tinyvgg import runs
    from tinyvgg.runs import TrainingRun

    try:
        run = TrainingRun(TrainConfig(epochs=1, subset=512, test_subset=100, log_every=4,
                                      device="cuda", threads=1))  # fmt: skip
        assert run.wait(180), run
        assert run.status == "finished", run.error
        assert run.results["device"].startswith("cuda (")
        model, metrics = load_checkpoint(run.checkpoint)
        _, test = real_data
        cpu_acc = evaluate(model, DeviceData.from_split(test, torch.device("cpu")))["model_acc"]
        assert metrics["model_acc"] == pytest.approx(cpu_acc, abs=0.03)
        assert run.test_preds.shape == (10_000,)
    finally:
        runs.shutdown()


def test_a_worker_getting_ready_times_the_step_fit_runs(real_data, monkeypatch):
    """The training page's first estimate comes from these steps: on CUDA, graph replays."""
    from tinyvgg import worker

    made = _spy_on_steppers(monkeypatch, worker)
    monkeypatch.setenv("TINYVGG_DEVICE", "cuda")
    train, _ = real_data
    assert worker._time_steps(train) > 0
    (stepper,) = made
    assert type(stepper) is GraphStep and isinstance(stepper.graph, torch.cuda.CUDAGraph)
