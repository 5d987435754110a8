"""AppTest helpers shared by the tests: the figures a page drew, however it drew them."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

KEPT = "tinyvgg_kept_plot"  # ui/kept_plot.py's component


def components(at: AppTest, name: str) -> list[tuple[str | None, dict]]:
    """(key, data) of every components-v2 element `name` on the page (AppTest sees them only
    as unknown elements)."""
    out = []
    for c in at.get("bidi_component"):
        if c.proto.component_name == name:
            parts = c.proto.id.split("-", 2)  # "$$ID-<hash>-<key>"
            out.append((parts[2] if len(parts) == 3 else None, json.loads(c.proto.json)))
    return out


def figures(at: AppTest) -> list[tuple[str | None, dict]]:
    """(key, plotly JSON) of every figure on the page: `st.plotly_chart`'s and the charts kept
    mounted by ui/kept_plot.py (which AppTest sees only as unknown elements)."""
    out = [(c.key, json.loads(c.proto.spec)) for c in at.get("plotly_chart")]
    return out + [(key, json.loads(data["figure"])) for key, data in components(at, KEPT)]


def figure(at: AppTest, key: str) -> dict:
    """The plotly JSON of the figure drawn under `key`."""
    return next(spec for k, spec in figures(at) if k == key)
