"""A fault-injecting HTTP/1.1 proxy on 127.0.0.1, in front of a real server.

``FaultProxy(upstream_port)`` listens on a free loopback port in a thread and event
loop of its own (like the contract tests' live server) and passes requests on to the
server, one upstream connection per request. A test sets faults, each matched by
method and path prefix, for a number of requests or until cleared:

- ``refuse``: the port is closed (connection refused); open connections are reset.
- ``reset``: the request is read, then the connection is reset; nothing reaches the server.
- ``stall``: the request is read and never answered.
- ``error``: a JSON error answer of ``status`` (default 503) from the proxy itself.
- ``html``: an HTML page of ``status`` (default 502; 200 is an HTML answer where an
  API answer or a stream belongs).
- ``429``: too many requests, with ``Retry-After: retry_after``.
- ``cut``: the server's answer is passed on for ``after`` body bytes, then ends cleanly
  (a chunked answer gets its last chunk; the connection closes).
- ``truncate``: the answer is passed on for ``after`` body bytes, then the connection
  closes in the middle of the body.
- ``stall_stream``: the answer is passed on for ``after`` body bytes, then nothing more
  is sent (the rest of the server's answer is read and dropped).
- ``lost``: the request reaches the server, which answers; the answer is dropped and
  the connection closed.

Every request is recorded as a ``Hit`` (method, path, the fault that applied or
``"off"``, and whether it reached the server), so a test can say how many requests of
each kind the server saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

MODES = frozenset({"refuse", "reset", "stall", "error", "html", "429", "cut", "truncate", "stall_stream", "lost"})
FORWARDED = frozenset({"off", "cut", "truncate", "stall_stream", "lost"})
HTML_PAGE = ("<html><head><title>{status} Bad Gateway</title></head><body>"
             "<center><h1>{status} Bad Gateway</h1></center><hr><center>nginx</center></body></html>")
REASONS = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


@dataclass
class Fault:
    mode: str
    method: str | None = None  # None: any method
    path: str | None = None  # a prefix of the request path; None: any path
    times: int | None = None  # how many requests it applies to; None: until cleared
    status: int | None = None  # error / html
    after: int = 0  # cut / truncate / stall_stream: body bytes passed on first
    retry_after: int = 1  # 429
    detail: str = "the service is unavailable (fault proxy)"  # error

    def matches(self, method: str, path: str) -> bool:
        return ((self.method is None or self.method == method) and (self.path is None or path.startswith(self.path))
                and (self.times is None or self.times > 0))


@dataclass
class Hit:
    method: str
    path: str
    mode: str  # the fault that applied, or "off"
    reached: bool = False  # the request was passed on to the server


@dataclass
class _Framing:
    kind: str  # "none" | "length" | "chunked" | "close"
    length: int = 0


class FaultProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.hits: list[Hit] = []
        self._history: list[Hit] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._refusing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)

    # ---- control (from the test's thread) -------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def fault(self, mode: str, **options: object) -> Fault:
        """Apply ``mode`` to the matching requests from now on (see the module docstring)."""
        assert mode in MODES, mode
        fault = Fault(mode, **options)  # type: ignore[arg-type]
        if mode == "refuse":
            self._call(self._refuse())
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """No faults any more: every request is passed on (and the port is open again)."""
        with self._lock:
            self._faults.clear()
        self._call(self._listen())

    def forget(self) -> None:
        """Start counting afresh (``totals`` still counts everything)."""
        with self._lock:
            self._history.extend(self.hits)
            self.hits.clear()

    def totals(self) -> dict[str, tuple[int, int]]:
        """Per mode, over the proxy's whole life: (requests seen, requests that reached the server)."""
        with self._lock:
            hits = [*self._history, *self.hits]
        seen, reached = Counter(h.mode for h in hits), Counter(h.mode for h in hits if h.reached)
        return {mode: (n, reached[mode]) for mode, n in sorted(seen.items())}

    def reached(self, mode: str | None = None, method: str | None = None, path: str | None = None) -> int:
        """How many requests (of that fault, method and path prefix) reached the server."""
        return sum(h.reached for h in self._select(mode, method, path))

    def seen(self, mode: str | None = None, method: str | None = None, path: str | None = None) -> int:
        """How many requests (of that fault, method and path prefix) came to the proxy."""
        return len(self._select(mode, method, path))

    def counts(self) -> dict[str, tuple[int, int]]:
        """Per mode: (requests seen, requests that reached the server)."""
        with self._lock:
            seen = Counter(h.mode for h in self.hits)
            reached = Counter(h.mode for h in self.hits if h.reached)
        return {mode: (n, reached[mode]) for mode, n in seen.items()}

    def _select(self, mode: str | None, method: str | None, path: str | None) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if (mode is None or h.mode == mode) and (method is None or h.method == method)
                    and (path is None or h.path.startswith(path))]

    def _call(self, coro: object) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)  # type: ignore[arg-type]

    # ---- the listener -----------------------------------------------------------------------

    async def _listen(self) -> None:
        self._refusing = False
        if self._server is None:
            self._server = await asyncio.start_server(self._accepted, "127.0.0.1", self.port, reuse_address=True)

    async def _refuse(self) -> None:
        self._refusing = True
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _shutdown(self) -> None:
        await self._refuse()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._connection(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _take(self, method: str, path: str) -> tuple[Fault | None, Hit]:
        with self._lock:
            fault = next((f for f in self._faults if f.matches(method, path)), None)
            if fault is not None and fault.times is not None:
                fault.times -= 1
            hit = Hit(method, path, fault.mode if fault else "off")
            self.hits.append(hit)
        return fault, hit

    def _reached(self, hit: Hit) -> None:
        with self._lock:
            hit.reached = True

    # ---- one client connection --------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                method, target, headers = _parse_head(head)
                body = await _read_request_body(reader, headers)
                if self._refusing:
                    _reset(writer)
                    return
                path = urlsplit(target).path
                fault, hit = self._take(method, path)
                if not await self._answer(fault, hit, method, head + body, reader, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, fault: Fault | None, hit: Hit, method: str, request: bytes,
                      reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; whether the client's connection may carry another."""
        mode = fault.mode if fault else "off"
        if mode in ("reset", "refuse"):
            _reset(writer)
            return False
        if mode == "stall":
            await _until_closed(reader)
            return False
        if fault is not None and mode in ("error", "html", "429"):
            writer.write(_canned(fault))
            await writer.drain()
            return True
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            self._reached(hit)
            up_writer.write(request)
            await up_writer.drain()
            status_head = await up_reader.readuntil(b"\r\n\r\n")
            framing = _response_framing(status_head, method)
            if mode == "lost":  # the server did the work; its answer goes nowhere
                async for _ in _body(up_reader, framing):
                    pass
                return False
            writer.write(status_head)
            return await self._relay(fault, up_reader, framing, reader, writer)
        finally:
            up_writer.close()
            with contextlib.suppress(Exception):
                await up_writer.wait_closed()

    async def _relay(self, fault: Fault | None, up: asyncio.StreamReader, framing: _Framing,
                     reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        chunked = framing.kind == "chunked"
        budget = fault.after if fault is not None else None
        async for data in _body(up, framing):
            if budget is not None and len(data) >= budget:  # the fault strikes inside this piece
                assert fault is not None
                part = data[:budget]
                if fault.mode == "truncate" and chunked:
                    writer.write(b"%x\r\n" % len(data) + part)  # announces more than it sends
                else:
                    writer.write((b"%x\r\n%s\r\n" % (len(part), part) if chunked else part) if part else b"")
                if fault.mode == "cut" and chunked:
                    writer.write(b"0\r\n\r\n")
                await writer.drain()
                if fault.mode == "stall_stream":  # the server finishes; the client hears nothing more
                    await asyncio.gather(_consume(_body(up, framing)), _until_closed(reader))
                return False
            if budget is not None:
                budget -= len(data)
            writer.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        return framing.kind != "close"


# ---- HTTP/1.1 framing, as much as a proxy for these tests needs ----------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return method, target, headers


async def _read_request_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    """The request body, framing included (it is passed on as it came)."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        raw = b""
        while True:
            line = await reader.readuntil(b"\r\n")
            size = int(line.split(b";")[0].strip(), 16)
            raw += line + await reader.readexactly(size + 2)
            if size == 0:
                return raw
    length = int(headers.get("content-length", "0") or 0)
    return await reader.readexactly(length) if length else b""


def _response_framing(head: bytes, method: str) -> _Framing:
    status = int(head.split(b" ", 2)[1])
    _, _, headers = _parse_head(b"GET / HTTP/1.1\r\n" + head.split(b"\r\n", 1)[1])
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return _Framing("none")
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return _Framing("chunked")
    if "content-length" in headers:
        return _Framing("length", int(headers["content-length"]))
    return _Framing("close")


async def _body(reader: asyncio.StreamReader, framing: _Framing):  # -> AsyncIterator[bytes]
    """The pieces of a response body as they arrive (chunk data, without the framing)."""
    if framing.kind == "chunked":
        while True:
            line = await reader.readuntil(b"\r\n")
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                return
            data = await reader.readexactly(size)
            await reader.readexactly(2)
            yield data
    elif framing.kind == "length":
        left = framing.length
        while left > 0:
            data = await reader.read(min(left, 65536))
            if not data:
                raise asyncio.IncompleteReadError(b"", left)
            left -= len(data)
            yield data
    elif framing.kind == "close":
        while data := await reader.read(65536):
            yield data


async def _consume(pieces) -> None:  # noqa: ANN001
    with contextlib.suppress(Exception):
        async for _ in pieces:
            pass


async def _until_closed(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(Exception):
        while await reader.read(65536):
            pass


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), not a clean FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _canned(fault: Fault) -> bytes:
    extra: list[str] = []
    if fault.mode == "html":
        status = fault.status or 502
        body, ctype = HTML_PAGE.format(status=status).encode(), "text/html"
    elif fault.mode == "429":
        status = 429
        body, ctype = json.dumps({"detail": "too many requests"}).encode(), "application/json"
        extra.append(f"Retry-After: {fault.retry_after}")
    else:
        status = fault.status or 503
        body, ctype = json.dumps({"detail": fault.detail}).encode(), "application/json"
    head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}", f"Content-Type: {ctype}",
            f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


__all__ = ["FORWARDED", "MODES", "Fault", "FaultProxy", "Hit"]
