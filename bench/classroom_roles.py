"""What each kind of student does in the classroom benchmark, one action per think time.

student  /explore: Next through the layers; sometimes Prev, another sample, Random, a layer
         from the selectbox; back to the input after softmax. The steps are the layer view
         element's state, sent as the page does (`classic`, `?pane=0`: Streamlit's buttons).
drawer   the same, and every 6 to 12 actions: /draw, the Upload tab, an upload of a garment
         image, "Explore layer by layer" (the explorer on the upload), and later back to the
         test images.
trainer  /train: a small subset and many epochs, Start; the live view's refreshes (the
         fragment's run_every) until the run ends; then Start again.
"""

from __future__ import annotations

import asyncio
import io
import random
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from PIL import Image, ImageOps
from st_client import ClientError, Run, StClient

from tinyvgg.data import load_split
from ui.explore.state import LAYERS, N_TEST, SOURCES
from ui.training import epochs_key, subset_key


@dataclass
class Context:
    """The run's settings and everything the tabs record."""

    url: str
    monitor: object  # classroom_monitor.Monitor: its clock stamps the records
    sessions: int
    ramp: float
    think: tuple[float, float]
    timeout: float
    life: tuple[float, float] | None  # soak: a tab's lifetime, min and max seconds
    subset: str
    epochs: int
    seed: int
    images: list[bytes]
    classic: bool = False  # the explorer's layer view drawn with Streamlit's widgets (?pane=0)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    records: list[dict] = field(default_factory=list)  # {"t", "kind", "s"}
    errors: list[dict] = field(default_factory=list)  # {"t", "kind", "action", "text"}
    window: tuple[float, float] = (0.0, 1e18)
    runs_started: int = 0
    runs_ended: int = 0
    tabs_closed: int = 0

    async def pause(self, seconds: float) -> bool:
        """Sleep, or return early (True) once the run is stopping."""
        try:
            await asyncio.wait_for(self.stop.wait(), max(seconds, 0))
            return True
        except TimeoutError:
            return False

    async def think_pause(self, rng: random.Random) -> bool:
        """A student's pause between actions; True when the run is stopping."""
        return await self.pause(rng.uniform(*self.think))

    def fail(self, kind: str, action: str, text: str) -> None:
        """Record an error the page did not report itself, and give up on the tab."""
        self.errors.append({"t": round(self.monitor.now(), 1), "kind": kind, "action": action,
                            "text": text})  # fmt: skip
        error = ClientError(text)
        error.recorded = True
        raise error

    async def measured(self, kind: str, tab: StClient, action) -> Run:
        """Await one interaction; record its time or its errors. ClientError: the tab broke."""
        t = self.monitor.now()
        try:
            run = await action
        except ClientError as e:
            text = str(e)
            why = ("timeout" if "within" in text else "disconnect" if "connection" in text
                   else "client")  # fmt: skip
            self.errors.append({"t": round(t, 1), "kind": why, "action": kind, "text": text})
            e.recorded = True
            raise
        self.records.append({"t": t, "kind": kind, "s": run.seconds})
        for text in run.exceptions:
            self.errors.append({"t": round(t, 1), "kind": "exception", "action": kind,
                                "text": text[:200], "page": tab.page})  # fmt: skip
        for text in run.error_alerts:
            self.errors.append({"t": round(t, 1), "kind": "app_error", "action": kind,
                                "text": text[:200], "page": tab.page})  # fmt: skip
        return run


def garment_pngs(n: int, seed: int) -> list[bytes]:
    """Fashion-MNIST test garments as a phone photo would show them: 224 px, dark on white."""
    test = load_split("test")
    rng = random.Random(seed)
    out = []
    for i in rng.sample(range(len(test.labels)), n):
        img = Image.fromarray(test.images[i].numpy(), "L").resize((224, 224), Image.BILINEAR)
        buf = io.BytesIO()
        ImageOps.invert(img).convert("RGB").save(buf, "PNG")
        out.append(buf.getvalue())
    return out


def _layer(tab: StClient) -> str:
    return parse_qs(tab.query).get("layer", ["input"])[0]


def _source(tab: StClient) -> str:
    return parse_qs(tab.query).get("source", ["sample"])[0]


