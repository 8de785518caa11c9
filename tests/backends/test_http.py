"""The lean HTTP/1.1 pool against a raw asyncio server that answers with scripted bytes:
body framings, compression, keep-alive reuse, servers that close, the proxy fallback."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from sentiforge.backends.http import HttpxPool, LeanPool, make_pool, proxied

BODY = json.dumps({"choices": [{"message": {"content": "hi"}}]}).encode()


def plain(body: bytes = BODY, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode()
        + body
    )


def chunked(body: bytes = BODY) -> bytes:
    half = len(body) // 2
    parts = [body[:half], body[half:]]
    chunks = b"".join(f"{len(p):x};ext=1\r\n".encode() + p + b"\r\n" for p in parts)
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\nX-Trailer: t\r\n\r\n"


class RawServer:
    """Reads one request at a time per connection and writes ``answer(n)`` (n counts requests)."""

    def __init__(self, answer: Callable[[int], bytes], close_after: bool = False) -> None:
        self.answer = answer
        self.close_after = close_after
        self.requests: list[bytes] = []
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(
                    next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1]
                )
                self.requests.append(head + await reader.readexactly(length))
                writer.write(self.answer(len(self.requests)))
                await writer.drain()
                if self.close_after:
                    break
        except asyncio.IncompleteReadError:
            pass
        writer.close()


Serve = Callable[..., Awaitable[tuple[RawServer, str]]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []

    async def start(answer: Callable[[int], bytes], **kw: bool) -> tuple[RawServer, str]:
        raw = RawServer(answer, **kw)
        server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return raw, f"http://127.0.0.1:{port}/v1/chat/completions"

    yield start
    for server in servers:
        server.close()


async def test_keep_alive_reuses_one_connection_and_sends_the_headers(serve: Serve) -> None:
    raw, url = await serve(lambda n: plain())
    pool = LeanPool(url, 4, timeout=2)
    for _ in range(3):
        response = await pool.post('{"a": 1}', {"Authorization": "Bearer k"})
        assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"] == "hi"
    await pool.aclose()
    assert raw.connections == 1 and pool.opened == 1
    first = raw.requests[0].decode()
    assert first.startswith("POST /v1/chat/completions HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{url.split(':')[2].split('/')[0]}" in first
    assert "Authorization: Bearer k" in first and "Content-Length: 8" in first and first.endswith('{"a": 1}')


async def test_chunked_and_gzip_bodies_are_decoded(serve: Serve) -> None:
    packed = gzip.compress(BODY)
    answers = [chunked(), plain(packed, "Content-Encoding: gzip\r\n")]
    raw, url = await serve(lambda n: answers[n - 1])
    pool = LeanPool(url, 4, timeout=2)
    for _ in answers:
        assert (await pool.post("{}", {})).content == BODY
    await pool.aclose()
    assert raw.connections == 1  # both framings leave the connection reusable


async def test_a_server_that_closes_gets_a_new_connection_each_time(serve: Serve) -> None:
    raw, url = await serve(lambda n: plain(extra="Connection: close\r\n"), close_after=True)
    pool = LeanPool(url, 4, timeout=2)
    for _ in range(3):
        assert (await pool.post("{}", {})).status_code == 200
        await asyncio.sleep(0.01)
    await pool.aclose()
    assert raw.connections == 3


async def test_an_idle_connection_the_server_closed_is_not_reused(serve: Serve) -> None:
    raw, url = await serve(lambda n: plain(), close_after=True)  # keep-alive promised, then closed
    pool = LeanPool(url, 4, timeout=2)
    assert (await pool.post("{}", {})).status_code == 200
    await asyncio.sleep(0.05)  # the server's FIN arrives while the connection sits idle
    assert (await pool.post("{}", {})).status_code == 200
    await pool.aclose()
    assert raw.connections == 2


async def test_truncated_body_and_silence_raise_httpx_errors(serve: Serve) -> None:
    _, url = await serve(lambda n: plain()[:-5], close_after=True)  # Content-Length says more
    pool = LeanPool(url, 4, timeout=2)
    with pytest.raises(httpx.RemoteProtocolError, match="IncompleteReadError"):
        await pool.post("{}", {})
    _, silent_url = await serve(lambda n: b"")  # reads the request, never answers
    slow = LeanPool(silent_url, 1, timeout=0.2)
    with pytest.raises(httpx.TimeoutException):
        await slow.post("{}", {})
    await pool.aclose()
    await slow.aclose()


async def test_refused_connection_is_a_connect_error() -> None:
    pool = LeanPool("http://127.0.0.1:9/v1/chat/completions", 1, timeout=2)
    with pytest.raises(httpx.ConnectError):
        await pool.post("{}", {})


def test_a_configured_proxy_selects_the_httpx_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(make_pool("https://api.example.com/v1/chat/completions", 8, 5), LeanPool)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert proxied("https://api.example.com/v1") and not proxied("http://api.example.com/v1")
    assert isinstance(make_pool("https://api.example.com/v1/chat/completions", 8, 5), HttpxPool)
    monkeypatch.setenv("NO_PROXY", "api.example.com")
    assert isinstance(make_pool("https://api.example.com/v1/chat/completions", 8, 5), LeanPool)
