"""The HTTP path of the OpenAI-compatible backend: one aiohttp session per event loop.

aiohttp does the HTTP/1.1 work (keep-alive pool, Content-Length and chunked bodies, gzip and
deflate, TLS, proxies, cancellation) with a C parser; on the orchestration benchmark it costs
about as little CPU per request as the hand-written client it replaces (benchmarks/orchestration).
This module only sets it up the way the backend needs and reads each answer whole:

- **one session per event loop**: a session's connections belong to the loop that opened
  them, so a post from another loop (a new ``asyncio.run``) gets a new session and the old
  one is closed. A session is closed by ``aclose()``, or at the latest when its loop shuts
  down (``asyncio.run``'s end closes open async generators: one holds the session), so one
  never outlives its loop with connections open. At most ``size`` connections (the
  backend's concurrency).
- **timeouts**: ``timeout`` bounds each request as a whole (waiting for a free connection,
  connecting, sending, the answer); opening a TCP/TLS connection alone is bounded by
  ``CONNECT_TIMEOUT`` as well, so a host that does not answer fails fast.
- **proxy, one rule**: the environment's, read as curl and httpx read it: ``HTTPS_PROXY``
  for ``https`` URLs, ``HTTP_PROXY`` for ``http`` ones, ``ALL_PROXY`` for both, hosts in
  ``NO_PROXY`` go direct. The proxy is an ``http://`` (or ``https://``) URL; ``https``
  requests tunnel through it with CONNECT. ``~/.netrc`` is not read (aiohttp's
  ``trust_env`` would), since the API key goes in the Authorization header.
- **TLS**: certifi's CA bundle (httpx's), or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` if set.

Failures are aiohttp's exceptions (``aiohttp.ClientError``; ``TimeoutError`` when the time
is up), mapped to the error hierarchy by the backend, which knows what to tell the user.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
import urllib.request
from collections.abc import AsyncGenerator
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp

from sentiforge.errors import ConfigError

CONNECT_TIMEOUT = 30.0  # seconds to open one connection, within the request's own timeout
_HEADERS = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "sentiforge"}


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
    def headers(self) -> Any: ...  # a Mapping[str, str], names read in any case


class HttpResponse:
    """An answer read whole: the status, the headers (case-insensitive) and the decoded body."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Any, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class HttpPool:
    """POSTs to one URL over aiohttp: see the module docstring."""

    def __init__(self, url: str, size: int, timeout: float) -> None:
        self.url = url
        self.size = max(1, size)
        self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, CONNECT_TIMEOUT))
        self.proxy = proxy_for(url)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closer: AsyncGenerator[None, None] | None = None
        self._ssl: ssl.SSLContext | None = None

    async def post(self, content: str, headers: dict[str, str]) -> HttpResponse:
        session = await self._session_here()
        async with session.post(self.url, data=content.encode(), headers=headers) as answer:
            body = await answer.read()
            return HttpResponse(answer.status, answer.headers, body)

    async def _session_here(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is not None and self._loop is loop and not self._session.closed:
            return self._session
        await self.aclose()  # a session of another (likely finished) loop: nothing of it is reused
        connector = aiohttp.TCPConnector(limit=self.size, limit_per_host=0, ssl=self._tls_context())
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self.timeout,
            headers=_HEADERS,
            proxy=self.proxy,
            cookie_jar=aiohttp.DummyCookieJar(),  # an API answer sets no state worth keeping
            trust_env=False,  # the proxy is read above; no ~/.netrc credentials beside the key
        )
        self._loop = loop
        self._closer = _close_at_loop_end(self._session)
        await anext(self._closer)
        return self._session

    def _tls_context(self) -> ssl.SSLContext | bool:
        if urlsplit(self.url).scheme != "https" and not (self.proxy or "").startswith("https"):
            return True  # aiohttp's default, never used for plain http
        if self._ssl is None:
            cafile = os.environ.get("SSL_CERT_FILE")
            capath = os.environ.get("SSL_CERT_DIR")
            if not cafile and not capath:
                import certifi  # httpx's own CA bundle, so every HTTP path trusts the same roots

                cafile = certifi.where()
            self._ssl = ssl.create_default_context(cafile=cafile, capath=capath)
        return self._ssl

    async def aclose(self) -> None:
        """Closes the session's connections. A session of another loop is closed as far as
        that loop allows (aiohttp drops the connections of a closed loop without a warning)."""
        session, closer, loop = self._session, self._closer, self._loop
        self._session = self._closer = self._loop = None
        if session is not None and not session.closed:
            with contextlib.suppress(RuntimeError):
                await session.close()
        if closer is not None and loop is asyncio.get_running_loop():
            await closer.aclose()  # its work is done; another loop's closes with that loop


async def _close_at_loop_end(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    """Suspended until closed: by HttpPool.aclose, or by the loop's shutdown (asyncio.run
    closes every open async generator), which then closes the session on its own loop."""
    try:
        yield
    finally:
        if not session.closed:
            await session.close()


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for this URL (None: go direct); see the module docstring."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    if urlsplit(proxy).scheme not in ("http", "https"):
        raise ConfigError(
            f"the proxy {urlsplit(proxy).scheme}://... set in the environment for {parts.scheme} URLs is not "
            "supported; use an http:// proxy, or list the host in NO_PROXY"
        )
    return proxy


__all__ = ["CONNECT_TIMEOUT", "HttpPool", "HttpResponse", "Response", "proxy_for"]
