"""The training page's replay: scrub or play through a run's weight snapshots, from the random
initial kernels to the end, and open any snapshot in the explorer.

Play follows ui.slide_player's pattern: the shown snapshot (the frame) is not a widget's value
but a session_state entry that a fragment's timer (`st.fragment(run_every=...)`) advances while
playing; the slider only seeks, and is replaced by a progress bar while playing.

A run still training is replayable too, from the snapshots taken so far: while a run trains, the
live view (a fragment that reruns every second) draws the replay, takes in new snapshots, keeps
a view left on the newest one following them, and is the play timer. The page then has one
timer, not two: each tick of a timer sends the browser's widget values, which may predate what
the server has just set (the sidebar's model, when a run ends and is kept) and would undo it.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch

from tinyvgg.activations import by_name, trace
from tinyvgg.data import Split
from tinyvgg.model import LAYER_NAMES, TinyVGG, infer_config
from tinyvgg.predict import top_k
from tinyvgg.snapshots import Snapshot, measure_probe, probe_set
from ui import training
from ui.datasets import test_set
from ui.figures import replay as figs
from ui.figures.draw import input_preview
from ui.frame import stacking_columns
from ui.memo import memo
from ui.present import chart
from ui.resources import app_device
from ui.state import PENDING_MODEL_KEY, TrainedRun, add_trained_run, select_model, trained_runs

RUN_KEY = "replay_run"  # the run replayed (a selectbox)
FRAME_KEY = "replay_frame"  # index of the snapshot shown
PLAYING_KEY = "replay_playing"
FRESH_KEY = "replay_fresh"  # the first run after Play shows the frame; later ticks advance it
SEEN_KEY = "replay_seen"  # (run, whether it trained) last shown: another run starts over
FOLLOW_KEY = "replay_follow"  # a toggle: while the run trains, show its newest snapshot
LIVE_ID_KEY = "replay_live_id"  # the training run last seen, to switch to a new one
SEEK_KEY = "replay_seek"
SAMPLE_KEY = "replay_sample"
LAYER_KEY = "replay_layer"
GO_KEY = "replay_go_explore"  # set by "Open in the explorer": the explorer's query parameters
TICK_S = 0.6  # between frames while playing (while a run trains: the live view's refresh)
PROBE_IMAGES = 500  # the first test images a snapshot is scored on (as fit()'s probe)
LAYERS = LAYER_NAMES[: LAYER_NAMES.index("max_pool_2") + 1]  # the layers with feature maps
EXPLORER = "pages/explore.py"
CONV_1_1 = "conv_block_1.0.weight"  # conv_1_1's weights in a state_dict: (C, 1, 3, 3)


@dataclass
class Replayable:
    """A run as the replay needs it."""

    name: str
    snapshots: list[Snapshot]  # oldest first
    steps: list[dict]  # "step" events: the curves
    epochs: list[dict]  # "epoch" events
    steps_per_epoch: int
    total_steps: int
    live: bool  # still training: more snapshots to come
    classes: tuple[str, ...] | None = None  # its dataset's class names (None: Fashion-MNIST's)
    dataset: str | None = None  # its dataset's name (None: Fashion-MNIST)


def sources() -> list[Replayable]:
    """The session's runs with snapshots, latest first: the run training now (its snapshots so
    far), then the kept runs (not the snapshots opened from a replay)."""
    out = []
    live: training.LiveRun | None = st.session_state.get(training.LIVE_KEY)
    if live is not None and live.active and live.snapshots:
        start = live.first("start") or {}
        classes = tuple(start["classes"]) if start.get("classes") else None
        out.append(Replayable(live.name, live.snapshots, live.of_kind("step"),
                              live.of_kind("epoch"), live.steps_per_epoch,
                              start.get("total_steps", 0), live=True, classes=classes,
                              dataset=start.get("dataset")))  # fmt: skip
    for run in reversed(trained_runs()):
        if run.snapshots and run.snapshot_of is None:
            total = run.results.get("total_steps", run.snapshots[-1].step)
            spe = max(total // max(run.config.get("epochs", 1), 1), 1)
            out.append(Replayable(run.name, run.snapshots, run.steps, run.history, spe, total,
                                  live=False, classes=run.classes,
                                  dataset=run.dataset))  # fmt: skip
    return out


def _chosen(srcs: list[Replayable]) -> Replayable | None:
    """The run to replay: the selectbox's, a run that just started training, or the latest."""
    if not srcs:
        return None
    names = [s.name for s in srcs]
    live = st.session_state.get(training.LIVE_KEY)
    if srcs[0].live and st.session_state.get(LIVE_ID_KEY) != live.run_id:
        st.session_state[LIVE_ID_KEY] = live.run_id  # a new run: watch it
        st.session_state[RUN_KEY] = names[0]
        st.session_state[FOLLOW_KEY] = True
    if st.session_state.get(RUN_KEY) not in names:
        st.session_state[RUN_KEY] = names[0]
    return srcs[names.index(st.session_state[RUN_KEY])]


