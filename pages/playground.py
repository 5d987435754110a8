"""Layer playground: the notebook's nn.Conv2d and nn.MaxPool2d, live, with the kernel sliding."""

import streamlit as st

from ui.frame import ensure_navigation, stacking_columns

ensure_navigation()

import torch  # noqa: E402

from tinyvgg import playground as pg  # noqa: E402
from tinyvgg.data import DataError  # noqa: E402
from tinyvgg.playground_code import pytorch_code  # noqa: E402
from ui import playground_controls as controls  # noqa: E402
from ui import styles  # noqa: E402
from ui.figures import playground as figs  # noqa: E402
from ui.present import chart  # noqa: E402
from ui.resources import app_device  # noqa: E402
from ui.slide_player import slide_player  # noqa: E402
from ui.state import model_in_use  # noqa: E402

st.title("Layer playground")
st.caption(
    "The notebook's *stepping through nn.Conv2d() and nn.MaxPool2d()*, live: change any "
    "setting and the real PyTorch layers run again."
)
# On a phone the output-size formulas shrink to fit (longer ones still scroll sideways). With
# the sidebar open on a narrow laptop, the settings panels, shapes and formulas stack before
# their contents are squeezed (labels broken mid-word, a formula cut off): stacking_columns.
st.html(styles.KATEX_PHONE)


def settings():
    """Read every widget: (input, conv, relu, pool); SettingsError names a broken constraint."""
    left, mid, right = stacking_columns([1.1, 1, 1], "pg_settings", "15rem", gap="large")
    with left.container(border=True, key="input_settings"):
        st.markdown("**Input**")
        inp = controls.input_ui(model_in_use().model)
        if inp.x is not None and inp.note:
            st.caption(inp.note)
    with mid.container(border=True, key="conv_settings"):
        st.markdown("**nn.Conv2d**")
        conv = controls.conv_ui()
    with right.container(border=True, key="pool_settings"):
        st.markdown("**ReLU and nn.MaxPool2d**")
        relu, pool = controls.pool_ui()
    if inp.x is not None:
        pg.check_pool(pool, pg.check_conv(conv, tuple(inp.x.shape)))
    return inp, conv, relu, pool


def shapes_and_formulas(stages: pg.Stages, conv, pool) -> None:
    """The shapes as PyTorch prints them, and each output-size formula with its numbers."""
    st.subheader("Shapes")
    cols = stacking_columns(len(stages.shapes()), "pg_shapes", "15rem")
    for col, (name, shape) in zip(cols, stages.shapes(), strict=True):
        col.caption(name)
        col.code(shape, language=None)
    st.subheader("Output size, per axis")
    st.caption(f"{pg.OUTPUT_SIZE_RULE}, from PyTorch's docs")
    c_left, c_right = stacking_columns(2, "pg_formulas", "27rem")
    with c_left:
        st.markdown("**conv_layer**")
        for axis in pg.conv_axes(conv, tuple(stages.input.shape[2:])):
            st.latex(axis.latex())
    with c_right:
        st.markdown("**max_pool_layer**")
        for axis in pg.pool_axes(pool, tuple(stages.pool_input.shape[2:])):
            st.latex(axis.latex())


def parameters(layer: torch.nn.Conv2d) -> None:
    """The conv's weights and bias."""
    weights, biases = pg.param_counts(layer)
    o, i, kh, kw = layer.weight.shape
    st.subheader("Parameters")
    st.markdown(
        f"conv_layer: {o} × {i} × {kh} × {kw} = **{weights:,}** weights + **{biases:,}** biases "
        f"= **{weights + biases:,}** learnable parameters; ReLU and MaxPool2d have none."
    )


def maps_and_slides(stages: pg.Stages, conv_layer, pool_layer) -> None:
    """Feature maps at each stage, and the animated slides."""
    img = slice(0, 1)  # the first image of the batch
    tabs = st.tabs(["Kernel slide", "Pooling slide", "Feature maps", "Kernels"])
    with tabs[0]:
        c = st.columns([1, 4])[0].number_input(
            "Output channel", 0, conv_layer.out_channels - 1, 0, key="pg_conv_c"
        )
        slide_player(stages.input[img], conv_layer, "pg_conv_slide", int(c), out=stages.conv[img])
    with tabs[1]:
        p_in = stages.pool_input[img]
        c = st.columns([1, 4])[0].number_input("Channel", 0, p_in.shape[1] - 1, 0, key="pg_pool_c")
        slide_player(p_in, pool_layer, "pg_pool_slide", int(c), out=stages.pool[img])
    with tabs[2]:
        steps = [("input", stages.input), ("conv_layer", stages.conv), ("relu", stages.relu),
                 ("max_pool_layer", stages.pool)]  # fmt: skip
        for name, t in steps:
            if t is not None:
                k = figs.map_step(*t.shape[2:])
                every = f", every {k}th row and column" if k > 1 else ""
                st.markdown(f"**{name}** · image 0 of `{t.shape}`, up to {figs.MAX_MAPS} "
                            f"channels{every}")  # fmt: skip
                # at their own width: the colour bar stands by the tiles, however few
                chart(figs.maps(t[0]), key=f"pg_maps_{name}", width="content")
    with tabs[3]:
        st.caption("conv_layer.weight: one row per input channel, one column per output channel")
        chart(figs.kernels(conv_layer.weight), key="pg_kernels")


def maxpool_demo() -> None:
    """The notebook's 2×2 max-pool on a small random tensor."""
    st.subheader("The 2×2 max-pool from the notebook")
    x, out = pg.maxpool_demo()
    printed = lambda t: "\n".join(f"# {line}" for line in f"{t}\n{t.shape}".splitlines())
    st.code(
        "torch.manual_seed(42)\nrandom_tensor = torch.randn(size=(1, 1, 2, 2))\n"
        f"{printed(x)}\nmax_pool_layer = nn.MaxPool2d(kernel_size=2)\n"
        f"max_pool_tensor = max_pool_layer(random_tensor)\n{printed(out)}",
        language="python",
    )
    chart(figs.maxpool_demo(x, out), key="pg_maxpool_demo")


try:
    inp, conv, relu, pool = settings()
except (pg.SettingsError, DataError) as e:
    st.error(str(e))
else:
    if inp.x is None:
        st.info(inp.note)
    else:
        conv_layer, pool_layer = pg.build_conv(conv), pg.build_pool(pool)
        stages = pg.run(inp.x, conv_layer, pool_layer, relu, app_device())
        st.subheader("In PyTorch")
        st.code(pytorch_code(inp.code, conv, relu, pool, stages), language="python")
        shapes_and_formulas(stages, conv, pool)
        parameters(conv_layer)
        maps_and_slides(stages, conv_layer, pool_layer)
maxpool_demo()
