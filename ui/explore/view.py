"""The explorer's sections: input picker, overview strip, stepper, prediction card, layer view."""

from __future__ import annotations

import random

import streamlit as st
import torch

from tinyvgg.activations import LayerRecord, by_name, layer_input
from tinyvgg.atlas import LAYERS as ATLAS_LAYERS
from tinyvgg.datasets import FASHION
from tinyvgg.explain import flatten_index, source_cells, unflatten_index
from tinyvgg.model import TinyVGG
from ui import styles
from ui.atlas import explorer_ui
from ui.explore import state as es
from ui.explore.explain import explain_layer, show
from ui.explore.words import Block
from ui.figures import explore as fx
from ui.figures.common import feature_maps, image, subtitled
from ui.frame import stacking_columns
from ui.kept_plot import clicked
from ui.layer_strip import layer_strip, picked, png_uri
from ui.memo import memo
from ui.present import kept_map, presenting
from ui.state import drawn_input

ANY = "any class"


def _of_class(model: TinyVGG, cls: str) -> torch.Tensor:
    """The indices of the model's test images of class `cls`, in order."""
    labels = es.samples(model)[1]
    return (labels == model.classes.index(cls)).nonzero().flatten()


def _jump_to_class(model: TinyVGG) -> None:
    cls = st.session_state["ex_class"]
    if cls != ANY and len(idx := _of_class(model, cls)):
        after = idx[idx >= st.session_state[es.K_SAMPLE]]
        st.session_state[es.K_SAMPLE] = int((after if len(after) else idx)[0])


def _random_sample(model: TinyVGG, n: int) -> None:
    cls = st.session_state.get("ex_class", ANY)
    idx = _of_class(model, cls).tolist() if cls != ANY else []
    st.session_state[es.K_SAMPLE] = random.choice(idx) if idx else random.randrange(n)


def input_ui(model: TinyVGG) -> None:
    """Where the input comes from, the model's own test images first; the chosen values live
    in session state."""
    s, n = st.session_state, es.sample_count(model)
    sources = [*(["sample"] if n else []), "random", *(["drawing"] if drawn_input() else [])]
    if s[es.K_SOURCE] not in sources:
        s[es.K_SOURCE] = sources[0]
    st.radio("Input", sources, format_func=lambda k: es.source_label(k, model), key=es.K_SOURCE,
             horizontal=True)  # fmt: skip
    source = s[es.K_SOURCE]
    for key, shown in ((es.K_SAMPLE, "sample"), (es.K_SEED, "random")):
        if source != shown and key in s:  # its box is not drawn: a value set here is kept
            s[key] = s[key]
    if source == "sample":
        a, b, c = st.columns([3, 3, 2], vertical_alignment="bottom")  # "Random" whole
        if s.get("ex_class", ANY) not in (ANY, *model.classes):  # another model's class
            s["ex_class"] = ANY
        a.selectbox("Class", [ANY, *model.classes], key="ex_class", on_change=_jump_to_class,
                    args=(model,))  # fmt: skip
        if s.setdefault(es.K_SAMPLE, 0) >= n:  # a larger dataset's index
            s[es.K_SAMPLE] = n - 1
        b.number_input("Test image #", 0, n - 1, step=1, key=es.K_SAMPLE)
        c.button("Random", on_click=_random_sample, args=(model, n), width="stretch")
    elif source == "random":
        st.number_input("Seed", 0, 2**31 - 1, step=1, key=es.K_SEED)
    elif (drawn := drawn_input()) is not None:
        st.caption(f"From the draw page: {drawn.label}")
    if not n:
        st.info(es.missing(model), icon=":material/dataset:")
    if drawn_input() is None:
        thing = "a garment" if model.dataset == FASHION else "an image"
        st.caption(f"Draw or upload {thing} on the Draw page to explore it here.")


def whole_names(text: str, names: tuple[str, ...]) -> str:
    """`text` with each class name's spaces made unbreakable: never 'Ankle' over 'boot'."""
    for name in names:
        text = text.replace(name, name.replace(" ", "\u00a0"))
    return text


