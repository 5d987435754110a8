"""Per-session state shared between pages: the model in use, trained runs, the drawn input.

Everything a user changes lives in `st.session_state`; shared read-only things (the shipped
model, the dataset) live in `ui.resources`. Keys are defined here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st
import torch
from streamlit.errors import StreamlitAPIException

from tinyvgg.model import CheckpointError, TinyVGG, build_model, infer_config, load_checkpoint
from tinyvgg.snapshots import Snapshot
from ui.memo import digest, memo
from ui.resources import app_device, shipped_model, sketch_model

MODEL_KEY = "model_choice"  # the sidebar's selectbox: which model the pages use
UPLOAD_KEY = "uploaded_checkpoint"  # the last good uploaded checkpoint: UploadedModel
RUNS_KEY = "trained_runs"  # list[TrainedRun], oldest first, from the training page
DRAWN_KEY = "drawn_input"  # DrawnInput from the draw page, for the explorer and playground
PENDING_MODEL_KEY = "model_choice_pending"  # a choice made after the picker was drawn

PRETRAINED = "Pretrained (shipped)"
UNTRAINED = "Untrained (seed 42 init)"
UPLOADED = "Uploaded checkpoint"
DRAWING = "Pretrained for drawings"  # the draw page's stand-in for PRETRAINED
DRAWING_WHY = ("Drawings are not photos: where the sidebar has the pretrained model, the draw "
               "page uses its sibling trained on sketch-like images (flips, silhouettes, "
               "outlines), right far more often on drawings.")  # fmt: skip


@dataclass
class TrainedRun:
    """A model trained on the training page in this session."""

    name: str  # e.g. "run 1: sgd lr 0.1, 3 epochs"
    state_dict: dict[str, torch.Tensor]  # on the CPU
    hidden_units: int
    results: dict[str, Any]  # the notebook's dict plus train_time_s, device, ...
    history: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    snapshots: list[Snapshot] = field(default_factory=list)  # oldest first, for the replay
    steps: list[dict[str, Any]] = field(default_factory=list)  # its "step" events (curves)
    snapshot_of: str | None = None  # opened from a replay: the run it is a snapshot of
    classes: tuple[str, ...] | None = None  # its dataset's class names (None: Fashion-MNIST's)
    dataset: str | None = None  # its dataset's name (None: Fashion-MNIST)


@dataclass
class UploadedModel:
    """The last good checkpoint uploaded in this session."""

    name: str  # the file name
    model: TinyVGG  # on the app's device, eval mode
    metrics: dict[str, Any]
    digest: str  # of the file's bytes: another file under the same name is another model


@dataclass
class DrawnInput:
    """An image from the draw page, as the model sees it."""

    tensor: torch.Tensor  # (C, 28, 28) float in [0, 1]: C = 1, or 3 for an RGB model's
    label: str  # e.g. "drawing" or "upload: shirt.png"
    key: str = field(init=False)  # its values' digest, for caches

    def __post_init__(self) -> None:
        self.key = f"drawn:{digest(self.tensor)}"

    def with_channels(self, c: int) -> torch.Tensor:
        """The image for a model of `c` input channels: a grey one repeated in each, a colour
        one averaged to grey for a greyscale model."""
        x = self.tensor
        if x.shape[0] == c:
            return x
        return x.mean(0, keepdim=True) if c == 1 else x[:1].repeat(c, 1, 1)


@dataclass
class ModelInUse:
    """The model the pages use, and a key that changes whenever its weights do."""

    name: str  # as shown in the sidebar
    model: TinyVGG  # on the app's device, eval mode; the shared one is read-only
    metrics: dict[str, Any]
    key: str  # e.g. "pretrained", "run:run 2 (...)", "upload:<digest>"


def note_page(url_path: str) -> None:
    """Called by app.py each run: remembers whether this run entered a different page."""
    st.session_state["_entered_page"] = st.session_state.get("_page") != url_path
    st.session_state["_page"] = url_path


def entered_page() -> bool:
    """True on the first run of a page after another page (or a new session)."""
    return st.session_state.get("_entered_page", True)


def trained_runs() -> list[TrainedRun]:
    """This session's trained runs, oldest first."""
    return st.session_state.setdefault(RUNS_KEY, [])


def add_trained_run(run: TrainedRun, select: bool = True) -> None:
    """Keep a finished run; make it the model in use unless `select` is False."""
    trained_runs().append(run)
    if select:
        select_model(run.name)


