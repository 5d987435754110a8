"""Train: a TinyVGG on Fashion-MNIST, MNIST, KMNIST, shapes or the user's own images, in a worker
process, watched live, compared run by run."""

import streamlit as st

from tinyvgg.train import DEFAULT_LR, TrainConfig
from ui import datasets as datasets_ui
from ui import replay, training
from ui.figures import train as figs
from ui.frame import ensure_navigation, stacking_columns
from ui.present import chart

ensure_navigation()
training.prepare()


OPTIMIZERS = {"sgd": "SGD", "adam": "Adam"}  # as torch.optim spells them
BATCH_HELP = (
    "Fewer training images start from a smaller batch: more steps per epoch, which a small "
    "run needs to learn anything. The notebook's 32 for 10,000 images and more."
)

AUGMENT_HELP = (
    "Train on images made to look drawn: mirrored, flat silhouettes and outlines (seams "
    "kept as lines), edge sketches of varying stroke, small turns and shifts, lighter and "
    "darker ink. The model then reads drawings far better (the draw page's shipped model is "
    "trained so) for about five points less on the test set's photos."
)


def settings() -> TrainConfig:
    """The run's settings, and a one-line estimate of how long it takes here."""
    with st.container(border=True):
        a, b, c, e = st.columns(4)
        d = training.DEFAULTS
        options = training.subset_options()  # the chosen dataset's
        a.slider("Epochs", 1, 20, value=training.default_epochs(), key=training.epochs_key())
        a.selectbox("Training images", list(options), key=training.subset_key(),
                    index=list(options).index(training.default_subset(options)))  # fmt: skip
        optimizer = b.radio("Optimizer", list(OPTIMIZERS), format_func=OPTIMIZERS.get,
                            horizontal=True, key="train_optimizer")  # fmt: skip
        b.select_slider("Learning rate", training.LEARNING_RATES, key=f"train_lr_{optimizer}",
                        value=DEFAULT_LR[optimizer])  # fmt: skip
        c.select_slider("Batch size", training.BATCH_SIZES, value=training.default_batch(),
                        key=training.batch_key(), help=BATCH_HELP)  # fmt: skip
        c.number_input("Hidden units", 1, training.MAX_HIDDEN, d.hidden_units, key="train_hidden")
        e.number_input("Seed", 0, 2**31 - 1, d.seed, key="train_seed")
        e.selectbox("Device", training.device_options(), key="train_device")
        st.toggle("Sketch augmentation, for a model that reads drawings", key="train_augment",
                  help=AUGMENT_HELP)  # fmt: skip
        cfg = training.settings_config()
        st.caption(training.estimate_line(cfg))
    return cfg


def status(live: training.LiveRun) -> None:
    """Where the run is, in words."""
    if live.status == "queued":
        st.info(f"Waiting for a free training slot: number {live.position} in the queue.")
    elif live.status == "starting":
        st.info("Starting the worker…")
    elif live.status == "stopping":
        st.info("Stopping: scoring the model on its test images…")
    for warning in live.of_kind("warning"):
        st.warning(warning["message"])
    if live.status == "failed":
        st.error(live.error)
    elif live.status == "cancelled":
        st.info("The run ended before it trained; nothing to keep.")
    elif not live.active and not live.kept:
        st.info("The run stopped before its first steps were logged; nothing to keep.")
    elif not live.active and (end := live.first("end")):
        learned, message = training.end_message(end["results"])
        (st.success if learned else st.error)(message)


def live_view() -> None:
    """Progress, curves and conv_1_1's kernels; a fragment that reruns itself while training."""
    live = training.poll()
    if live is None:
        st.info("Choose the settings and press **Start training**; the curves appear here.")
        chart(figs.curves([], [], 1), key="train_curves")  # loads plotly.js early
        return
    if live.just_ended:
        st.rerun()  # the whole page: results, the sidebar's new model, no more refreshes
    p = training.progress(live)
    st.subheader(live.name)
    status(live)
    st.progress(p["fraction"], text=training.progress_text(p))
    curves_col, kernels_col = st.columns([5, 2])
    fig = figs.curves(live.of_kind("step"), live.of_kind("epoch"), live.steps_per_epoch)
    chart(fig, key="train_curves", where=curves_col)
    if live.kernels is not None:
        scale = figs.kernels_scale(live.kernels)
        kernels_col.image(figs.kernels_image(live.kernels), width="stretch",
                          caption=f"conv_1_1's kernels as they learn: blue −{scale:.2f}, white 0, "
                                  f"red +{scale:.2f}")  # fmt: skip
    if live.active:
        replay.replay_view()  # the snapshots so far, refreshed with the live view
    if live.just_plotted:
        st.rerun()  # the first point is drawn: the whole page again, to refresh less often


def results() -> None:
    """The comparison of this session's runs, and a closer look at one of them."""
    rows = training.comparison_rows()
    if not rows:
        return
    st.subheader("Compare the runs")
    st.dataframe(rows, hide_index=True, key="train_table", column_config={
        "model_acc": st.column_config.NumberColumn(format="%.2f"),
        "model_loss": st.column_config.NumberColumn(format="%.5f"),
        "images_per_s": st.column_config.NumberColumn("images/s", format="%.0f"),
    })  # fmt: skip
    chart(figs.comparison(rows), key="train_compare")
    names = [r["model_name"] for r in reversed(rows)]
    name = st.selectbox("Look closer at", names, key=training.INSPECT_KEY)
    run = training.find_run(name)
    st.download_button("Download checkpoint (.pt)", training.checkpoint_of(run),
                       file_name=training.checkpoint_filename(name),
                       mime="application/octet-stream", key="train_download")  # fmt: skip
    look = training.closer_look(name, run)
    if isinstance(look, str):  # its test images have left the session
        st.info(look)
    if not isinstance(look, training.CloserLook):
        return
    classes = look.classes
    left, right = stacking_columns(2, "train_results")  # stacked beside an open sidebar
    left.markdown(f"**Confusion matrix** ({len(look.labels):,} test images)")
    chart(figs.confusion(training.confusion(look.preds, look.labels, len(classes)), classes),
          key="train_cm", where=left)  # fmt: skip
    right.markdown(
        "**Predictions** · the model's class, ✓ when right; ✗ when wrong, over the true class"
    )
    mistakes = right.toggle("Mistakes only", key="train_mistakes")
    shown, p, t = training.gallery_items(look.preds, look.images, look.labels, 20, mistakes)
    chart(figs.gallery(shown, p, t, classes), key="train_gallery", where=right)


st.title("Train a TinyVGG")
st.write("Train your own TinyVGG and watch it learn: on Fashion-MNIST, handwritten digits "
         "(MNIST), Japanese characters (KMNIST), a demo of drawn shapes, or your own images. "
         "The run trains in its own process, so this page and everyone else's stay "
         "responsive.")  # fmt: skip
datasets_ui.picker(on_change=training.clear_error)
settings()
live = training.poll()
if live is not None and live.just_ended:
    st.rerun()
active = live is not None and live.active
refresh = live.refresh_every() if live is not None else None
with st.container(horizontal=True):  # each button as wide as its label, at any page width
    st.button("Start training", type="primary", on_click=training.start, key="train_start",
              help="Stops the current run." if active else None)  # fmt: skip
    st.button("Stop training", on_click=training.stop, disabled=not active, key="train_stop")
if error := st.session_state.get(training.ERROR_KEY):
    st.error(error)
st.fragment(live_view, run_every=refresh)()
if not active:
    replay.replay_section()
results()
