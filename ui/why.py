""" "Why this class?": an attribution map for the input on screen, beside its prediction.

One section for the explorer (prefix "ex") and the draw page ("draw"). The method and the
classes are widget state in the session; `?why=ig&target=Coat&versus=Pullover` restores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches

import streamlit as st
import torch

from tinyvgg.attribution import (
    IG_MAX_STEPS,
    IG_TOLERANCE,
    LABELS,
    METHODS,
    OCCLUSION_PATCH,
    OCCLUSION_STRIDE,
    SENTENCES,
    Attribution,
    AttributionError,
    attribute,
)
from tinyvgg.data import find_class
from tinyvgg.model import TinyVGG
from ui.figures import attribution as fa
from ui.figures.common import subtitled
from ui.frame import stacking_columns
from ui.memo import memo
from ui.present import chart

DEFAULT_METHOD = "exact"
NO_CLASS = -1  # "and not" left empty (a None option would show as no choice at all)


@dataclass(frozen=True)
class Keys:
    """The session-state keys of one page's section, e.g. "ex_why_method"."""

    prefix: str

    def _key(self, name: str) -> str:
        return f"{self.prefix}_why_{name}"

    open = property(lambda self: self._key("open"))  # the section is shown
    method = property(lambda self: self._key("method"))
    target = property(lambda self: self._key("target"))  # a class index
    picked = property(lambda self: self._key("picked"))  # the target was chosen, not followed
    versus = property(lambda self: self._key("versus"))  # a class index or NO_CLASS
    patch = property(lambda self: self._key("patch"))
    stride = property(lambda self: self._key("stride"))


def _class_problem(what: str, text: str, names: tuple[str, ...]) -> str:
    near = get_close_matches(text, names, n=1, cutoff=0.5)
    hint = f"the nearest is {near[0]}" if near else f"the classes are {', '.join(names)}"
    return f"{what}={text!r} is not a class; {hint}."


def parse_link(
    params: dict[str, str], prefix: str, names: tuple[str, ...]
) -> tuple[dict, list[str]]:
    """Session-state settings from `why`, `target` and `versus` (classes of `names`, the
    model's), and a sentence per value that was ignored. `why` opens the section; a class
    without `why` opens it too."""
    k, out, problems = Keys(prefix), {}, []
    if "why" in params:
        method = params["why"].lower()
        if method in METHODS:
            out[k.method], out[k.open] = method, True
        else:
            problems.append(f"why={params['why']!r} is not a method; the methods are "
                            f"{', '.join(METHODS)}.")  # fmt: skip
    for what in ("target", "versus"):
        if what in params:
            if (c := find_class(params[what], names)) is None:
                problems.append(_class_problem(what, params[what], names))
            else:
                out[getattr(k, what)], out[k.open] = c, True
                if what == "target":
                    out[k.picked] = True
    if out.get(k.target) is not None and out.get(k.target) == out.get(k.versus):
        problems.append("versus is the target class itself; showing the target alone.")
        out[k.versus] = None
    return out, problems


def link_params(prefix: str, names: tuple[str, ...]) -> dict[str, str]:
    """The section's state as query parameters, when it is open (classes by their name in
    `names`, the model's; by index past its end)."""
    k, s = Keys(prefix), st.session_state
    if not s.get(k.open):
        return {}
    out = {"why": s.get(k.method) or DEFAULT_METHOD}
    name = lambda c: names[c] if c < len(names) else str(c)  # noqa: E731
    if s.get(k.picked) and isinstance(s.get(k.target), int):
        out["target"] = name(s[k.target])
    if s.get(k.versus) not in (None, NO_CLASS):
        out["versus"] = name(s[k.versus])
    return out


def numbers(a: Attribution, names: tuple[str, ...]) -> str:
    """The figures a reader can check the map with, in Markdown: what it adds up to."""
    what = f"logit[{names[a.target]}]"
    if a.versus is not None:
        what += f" − logit[{names[a.versus]}]"
    lines = [f"{what} = **{a.score:.6f}**"]
    if a.method == "exact":
        n, shares = a.layer_map.numel(), float(a.layer_map.double().sum())
        bias = a.score - a.expected
        lines.append(
            f"The {n} shares W·a add up to **{shares:.6f}**; {what} − bias = {a.score:.6f} − "
            f"({bias:.6f}) = **{a.expected:.6f}**. They differ by "
            f"{abs(shares - a.expected):.1e}, float32 rounding: exact. The map spreads each "
            f"share over its receptive field and keeps the sum ({a.total:.6f})."
        )  # fmt: skip
    elif a.method == "ig":
        rise = a.expected
        rel = abs(a.delta) / max(abs(rise), 1e-12)
        lines.append(
            f"The attributions add up to **{a.total:.6f}**; from a black image the score rises "
            f"by **{rise:.6f}**: delta {a.delta:+.2e} ({rel:.2%}), with "
            f"{a.settings['steps']} steps"
            + (" (the most it takes: the path crosses many ReLU kinks)."
               if rel > IG_TOLERANCE and a.settings["steps"] >= IG_MAX_STEPS else ".")
        )  # fmt: skip
    elif a.method == "occlusion":
        lines.append(f"A {a.settings['patch']}×{a.settings['patch']} black patch, moved "
                     f"{a.settings['stride']} pixels at a time.")  # fmt: skip
    elif a.method == "gradcam":
        lines.append("conv_2_2 at 14×14, each cell drawn as 2×2 pixels; sum "
                     f"{a.total:.6f}.")  # fmt: skip
    lines.append(f"Red for {names[a.target]}, blue against: {fa.scale_text(a.map)} "
                 "(nothing rescaled).")  # fmt: skip
    return "  \n".join(lines)