def prediction_card(tr: es.Trace, inp: es.ExploreInput) -> None:
    """The predicted class and its probability; the truth when the input has one."""
    st.html(styles.PREDICTION)
    with st.container(key="ex_pred"):
        _prediction(tr, inp)


def _prediction(tr: es.Trace, inp: es.ExploreInput) -> None:
    probs, names = tr.records[-1].output[0], tr.model.classes
    pred = int(probs.argmax())
    if presenting():  # one line, level with the input's name
        mark = ("" if inp.true_label is None else " ✓" if inp.true_label == pred
                else f" ✗ (it is {names[inp.true_label]})")  # fmt: skip
        odds = f"{float(probs[pred]):.1%}{mark}".replace(" ", "\u00a0")
        st.subheader(whole_names(f"→ {names[pred]}, {odds}", names))
        return
    st.metric("Prediction", names[pred], f"{float(probs[pred]):.1%} probability",
              delta_color="off")  # fmt: skip
    if inp.true_label is not None:
        right = inp.true_label == pred
        mark = "✓ correct" if right else "✗ wrong"
        st.caption(f"Truth: **{names[inp.true_label]}** · {mark}")
    else:
        st.caption(inp.caption)


def _select(name: str) -> None:
    st.session_state[es.K_LAYER] = name


def _thumbnail(rec: LayerRecord) -> bytes:
    """The strip's picture of a layer: an RGB input in its colours, others in grey."""
    if rec.name == "input" and rec.output.shape[1] == 3:
        return fx.rgb_png(rec.output[0], size=72)
    return fx.thumbnail_png(rec.output)


def _tile(rec: LayerRecord, compact: bool) -> dict:
    """A layer's tile in the strip: name, kind, shape, parameters and (unless compact) its
    thumbnail."""
    thumb = None if compact else png_uri(_thumbnail(rec))
    return {"name": rec.name, "kind": rec.kind, "shape": rec.shape_text, "params": rec.params,
            "thumb": thumb}  # fmt: skip


def _on_pick() -> None:
    if (name := picked("ex_strip")) in es.LAYERS:
        _select(name)


def overview_ui(tr: es.Trace) -> None:
    """Every layer in order: thumbnail, name, kind, shape, parameters; click to select.

    On a projector (teacher mode) the strip shows the names only (the selected layer's heading
    gives its kind, shape and parameters), so the maps come up on the first screen."""
    compact = presenting()
    st.html(styles.LAYER_VIEW)
    layers = memo(("strip", *tr.key, compact), lambda: [_tile(r, compact) for r in tr.records])
    layer_strip(layers, st.session_state[es.K_LAYER], key="ex_strip", on_pick=_on_pick,
                compact=compact)  # fmt: skip


def stepper_ui() -> str:
    """Prev and Next go to the layer next to the one shown when they were drawn: a click the
    server runs twice (reruns folded together) still moves one layer."""
    a, b, c = st.container(key="ex_stepper").columns([1.2, 3.6, 1.2], vertical_alignment="bottom")
    i = es.LAYERS.index(st.session_state[es.K_LAYER])
    a.button("◀ Prev", on_click=_select, args=(es.LAYERS[max(i - 1, 0)],), width="stretch",
             disabled=i == 0, shortcut="PageUp")  # fmt: skip
    b.selectbox("Layer", es.LAYERS, key=es.K_LAYER,
                label_visibility="collapsed" if presenting() else "visible")  # fmt: skip
    c.button("Next ▶", on_click=_select, args=(es.LAYERS[min(i + 1, len(es.LAYERS) - 1)],),
             width="stretch", disabled=i == len(es.LAYERS) - 1, shortcut="PageDown")  # fmt: skip
    return st.session_state[es.K_LAYER]


# Pixels per tile row of the input and output grids, for half of a wide page's width: the
# figures' heights fit their tiles, with no blank band under them or stretched colour bar.
TILE_PX = 84