def replay_view() -> None:
    """The replay, where it is called: in the live view while a run trains (each refresh then
    advances a playing replay), else in `replay_section`'s fragment."""
    if (params := st.session_state.pop(GO_KEY, None)) is not None:
        st.switch_page(EXPLORER, query_params=params)
    if (src := _chosen(sources())) is not None:
        _replay(src)


def replay_section() -> None:
    """The replay when no run trains: a fragment that reruns alone for its controls, and on a
    timer while playing."""
    playing = bool(st.session_state.get(PLAYING_KEY))

    @st.fragment(run_every=TICK_S if playing else None)
    def replay_fragment() -> None:
        if bool(st.session_state.get(PLAYING_KEY)) != playing:
            st.rerun()  # only a full run sets or clears the fragment's timer
        replay_view()

    replay_fragment()


# ------------------------------------------------------------------ the frame and its controls


def _set_playing(n: int, playing: bool) -> None:
    """Play or Pause's callback: sets the state the button showed (a click seen twice by a busy
    server still lands where it was aimed), from the start when at the end."""
    if st.session_state.get(PLAYING_KEY, False) == playing:
        return
    st.session_state[PLAYING_KEY] = playing
    if playing:
        st.session_state[FRESH_KEY] = True
        st.session_state[FOLLOW_KEY] = False
        if st.session_state.get(FRAME_KEY, 0) >= n - 1:
            st.session_state[FRAME_KEY] = 0


def _advance(n: int) -> None:
    if st.session_state.pop(FRESH_KEY, False):
        return
    st.session_state[FRAME_KEY] = min(st.session_state[FRAME_KEY] + 1, n - 1)
    if st.session_state[FRAME_KEY] == n - 1:
        st.session_state[PLAYING_KEY] = False  # the next run sees this and stops the timer


def _seek() -> None:
    st.session_state[FRAME_KEY] = st.session_state[SEEK_KEY]


def _run_id(name: str) -> str:
    """'run 2' of 'run 2 (sgd, ...)': a stopped run's name grows when it is kept."""
    return name.split(" (")[0]


def _following(src: Replayable) -> bool:
    return src.live and bool(st.session_state.get(FOLLOW_KEY)) and not _playing()


def _playing() -> bool:
    return bool(st.session_state.get(PLAYING_KEY))


def _frame(src: Replayable) -> int:
    """The snapshot to show: kept per run; another run starts at its first (a training run at
    its newest). While following a training run, its newest, up to its final one.

    Following moves the frame on the server, so the slider is not drawn then (a progress bar
    is): a slider the server moves races with the browser sending its older value back.
    """
    n = len(src.snapshots)
    seen = st.session_state.get(SEEN_KEY)
    if seen is None or seen[0] != _run_id(src.name):
        st.session_state[FRAME_KEY] = n - 1 if src.live else 0
        st.session_state[PLAYING_KEY] = False
    elif seen[1] and st.session_state.get(FOLLOW_KEY) and not _playing():
        st.session_state[FRAME_KEY] = n - 1  # it trains, or has just ended: its newest
    st.session_state[SEEN_KEY] = (_run_id(src.name), src.live)
    if st.session_state.get(PLAYING_KEY):
        _advance(n)
    st.session_state[FRAME_KEY] = min(st.session_state.get(FRAME_KEY, 0), n - 1)
    return st.session_state[FRAME_KEY]


