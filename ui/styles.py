"""Every style rule aimed at Streamlit's own markup (`data-testid`, `st-key-*` classes), in one
place: when Streamlit changes its markup, this is the file to check (tests/test_browser_layout.py
measures the result). Pages inject them with `st.html`.
"""

from __future__ import annotations

# Columns in a container keyed "stack_..." stack, each full width, once the page is too narrow
# for every column to keep its --stack-min (20rem unless set): a 1024 px laptop or projector
# with the sidebar open leaves the page about 37rem. Streamlit's own stack only under 640 px.
STACK = """<style>
[class*="st-key-stack_"] > [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"] {
  flex-wrap: wrap;}
[class*="st-key-stack_"] > [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"]
  > [data-testid="stColumn"] {min-width: min(100%, var(--stack-min, 20rem));}
/* plotly's toolbar (shown while the pointer is on a chart) under the chart's title, one or
   two lines, instead of over it */
.js-plotly-plot .plotly .modebar-container {top: 3.4rem !important;}
@media (hover: none) {  /* a touch screen has no hover to hide it again: none, pinch to zoom */
  .js-plotly-plot .plotly .modebar-container {display: none;}}
/* the teacher-mode cookie's script takes no room */
[data-testid="stElementContainer"]:has(script[data-present-cookie]) {display: none;}
/* a metric's value (a model's name, a class) wraps in a narrow column, never "Pretrained (shi…" */
:is([data-testid="stMetricValue"], [data-testid="stMetricDelta"])
  :is(.stMarkdownEllipsis, .stMarkdownEllipsis p) {white-space: normal; overflow-wrap: anywhere;}
</style>"""

# Teacher mode: larger type, no Streamlit header, controls in `controls()` hidden.
PRESENT = """<style>
html { font-size: 19px; }
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"] {display: none;}
[class*="st-key-ctl-"] {display: none !important;}
[data-testid="stMainBlockContainer"] {padding-top: 1.5rem; max-width: 100%;}
/* what is set smaller than the text (buttons, labels, captions, code, the arithmetic's
   tables): 18 px or more too, for the back row */
[data-testid="stMain"] :is(button p, label p, kbd, [data-testid="stMetricLabel"] p,
  [data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p,
  [data-testid="stCode"] code, .ar-grid, .ar-head, .sm, p code, li code) {
  font-size: max(18px, 0.95rem) !important;}
</style>"""

# The layer view: Prev and Next show their keys (PageUp, PageDown) only where the label fits
# beside them, so a 1024 px screen with the sidebar open reads "Next ▶", not "N…" beside
# "PageDown", and only where there is a keyboard; a phone leaves out the flattened vector's
# channel numbers.
LAYER_VIEW = """<style>
.st-key-ex_stepper [data-testid="stColumn"] {container-type: inline-size;}
@container (max-width: 9rem) {.st-key-ex_stepper kbd {display: none;}}
@media (hover: none) {.st-key-ex_stepper kbd {display: none;}}  /* a touch screen has no keys */
@media (max-width: 640px) {  /* the flattened vector's rows: too thin for channel numbers */
  .st-key-ex_flat .ytick text {display: none;}}
</style>"""

# The prediction in a narrow column (a 1024 px screen with the sidebar open): a smaller
# class name (on two lines if it must, as every metric: STACK), never "Ankle …".
PREDICTION = """<style>
.st-key-ex_pred {container-type: inline-size;}
@container (max-width: 12rem) {
  .st-key-ex_pred [data-testid="stMetricValue"] {font-size: 1.6rem;}}
</style>"""

# The buttons keep their whole labels: in a narrow column (the explorer's) the speed slider
# wraps under them instead of squeezing them to "F…", "B…"; wide, all five share one row.
SLIDE_CONTROLS = """<style>
[class*="st-key-slidectl_"] [data-testid="stHorizontalBlock"] {flex-wrap: wrap; row-gap: 0.5rem;}
[class*="st-key-slidectl_"] [data-testid="stColumn"]:not(:last-child) {
    flex: 1 0 auto; width: auto; min-width: fit-content;}
[class*="st-key-slidectl_"] [data-testid="stColumn"]:last-child {flex: 3 1 14rem; min-width: 14rem;}
/* the focus keeper's script (FOCUS_JS) takes no room: no gap above the controls */
[data-testid="stElementContainer"]:has(script[data-slide-focus]) {display: none;}
@media (max-width: 640px) {  /* a phone: the panels stay big enough to read; it scrolls sideways */
  [class*="slide"][class*="_figure"] {overflow-x: auto;}
  [class*="slide"][class*="_figure"] > [data-testid="stFullScreenFrame"] {min-width: 620px;}
}
</style>"""

# A thin frame round each step's image: a white garment on white paper still shows its edges.
DRAW_STEPS = """<style>
.st-key-draw_steps [data-testid="stImage"] img {outline: 1px solid #c8c8c8; outline-offset: 0;}
</style>"""

# The paper is a colour behind the transparent canvas, not a background image: the canvas
# reports an image's fit once it has loaded, a rerun at a moment no one chose, which can drop a
# file being uploaded just then (Streamlit clears the pending reply with the file's upload URL
# when a run starts).
# The canvas's own toolbar (undo, redo, reset) floats just above it: a band of its own there,
# so it does not cover the brush slider (it did where the ink choices took two lines).
PAPER = (
    '<style>[class*="st-key-draw_canvas_"] [data-testid="stBidiComponentIsolated"] '
    "{{background: {};}} "
    '[class*="st-key-draw_canvas_"] {{margin-top: 2.9rem;}}</style>'
)


def paper(colour: str) -> str:
    """The draw page's paper: `colour` behind the transparent canvas."""
    return PAPER.format(colour)


def stack_min(key: str, min_width: str) -> str:
    """The width under which the columns of `stacking_columns(..., key)` stack."""
    return f"<style>.st-key-stack_{key} {{--stack-min: {min_width};}}</style>"


# Formulas on a phone: a little smaller, so the playground's output-size formulas fit.
KATEX_PHONE = "<style>@media (max-width: 640px) {.katex-display {font-size: 0.82em;}}</style>"
