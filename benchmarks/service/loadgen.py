"""A small HTTP/1.1 load generator: a constant request rate (open loop) or as fast as it goes
(closed loop), on keep-alive connections, with prebuilt request bytes to stay cheap.

Open loop avoids coordinated omission: request i is *scheduled* at ``start + i / rate`` and its
latency is measured from that time, not from when it was sent. A request that waits for a free
connection (all busy with a slow server) or for a late client counts its wait as latency, so a
slow server cannot hide its latency by slowing the client down. ``lag`` reports how late the
client itself dispatched (a starved client shows up there, not as a faster server).
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

TIMEOUT = 10.0


def build(host: str, port: int, method: str, path: str, body: Any = None, token: str = "") -> bytes:
    """The raw bytes of one keep-alive request."""
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


@dataclass
class Result:
    mode: str
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    client_cpu_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        lag = sorted(self.lags)
        out: dict[str, Any] = {
            "mode": self.mode,
            "requests": self.requests,
            "ok": len(lat),
            "errors": dict(self.errors),
            "seconds": round(self.seconds, 2),
            "throughput_rps": round(len(lat) / self.seconds, 1) if self.seconds else 0.0,
            "client_cpu_share": round(self.client_cpu_s / self.seconds, 3) if self.seconds else 0.0,
        }
        for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)):
            out[f"{name}_ms"] = round(_quantile(lat, q) * 1000, 2)
        if lag:
            out["dispatch_lag_p99_ms"] = round(_quantile(lag, 0.99) * 1000, 2)
        return out


def _quantile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Conn:
    """One keep-alive connection, reopened after an error."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.pair: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(self, raw: bytes, result: Result) -> bool:
        try:
            if self.pair is None:
                self.pair = await asyncio.open_connection(self.host, self.port)
            status = await asyncio.wait_for(_exchange(*self.pair, raw), TIMEOUT)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            result.errors[type(exc).__name__] += 1
            if self.pair is not None:
                self.pair[1].close()
            self.pair = None
            return False
        if status != 200:
            result.errors[str(status)] += 1
            return False
        return True

    def close(self) -> None:
        if self.pair is not None:
            self.pair[1].close()


async def open_loop(
    host: str, port: int, raws: Iterator[bytes], rate: float, seconds: float, connections: int = 64
) -> Result:
    """``rate`` requests a second for ``seconds``, latency from each request's scheduled time.
    ``raws`` is shared between runs, so a server that caches by text sees new texts."""
    now = time.perf_counter  # not loop.time(): uvloop's clock moves in millisecond steps
    result = Result("open", requests=int(rate * seconds))
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    conns = [_Conn(host, port) for _ in range(connections)]

    async def worker(conn: _Conn) -> None:
        while (item := await queue.get()) is not None:
            scheduled, raw = item
            if await conn.send(raw, result):
                result.latencies.append(now() - scheduled)

    tasks = [asyncio.create_task(worker(c)) for c in conns]
    cpu, start = _cpu(), now() + 0.05
    for i, raw in zip(range(result.requests), raws, strict=False):
        scheduled = start + i / rate
        if (delay := scheduled - now()) > 0:
            await asyncio.sleep(delay)
        result.lags.append(max(0.0, now() - scheduled))
        queue.put_nowait((scheduled, raw))
    for _ in tasks:
        queue.put_nowait(None)
    await asyncio.gather(*tasks)
    result.seconds, result.client_cpu_s = now() - start, _cpu() - cpu
    for c in conns:
        c.close()
    return result


async def closed_loop(host: str, port: int, raws: Iterator[bytes], seconds: float, connections: int) -> Result:
    """``connections`` clients each sending the next request when the last one is answered."""
    result = Result("closed")
    cpu, start = _cpu(), time.perf_counter()
    deadline = start + seconds

    async def client() -> None:
        conn = _Conn(host, port)
        while (sent := time.perf_counter()) < deadline:
            result.requests += 1
            if await conn.send(next(raws), result):
                result.latencies.append(time.perf_counter() - sent)
        conn.close()

    await asyncio.gather(*(client() for _ in range(connections)))
    result.seconds, result.client_cpu_s = time.perf_counter() - start, _cpu() - cpu
    return result
