"""Figure builders: tensors in, plotly Figures out, no Streamlit calls (testable headless).

One package, one submodule per area: `common` (feature maps, images, colour scales) is shared;
pages' own builders live beside it.
"""
