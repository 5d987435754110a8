"""AppTest helpers shared by the tests: the figures a page drew, however it drew them."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

KEPT = "tinyvgg_kept_plot"  # ui/kept_plot.py's component


def figures(at: AppTest) -> list[tuple[str | None, dict]]:
    """(key, plotly JSON) of every figure on the page: `st.plotly_chart`'s and the charts kept
    mounted by ui/kept_plot.py (which AppTest sees only as unknown elements)."""
    out = [(c.key, json.loads(c.proto.spec)) for c in at.get("plotly_chart")]
    for c in at.get("bidi_component"):
        if c.proto.component_name == KEPT:
            parts = c.proto.id.split("-", 2)  # "$$ID-<hash>-<key>"
            key = parts[2] if len(parts) == 3 else None
            out.append((key, json.loads(json.loads(c.proto.json)["figure"])))
    return out


def figure(at: AppTest, key: str) -> dict:
    """The plotly JSON of the figure drawn under `key`."""
    return next(spec for k, spec in figures(at) if k == key)
