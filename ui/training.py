"""The training page's session glue: one worker run per session, its live record, its results.

The run itself is a `tinyvgg.runs.TrainingRun` (or, with $TINYVGG_BROKER, a
`tinyvgg.jobs.CeleryRun` on a Celery worker: `tinyvgg.jobs.default_jobs`), held in a
session-scoped resource whose release (the tab closed, the session ended) ends the worker.
What the page shows is copied into `st.session_state` (a `LiveRun`, and finished models as
`ui.state.TrainedRun`), so it survives reruns and page switches.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass, field
from statistics import median
from typing import Any

import streamlit as st
import torch
from streamlit.errors import StreamlitAPIException

from tinyvgg.data import DataError
from tinyvgg.datasets import FASHION, Dataset, DatasetError
from tinyvgg.device import CHOICES, pick_device
from tinyvgg.evaluate import confusion_matrix, pick_examples
from tinyvgg.jobs import CeleryJobs, CeleryRun, default_jobs
from tinyvgg.model import checkpoint_bytes, load_checkpoint
from tinyvgg.runs import FINAL, TrainingRun, default_slots, estimate_seconds, warm_up
from tinyvgg.snapshots import Snapshot, from_event, plain_list
from tinyvgg.train import DEFAULT_LR, TrainConfig
from ui import datasets as datasets_ui
from ui.resources import app_device
from ui.state import TrainedRun, add_trained_run, run_model, trained_runs

LIVE_KEY = "train_live"  # LiveRun: the session's latest run, as the page shows it
PREDS_KEY = "train_preds"  # {run name: (10000,) predicted test classes}
COUNT_KEY = "train_count"  # runs started in this session, for names
ERROR_KEY = "train_start_error"  # a setting Start refused, as one sentence
INSPECT_KEY = "train_inspect"  # the run the results section looks closer at
REFRESH_S = 1.0  # live view refresh while a run is active...
FIRST_REFRESH_S = 0.25  # ...and until its first chart point, so that Start shows something soon
TEST_PER_EPOCH = 2000  # fixed test images scored after each epoch (all 10k at the end)
SUBSET_SIZES = (1000, 5000, 10_000)  # the choices of training images below a dataset's all
DEFAULT_SUBSET = "5,000"
# Every run from the page, whatever its settings, trains with its gradients' norm clipped to
# CLIP_NORM, and starts from a batch size that gives a small subset enough steps to leave the
# plateau at chance (SGD at lr 0.1 needs about a hundred): bench/README.md has the sweep.
CLIP_NORM = 2.0
DEFAULT_BATCH = {1000: 8, 5000: 16, 10_000: 32}  # and 32 for more
MIN_STEPS, SMALL = 1000, 10_000  # a small dataset's default epochs give about MIN_STEPS steps
LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
BATCH_SIZES = [8, 16, 32, 64, 128, 256]
# Snapshots are scored on the page when shown (ui.replay), not by the worker: 500 probe images
# at 50 snapshots would make a short run (an epoch of 10,000 images) about 70% slower.
REPLAY_PROBE = 0
MAX_HIDDEN = 128  # the page's largest hidden units: its snapshots still fit in 5 MB (two of them)
DEFAULTS = TrainConfig()  # the page starts from the engine's defaults
WORKERS_AUTO = "auto (the training worker's)"


@dataclass
class LiveRun:
    """What the page knows about the session's latest run; lives in session_state."""

    run_id: int
    name: str
    config: dict[str, Any]  # the TrainConfig as sent to the worker
    started: float  # time.monotonic() at Start
    status: str = "queued"
    position: int = 0  # place in the server's queue while waiting
    error: str | None = None
    events: list[dict] = field(default_factory=list)  # start/step/epoch/warning/end, in order
    kernels: list | None = None  # the latest conv_1_1 weights, (C, 1, 3, 3)
    snapshots: list[Snapshot] = field(default_factory=list)  # taken so far, oldest first
    ended: float | None = None
    kept: bool = False  # added to the session's trained runs
    just_ended: bool = False  # set by the poll that saw the run end
    just_plotted: bool = False  # set by the poll that brought the first step event

    @property
    def active(self) -> bool:
        """Whether the run has not ended yet."""
        return self.status not in FINAL

    def refresh_every(self) -> float | None:
        """How often the live view reruns itself: never once the run has ended."""
        if not self.active:
            return None
        return REFRESH_S if self.of_kind("step") else FIRST_REFRESH_S

    def of_kind(self, kind: str) -> list[dict]:
        """The events of one kind, in order."""
        return [e for e in self.events if e["kind"] == kind]

    def first(self, kind: str) -> dict | None:
        """The first event of a kind, or None."""
        return next((e for e in self.events if e["kind"] == kind), None)

    @property
    def steps_per_epoch(self) -> int:
        """As the worker's start event gave it (1 until then)."""
        return (self.first("start") or {}).get("steps_per_epoch", 1)


