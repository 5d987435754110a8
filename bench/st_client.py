"""A light Streamlit client: one browser tab's session over the app's own websocket protocol.

    tab = StClient(base_url, "explore", query="sample=3")
    await tab.open()                           # connect, and the page's first run
    run = await tab.click("Next ▶")            # one interaction, until its runs have ended
    run = await tab.set("ex_sample", 123)      # a widget by key
    run.seconds, run.exceptions, run.error_alerts
    await tab.close()                          # the tab closed

It does what Streamlit's frontend does on the wire (learnt from the installed sources:
`web/server/starlette/starlette_websocket.py`, `runtime/app_session.py`, and how
`testing/v1/element_tree.py` and `runtime/agent/widget_writes.py` encode widget states):
connect to ws://host:port/_stcore/stream with subprotocol "streamlit"; send BackMsg
`rerun_script` (ClientState: query string, page name or page script hash, widget states); read
ForwardMsgs (new_session, deltas, auto_rerun, script_finished, ...) until the run chain ends.
Only the widgets an interaction changes are sent; the runtime keeps the others' values, as it
does for the agent API. Large cacheable messages are cached and announced in
`cached_message_hashes`, as the browser does, so the server sends references the second time.
Fragments with `run_every` are rerun by the client on their interval (`auto_reruns`), as the
browser does. Uploads take the browser's path: file_urls_request, an HTTP PUT with the XSRF
token, then the file uploader's widget state.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Common_pb2 import FileURLs, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect

ENDS = (  # script_finished statuses that end a run chain (EARLY_FOR_RERUN does not)
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
)


class ClientError(Exception):
    """The session broke: a timeout, a dropped connection, a missing widget."""


@dataclass
class Run:
    """One interaction: from sending it to the end of the server's run chain."""

    seconds: float = 0.0
    runs: int = 0  # script runs in the chain (a callback's st.rerun() makes two)
    exceptions: list[str] = field(default_factory=list)  # st.exception / uncaught errors
    error_alerts: list[str] = field(default_factory=list)  # st.error sentences
    bytes: int = 0  # websocket payload received


@dataclass
class Widget:
    """A widget the server drew: its id, kind, label and value."""

    id: str
    kind: str  # the Element oneof name: "button", "selectbox", ..., or "tab_container"
    proto: Any
    fragment: str = ""  # the fragment it was drawn in: a change reruns only that, as in a browser