def _map_figure(t: torch.Tensor, title: str, names: tuple[str, ...] | None = None,
                softmax: bool = False):  # fmt: skip
    """A layer output as a figure: channel grid for maps, bars for a vector with a value per
    class (`names`: probabilities for the softmax, logits for the linear layer)."""
    if t.dim() == 4:
        if t.shape[1] == 1:
            return image(t[0, 0], title)
        return feature_maps(t[0], title=title, cell_px=TILE_PX)
    if names is not None and t.shape[1] == len(names):
        return fx.probabilities(t, names, title=title) if softmax else fx.logits(t, names, title)
    # the flattened vector (linear's input): a row per channel of max_pool_2's 7×7 maps
    return image(t.reshape(-1, 49) if t.shape[1] % 49 == 0 else t, title)


def _width(fig) -> str:
    """Maps at their own width (the colour bar by the cells, however wide the column; a
    narrower column shrinks them), bar charts across the column."""
    return "content" if fig.layout.width else "stretch"


def _clicked(key: str) -> dict | None:
    p = clicked(key)
    return p if p is not None and {"curve_number", "x", "y"} <= set(p) else None


def pick_channel(p: dict | None, channels: int) -> None:
    """A click on a tile of a channel grid of `channels`: its overlay point carries the
    channel."""
    if p is not None and isinstance(c := p.get("customdata"), (int, float)) and 0 <= c < channels:
        _, i, j = st.session_state[es.K_CELL]
        st.session_state[es.K_CELL] = (int(c), i, j)


def pick_cell(p: dict | None) -> None:
    """A click on the large map of the picked channel: x is the column, y the row."""
    if p is not None:
        c, _, _ = st.session_state[es.K_CELL]
        st.session_state[es.K_CELL] = (c, int(p["y"]), int(p["x"]))


def pick_flat(p: dict | None, chw: tuple[int, int, int] | None) -> None:
    """A click on the flattened vector of (C, H, W) `chw`: its point carries the index, which
    names the cell."""
    data = p.get("customdata") if p is not None else None
    if chw and isinstance(data, list) and data and isinstance(data[0], (int, float)):
        if 0 <= (k := int(data[0])) < chw[0] * chw[1] * chw[2]:
            st.session_state[es.K_CELL] = unflatten_index(chw, k)


def _on_channel_click() -> None:
    pick_channel(_clicked("ex_grid"), st.session_state.get("ex_grid_channels", 0))


def _on_cell_click() -> None:
    pick_cell(_clicked("ex_cellmap"))


def _on_flat_click() -> None:
    pick_flat(_clicked("ex_flat"), st.session_state.get("ex_flat_chw"))


def input_note(inp: es.ExploreInput, model: TinyVGG) -> str:
    """What the model is given, for the input layer: C channels of 28×28 values, and which."""
    c = model.config.input_shape
    channels = {1: "1 channel", 3: "3 channels (red, green, blue)"}.get(c, f"{c} channels")
    fashion = model.dataset == FASHION
    if inp.source == "random":
        seen = "the garments" if fashion else f"the {model.dataset} images"
        return (f"The image as the model sees it: {channels}, 28×28 values each drawn from a "
                "standard normal distribution (mean 0, std 1), as `torch.randn` makes them. "
                f"Nothing like {seen} it was trained on, whose values lie in [0, 1].")  # fmt: skip
    if inp.source == "drawing":
        grey = "" if c == 1 else ", its grey repeated in each channel"
        return ("The image as the model sees it: your picture, as the Draw page prepared it, "
                f"in {channels} of 28×28 values in [0, 1]{grey}.")  # fmt: skip
    pixels = "the Fashion-MNIST pixels" if fashion else f"{model.dataset}'s pixels"
    return (f"The image as the model sees it: {channels}, 28×28 values in [0, 1], {pixels} "
            "scaled as `ToTensor()` scales them.")  # fmt: skip