class SessionRuns:
    """The session's worker run; releasing it (the session ended) ends the worker."""

    def __init__(self) -> None:
        self.run: TrainingRun | CeleryRun | None = None

    def replace(self, run: TrainingRun | CeleryRun) -> None:
        """Hold `run`, ending the session's previous one if it still trains."""
        old, self.run = self.run, run
        if old is not None and not old.done:
            old.terminate(wait=False)

    def close(self) -> None:
        """End the session's run (the tab was closed)."""
        if self.run is not None:
            self.run.terminate(wait=False)  # never block the server's event loop


@st.cache_resource(scope="session", on_release=SessionRuns.close, show_spinner=False)
def session_runs() -> SessionRuns:
    """The session's run holder; released (its run ended) when the session ends."""
    return SessionRuns()


def on_workers() -> bool:
    """Whether runs train on Celery workers ($TINYVGG_BROKER) rather than on this server."""
    return isinstance(default_jobs(), CeleryJobs)


def prepare() -> None:
    """Start the server's warm worker, so the first Start does not wait for torch to import
    (none when runs train on Celery workers)."""
    if not on_workers():
        warm_up()


def device_options() -> list[str]:
    """'auto (<the app's device>)' first, then every device this machine has; on Celery
    workers, 'auto' (the worker's choice, $TINYVGG_DEVICE there) and the kinds by name."""
    if on_workers():
        return [WORKERS_AUTO, *CHOICES[1:]]
    there = [c for c in CHOICES[1:] if _available(c)]
    return [f"auto ({app_device()})", *there]


def _available(kind: str) -> bool:
    try:
        pick_device(kind)
        return True
    except ValueError:
        return False


def settings_config() -> TrainConfig:
    """The config the page's settings widgets describe right now (read from session_state).

    Start's callback reads it at click time, so a value changed together with the click counts.
    """
    get, d = st.session_state.get, DEFAULTS
    optimizer = get("train_optimizer", d.optimizer)
    data = chosen_data()
    n_all = len(data.train_labels) if data is not None else 60_000
    subset = chosen_subset(n_all)
    return make_config(
        epochs=get(epochs_key(), default_epochs()), batch_size=get(batch_key(), default_batch()),
        lr=get(f"train_lr_{optimizer}", DEFAULT_LR[optimizer]),
        hidden_units=int(get("train_hidden", d.hidden_units)), optimizer=optimizer,
        subset=subset, seed=int(get("train_seed", d.seed)), device=get("train_device", d.device),
        augment="sketch" if get("train_augment", False) else None, n_all=n_all,
        data=data_source(data), channels=data.channels if data is not None else 1,
    )  # fmt: skip


def chosen_data() -> Dataset | None:
    """The dataset the page trains on (None: own images chosen, none read yet; or missing)."""
    found = datasets_ui.chosen()
    if isinstance(found, str):
        try:
            return datasets_ui.builtin(found)
        except (DataError, DatasetError):
            return None
    return found


def data_source(data: Dataset | None) -> str:
    """The TrainConfig's `data` for a dataset: a built-in one's source name, else its name."""
    if data is None:
        return DEFAULTS.data
    return datasets_ui.BUILTIN.get(data.name, data.name)


def subsets(n_all: int) -> dict[str, int | None]:
    """The choices of training images for a dataset of n_all: the SUBSET_SIZES below it, all."""
    return {**{f"{k:,}": k for k in SUBSET_SIZES if k < n_all}, f"all {n_all:,}": None}