def _note_pick(prefix: str) -> None:
    st.session_state[Keys(prefix).picked] = True


def _target_ui(k: Keys, probs: torch.Tensor, names: tuple[str, ...], quick: bool) -> int:
    """The class to explain: the prediction until one is picked. `quick` offers the top 3 as
    one-click buttons (the draw page), otherwise every class by probability. (A click on the
    chosen button unchooses it: the next run puts the prediction back.)"""
    s = st.session_state
    order = probs.argsort(descending=True).tolist()
    if s.get(k.picked) and s.get(k.target) not in range(len(names)):  # a link's, not this model's
        st.warning(f"This model has {len(names)} classes: explaining its answer instead.")
    if not s.get(k.picked) or s.get(k.target) not in range(len(names)):
        s[k.target] = order[0]
    label = lambda c: f"{names[c]} · {float(probs[c]):.1%}"  # noqa: E731
    if quick:
        if s[k.target] not in order[:3]:
            s[k.target] = order[0]
        st.segmented_control("Why this class", order[:3], format_func=label, key=k.target,
                             on_change=_note_pick, args=(k.prefix,))  # fmt: skip
    else:
        st.selectbox("Why this class", order, format_func=label, key=k.target,
                     on_change=_note_pick, args=(k.prefix,))  # fmt: skip
    return int(s[k.target])


def _versus_ui(k: Keys, probs: torch.Tensor, names: tuple[str, ...], target: int) -> int | None:
    s = st.session_state
    order = [c for c in probs.argsort(descending=True).tolist() if c != target]
    if s.get(k.versus) not in order:  # none yet, or the target itself now
        s[k.versus] = NO_CLASS
    st.selectbox("and not", [NO_CLASS, *order], key=k.versus,
                 format_func=lambda c: "— (no second class)" if c == NO_CLASS
                 else f"{names[c]} · {float(probs[c]):.1%}")  # fmt: skip
    return None if s[k.versus] == NO_CLASS else s[k.versus]


def why_ui(prefix: str, model_key: str, model: TinyVGG, x: torch.Tensor, input_key: str,
           probs: torch.Tensor, quick: bool = False) -> None:  # fmt: skip
    """The section: the input under the chosen map, the pickers, one sentence on the method
    and the numbers that check it. `x` is the (C, 28, 28) input (drawn in its colours if RGB,
    else in grey: the mean of its channels), `probs` its (classes,) softmax; the class names
    are the model's."""
    k, s = Keys(prefix), st.session_state
    s.setdefault(k.method, DEFAULT_METHOD)
    picture, side = stacking_columns(2, f"{prefix}_why", vertical_alignment="top")
    with side:
        st.radio("Method", METHODS, format_func=LABELS.get, key=k.method, horizontal=True)
        names = model.classes
        target = _target_ui(k, probs, names, quick)
        versus = _versus_ui(k, probs, names, target)
        method = s[k.method]
        settings = {}
        if method == "occlusion":
            a, b = st.columns(2)
            s.setdefault(k.patch, OCCLUSION_PATCH)
            s.setdefault(k.stride, OCCLUSION_STRIDE)
            settings["patch"] = a.number_input("Patch (pixels)", 1, 28, key=k.patch)
            settings["stride"] = b.number_input("Stride", 1, 28, key=k.stride)
        st.caption(SENTENCES[method])
    try:
        result = memo(("why", model_key, input_key, method, target, versus,
                       *sorted(settings.items())),
                      lambda: attribute(model, x, method, target, versus, **settings))  # fmt: skip
    except AttributionError as e:
        side.error(str(e))
        return
    with side:
        st.markdown(numbers(result, names))
    why = f"why {names[target]}"
    if versus is not None:
        why += f" and not {names[versus]}"
    title = subtitled(LABELS[method], why)  # two short lines: whole on a phone
    with picture:
        fig = memo(("why_fig", model_key, input_key, method, target, versus,
                    *sorted(settings.items())),
                   lambda: fa.overlay(x if len(x) == 3 else x.mean(0), result.map,
                                      title))  # fmt: skip
        chart(fig, key=f"{prefix}_why_map", theme=None, width="content")
    if method == "exact":
        n = result.layer_map.numel()  # 490 for hidden_units=10
        title = subtitled(f"the {n} shares W·a", "on max_pool_2's cells; hover for each")
        grid = memo(("why_grid", model_key, input_key, target, versus),
                    lambda: fa.shares_grid(result.layer_map, title))  # fmt: skip
        chart(grid, key=f"{prefix}_why_grid", theme=None, width="content")
