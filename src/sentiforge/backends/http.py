"""The HTTP path of the OpenAI-compatible backend: a lean HTTP/1.1 keep-alive pool.

One chat completion is one small JSON POST and one small JSON answer. httpx, with httpcore,
h11 and anyio under it, spends about 1.5 ms of CPU on each (request and URL objects, header
validation, h11 events, anyio cancel scopes, cookies, a per-request check of every pooled
connection's socket): at 32 requests in flight that CPU, not the server, sets the pace.
:class:`LeanPool` does the same exchange on asyncio streams: one write of the request, one
read of the head, one read of the body, keep-alive connections reused as they come back.

It speaks what the OpenAI-style servers answer: Content-Length or chunked bodies, gzip or
deflate if a server compresses anyway, ``Connection: close``, TLS (certifi's CA bundle, like
httpx, or ``SSL_CERT_FILE``). A proxy configured in the environment (``HTTPS_PROXY``...) is
not: then :func:`make_pool` returns the httpx pool (:class:`HttpxPool`), which honours it.
Failures are raised as httpx's exception types, so callers map one family of errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import ssl
import urllib.request
import zlib
from collections import deque
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

_HEAD_END = b"\r\n\r\n"


class Response(Protocol):
    """What the backend reads from an answer (httpx.Response has it too)."""

    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...

    @property
    def headers(self) -> Any: ...  # a Mapping[str, str] read with lower-case names


class Pool(Protocol):
    async def post(self, content: str, headers: dict[str, str]) -> Response: ...

    async def aclose(self) -> None: ...


class LeanResponse:
    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers  # names in lower case; a repeated header keeps its last value
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        """Still open at our end and not closed by the server while it sat idle."""
        return not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


class LeanPool:
    """Keep-alive HTTP/1.1 connections to one URL, as many as are in flight at once (the
    backend's concurrency bounds that); ``timeout`` bounds each request as a whole."""

    def __init__(self, url: str, size: int, timeout: float) -> None:
        parts = urlsplit(url)
        self._tls = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (443 if self._tls else 80)
        default_port = self._port == (443 if self._tls else 80)
        authority = self._host if default_port else f"{self._host}:{self._port}"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._head = (
            f"POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n"
            "Accept: application/json\r\nAccept-Encoding: gzip, deflate\r\nUser-Agent: sentiforge\r\n"
        )
        self._size = size
        self._timeout = timeout
        self._idle: deque[_Connection] = deque()
        self._ssl: ssl.SSLContext | None = None
        self.opened = 0  # connections opened over the pool's life (tests and benchmarks read it)

    async def post(self, content: str, headers: dict[str, str]) -> LeanResponse:
        body = content.encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        message = f"{self._head}{extra}Content-Length: {len(body)}\r\n\r\n".encode("latin-1") + body
        try:
            async with asyncio.timeout(self._timeout):
                return await self._exchange(message)
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"no answer within {self._timeout:g}s") from exc

    async def _exchange(self, message: bytes) -> LeanResponse:
        conn = await self._acquire()
        keep = False
        try:
            conn.writer.write(message)
            await conn.writer.drain()
            response, keep = await _read_response(conn.reader)
            return response
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError, zlib.error) as exc:
            raise httpx.RemoteProtocolError(f"the connection broke: {type(exc).__name__}: {exc}") from exc
        finally:
            if keep and len(self._idle) < self._size:
                self._idle.append(conn)
            else:
                conn.close()

    async def _acquire(self) -> _Connection:
        while self._idle:
            conn = self._idle.pop()  # the most recently used: the least likely to have timed out
            if conn.usable():
                return conn
            conn.close()
        try:
            reader, writer = await asyncio.open_connection(self._host, self._port, ssl=self._context(), limit=1 << 20)
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        self.opened += 1
        return _Connection(reader, writer)

    def _context(self) -> ssl.SSLContext | None:
        if not self._tls:
            return None
        if self._ssl is None:
            cafile = os.environ.get("SSL_CERT_FILE")
            capath = os.environ.get("SSL_CERT_DIR")
            if not cafile and not capath:
                import certifi  # httpx's own CA bundle, so both paths trust the same roots

                cafile = certifi.where()
            self._ssl = ssl.create_default_context(cafile=cafile, capath=capath)
        return self._ssl

    async def aclose(self) -> None:
        while self._idle:
            conn = self._idle.pop()
            conn.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await conn.writer.wait_closed()


async def _read_response(reader: asyncio.StreamReader) -> tuple[LeanResponse, bool]:
    """One response; the flag says whether the connection can carry another request."""
    while True:
        head = await reader.readuntil(_HEAD_END)
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        status = int(rest[:3])
        if status >= 200 or status == 101:
            break  # 1xx (100 Continue, 103 Early Hints) precede the real answer
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    keep = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif status in (204, 304):
        body = b""
    else:
        body, keep = await reader.read(), False  # the body runs to the end of the connection
    encoding = headers.get("content-encoding", "").lower()
    if encoding in ("gzip", "deflate"):
        body = zlib.decompress(body, 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    return LeanResponse(status, headers, body), keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return b"".join(parts)
        parts.append((await reader.readexactly(size + 2))[:-2])


class HttpxPool:
    """Connections through httpx (used when a proxy is configured), split into small clients.

    httpcore's pool re-checks every connection it holds on each request (with a socket
    syscall each): with 32 busy connections in one pool that is ~4 ms of CPU per request.
    Shards of eight connections, least busy first, cut it to ~1 ms. Since LLMClient never
    has more than ``concurrency`` requests in flight, the least busy shard has a free one.
    """

    SHARD = 8

    def __init__(self, url: str, concurrency: int, timeout: float) -> None:
        shards = max(1, math.ceil(concurrency / self.SHARD))
        size = math.ceil(concurrency / shards)
        self._url = httpx.URL(url)  # parsed once, not for every request
        self._clients = [
            httpx.AsyncClient(
                timeout=httpx.Timeout(timeout),
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                headers={"Content-Type": "application/json"},
            )
            for _ in range(shards)
        ]
        self._busy = [0] * shards

    async def post(self, content: str, headers: dict[str, str]) -> httpx.Response:
        shard = min(range(len(self._clients)), key=self._busy.__getitem__)
        self._busy[shard] += 1
        try:
            return await self._clients[shard].post(self._url, content=content, headers=headers)
        finally:
            self._busy[shard] -= 1

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


def proxied(url: str) -> bool:
    """Does the environment route this URL through a proxy (HTTP_PROXY, HTTPS_PROXY, NO_PROXY)?"""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


def make_pool(url: str, concurrency: int, timeout: float) -> Pool:
    """The lean pool, or httpx's where a proxy is configured for the URL."""
    if proxied(url):
        return HttpxPool(url, concurrency, timeout)
    return LeanPool(url, concurrency, timeout)


__all__ = ["HttpxPool", "LeanPool", "LeanResponse", "Pool", "Response", "make_pool", "proxied"]