def subset_options() -> dict[str, int | None]:
    """The chosen dataset's choices of training images; a choice that is not one of them (an
    upload of the same name and another size) is dropped. Call it before that box is drawn."""
    options = _dataset_subsets()
    if (key := subset_key()) in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]
    return options


def _dataset_subsets() -> dict[str, int | None]:
    """`subsets` of the chosen dataset (of 60,000 when there is none)."""
    data = chosen_data()
    return subsets(len(data.train_labels) if data is not None else 60_000)


def default_subset(options: dict[str, int | None]) -> str:
    """The choice of training images a dataset starts from: DEFAULT_SUBSET, else all."""
    return DEFAULT_SUBSET if DEFAULT_SUBSET in options else [*options][-1]


def subset_key(data: Dataset | str | None = None) -> str:
    """The "Training images" box's key, one per dataset (as `epochs_key`): a new dataset starts
    the box at its own default, and a choice the browser still sends for the previous dataset
    lands on the previous key, which is gone."""
    return f"train_subset_{_dataset_name(data)}"


def chosen_label(options: dict[str, int | None] | None = None) -> str:
    """The chosen label among `options` (default: the chosen dataset's), the dataset's default
    where none of them is chosen."""
    options = _dataset_subsets() if options is None else options
    label = st.session_state.get(subset_key())
    return label if label in options else default_subset(options)


def chosen_subset(n_all: int) -> int | None:
    """The chosen number of training images (None: all), the dataset's default if none was
    chosen."""
    options = subsets(n_all)
    return options[chosen_label(options)]


def default_epochs() -> int:
    """The epochs a dataset starts from: the engine's 3, or for a small one (under SMALL
    training images) enough for about MIN_STEPS steps, up to 20: a few hundred images learn
    next to nothing in 3 epochs."""
    data = chosen_data()
    if data is None or len(data.train_labels) >= SMALL:
        return DEFAULTS.epochs
    n_all = len(data.train_labels)
    steps = math.ceil((chosen_subset(n_all) or n_all) / default_batch())
    return min(20, max(DEFAULTS.epochs, math.ceil(MIN_STEPS / steps)))


def default_batch() -> int:
    """The batch size the chosen number of training images starts from."""
    data = chosen_data()
    n_all = len(data.train_labels) if data is not None else 60_000
    n = chosen_subset(n_all) or n_all
    return next((b for k, b in DEFAULT_BATCH.items() if n <= k), 32)


def batch_key(subset: str | None = None) -> str:
    """The batch-size slider's key, one per choice of training images (`subset`: a label of
    `subsets`; default: the chosen one). Each choice starts the slider at its own default, and
    a value the browser still sends for the previous choice (another widget moved before the
    new default arrived) lands on the previous key, which is gone, not on the new one."""
    return f"train_batch_{subset or chosen_label()}"


def epochs_key(data: Dataset | str | None = None) -> str:
    """The epochs slider's key, one per dataset (`data`: a built-in one's source name or an
    upload; default: the chosen one). A new dataset starts the slider at its own default, and
    a value the browser still sends for the previous dataset (another widget moved before the
    new default arrived) lands on the previous key, which is gone, not on the new one."""
    return f"train_epochs_{_dataset_name(data)}"


def _dataset_name(data: Dataset | str | None) -> str:
    """A built-in dataset's source name or an upload's name (default: the chosen one's)."""
    found = datasets_ui.chosen() if data is None else data
    return found if isinstance(found, str) else getattr(found, "name", "none")


