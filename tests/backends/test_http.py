"""The aiohttp adapter against a raw asyncio server that answers with scripted bytes: body
framings, compression, keep-alive reuse, servers that close, the connection limit,
cancellation, one session per event loop, TLS and the proxy rule."""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from sentiforge.backends.http import HttpPool, proxy_for
from sentiforge.errors import ConfigError

BODY = json.dumps({"choices": [{"message": {"content": "hi"}}]}).encode()
PROXY_VARS = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
)


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
    """Reads one request at a time per connection and writes ``answer(n)`` (n counts requests),
    after ``delay`` seconds; counts connections, and the most open at once."""

    def __init__(self, answer: Callable[[int], bytes], close_after: bool = False, delay: float = 0.0) -> None:
        self.answer = answer
        self.close_after = close_after
        self.delay = delay
        self.requests: list[bytes] = []
        self.connections = 0
        self.open = 0
        self.most_open = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(
                    next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1]
                )
                self.requests.append(head + await reader.readexactly(length))
                await asyncio.sleep(self.delay)
                writer.write(self.answer(len(self.requests)))
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
        writer.close()


Serve = Callable[..., Awaitable[tuple[RawServer, str]]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []

    async def start(
        answer: Callable[[int], bytes], tls: ssl.SSLContext | None = None, **kw: float
    ) -> tuple[RawServer, str]:
        raw = RawServer(answer, **kw)  # type: ignore[arg-type]
        server = await asyncio.start_server(raw.handle, "127.0.0.1", 0, ssl=tls)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return raw, f"{'https' if tls else 'http'}://127.0.0.1:{port}/v1/chat/completions"

    yield start
    for server in servers:
        server.close()


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


async def test_keep_alive_reuses_one_connection_and_sends_the_headers(serve: Serve) -> None:
    raw, url = await serve(lambda n: plain())
    pool = HttpPool(url, 4, timeout=2)
    for _ in range(3):
        response = await pool.post('{"a": 1}', {"Authorization": "Bearer k"})
        assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"] == "hi"
        assert response.headers["content-type"] == "application/json"  # names read in any case
    await pool.aclose()
    assert raw.connections == 1
    first = raw.requests[0].decode()
    assert first.startswith("POST /v1/chat/completions HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{url.split(':')[2].split('/')[0]}" in first
    assert "Authorization: Bearer k" in first and "Content-Length: 8" in first and first.endswith('{"a": 1}')
    assert "Content-Type: application/json" in first and "User-Agent: sentiforge" in first
    assert "Cookie" not in first


async def test_chunked_and_gzip_bodies_are_decoded(serve: Serve) -> None:
    packed = gzip.compress(BODY)
    answers = [chunked(), plain(packed, "Content-Encoding: gzip\r\n")]
    raw, url = await serve(lambda n: answers[n - 1])
    pool = HttpPool(url, 4, timeout=2)
    for _ in answers:
        assert (await pool.post("{}", {})).content == BODY
    await pool.aclose()
    assert raw.connections == 1  # both framings leave the connection reusable
    assert b"gzip" in raw.requests[0].lower().split(b"accept-encoding:")[1].split(b"\r\n")[0]


async def test_a_server_that_closes_gets_a_new_connection_each_time(serve: Serve) -> None:
    raw, url = await serve(lambda n: plain(extra="Connection: close\r\n"), close_after=True)
    pool = HttpPool(url, 4, timeout=2)
    for _ in range(3):
        assert (await pool.post("{}", {})).status_code == 200
        await asyncio.sleep(0.01)
    await pool.aclose()
    assert raw.connections == 3


async def test_an_idle_connection_the_server_closed_is_not_reused(serve: Serve) -> None:
    raw, url = await serve(lambda n: plain(), close_after=True)  # keep-alive promised, then closed
    pool = HttpPool(url, 4, timeout=2)
    assert (await pool.post("{}", {})).status_code == 200
    await asyncio.sleep(0.05)  # the server's FIN arrives while the connection sits idle
    assert (await pool.post("{}", {})).status_code == 200
    await pool.aclose()
    assert raw.connections == 2


async def test_truncated_body_and_silence_raise(serve: Serve) -> None:
    _, url = await serve(lambda n: plain()[:-5], close_after=True)  # Content-Length says more
    pool = HttpPool(url, 4, timeout=2)
    with pytest.raises(aiohttp.ClientPayloadError):
        await pool.post("{}", {})
    _, silent_url = await serve(lambda n: b"")  # reads the request, never answers
    slow = HttpPool(silent_url, 1, timeout=0.2)
    with pytest.raises(TimeoutError):
        await slow.post("{}", {})
    await pool.aclose()
    await slow.aclose()


async def test_refused_connection_is_a_connector_error() -> None:
    pool = HttpPool("http://127.0.0.1:9/v1/chat/completions", 1, timeout=2)
    with pytest.raises(aiohttp.ClientConnectorError):
        await pool.post("{}", {})
    await pool.aclose()


async def test_connections_are_limited_to_the_pool_size(serve: Serve) -> None:
    raw, url = await serve(lambda n: plain(), delay=0.05)
    pool = HttpPool(url, 2, timeout=5)
    answers = await asyncio.gather(*(pool.post("{}", {}) for _ in range(6)))
    await pool.aclose()
    assert [a.status_code for a in answers] == [200] * 6
    assert raw.most_open == 2 and raw.connections == 2  # the others waited for a free one


async def test_a_cancelled_request_frees_its_connection(serve: Serve) -> None:
    raw, url = await serve(lambda n: plain() if n > 1 else b"")  # the first request is never answered
    pool = HttpPool(url, 1, timeout=5)
    task = asyncio.create_task(pool.post("{}", {}))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    response = await asyncio.wait_for(pool.post("{}", {}), 2)  # the one connection is free again
    await pool.aclose()
    assert response.status_code == 200 and raw.connections == 2  # the cancelled one was not reused


def test_each_event_loop_gets_its_own_session_closed_with_the_loop() -> None:
    async def once(pool: HttpPool) -> tuple[int, object]:
        raw = RawServer(lambda n: plain())
        server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
        pool.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/chat/completions"
        status = (await pool.post("{}", {})).status_code
        session = pool._session
        server.close()
        return status, session

    pool = HttpPool("http://127.0.0.1:9/unused", 2, timeout=2)
    first_status, first = asyncio.run(once(pool))  # no aclose: the loop's end closes the session
    assert first.closed  # type: ignore[attr-defined]
    second_status, second = asyncio.run(once(pool))
    assert first_status == second_status == 200 and first is not second
    asyncio.run(pool.aclose())
    assert second.closed  # type: ignore[attr-defined]


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
async def test_tls_trusts_ssl_cert_file_and_refuses_an_unknown_certificate(
    serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    raw, url = await serve(lambda n: plain(), tls=tls)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    untrusted = HttpPool(url, 1, timeout=5)  # certifi's roots: the self-signed certificate is refused
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        await untrusted.post("{}", {})
    await untrusted.aclose()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    trusted = HttpPool(url, 1, timeout=5)
    assert (await trusted.post("{}", {})).json() == json.loads(BODY)
    await trusted.aclose()
    assert len(raw.requests) == 1


def test_the_proxy_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    assert proxy_for("https://api.example.com/v1/chat/completions") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert proxy_for("https://api.example.com/v1") == "http://proxy.internal:3128"
    assert proxy_for("http://api.example.com/v1") is None  # HTTPS_PROXY is for https URLs only
    monkeypatch.setenv("ALL_PROXY", "http://all.internal:3128")
    assert proxy_for("http://api.example.com/v1") == "http://all.internal:3128"
    monkeypatch.setenv("NO_PROXY", "api.example.com")
    assert proxy_for("https://api.example.com/v1") is None and proxy_for("http://api.example.com/v1") is None
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.setenv("HTTPS_PROXY", "socks5://user:secret@proxy.internal:1080")
    with pytest.raises(ConfigError, match=r"socks5://\.\.\. set in the environment") as info:
        proxy_for("https://api.example.com/v1")
    assert "secret" not in str(info.value)


async def test_requests_go_through_the_configured_proxy(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy, proxy_url = await serve(lambda n: plain())  # a "proxy" that answers by itself
    monkeypatch.setenv("HTTP_PROXY", proxy_url.removesuffix("/v1/chat/completions"))
    target = "http://127.0.0.2:8999/v1/chat/completions"  # never connected to: the proxy answers
    pool = HttpPool(target, 2, timeout=2)
    assert (await pool.post("{}", {})).status_code == 200
    await pool.aclose()
    assert proxy.requests[0].startswith(f"POST {target} HTTP/1.1\r\n".encode())  # absolute form, to a proxy
    monkeypatch.setenv("NO_PROXY", "127.0.0.2")
    assert HttpPool(target, 2, timeout=2).proxy is None