def select_model(name: str) -> None:
    """Make `name` the model in use: now, or on the next run if the picker is already drawn."""
    try:
        st.session_state[MODEL_KEY] = name
    except StreamlitAPIException:  # a widget's value cannot change once it is drawn in a run
        st.session_state[PENDING_MODEL_KEY] = name


def drawn_input() -> DrawnInput | None:
    """The image from the draw page, if this session has one."""
    return st.session_state.get(DRAWN_KEY)


def set_drawn_input(drawn: DrawnInput) -> None:
    """Keep an image from the draw page for the explorer and the playground."""
    st.session_state[DRAWN_KEY] = drawn


def model_label(name: str) -> str:
    """A model's name short enough for the sidebar's picker, e.g. 'run 3: SGD 0.1, 2 ep, 5k'
    ('✗' for a run that did not learn, 'stopped' for one stopped early); the full name is
    under 'Model in use'."""
    run = next((r for r in trained_runs() if r.name == name), None)
    if run is None or not run.config:
        return name
    cfg, res = run.config, run.results
    opt = {"sgd": "SGD", "adam": "Adam"}.get(cfg["optimizer"], cfg["optimizer"])
    n = res.get("n_train") or cfg.get("subset") or 60_000
    images = f"{n // 1000}k" if n >= 1000 else f"{n}"
    label = f"{name.split(' (')[0]}: {opt} {cfg['lr']:g}, {cfg['epochs']} ep, {images}"
    if res.get("failed"):
        label += " ✗"
    elif res.get("stopped"):
        label += ", stopped"
    return label


def model_options() -> list[str]:
    """The models a user can pick, in the sidebar's order."""
    options = [PRETRAINED, UNTRAINED, *(r.name for r in trained_runs())]
    if st.session_state.get(UPLOAD_KEY) is not None:
        options.append(UPLOADED)
    return options


@st.cache_resource(show_spinner=False, max_entries=1)
def _untrained() -> TinyVGG:
    """The notebook's model before training: torch.manual_seed(42) then the constructor."""
    model = build_model(seed=42).to(app_device()).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def run_model(run: TrainedRun) -> TinyVGG:
    """A new TinyVGG (CPU) holding the run's weights, classes and dataset name."""
    model = TinyVGG(infer_config(run.state_dict), run.classes, run.dataset)
    model.load_state_dict(run.state_dict)
    return model


def _trained_model(run: TrainedRun) -> TinyVGG:
    """The run's model, rebuilt per session on demand, never shared between sessions."""

    def build() -> TinyVGG:
        return run_model(run).to(app_device()).eval()

    return memo(("trained model", run.name), build)  # a session's run names are unique


def load_upload(name: str, data: bytes) -> str | None:
    """Load an uploaded checkpoint into the session; returns an error sentence or None."""
    try:
        model, metrics = load_checkpoint(data)
    except CheckpointError as e:
        return f"{name}: {e}"
    model = model.to(app_device()).eval()
    st.session_state[UPLOAD_KEY] = UploadedModel(name, model, metrics, digest(data))
    st.session_state[MODEL_KEY] = UPLOADED
    return None


def model_in_use() -> ModelInUse:
    """The model the sidebar has selected (the pretrained one by default)."""
    choice = st.session_state.get(MODEL_KEY, PRETRAINED)
    if choice == UNTRAINED:
        return ModelInUse(UNTRAINED, _untrained(), {}, "untrained")
    if choice == UPLOADED and (up := st.session_state.get(UPLOAD_KEY)) is not None:
        return ModelInUse(f"{UPLOADED}: {up.name}", up.model, up.metrics, f"upload:{up.digest}")
    for run in trained_runs():
        if run.name == choice:
            return ModelInUse(run.name, _trained_model(run), run.results, f"run:{run.name}")
    model, metrics = shipped_model()
    return ModelInUse(PRETRAINED, model, metrics, "pretrained")


def drawing_model() -> ModelInUse:
    """The model the draw page uses: the shipped sketch model where the sidebar has the shipped
    one, else the sidebar's (a run, an upload, the untrained one)."""
    current = model_in_use()
    if current.key != "pretrained":
        return current
    model, metrics = sketch_model()
    return ModelInUse(DRAWING, model, metrics, "pretrained-sketch")


def on_draw_page() -> bool:
    """True while the draw page is the page shown."""
    return st.session_state.get("_page") == "draw"