def make_config(
    epochs: int, lr: float, batch_size: int, hidden_units: int, optimizer: str,
    subset: int | None, seed: int, device: str, augment: str | None = None,
    n_all: int = 60_000, data: str = DEFAULTS.data, channels: int = 1,
) -> TrainConfig:  # fmt: skip
    """The worker's settings: the page's choices plus live-view logging (`n_all`: the
    dataset's training images)."""
    n_train = min(subset or n_all, n_all)
    steps_per_epoch = math.ceil(n_train / batch_size)
    return TrainConfig(
        epochs=epochs, lr=lr, batch_size=batch_size, hidden_units=hidden_units,
        optimizer=optimizer, subset=subset, seed=seed,
        device=_device(device),
        log_every=max(1, steps_per_epoch // 50),  # up to 50 chart points per epoch
        test_subset=min(TEST_PER_EPOCH, n_train), step_weights=True, clip_norm=CLIP_NORM,
        snapshots=DEFAULTS.snapshots, probe=REPLAY_PROBE, augment=augment, data=data,
        channels=channels,
    )  # fmt: skip


def _device(choice: str) -> str:
    """The TrainConfig's device for the page's choice: 'auto' is this server's device, or on
    Celery workers left to the worker."""
    if not choice.startswith("auto"):
        return choice
    return "auto" if on_workers() else str(app_device())


def estimate_line(cfg: TrainConfig) -> str:
    """One line: about how long this run takes here, and the server's queue if any."""
    if on_workers():
        return ("Runs train on this deployment's training workers (Celery): Start queues the "
                "run; the page shows its place in the queue until a worker takes it.")  # fmt: skip
    data = chosen_data()
    n_all, n_test = ((len(data.train_labels), len(data.test_labels)) if data is not None
                     else (60_000, 10_000))  # fmt: skip
    n_train = min(cfg.subset or n_all, n_all)
    seconds = estimate_seconds(cfg, n_train, n_test)
    images = f"{cfg.epochs} × {n_train:,} images"
    line = (
        f"Estimated time on {cfg.device}: about {_duration(seconds)} for {images}."
        if seconds is not None
        else f"{images}; the time estimate appears once this server has timed a few steps."
    )
    slots, own = default_slots(), session_runs().run
    others = slots.running - (own is not None and slots.holds(own))
    if others >= slots.limit:
        line += f" Other users' runs fill all {slots.limit} training slot(s): a run waits its turn."
    return line


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    return f"{seconds / 60:.1f} min"


DOUBLE_CLICK_S = 2.0  # a second Start this soon with the same settings is the same click


def start(cfg: TrainConfig | None = None) -> None:
    """Start a run (ending the session's previous one); a refused setting goes to ERROR_KEY."""
    cfg = cfg or settings_config()
    live: LiveRun | None = st.session_state.get(LIVE_KEY)
    last = st.session_state.get("train_last_start")
    now, wanted = time.monotonic(), asdict(cfg)
    if live is not None and live.active and last and now - last[0] < DOUBLE_CLICK_S:
        if last[1] == wanted:
            return  # a double click: keep the run that just started
    st.session_state["train_last_start"] = (now, wanted)
    st.session_state[ERROR_KEY] = None
    found = datasets_ui.chosen()
    try:
        data = datasets_ui.builtin(found) if isinstance(found, str) else found
    except (DataError, DatasetError) as e:
        st.session_state[ERROR_KEY] = str(e)
        return
    if data is None:
        st.session_state[ERROR_KEY] = (
            "Upload a .zip of your images first, or choose another dataset."
        )
        return
    builtin = cfg.data in datasets_ui.BUILTIN.values()
    try:
        run = default_jobs().submit(cfg, data=None if builtin else data)
    except ValueError as e:
        st.session_state[ERROR_KEY] = str(e)
        return
    session_runs().replace(run)
    n = st.session_state[COUNT_KEY] = st.session_state.get(COUNT_KEY, 0) + 1
    name = run_name(n, cfg, data.name, len(data.train_labels))
    st.session_state[LIVE_KEY] = LiveRun(run.id, name, asdict(run.cfg), run.created)


def clear_error() -> None:
    """Forget the sentence of a Start refused earlier (the settings changed)."""
    st.session_state[ERROR_KEY] = None


def run_name(n: int, cfg: TrainConfig, dataset: str = FASHION, n_all: int = 60_000) -> str:
    """e.g. 'run 1 (sgd, lr 0.1, 3 epochs, 5,000 images)'; the dataset first where it is not
    Fashion-MNIST ('run 2 (shapes, sgd, ...)'); ', sketch' when augmented."""
    images = f"{min(cfg.subset or n_all, n_all):,}"
    epochs = f"{cfg.epochs} epoch{'s' if cfg.epochs > 1 else ''}"
    sketch = ", sketch" if cfg.augment else ""
    where = "" if dataset == FASHION else f"{dataset}, "
    return (f"run {n} ({where}{cfg.optimizer}, lr {cfg.learning_rate:g}, {epochs}, "
            f"{images} images{sketch})")  # fmt: skip


def stop() -> None:
    """Stop the session's run at its next step; its model is still kept."""
    if (run := session_runs().run) is not None:
        run.stop()


def poll() -> LiveRun | None:
    """Bring the session's LiveRun up to date with its worker; keep the model once it ends."""
    live: LiveRun | None = st.session_state.get(LIVE_KEY)
    if live is None:
        return None
    live.just_ended = live.just_plotted = False
    if not live.active:
        return live
    run = session_runs().run
    if run is None or run.id != live.run_id:  # the session's resources were released
        live.status, live.ended, live.just_ended = "failed", time.monotonic(), True
        live.error = "This run was lost when the connection to the browser dropped; start it again."
        return live
    had_steps = bool(live.of_kind("step"))
    done = run.done  # first: a run that ended after this has sent every snapshot below
    live.events.extend(run.events_since(len(live.events)))
    live.snapshots.extend(from_event(e) for e in run.take_snapshots())
    live.just_plotted = not had_steps and bool(live.of_kind("step"))
    live.kernels = run.kernels or live.kernels
    live.position, live.error = run.position(), run.error
    live.status = run.status
    if done:
        live.ended, live.just_ended = run.ended, True
        if run.checkpoint is not None and live.of_kind("step"):
            _keep(live, run)
    return live


def stopped_at(results: dict[str, Any], steps_per_epoch: int) -> str:
    """Where a stopped run stopped, e.g. 'stopped at epoch 1, step 625 of 1,875'."""
    done = results.get("steps_done", 0)
    epoch, step = divmod(done, max(steps_per_epoch, 1))
    if step == 0 and done:  # at the end of an epoch
        epoch, step = epoch - 1, steps_per_epoch
    return f"stopped at epoch {epoch + 1}, step {step:,} of {steps_per_epoch:,}"


def _keep(live: LiveRun, run: TrainingRun | CeleryRun) -> None:
    """The finished model joins the session's trained runs and, if it learned, becomes the
    model in use. A stopped run's name says where it stopped."""
    model, _ = load_checkpoint(run.checkpoint)
    speeds = [e["images_per_s"] for e in live.of_kind("step")]
    speed = median(speeds[1:] or speeds)  # the first window pays one-off costs
    if run.results.get("stopped"):
        where = stopped_at(run.results, live.steps_per_epoch)
        live.name = f"{live.name.removesuffix(')')}; {where})"
    results = {**run.results, "model_name": live.name, "images_per_s": speed}
    state = {k: v.clone() for k, v in model.state_dict().items()}
    kept = TrainedRun(live.name, state, model.config.hidden_units, results, run.history,
                      live.config, live.snapshots, live.of_kind("step"),
                      classes=model.classes, dataset=model.dataset)  # fmt: skip
    add_trained_run(kept, select=not results.get("failed"))
    st.session_state.setdefault(PREDS_KEY, {})[live.name] = run.test_preds
    with contextlib.suppress(StreamlitAPIException):  # drawn already: it keeps its choice
        st.session_state[INSPECT_KEY] = live.name
    live.kept = True


def end_message(results: dict[str, Any]) -> tuple[bool, str]:
    """(whether the run learned, what the page says of its end)."""
    how = "Stopped early" if results["stopped"] else "Finished"
    n_test = results.get("n_test", 10_000)
    scores = (f"test accuracy {results['model_acc']:.2f}%, loss {results['model_loss']:.4f} on "
              f"all {n_test:,} test images")  # fmt: skip
    if results.get("failed"):
        return False, (f"{how}: {scores}. {results['why']} The sidebar keeps the model in use; "
                       "this one is in its list, marked in the table below.")  # fmt: skip
    return True, f"{how}: {scores}; the model is now selected in the sidebar."


def progress(live: LiveRun) -> dict[str, Any]:
    """Numbers for the progress bar: fraction, elapsed, ETA, images/s, epoch and step, device."""
    start, steps = live.first("start"), live.of_kind("step")
    last = steps[-1] if steps else None
    now = live.ended or time.monotonic()
    out = {"fraction": 0.0, "elapsed": now - live.started, "eta": None, "images_per_s": None,
           "epoch": None, "step": None, "device": start["device"] if start else None}  # fmt: skip
    if start and last:
        total, done = start["total_steps"], last["global_step"]
        out.update(
            fraction=min(done / total, 1.0), images_per_s=last["images_per_s"],
            epoch=f"{last['epoch'] + 1}/{live.config['epochs']}",
            step=f"{last['step']}/{start['steps_per_epoch']}",
            eta=(total - done) * live.config["batch_size"] / max(last["images_per_s"], 1e-9),
        )  # fmt: skip
    if not live.active:
        out["eta"] = 0.0
    return out


def progress_text(p: dict[str, Any]) -> str:
    """`progress`'s numbers as the progress bar's one line."""
    bits = [f"epoch {p['epoch']}" if p["epoch"] else None,
            f"step {p['step']}" if p["step"] else None,
            f"{p['images_per_s']:,.0f} images/s" if p["images_per_s"] else None,
            f"{p['elapsed']:.1f} s elapsed",
            f"about {p['eta']:.0f} s left" if p["eta"] else None, p["device"]]  # fmt: skip
    return " · ".join(b for b in bits if b)


def checkpoint_filename(name: str) -> str:
    """The download's file name for the run named `name`."""
    return f"tinyvgg_{name.split(' (')[0].replace(' ', '_')}.pt"


def comparison_rows() -> list[dict[str, Any]]:
    """The notebook's comparison table, one row per run trained in this session, with whether
    each learned ('✗ near chance' for one that did not)."""
    keys = ("model_name", "model_loss", "model_acc", "train_time_s", "device", "images_per_s")
    rows = []
    for r in trained_runs():
        if r.snapshot_of is not None:  # opened from a replay: not a run of its own
            continue
        failed = r.results.get("failed")
        rows.append({**{k: r.results.get(k) for k in keys},
                     "learned": f"✗ {failed}" if failed else "✓"})  # fmt: skip
    return rows


def find_run(name: str) -> TrainedRun | None:
    """The session's trained run of that name."""
    return next((r for r in trained_runs() if r.name == name), None)


def checkpoint_of(run: TrainedRun) -> bytes:
    """The run as a checkpoint file, in the engine's format (as `python -m tinyvgg.train`)."""
    model = run_model(run)
    metrics = {**run.results, "history": run.history, "train_config": run.config}
    return checkpoint_bytes(model, metrics, plain_list(run.snapshots))


def test_preds(name: str) -> torch.Tensor | None:
    """A kept run's predicted class for each test image."""
    return st.session_state.get(PREDS_KEY, {}).get(name)


def run_test_set(run: TrainedRun) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The test images (N, C, 28, 28) uint8 and labels of the run's dataset, or None where the
    session no longer holds it."""
    return datasets_ui.test_set(run_model(run))


@dataclass(frozen=True)
class CloserLook:
    """What the results show of one run: its test images (N, C, 28, 28) uint8, their labels,
    the run's predicted classes and its class names."""

    images: torch.Tensor
    labels: torch.Tensor
    preds: torch.Tensor
    classes: tuple[str, ...]


def closer_look(name: str, run: TrainedRun) -> CloserLook | str | None:
    """Run `name`'s test images with its predictions; a sentence when the session no longer
    holds its test images; None when the run kept no predictions."""
    if (preds := test_preds(name)) is None:
        return None
    test = run_test_set(run)
    if test is None or len(test[1]) != len(preds):
        return (f"The test images of {run.dataset or 'its dataset'} are no longer in this "
                "session (an upload is kept only while it is one of the last three), so this "
                "run's confusion matrix and predictions cannot be drawn.")  # fmt: skip
    classes = tuple(run.classes or run_model(run).classes)
    return CloserLook(test[0], test[1], preds, classes)


def confusion(preds: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Counts over the test images: row = true class, column = predicted."""
    return confusion_matrix(preds, labels, n_classes)


def gallery_items(preds: torch.Tensor, images: torch.Tensor, labels: torch.Tensor, n: int,
                  mistakes_only: bool):  # fmt: skip
    """(images (n, C, 28, 28) uint8, predictions, labels) of a fixed sample of test images (N,
    C, 28, 28)."""
    idx = pick_examples(preds, labels, n, mistakes_only, seed=0)
    return images[idx], preds[idx].tolist(), labels[idx].tolist()