def _flatten_ui(tr: es.Trace, rec: LayerRecord, prev: LayerRecord, cell, inp) -> None:
    """Flatten: its input with the picked cell outlined beside the arithmetic, and the vector
    across the page under them (a row per channel, wide enough to click a cell of it)."""
    chw = tuple(prev.shape[1:])
    k = flatten_index(chw, *cell)
    left, right = stacking_columns(2, "ex_flat_io")
    with left:
        fig = memo(("in", *tr.key, rec.name, cell), lambda: input_map(tr, rec.name, cell))
        kept_map(fig, key="ex_prev", grow=False, width=_width(fig))
    with right:
        explain_layer(tr, rec, cell, inp)
    fig = memo(("flat", *tr.key, rec.name, k), lambda: output_map(tr, rec.name, cell))
    st.session_state["ex_flat_chw"] = chw
    kept_map(fig, key="ex_flat", on_select=_on_flat_click, width=_width(fig))


def input_figure(rec: LayerRecord, caption: str):
    """The input as a map; several channels each as a map (an RGB one's colours go above)."""
    x = rec.output[0]  # (C, 28, 28)
    if x.shape[0] == 1:
        return image(x[0], caption)
    return feature_maps(x, title=f"its {x.shape[0]} channels", cell_px=TILE_PX)


def _names(tr: es.Trace, layer: str) -> tuple[str, ...] | None:
    """The class names when `layer` gives a value per class."""
    return tr.model.classes if layer in ("linear", "softmax") else None


def input_words(tr: es.Trace, inp: es.ExploreInput) -> list[Block]:
    """What the input layer says: what the model is given, which model this page explores
    when the draw page used another, and the input's range."""
    x = by_name(tr.records)["input"].output
    out = [Block("md", input_note(inp, tr.model))]
    if inp.source == "drawing" and tr.key[0] == "pretrained":
        out.append(Block("caption", "The draw page answered with the pretrained model for "
                         "drawings; this page explores the sidebar's, trained on the photos "
                         "alone, so their answers can differ."))  # fmt: skip
    out.append(Block("caption", f"min {float(x.min()):.4f} · max {float(x.max()):.4f} · "
                     f"mean {float(x.mean()):.4f} · std {float(x.std()):.4f}"))  # fmt: skip
    return out


def input_map(tr: es.Trace, layer: str, cell: tuple[int, int, int]):
    """`layer`'s input as a map, the cells its picked `cell` comes from outlined (flatten:
    the picked cell of its input itself)."""
    rec, prev = by_name(tr.records)[layer], layer_input(tr.records, layer)
    title = f"input: {prev.name} {prev.shape_text}"
    if rec.kind == "Flatten":
        c, i, j = cell
        return fx.outline_spans(_map_figure(prev.output, title), [(c, (i, i), (j, j))])
    spans = []  # the input cells the picked cell comes from, outlined
    if prev.output.dim() == 4:  # softmax, the one layer the model has not, reads a vector
        spans = source_cells(tr.model.layer(layer), tuple(prev.shape[1:]), *cell)
    if spans:  # as tall as the output's title beside it: channel k level with k
        title = subtitled(title, "outlined: where the picked cell comes from")
    return fx.outline_spans(_map_figure(prev.output, title, _names(tr, prev.name)), spans)


def output_map(tr: es.Trace, layer: str, cell: tuple[int, int, int]):
    """`layer`'s output: its channels (the picked cell's outlined, click to pick another),
    flatten's vector (the picked cell's index marked), or bars for each class."""
    rec, out = by_name(tr.records)[layer], by_name(tr.records)[layer].output
    title = f"output: {layer} {rec.shape_text}"
    if rec.kind == "Flatten":
        prev = layer_input(tr.records, layer)
        chw = tuple(prev.shape[1:])
        return fx.flat_vector(out[0], chw, title, flatten_index(chw, *cell), prev.name)
    if out.dim() == 4:
        return fx.channel_grid(out[0], subtitled(title, "click a channel"), cell[0], TILE_PX)
    return _map_figure(out, title, _names(tr, layer), softmax=layer == "softmax")


def channel_map(tr: es.Trace, layer: str, cell: tuple[int, int, int]):
    """The picked cell's channel of `layer`'s output, large, the cell outlined."""
    title = subtitled(f"{layer}, channel {cell[0]}", "click a cell")
    return fx.cell_map(by_name(tr.records)[layer].output[0, cell[0]], title, cell[1:])


