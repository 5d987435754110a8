"""What the selected layer does, computed from the live tensors, with a visible check."""

from __future__ import annotations

import streamlit as st
import torch

from tinyvgg.activations import LayerRecord, by_name, layer_input
from tinyvgg.explain import (
    conv_cell,
    flatten_index,
    linear_contributions,
    pool_cell,
    relu_cell,
    softmax_steps,
    unflatten_index,
)
from ui.explore import state as es
from ui.explore import words
from ui.figures import explore as fx
from ui.figures.arithmetic import conv_arithmetic_html, softmax_table_html
from ui.memo import digest, memo
from ui.present import chart, controls, kept_map
from ui.slide_player import slide_player

SHOW = {"code": lambda text: st.code(text, language="python", wrap_lines=True),
        "md": st.markdown, "html": st.html, "ok": st.success, "bad": st.error,
        "caption": st.caption}  # fmt: skip


def show(blocks: list[words.Block]) -> None:
    """Each block as its Streamlit element."""
    for block in blocks:
        SHOW[block.kind](block.text)


def _set_cell(c: int, i: int, j: int) -> None:
    st.session_state[es.K_CELL] = (c, i, j)


def _cell_inputs(
    shape: list[int], cell: tuple[int, int, int], click: str = "a channel, then a cell, on the maps"
) -> tuple[int, int, int]:
    """Channel, row and column pickers (a click on the output map sets them too)."""
    box = controls("explore-cell")
    box.markdown(f"**Pick a cell** by channel, row and column, or click {click}")
    cols = box.columns(3)
    c = cols[0].number_input("Channel", 0, shape[1] - 1, cell[0], key=f"ex_c_{cell}")
    i = cols[1].number_input("Row", 0, shape[2] - 1, cell[1], key=f"ex_i_{cell}")
    j = cols[2].number_input("Column", 0, shape[3] - 1, cell[2], key=f"ex_j_{cell}")
    if (c, i, j) != cell:
        _set_cell(c, i, j)
        st.rerun()
    return cell


def _conv(tr: es.Trace, rec: LayerRecord, cell, wide=None) -> None:
    layer = tr.model.layer(rec.name)
    source = layer_input(tr.records, rec.name)
    x_in = source.output
    show(words.conv_head(layer, x_in.shape[2]))
    if st.toggle(kernels_label(layer), key="ex_kernels_on"):
        c = cell[0]
        fig = memo(("kernels", tr.key[0], rec.name, c),
                   lambda: kernels_figure(rec.name, layer, c))  # fmt: skip
        chart(fig, key="ex_kernels")
    c, i, j = _cell_inputs(rec.shape, cell)
    ex = conv_cell(x_in, layer, c, i, j)
    table = memo(("arith", *tr.key, rec.name, cell), lambda: conv_arithmetic_html(ex, source.name))
    show(words.conv_body(rec.name, ex, (c, i, j), x_in.shape[1], table,
                          float(rec.output[0, c, i, j])))  # fmt: skip
    if st.toggle(SLIDE, key="ex_slide_on"):
        with wide or st.container():  # the slide's panels need the page's width
            slide_ui(tr, rec, (c, i, j))


SLIDE = "Animate the kernel sliding over the padded input"


def slide_ui(tr: es.Trace, rec: LayerRecord, cell: tuple[int, int, int]) -> None:
    """Conv layer `rec`'s kernel for the picked cell's channel sliding over its input, from
    the picked cell's frame."""
    c, i, j = cell
    source = layer_input(tr.records, rec.name)
    st.caption(f"Output channel {c}: the window moves over `{source.name}` (padding "
               "included) and the output map fills cell by cell.")  # fmt: skip
    slide_player(source.output, tr.model.layer(rec.name), key=f"ex_slide_{rec.name}_{c}",
                 channel=c, out=rec.output, start=i * rec.shape[3] + j)  # fmt: skip


def _relu(records, rec: LayerRecord, cell) -> None:
    before = layer_input(records, rec.name).output
    c, i, j = _cell_inputs(rec.shape, cell)
    ex = relu_cell(before, c, i, j)
    show(words.relu_body(rec.name, ex, (c, i, j), float(rec.output[0, c, i, j])))