def _controls(src: Replayable, frame: int) -> None:
    n, playing = len(src.snapshots), _playing()
    labels = [figs.step_label(s.step, s.epoch) for s in src.snapshots]
    if src.live:
        st.toggle("Follow the newest snapshot", key=FOLLOW_KEY,
                  help="Turn off to scrub the snapshots taken so far.")  # fmt: skip
    # the button as wide as its label, the slider the rest, at any width
    row = st.container(horizontal=True, vertical_alignment="bottom", key="replay_controls")
    # another key while playing: a click landing on a tick reaches the server twice, and the
    # copy must not reach the other button (ui.slide_player._button_key says more)
    row.button("Pause" if playing else "Play", type="primary",
               key="replay_pause" if playing else "replay_play",
               icon=":material/pause:" if playing else ":material/play_arrow:",
               on_click=_set_playing, args=(n, not playing), disabled=n < 2)  # fmt: skip
    if playing or n < 2 or _following(src):
        of = f"{n} so far" if src.live else f"{n}"
        row.progress((frame + 1) / n, text=f"Snapshot {frame + 1} of {of}: {labels[frame]}",
                     width="stretch")  # fmt: skip
    else:
        st.session_state[SEEK_KEY] = frame
        row.select_slider("Snapshot", list(range(n)), key=SEEK_KEY, on_change=_seek,
                          format_func=labels.__getitem__, width="stretch")  # fmt: skip


# ------------------------------------------------------------------ what a snapshot shows


def _model(src: Replayable, snap: Snapshot) -> TinyVGG:
    """The snapshot's model, with its run's classes, on the app's device (per session, never
    shared)."""

    def build() -> TinyVGG:
        model = TinyVGG(infer_config(snap.state_dict), src.classes, src.dataset)
        model.load_state_dict(snap.state_dict)
        model = model.eval().to(app_device())
        for p in model.parameters():
            p.requires_grad_(False)
        return model

    return memo(("replay model", src.name, snap.step), build)


def _probe(run: str, snap: Snapshot, model: TinyVGG) -> tuple[float, float, int] | None:
    """(loss, accuracy, images) on the first test images: logged by fit() when it probed, else
    measured here once (the same function on the same images); None without its dataset."""
    if snap.probe_acc is not None:
        return snap.probe_loss, snap.probe_acc, snap.probe_images
    if (test := test_set(model)) is None:
        return None

    def measure() -> tuple[float, float, int]:
        data = probe_set(Split(*test), PROBE_IMAGES, app_device())
        loss, acc = measure_probe(model, data)
        return loss, acc, min(PROBE_IMAGES, len(test[1]))

    return memo(("replay probe", run, snap.step), measure)


def numbers_line(src: Replayable, snap: Snapshot, probe: tuple[float, float, int] | None) -> str:
    """One line: where the snapshot is in the run and how the model stood then."""
    bits = [f"Step {snap.step:,} of {src.total_steps:,}" + (" so far" if src.live else "")]
    if snap.train_acc is not None:
        bits.append(f"running train loss {snap.train_loss:.4f}, accuracy {snap.train_acc:.1f}%")
    else:
        bits.append("the initial weights, before any step")
    if probe is not None:
        loss, acc, images = probe
        bits.append(f"{acc:.1f}% right on the first {images} test images (loss {loss:.4f})")
    return " · ".join(bits)


def _open(src: Replayable, snap: Snapshot, sample: int, layer: str) -> None:
    """The explorer button's callback: the snapshot joins the sidebar's models (e.g. 'run 2
    @ step 400'), selected, and the explorer opens on the same input and layer."""
    name = f"{src.name.split(' (')[0]} @ step {snap.step:,}"
    if any(r.name == name for r in trained_runs()):
        select_model(name)
    else:
        hidden = snap.state_dict[CONV_1_1].shape[0]
        results = {"model_name": name, "step": snap.step, "epoch": snap.epoch}
        add_trained_run(TrainedRun(name, snap.state_dict, hidden, results, snapshot_of=src.name,
                                   classes=src.classes, dataset=src.dataset))  # fmt: skip
    st.session_state[PLAYING_KEY] = False
    st.session_state[PENDING_MODEL_KEY] = name  # for the explorer's first run, whatever comes
    st.session_state[GO_KEY] = {"sample": str(sample), "layer": layer}


