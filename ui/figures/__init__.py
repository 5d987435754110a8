"""Figure builders: tensors in, plotly Figures out, no Streamlit calls (testable headless).

One package, one submodule per area: `common` (feature maps, images, colour scales) is shared;
pages' own builders live beside it.
"""

# plotly's validators look pandas up in sys.modules without importing it, so while one
# session's thread is importing pandas (Streamlit does so lazily, e.g. on the first /draw run)
# another session's figure sees a half-initialised module: "AttributeError: partially
# initialized module 'pandas' has no attribute 'Series'". Importing it here, under the import
# lock that every figure builder's import waits on, means it is complete before any figure.
import pandas  # noqa: F401, E402
