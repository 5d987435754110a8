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


def pane_layer(at: AppTest) -> dict | None:
    """What the explorer's element draws for the layer it shows (None: no element). A run
    sends each layer once for an input and cell, so a layer an earlier run sent is asked for
    again, as the page asks for a layer it lacks (one more run)."""
    for again in (False, True):
        if not (found := components(at, PANE)):
            return None
        ((_, data),) = found
        if layer := next((d for d in data["current"] if d["name"] == data["selected"]), None):
            return layer
        if not again:
            at.session_state["ex_pane_sent"] = None
            at.run()
    raise AssertionError(f"the element was not sent its layer {data['selected']}")


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