def _replay(src: Replayable) -> None:
    st.subheader("Replay")
    st.caption("Every run keeps about 50 snapshots of its weights, more of them early on, where "
               "they change fastest (fewer for a large model). Scrub or play from the random "
               "initial kernels to the end.")  # fmt: skip
    names = [s.name for s in sources()]
    st.selectbox("Run", names, key=RUN_KEY)
    frame = _frame(src)
    _controls(src, frame)
    snap, run = src.snapshots[frame], src.name
    label = figs.step_label(snap.step, snap.epoch)
    model = _model(src, snap)
    st.caption(numbers_line(src, snap, _probe(run, snap, model)))
    curves_col, kernels_col = stacking_columns([5, 2], "replay_top")
    curves = memo(("replay curves", run, snap.step, len(src.steps), len(src.epochs)),
                  lambda: figs.curves_at(src.steps, src.epochs, src.steps_per_epoch, snap.step,
                                         snap.train_loss, snap.train_acc))  # fmt: skip
    chart(curves, key="replay_curves", where=curves_col)
    n = len(src.snapshots)  # a live run's scale grows with its snapshots
    scale = memo(
        ("replay kernel scale", run, n),
        lambda: figs.kernel_scale([s.state_dict[CONV_1_1] for s in src.snapshots]),
    )
    kernels = memo(("replay kernels", run, snap.step, n),
                   lambda: figs.kernels(snap.state_dict[CONV_1_1], label, scale))  # fmt: skip
    chart(kernels, key="replay_kernels", where=kernels_col)
    _input_view(src, snap, model, label)


def _input_view(src: Replayable, snap: Snapshot, model: TinyVGG, label: str) -> None:
    """One test image's feature maps at a chosen layer, and its top 3, at this snapshot."""
    if (test := test_set(model)) is None:
        st.info(f"This run learned {model.dataset}, whose images are not in this session: "
                "upload that dataset above to see a test image at this snapshot.")  # fmt: skip
        return
    run, (images, labels) = src.name, test
    maps_col, pred_col = stacking_columns([3, 2], "replay_input")
    a, b = maps_col.columns(2)
    if st.session_state.get(SAMPLE_KEY, 0) >= len(labels):  # a larger dataset's number
        st.session_state[SAMPLE_KEY] = len(labels) - 1
    sample = int(a.number_input("Test image number", 0, len(labels) - 1, 0, key=SAMPLE_KEY))
    layer = b.selectbox("Layer", LAYERS, key=LAYER_KEY)
    x = images[sample].float().div(255)  # (C, 28, 28), as ToTensor() scales
    records = memo(("replay trace", run, snap.step, sample), lambda: by_name(trace(model, x)))
    chw = records[layer].output[0]  # (C, H, W)
    maps = memo(("replay maps", run, snap.step, sample, layer),
                lambda: figs.maps(chw, layer, label))  # fmt: skip
    chart(maps, key="replay_maps", where=maps_col)
    probs: torch.Tensor = records["softmax"].output[0]  # (classes,)
    top = memo(("replay top3", run, snap.step, sample),
               lambda: figs.top3(top_k(probs, 3, model.classes), label))  # fmt: skip
    preview = memo(("replay input", run, sample), lambda: input_preview(x, height=200))
    chart(preview, key="replay_input", where=pred_col)
    chart(top, key="replay_top3", where=pred_col)
    pred_col.button("Open in the explorer", icon=":material/layers:", key="replay_open",
                    on_click=_open, args=(src, snap, sample, layer),
                    help="Adds this snapshot to the sidebar's models and explores it on this "
                         "image.")  # fmt: skip