def layer_cell(tr: es.Trace, name: str) -> tuple[int, int, int] | None:
    """The cell layer `name` shows (of its input, for flatten), kept as `state.current_cell`
    keeps it, and a warning when a link's cell had to move; None for the input layer, which
    drops a link's cell (it is for the layers with cells)."""
    rec = by_name(tr.records)[name]
    if name == "input":
        st.session_state.pop(es.K_CELL_LINK, None)
        if st.session_state.get(es.K_CELL_ORIGIN) is None:  # Next's cell, chosen as it would
            first = tr.records[1]  # choose it there (its brightest): known now, it stays put
            st.session_state[es.K_CELL_ORIGIN] = (es.brightest_cell(first.output),
                                                  tuple(first.shape[2:]))  # fmt: skip
        return None
    flat = rec.kind == "Flatten"
    source = layer_input(tr.records, name) if flat else rec  # flatten's cells are its input's
    cell, moved = es.current_cell(source.shape, name, flat, source.output)
    if moved and rec.kind not in ("Linear", "Softmax"):  # these two show no single cell
        st.warning(f"Ignored part of the link: {moved}")
    return cell


def layer_ui(tr: es.Trace, inp: es.ExploreInput) -> None:
    """The selected layer: its input beside its output, then what it does."""
    name = st.session_state[es.K_LAYER]
    rec = by_name(tr.records)[name]
    st.subheader(f"{rec.name} · {rec.kind} · `{rec.shape_text}` · {rec.params:,} params")
    cell = layer_cell(tr, name)
    if name == "input":
        # half width: the colour bar stays by the image
        picture, words = stacking_columns(2, "ex_input")
        with picture:
            if rec.output.shape[1] == 3:
                st.image(memo(("rgb", *tr.key), lambda: fx.rgb_png(rec.output[0])),
                         caption=inp.caption)  # fmt: skip
            fig = input_figure(rec, inp.caption)
            kept_map(fig, key="ex_in", grow=False, width=_width(fig))
        with words:
            show(input_words(tr, inp))
        return
    prev = layer_input(tr.records, name)
    if rec.kind == "Flatten":
        _flatten_ui(tr, rec, prev, cell, inp)
        return
    # the same tile layout on both sides: channel k under k
    left, right = stacking_columns(2, "ex_io")
    with left:
        fig = memo(("in", *tr.key, name, cell), lambda: input_map(tr, name, cell))
        kept_map(fig, key="ex_prev", grow=False, width=_width(fig))
    with right:
        if rec.output.dim() == 4:
            fig = memo(("grid", *tr.key, name, cell[0]), lambda: output_map(tr, name, cell))
            st.session_state["ex_grid_channels"] = rec.output.shape[1]
            kept_map(fig, key="ex_grid", grow=False, on_select=_on_channel_click,
                     width=_width(fig))  # fmt: skip
        else:
            fig = memo(("out", *tr.key, name), lambda: output_map(tr, name, cell))
            kept_map(fig, key="ex_out", grow=False, width=_width(fig))  # as its input
    if name in ATLAS_LAYERS:  # under the channel grid, where a channel is picked
        with st.container(key="ex_atlas"):
            explorer_ui(tr.key[0], tr.model, name, cell[0])
    if rec.output.dim() == 4:
        big, rest = stacking_columns([2, 3], "ex_cell")
        wide = st.container()  # under both columns, across the page
        with big:
            fig = memo(("cells", *tr.key, name, cell), lambda: channel_map(tr, name, cell))
            kept_map(fig, key="ex_cellmap", on_select=_on_cell_click, width=_width(fig))
        with rest:
            if presenting():  # the picked cell, large enough for the back row
                c, i, j = cell
                st.metric(f"{name}[0, {c}, {i}, {j}]", f"{float(rec.output[0, c, i, j]):.4f}")
            explain_layer(tr, rec, cell, inp, wide)
    else:
        explain_layer(tr, rec, cell, inp)