def _step(tab: StClient, to: str | int):
    """Go to layer `to` (a name, or +1 / -1 for Next and Prev) as the page would: the layer
    box or buttons, or the element's state (the page has drawn the layer from what it was
    sent; the server follows)."""
    try:
        tab.find(key="ex_pane", kind="bidi_component")
    except ClientError:
        if isinstance(to, str):
            return tab.set("ex_layer", to)
        return tab.click("Next ▶" if to == 1 else "◀ Prev")
    name = to if isinstance(to, str) else LAYERS[LAYERS.index(_layer(tab)) + to]
    return tab.set_state("ex_pane", {"layer": name})


async def explore_step(tab: StClient, ctx: Context, rng: random.Random) -> None:
    """One explorer action, mostly Next."""
    layer, r = _layer(tab), rng.random()
    if layer == LAYERS[-1] or r < 0.06:
        await ctx.measured("layer", tab, _step(tab, "input"))
    elif r < 0.70 or layer == LAYERS[0]:
        await ctx.measured("next", tab, _step(tab, 1))
    elif r < 0.78:
        await ctx.measured("prev", tab, _step(tab, -1))
    elif _source(tab) != "sample":
        await ctx.measured("source", tab, tab.set("ex_source", SOURCES["sample"]))
    elif r < 0.90:
        await ctx.measured("sample", tab, tab.set("ex_sample", rng.randrange(N_TEST)))
    elif r < 0.95:
        await ctx.measured("random", tab, tab.click("Random"))
    else:
        await ctx.measured("layer", tab, _step(tab, rng.choice(LAYERS[1:-1])))


async def student(tab: StClient, ctx: Context, rng: random.Random, end: float) -> None:
    """Step through the explorer until the time is up."""
    while time.monotonic() < end and not await ctx.think_pause(rng):
        await explore_step(tab, ctx, rng)


async def draw_visit(tab: StClient, ctx: Context, rng: random.Random) -> None:
    """The draw page: the Upload tab, a garment upload, then the explorer on it."""
    tab.query = ""
    await ctx.measured("draw_page", tab, tab.rerun(page_name="draw"))
    if await ctx.think_pause(rng):
        return
    tabs = tab.find(key="draw_source")
    if tabs.proto.tab_container.default_tab_index != 1:
        await ctx.measured("draw_tab", tab, tab.set("draw_source", "Upload"))
    if await ctx.think_pause(rng):
        return
    name = f"garment_{rng.randrange(1000)}.png"
    image = rng.choice(ctx.images)
    await ctx.measured("upload", tab, tab.upload("draw_upload", name, image, "image/png"))
    if await ctx.think_pause(rng):
        return
    await ctx.measured("to_explorer", tab, tab.click("Explore layer by layer"))


async def drawer(tab: StClient, ctx: Context, rng: random.Random, end: float) -> None:
    """A student who also uploads a garment on /draw now and then."""
    until_draw = rng.randint(2, 8)
    while time.monotonic() < end and not await ctx.think_pause(rng):
        until_draw -= 1
        if until_draw > 0:
            await explore_step(tab, ctx, rng)
            continue
        await draw_visit(tab, ctx, rng)
        until_draw = rng.randint(6, 12)


async def trainer(tab: StClient, ctx: Context, rng: random.Random, end: float) -> None:
    """Start runs on /train, again whenever one ends."""
    await ctx.measured("train_setting", tab, tab.set(subset_key("fashion-mnist"), ctx.subset))
    await ctx.measured("train_setting", tab, tab.set(epochs_key("fashion-mnist"), ctx.epochs))
    while time.monotonic() < end and not ctx.stop.is_set():
        if tab.auto_reruns:  # a run is live: the browser reruns the fragment on its interval
            fragment, interval = next(iter(tab.auto_reruns.items()))
            if await ctx.pause(interval):
                return
            await ctx.measured("refresh", tab, tab.auto_rerun(fragment))
            if not tab.auto_reruns:
                ctx.runs_ended += 1
        elif not await ctx.think_pause(rng):
            await ctx.measured("start", tab, tab.click(key="train_start"))
            ctx.runs_started += 1
            if not tab.auto_reruns:
                ctx.fail("client", "start", "Start did not start a live view")


def _sample_query(rng: random.Random) -> str:
    return f"sample={rng.randrange(N_TEST)}&layer=input"


ROLES = {  # role: (page, query string for its first visit, behaviour)
    "student": ("explore", _sample_query, student),
    "drawer": ("explore", _sample_query, drawer),
    "trainer": ("train", lambda rng: "", trainer),
}
