"""What the selected layer does, computed from the live tensors, with a visible check."""

from __future__ import annotations

import streamlit as st
import torch

from tinyvgg.activations import LayerRecord, by_name, layer_input
from tinyvgg.explain import (
    conv_cell,
    conv_padding,
    flatten_index,
    linear_contributions,
    output_size,
    pair,
    pool_cell,
    relu_cell,
    softmax_steps,
    stride_of,
    unflatten_index,
)
from ui.explore import state as es
from ui.figures import explore as fx
from ui.figures.arithmetic import conv_arithmetic_html, softmax_table_html
from ui.memo import digest, memo
from ui.present import chart, controls, kept_map
from ui.slide_player import slide_player


def _check(explained: float, actual: float) -> None:
    diff = abs(explained - actual)
    if diff <= 1e-5:
        st.success(f"✓ equals the activation {actual:.6f} (difference {diff:.1e})")
    else:
        st.error(f"✗ differs from the activation {actual:.6f} by {diff:.1e}")


def channels(n: int) -> str:
    """'1 input channel', '10 input channels'."""
    return f"{n} input channel{'s' if n != 1 else ''}"


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
    (k, _), (s, _), (p, _) = layer.kernel_size, layer.stride, conv_padding(layer)
    st.code(f"nn.Conv2d(in_channels={layer.in_channels}, out_channels={layer.out_channels}, "
            f"kernel_size={k}, stride={s}, padding={p})", language="python",
            wrap_lines=True)  # fmt: skip
    h = x_in.shape[2]
    st.markdown(f"Output size: ⌊(H + 2p − k) / s⌋ + 1 = ⌊({h} + 2·{p} − {k}) / {s}⌋ + 1 = "
                f"**{output_size(h, k, s, p)}**")  # fmt: skip
    shapes = f"weight {list(layer.weight.shape)}, bias {list(layer.bias.shape)}"
    if st.toggle(f"Show the kernels ({shapes})", key="ex_kernels_on"):
        c = cell[0]
        title = f"{rec.name}: kernel {c} (outlined) makes output channel {c}"
        fig = memo(("kernels", tr.key[0], rec.name, c),
                   lambda: fx.kernels(layer.weight, title, c))  # fmt: skip
        chart(fig, key="ex_kernels")
    c, i, j = _cell_inputs(rec.shape, cell)
    ex = conv_cell(x_in, layer, c, i, j)
    actual = float(rec.output[0, c, i, j])
    rows, cols = ex.window.rows, ex.window.cols
    st.markdown(f"Output `{rec.name}[0, {c}, {i}, {j}]` = Σ over {channels(x_in.shape[1])} "
                f"of (input rows {rows[0]}…{rows[-1]}, columns {cols[0]}…{cols[-1]}) × "
                f"kernel {c} + bias. Cells marked *pad* are the zero padding.")  # fmt: skip
    st.html(memo(("arith", *tr.key, rec.name, cell),
                 lambda: conv_arithmetic_html(ex, source.name)))  # fmt: skip
    sums = " + ".join(f"{v:.4f}" for v in ex.channel_sums.tolist())
    st.markdown(f"Per-channel sums {sums} \\+ bias {ex.bias:.4f} = **{ex.value:.6f}**")
    _check(ex.value, actual)
    if st.toggle("Animate the kernel sliding over the padded input", key="ex_slide_on"):
        with wide or st.container():  # the slide's panels need the page's width
            st.caption(f"Output channel {c}: the window moves over `{source.name}` (padding "
                       "included) and the output map fills cell by cell.")  # fmt: skip
            slide_player(
                x_in,
                layer,
                key=f"ex_slide_{rec.name}_{c}",
                channel=c,
                out=rec.output,
                start=i * rec.shape[3] + j,
            )  # the picked cell's frame


def _relu(records, rec: LayerRecord, cell) -> None:
    before = layer_input(records, rec.name).output
    c, i, j = _cell_inputs(rec.shape, cell)
    ex = relu_cell(before, c, i, j)
    st.markdown(f"`{rec.name}[0, {c}, {i}, {j}]` = max(0, {ex.before:.6f}) = **{ex.after:.6f}**")
    _check(ex.after, float(rec.output[0, c, i, j]))
    st.markdown(f"{ex.zeroed:,} of {ex.total:,} cells ({ex.zeroed / ex.total:.1%}) were negative "
                "and are now 0.")  # fmt: skip


