"""ui/kept_plot.py: plotly.js served from the installed plotly, figures as plotly.js reads them,
and st.plotly_chart where the static folder cannot be written."""

from __future__ import annotations

import json
from pathlib import Path

import plotly
import plotly.graph_objects as go
from streamlit.testing.v1 import AppTest

from harness.apptest import figure, figures
from ui import kept_plot

SCRIPT = """
import plotly.graph_objects as go
from ui.kept_plot import kept_chart
fig = go.Figure(go.Heatmap(z=[[1, 2], [3, 4]]), layout=dict(title="kept", width=300))
kept_chart(fig, key="map", on_select=lambda: None)
"""


def test_plotly_js_is_copied_once_from_the_installed_package(tmp_path, monkeypatch):
    monkeypatch.setattr(kept_plot, "STATIC", tmp_path / "static")
    assert kept_plot.plotly_served()
    served = tmp_path / "static" / kept_plot.PLOTLY_JS
    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert served.read_bytes() == source.read_bytes()
    assert kept_plot.PLOTLY_JS == f"plotly-{plotly.__version__}.min.js"
    assert [p.name for p in served.parent.iterdir()] == [served.name]  # no temporary left
    assert kept_plot.plotly_served()  # there already


def test_no_static_folder_means_no_plotly_js(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setattr(kept_plot, "STATIC", tmp_path / "file" / "static")
    assert not kept_plot.plotly_served()


def test_a_figure_is_serialised_once_per_object():
    fig = go.Figure(go.Heatmap(z=[[1.5, 2], [3, 4]]))
    text = kept_plot.figure_json(fig)
    assert text is kept_plot.figure_json(fig)
    assert json.loads(text) == json.loads(fig.to_json())
    other = go.Figure(go.Heatmap(z=[[0, 0], [0, 0]]))
    assert kept_plot.figure_json(other) != text


def test_the_page_gets_the_figure_and_where_plotly_js_is(tmp_path, monkeypatch):
    monkeypatch.setattr(kept_plot, "STATIC", tmp_path)
    at = AppTest.from_string(SCRIPT).run()
    assert not at.exception
    assert at.get("plotly_chart") == []
    (element,) = at.get("bidi_component")
    data = json.loads(element.proto.json)
    assert data["src"] == f"app/static/{kept_plot.PLOTLY_JS}"  # relative: a base URL works
    assert data["width"] == "content" and data["height"] is None
    assert figure(at, "map")["layout"]["title"]["text"] == "kept"


def test_without_plotly_js_the_chart_is_streamlit_s_own(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setattr(kept_plot, "STATIC", tmp_path / "file")
    at = AppTest.from_string(SCRIPT).run()
    assert not at.exception
    assert at.get("bidi_component") == []
    ((key, spec),) = figures(at)
    assert key == "map" and spec["layout"]["title"]["text"] == "kept"


def test_static_serving_is_on_for_the_app():
    config = (Path(__file__).parents[1] / ".streamlit" / "config.toml").read_text()
    assert "enableStaticServing = true" in config