class StClient:
    """One session (a browser tab) on the app at `base_url`, opened on the page `page`."""

    def __init__(self, base_url: str, page: str, query: str = "", timeout: float = 60.0):
        self.base_url, self.page, self.query, self.timeout = base_url, page, query, timeout
        self.session_id = ""
        self.page_hash = ""  # the page being shown, from the navigation message
        self.widgets: dict[str, Widget] = {}  # by element id, from the latest full run
        self.texts: list[str] = []  # markdown/alert/heading bodies of the latest full run
        self.auto_reruns: dict[str, float] = {}  # fragment id -> interval (s)
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._done: asyncio.Future | None = None
        self._run: Run | None = None
        self._cache: dict[str, tuple[ForwardMsg, int]] = {}  # hash -> (message, run index)
        self._max_age, self._runs_seen = 2, 0
        self._urls: dict[str, asyncio.Future] = {}
        self._ids = itertools.count(1)
        self._http = requests.Session()  # the tab's cookies: XSRF, and a proxy's sticky route
        self._http.trust_env = False  # localhost: never through a proxy
        self.closed = asyncio.Event()

    # ------------------------------------------------------------------ connection

    async def open(self) -> Run:
        """Connect and run the page as a browser opening its address does: its first request
        receives the cookies (Streamlit's XSRF token; behind nginx, the replica's route), and
        the websocket and every upload carry them."""
        await asyncio.to_thread(self._http.get, self.base_url + "/_stcore/health",
                                timeout=self.timeout)  # fmt: skip
        cookies = "; ".join(f"{k}={v}" for k, v in self._http.cookies.items())
        ws_url = self.base_url.replace("http", "ws", 1) + "/_stcore/stream"
        headers = {"Cookie": cookies} if cookies else None
        self._ws = await connect(ws_url, subprotocols=["streamlit"], proxy=None, max_size=None,
                                 open_timeout=self.timeout, additional_headers=headers)  # fmt: skip
        self._reader = asyncio.create_task(self._read())
        return await self.rerun(page_name=self.page)

    async def close(self) -> None:
        """Close the websocket."""
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        self._http.close()

    # ------------------------------------------------------------------ interactions

    async def rerun(self, states: list[WidgetState] = (), page_name: str | None = None,
                    fragment_id: str = "", auto: bool = False) -> Run:  # fmt: skip
        """Send one rerun_script and wait until its run chain has ended."""
        if self.closed.is_set():
            raise ClientError("the connection is closed")
        cs = ClientState(query_string=self.query, fragment_id=fragment_id, is_auto_rerun=auto)
        if page_name is not None:  # another page, as the sidebar's links open it
            cs.page_name = self.page = page_name
        else:
            cs.page_script_hash = self.page_hash
        cs.widget_states.widgets.extend(states)
        cs.cached_message_hashes.extend(self._cache)
        self._run, self._done = Run(), asyncio.get_running_loop().create_future()
        t0 = time.perf_counter()
        await self._ws.send(BackMsg(rerun_script=cs).SerializeToString())
        try:
            await asyncio.wait_for(asyncio.shield(self._done), self.timeout)
        except TimeoutError:
            raise ClientError(f"no end of the run within {self.timeout:.0f} s") from None
        run, self._run = self._run, None
        run.seconds = time.perf_counter() - t0
        return run

    async def click(self, label: str | None = None, key: str | None = None) -> Run:
        """Press a button and wait for the run it starts."""
        w = self.find(label=label, key=key, kind="button")
        return await self.rerun([WidgetState(id=w.id, trigger_value=True)], fragment_id=w.fragment)

    async def set(self, key: str, value: Any, label: str | None = None) -> Run:
        """Set a widget's value: number inputs take floats, selectboxes/radios/tabs strings."""
        w = self.find(key=key, label=label)
        ws = WidgetState(id=w.id)
        if w.kind == "number_input":
            ws.double_value = float(value)
        elif w.kind == "slider":
            ws.double_array_value.data.extend([float(value)])
        elif w.kind in ("selectbox", "radio", "tab_container"):
            ws.string_value = str(value)
        elif w.kind in ("checkbox", "toggle"):
            ws.bool_value = bool(value)
        else:
            raise ClientError(f"setting a {w.kind} is not supported here")
        return await self.rerun([ws], fragment_id=w.fragment)

    async def set_state(self, key: str, state: dict) -> Run:
        """Set a components-v2 element's state, as its `setStateValue` does in the page."""
        w = self.find(key=key, kind="bidi_component")
        ws = WidgetState(id=w.id, json_value=json.dumps(state))
        return await self.rerun([ws], fragment_id=w.fragment)

    async def auto_rerun(self, fragment_id: str) -> Run:
        """Answer the page's own timed reruns (a fragment's run_every)."""
        return await self.rerun(fragment_id=fragment_id, auto=True)

    async def upload(self, key: str, name: str, data: bytes, mime: str) -> Run:
        """Upload a file into the file uploader with this key, as the browser does."""
        w = self.find(key=key, kind="file_uploader")
        request_id = f"r{next(self._ids)}"
        urls_sent = self._urls[request_id] = asyncio.get_running_loop().create_future()
        msg = BackMsg()
        msg.file_urls_request.request_id = request_id
        msg.file_urls_request.session_id = self.session_id
        msg.file_urls_request.file_names.append(name)
        await self._ws.send(msg.SerializeToString())
        try:
            urls: FileURLs = (await asyncio.wait_for(urls_sent, self.timeout))[0]
        finally:
            del self._urls[request_id]
        await asyncio.to_thread(self._put, urls.upload_url, name, data, mime)
        ws = WidgetState(id=w.id)
        ws.file_uploader_state_value.uploaded_file_info.append(
            UploadedFileInfo(file_id=urls.file_id, name=name, size=len(data), file_urls=urls)
        )
        return await self.rerun([ws])  # timed from here: the PUT is the network's part

    def _put(self, url: str, name: str, data: bytes, mime: str) -> None:
        if url.startswith("/"):
            url = self.base_url + url
        token = self._http.cookies.get("_streamlit_xsrf", "")
        r = self._http.put(url, files={"file": (name, data, mime)}, timeout=self.timeout,
                           headers={"X-Xsrftoken": token})  # fmt: skip
        if r.status_code >= 300:
            raise ClientError(f"upload refused: HTTP {r.status_code} {r.text[:100]}")

    # ------------------------------------------------------------------ what the page shows

    def find(self, label: str | None = None, key: str | None = None, kind: str | None = None):
        """The widget of the latest run with this key (or label, and kind)."""
        for w in self.widgets.values():
            if kind is not None and w.kind != kind:
                continue
            if key is not None and not w.id.endswith(f"-{key}"):
                continue
            if label is not None and getattr(w.proto, "label", None) != label:
                continue
            return w
        raise ClientError(f"no widget {label or key!r} on the page {self.page!r}")

    def has_text(self, fragment: str) -> bool:
        """Whether any element of the page shows `fragment`."""
        return any(fragment in t for t in self.texts)

    # ------------------------------------------------------------------ reading the stream

    async def _read(self) -> None:
        try:
            async for data in self._ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                if self._run is not None:
                    self._run.bytes += len(data)
                self._handle(msg)
        except Exception as e:  # a dropped connection: waiting interactions fail
            if self._done is not None and not self._done.done():
                self._done.set_exception(ClientError(f"connection lost: {e}"))
        finally:
            self.closed.set()
            if self._done is not None and not self._done.done():
                self._done.set_exception(ClientError("connection closed by the server"))

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                self._note_exception(f"cache miss for message {msg.ref_hash}")
                return
            full = ForwardMsg()
            full.CopyFrom(cached[0])
            full.metadata.CopyFrom(msg.metadata)
            self._cache[msg.ref_hash] = (cached[0], self._runs_seen)
            msg, kind = full, "delta"
        elif msg.metadata.cacheable and msg.hash:
            self._cache[msg.hash] = (msg, self._runs_seen)
        if kind == "new_session":
            self._new_session(msg)
        elif kind == "navigation":
            self.page_hash = msg.navigation.page_script_hash
        elif kind == "delta":
            self._delta(msg.delta)
        elif kind == "auto_rerun":
            self.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                self.auto_reruns.pop(fid, None)
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "file_urls_response":
            fut = self._urls.get(msg.file_urls_response.response_id)
            if fut is not None and not fut.done():
                fut.set_result(list(msg.file_urls_response.file_urls))
        elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
            self._note_exception(msg.session_event.script_compilation_exception.message)
        elif kind == "page_not_found":
            self._note_exception(f"page not found: {msg.page_not_found.page_name}")
        elif kind == "script_finished":
            self._finished(msg.script_finished)

    def _new_session(self, msg: ForwardMsg) -> None:
        if msg.new_session.HasField("initialize"):
            self.session_id = msg.new_session.initialize.session_id
        self._max_age = msg.new_session.config.max_cached_message_age or self._max_age
        if not msg.metadata.run.fragment_ids:  # a full run: the page is drawn anew
            self.widgets, self.texts = {}, []
            self.auto_reruns.clear()
        if self._run is not None:
            self._run.runs += 1

    def _delta(self, delta) -> None:
        if delta.WhichOneof("type") == "add_block":
            block = delta.add_block
            if block.id and block.WhichOneof("type") == "tab_container":
                self.widgets[block.id] = Widget(block.id, "tab_container", block,
                                                delta.fragment_id)  # fmt: skip
            return
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        proto = getattr(element, kind) if kind else None
        if kind == "exception" and not proto.is_warning:
            self._note_exception(f"{proto.type}: {proto.message}")
        elif kind == "alert":
            self.texts.append(proto.body)
            if proto.format == proto.ERROR and self._run is not None:
                self._run.error_alerts.append(proto.body)
        elif kind in ("markdown", "heading"):
            self.texts.append(proto.body)
        elif proto is not None and getattr(proto, "id", ""):
            if kind == "checkbox" and proto.type == proto.TOGGLE:
                kind = "toggle"
            self.widgets[proto.id] = Widget(proto.id, kind, proto, delta.fragment_id)

    def _note_exception(self, text: str) -> None:
        if self._run is not None:
            self._run.exceptions.append(text)

    def _finished(self, status: int) -> None:
        if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            return
        self._runs_seen += 1
        old = [h for h, (_, seen) in self._cache.items() if self._runs_seen - seen > self._max_age]
        for h in old:
            del self._cache[h]
        if status in ENDS and self._done is not None and not self._done.done():
            self._done.set_result(None)