def _pool(tr: es.Trace, rec: LayerRecord, cell) -> None:
    records, layer = tr.records, tr.model.layer(rec.name)
    x_in = layer_input(records, rec.name).output
    st.code(f"nn.MaxPool2d(kernel_size={layer.kernel_size}, stride={layer.stride})", "python")
    (k, _), (s, _), (p, _) = map(pair, (layer.kernel_size, stride_of(layer), layer.padding))
    h = x_in.shape[2]
    st.markdown(f"Output size: ⌊(H + 2p − k) / s⌋ + 1 = ⌊({h} + 2·{p} − {k}) / {s}⌋ + 1 = "
                f"**{output_size(h, k, s, p)}**: each {k}×{k} window, {s} apart, keeps its "
                "largest value")  # fmt: skip
    c, i, j = _cell_inputs(rec.shape, cell)
    ex = pool_cell(x_in, layer, c, i, j)
    left, right = st.columns([1, 2])
    with left:
        kept_map(memo(("pool", *tr.key, rec.name, (c, i, j)), lambda: fx.pool_window(ex)),
                 key="ex_pool", width="content")  # fmt: skip
    r, q = ex.window.rows, ex.window.cols
    right.markdown(f"Window: channel {c}, rows {r[0]}–{r[-1]}, columns {q[0]}–{q[-1]} of "
                   f"`{layer_input(records, rec.name).name}`.  \nIts maximum **{ex.value:.6f}** "
                   f"(outlined) becomes `{rec.name}[0, {c}, {i}, {j}]`.")  # fmt: skip
    with right:
        _check(ex.value, float(rec.output[0, c, i, j]))


def _flatten(records, rec: LayerRecord, cell) -> None:
    src = layer_input(records, rec.name).output
    chw = tuple(src.shape[1:])
    st.markdown(f"{chw[0]}×{chw[1]}×{chw[2]} → {rec.shape[1]}: channels one after another, "
                "each read row by row.")  # fmt: skip
    c, i, j = _cell_inputs(list(src.shape), cell, "a cell of the vector below")
    k = flatten_index(chw, c, i, j)
    st.markdown(
        f"`max_pool_2[0, {c}, {i}, {j}]` lands at index {c}·{chw[1] * chw[2]} + "
        f"{i}·{chw[2]} + {j} = **{k}** of `flatten`, value {float(rec.output[0, k]):.6f}"
    )
    _check(float(src[0, c, i, j]), float(rec.output[0, k]))


def _linear(tr: es.Trace, rec: LayerRecord) -> None:
    feats = by_name(tr.records)["flatten"].output
    pooled = by_name(tr.records)["max_pool_2"].output
    pred, names = int(rec.output[0].argmax()), tr.model.classes
    # one picker per trace: a new input or model starts again at its predicted class
    key = f"ex_lin_{digest(repr(tr.key).encode())}"
    cls = st.columns([1, 2])[0].selectbox(
        "Class to explain", range(len(names)), index=pred, key=key,
        format_func=lambda k: names[k] + (" (predicted)" if k == pred else ""),
    )  # fmt: skip
    con = linear_contributions(feats, tr.model.layer("linear"), cls)
    st.markdown(f"logit[{names[cls]}] = bias {con.bias:.4f} + Σ weight · feature over "
                f"{feats.shape[1]} features = **{con.logit:.6f}**")  # fmt: skip
    _check(con.logit, float(rec.output[0, cls]))
    chw = tuple(pooled.shape[1:])
    labels = []
    for k in con.top:
        c, i, j = unflatten_index(chw, k)
        labels.append(f"#{k} = max_pool_2[{c},{i},{j}]")
    st.markdown(f"**Features that contribute most** to *{names[cls]}* (weight × value)")
    fig = memo(("contrib", *tr.key, cls), lambda: fx.contributions(con.products, con.top, labels))
    kept_map(fig, key="ex_contrib", width="stretch")


def _softmax(tr: es.Trace, rec: LayerRecord) -> None:
    logits, names = by_name(tr.records)["linear"].output, tr.model.classes
    steps = softmax_steps(logits)
    ours = steps.probs
    pred = int(ours.argmax())
    st.markdown(f"softmax(z)ₖ = exp(zₖ − max z) / Σⱼ exp(zⱼ − max z); for *{names[pred]}*: "
                f"**{float(ours[pred]):.6f}**")  # fmt: skip
    _check(float(ours[pred]), float(torch.softmax(logits, dim=1)[0, pred]))
    st.html(softmax_table_html(steps, names, pred))
    worst = float((ours - rec.output[0].double()).abs().max())
    st.caption(f"Subtracting max z changes nothing but keeps exp from overflowing. All "
               f"{len(ours)} probabilities against `softmax`'s output: largest difference "
               f"{worst:.1e}.")  # fmt: skip


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