def _pool(tr: es.Trace, rec: LayerRecord, cell) -> None:
    source, layer = layer_input(tr.records, rec.name), tr.model.layer(rec.name)
    x_in = source.output
    show(words.pool_head(layer, x_in.shape[2]))
    c, i, j = _cell_inputs(rec.shape, cell)
    ex = pool_cell(x_in, layer, c, i, j)
    left, right = st.columns([1, 2])
    with left:
        kept_map(memo(("pool", *tr.key, rec.name, (c, i, j)), lambda: fx.pool_window(ex)),
                 key="ex_pool", width="content")  # fmt: skip
    with right:
        show(words.pool_body(rec.name, source.name, ex, (c, i, j),
                              float(rec.output[0, c, i, j])))  # fmt: skip


def _flatten(records, rec: LayerRecord, cell) -> None:
    source = layer_input(records, rec.name)
    src = source.output
    chw = tuple(src.shape[1:])
    show(words.flatten_head(chw, rec.shape[1]))
    c, i, j = _cell_inputs(list(src.shape), cell, "a cell of the vector below")
    k = flatten_index(chw, c, i, j)
    show(words.flatten_body(source.name, chw, (c, i, j), k, float(src[0, c, i, j]),
                             float(rec.output[0, k])))  # fmt: skip


def _linear(tr: es.Trace, rec: LayerRecord) -> None:
    feats = by_name(tr.records)["flatten"].output
    pred, names = int(rec.output[0].argmax()), tr.model.classes
    cls = st.columns([1, 2])[0].selectbox(
        "Class to explain", range(len(names)), index=pred, key=class_key(tr),
        format_func=lambda k: names[k] + (" (predicted)" if k == pred else ""),
    )  # fmt: skip
    con = linear_contributions(feats, tr.model.layer("linear"), cls)
    show(words.linear_body(names[cls], con, feats.shape[1], float(rec.output[0, cls])))
    fig = memo(("contrib", *tr.key, cls), lambda: contributions_figure(tr, cls))
    kept_map(fig, key="ex_contrib", width="stretch")


def kernels_label(layer) -> str:
    """The kernels switch of a conv layer, with the shapes of its weights."""
    return f"Show the kernels (weight {list(layer.weight.shape)}, bias {list(layer.bias.shape)})"


def kernels_figure(name: str, layer, c: int):
    """Every kernel of conv layer `name`, the one that makes output channel `c` outlined."""
    return fx.kernels(layer.weight, f"{name}: kernel {c} (outlined) makes output channel {c}", c)


def class_key(tr: es.Trace) -> str:
    """The state key of the class linear's words explain: one per trace, so a new input or
    model starts again at its predicted class."""
    return f"ex_lin_{digest(repr(tr.key).encode())}"


def contributions_figure(tr: es.Trace, cls: int):
    """The features that contribute most to class `cls`'s logit, each named by its cell."""
    feats = by_name(tr.records)["flatten"].output
    chw = tuple(by_name(tr.records)["max_pool_2"].shape[1:])
    con = linear_contributions(feats, tr.model.layer("linear"), cls)
    labels = []
    for k in con.top:
        c, i, j = unflatten_index(chw, k)
        labels.append(f"#{k} = max_pool_2[{c},{i},{j}]")
    return fx.contributions(con.products, con.top, labels)


def _softmax(tr: es.Trace, rec: LayerRecord) -> None:
    logits, names = by_name(tr.records)["linear"].output, tr.model.classes
    steps = softmax_steps(logits)
    table = softmax_table_html(steps, names, int(steps.probs.argmax()))
    show(words.softmax_body(steps, names, table, torch.softmax(logits, dim=1), rec.output))


def explain_layer(tr: es.Trace, rec: LayerRecord, cell, inp, wide=None) -> None:
    """The arithmetic of the selected layer, by kind. `wide`: a container across the page
    for what does not fit the current column (the kernel slide)."""
    st.markdown("#### What this layer does")
    if rec.kind == "Conv2d":
        _conv(tr, rec, cell, wide)
    elif rec.kind == "ReLU":
        _relu(tr.records, rec, cell)
    elif rec.kind == "MaxPool2d":
        _pool(tr, rec, cell)
    elif rec.kind == "Flatten":
        _flatten(tr.records, rec, cell)
    elif rec.kind == "Linear":
        _linear(tr, rec)
    elif rec.kind == "Softmax":
        _softmax(tr, rec)
