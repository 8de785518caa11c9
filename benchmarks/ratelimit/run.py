"""Rate limiting: how close to a provider's requests/min limit do we run without a 429?

The test server (own process) enforces --rpm with a smooth bucket (one second of burst) and
answers 429 beyond it. Workers keep --concurrency requests going for --seconds. Two runs:

* configured: BackendSpec.requests_per_minute equals the limit (the intended use);
  target: >= 95% of the limit, zero 429s.
* headers only: no configured limit; the client learns from x-ratelimit-* headers and 429s.
  No target; it shows what the header feedback alone achieves.
* undisclosed: no configured limit and a server that sends no x-ratelimit-* headers (a
  separate server process, --undisclosed-seconds long): only 429s and their Retry-After
  tell the limit, and the adaptive rate (backends/adaptive.py) must find it. Target: at
  least 90% of the limit within a minute, fewer than 2% of requests answered 429.

    .venv/bin/python benchmarks/ratelimit/run.py [--rpm 1200 --seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any

from sentiforge.backends import from_spec
from sentiforge.backends.base import ChatRequest, Message
from sentiforge.backends.client import LLMClient
from sentiforge.errors import BackendError
from sentiforge.recipe import BackendSpec
from sentiforge.testing import ServerProcess


async def drive(base_url: str, rpm: float | None, seconds: float, concurrency: int) -> dict[str, Any]:
    spec = BackendSpec(
        kind="openai", model="bench", base_url=base_url, concurrency=concurrency, requests_per_minute=rpm
    )
    client = LLMClient(from_spec(spec))
    deadline = time.monotonic() + seconds
    counter = iter(range(10**9))
    failures = 0

    async def worker() -> None:
        nonlocal failures
        while time.monotonic() < deadline:
            message = Message(role="user", content=f"review number {next(counter)}")
            request = ChatRequest(messages=(message,), max_tokens=32)
            try:
                await client.complete(request)
            except BackendError:
                failures += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await client.aclose()
    return {
        "client_retries": client.retries,
        "client_failures": failures,
        "limiter_waited_s": round(client.backend.limiter.waited, 1),  # type: ignore[attr-defined]
        "adaptive": adaptive_state(client),
    }


def adaptive_state(client: LLMClient) -> dict[str, Any] | None:
    adaptive = getattr(client.backend, "adaptive", None)
    if adaptive is None:
        return None
    rate = None if adaptive.rate is None else round(adaptive.rate * 60, 1)
    return {"final_rate_per_min": rate, "cuts": adaptive.cuts}


def per_window(stats: dict[str, Any], rpm: float, seconds: float, window: float = 10.0) -> list[float]:
    """Share of the limit answered ok in each ``window`` seconds of the run."""
    times = sorted(stats["times"])
    start = times[0][0]
    counts = [0] * int(seconds // window)
    for s, _, outcome in times:
        slot = int((s - start) // window)
        if outcome == "ok" and slot < len(counts):
            counts[slot] += 1
    return [round(c / (rpm / 60.0 * window), 3) for c in counts]


def summarise(stats: dict[str, Any], rpm: float, seconds: float) -> dict[str, Any]:
    times = sorted(t for t in stats["times"])
    start = times[0][0]
    ok_in_window = sum(1 for s, _, o in times if o == "ok" and s - start < seconds)
    refused = sum(1 for _, _, o in times if o in {"rpm_limited", "rate_limit", "rate_limit_bare"})
    allowed = rpm / 60.0 * seconds
    burst = rpm / 60.0  # the server's bucket starts full with one second's worth
    return {
        "ok_in_window": ok_in_window,
        "limit_in_window": allowed,
        "share_of_limit": ok_in_window / allowed,
        "share_of_server_maximum": ok_in_window / (allowed + burst),
        "answered_429": refused,
        "requests": stats["requests"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rpm", type=float, default=1200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--undisclosed-seconds", type=float, default=60, help="0 skips the undisclosed-limit run")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "rpm": args.rpm,
        "seconds": args.seconds,
        "concurrency": args.concurrency,
        "load_before": os.getloadavg()[:2],
        "cpus": os.cpu_count(),
    }
    with ServerProcess(latency=args.latency, rpm=args.rpm) as server:
        for name, configured in (("configured", args.rpm), ("headers_only", None)):
            server.reset()
            client = asyncio.run(drive(server.base_url, configured, args.seconds, args.concurrency))
            report[name] = {**summarise(server.stats(times=True), args.rpm, args.seconds), **client}
            time.sleep(1.5)  # let the server's bucket refill between runs
    c = report["configured"]
    report["target_met"] = c["share_of_limit"] >= 0.95 and c["answered_429"] == 0
    if args.undisclosed_seconds:
        report["undisclosed"] = undisclosed(args)
    report["load_after"] = os.getloadavg()[:2]
    print(json.dumps(report, indent=2))


def undisclosed(args: argparse.Namespace) -> dict[str, Any]:
    """A server that keeps its limit to itself: only 429s (with Retry-After) tell it."""
    seconds = args.undisclosed_seconds
    with ServerProcess(latency=args.latency, rpm=args.rpm, extra_args=["--no-limit-headers"]) as server:
        client = asyncio.run(drive(server.base_url, None, seconds, args.concurrency))
        stats = server.stats(times=True)
    row = {**summarise(stats, args.rpm, seconds), **client}
    row["share_429_of_requests"] = row["answered_429"] / max(1, row["requests"])
    row["share_of_limit_per_10s"] = per_window(stats, args.rpm, seconds)
    row["target_met"] = row["share_of_limit"] >= 0.9 and row["share_429_of_requests"] < 0.02
    return row


if __name__ == "__main__":
    main()
