"""AppTest helpers shared by the tests: the figures a page drew, however it drew them."""

from __future__ import annotations

import html
import json
import re

from streamlit.testing.v1 import AppTest

KEPT = "tinyvgg_kept_plot"  # ui/kept_plot.py's component
PANE = "tinyvgg_layer_pane"  # ui/explore/pane.py's: the explorer's layer view


def components(at: AppTest, name: str) -> list[tuple[str | None, dict]]:
    """(key, data) of every components-v2 element `name` on the page (AppTest sees them only
    as unknown elements)."""
    out = []
    for c in at.get("bidi_component"):
        if c.proto.component_name == name:
            parts = c.proto.id.split("-", 2)  # "$$ID-<hash>-<key>"
            out.append((parts[2] if len(parts) == 3 else None, json.loads(c.proto.json)))
    return out


def _sent_shown(at: AppTest) -> tuple[str, dict | None] | None:
    """(the layer the element shows, its data if this run sent it); None: no element."""
    if not (found := components(at, PANE)):
        return None
    ((_, data),) = found
    return data["selected"], next((d for d in data["current"] if d["name"] == data["selected"]),
                                  None)  # fmt: skip


def pane_layer(at: AppTest) -> dict | None:
    """What the explorer's element draws for the layer it shows (None: no element). A run
    sends each layer once for an input and cell, so a layer an earlier run sent is asked for
    again, as the page asks for a layer it lacks (one more run)."""
    if (shown := _sent_shown(at)) is None:
        return None
    if shown[1] is None:
        at.session_state["ex_pane_sent"] = None
        at.run()
        shown = _sent_shown(at)
        assert shown[1] is not None, f"the element was not sent its layer {shown[0]}"
    return shown[1]


def pane_step(at: AppTest, layer: str) -> AppTest:
    """A step to `layer`, as the element's Prev, Next and layer box make it (its state)."""
    at.session_state["ex_layer"] = layer
    return at.run()


def pane_checks_out(at: AppTest) -> bool:
    """The element's layer ends its arithmetic with the check against PyTorch's activation."""
    return '<div class="words-ok">✓ equals the activation' in pane_layer(at)["words"]


def markdown_of(text: str) -> str:
    """The element's HTML as the markdown it was made from (ui/explore/words.py): bold, code
    and italics marked, line breaks kept, every other tag dropped."""
    for tag, mark in (("strong", "**"), ("code", "`"), ("em", "*")):
        text = re.sub(rf"<{tag}>(.*?)</{tag}>", lambda m: mark + m[1] + mark, text, flags=re.S)  # noqa: B023
    text = re.sub(r"<br>", "  \n", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def pane_text(at: AppTest) -> str:
    """The element's heading, lesson note and words for the layer it shows ("" without it)."""
    if (layer := pane_layer(at)) is None:
        return ""
    return "\n".join([layer["heading"], markdown_of(layer["note"]), markdown_of(layer["words"])])


def figures(at: AppTest) -> list[tuple[str | None, dict]]:
    """(key, plotly JSON) of every figure on the page: `st.plotly_chart`'s, the charts kept
    mounted by ui/kept_plot.py (which AppTest sees only as unknown elements), and the
    explorer's element's for the layer it shows, keyed `ex_pane.<slot>` (prev, out, cells,
    extra, kernels)."""
    out = [(c.key, json.loads(c.proto.spec)) for c in at.get("plotly_chart")]
    out += [(key, json.loads(data["figure"])) for key, data in components(at, KEPT)]
    layer = pane_layer(at) or {"figs": {}}
    return out + [(f"ex_pane.{slot}", json.loads(f)) for slot, f in layer["figs"].items()]


def figure(at: AppTest, key: str) -> dict:
    """The plotly JSON of the figure drawn under `key`."""
    return next(spec for k, spec in figures(at) if k == key)
