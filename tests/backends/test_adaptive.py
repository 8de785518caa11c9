"""Adaptive sending rate: AIMD on 429s, for providers whose limit nobody told us."""

from __future__ import annotations

import asyncio
import time

import pytest

from sentiforge.backends import from_spec
from sentiforge.backends.adaptive import AdaptiveRate
from sentiforge.backends.base import ChatRequest, Message
from sentiforge.backends.client import LLMClient, RetryPolicy
from sentiforge.backends.openai_compat import OpenAICompatBackend
from sentiforge.errors import ConfigError
from sentiforge.recipe import BackendSpec
from sentiforge.testing import OpenAITestServer


class Clock:
    """Virtual time: sleeping moves it on."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_unpaced_until_a_429_then_one_cut_per_round_trip_then_additive_increase() -> None:
    clock = Clock()
    rate = AdaptiveRate(decrease=0.5, clock=clock, sleep=clock.sleep)
    sent = [await rate.acquire() for _ in range(4)]
    assert sent == [0.0] * 4 and rate.rate is None  # a provider that never refuses is never paced
    for s in sent:
        rate.release(s, limited=False)
    clock.now = 0.5
    early = [await rate.acquire() for _ in range(4)]
    rate.release(early[0], limited=True)
    assert rate.rate == 4 and rate.cuts == 1  # 8 sent in the last second, halved
    for s in early[1:]:  # 429s of requests sent before the cut do not cut again
        rate.release(s, limited=True)
    assert rate.rate == 4 and rate.cuts == 1
    paced = [await rate.acquire() for _ in range(3)]
    assert paced == [0.75, 1.0, 1.25]  # one every 1/rate seconds from the cut on
    rate.release(paced[-1], limited=False)
    assert rate.rate == pytest.approx(4.25)  # additive: about one request/s more a second
    later = await rate.acquire()
    rate.release(later, limited=True)
    assert rate.rate == pytest.approx(2.125) and rate.cuts == 2
    with pytest.raises(ConfigError):
        AdaptiveRate(decrease=1.0)


async def test_rate_does_not_grow_when_pacing_holds_nothing_back() -> None:
    clock = Clock()
    rate = AdaptiveRate(clock=clock, sleep=clock.sleep)
    rate.release(await rate.acquire(), limited=True)
    start = rate.rate  # one request sent in the last second: 0.8 a second
    for _ in range(5):
        sent = await rate.acquire()
        clock.now += 100.0  # the job sends far fewer requests than the rate allows
        rate.release(sent, limited=False)
    assert rate.rate == start == 0.8


def test_used_only_without_a_configured_rpm() -> None:
    spec = BackendSpec(kind="openai", model="m", base_url="http://127.0.0.1:9/v1", concurrency=16)
    adaptive = from_spec(spec)
    assert isinstance(adaptive, OpenAICompatBackend) and isinstance(adaptive.adaptive, AdaptiveRate)
    told = from_spec(spec.model_copy(update={"requests_per_minute": 600}))
    assert isinstance(told, OpenAICompatBackend) and told.adaptive is None


async def test_converges_under_a_server_limit_it_was_not_told() -> None:
    # 600/min = 10/s; the server sends no x-ratelimit headers: only its 429s tell the limit
    with OpenAITestServer(latency=0.05, rpm_limit=600, limit_headers=False) as server:
        spec = BackendSpec(kind="openai", model="m", base_url=server.base_url, concurrency=12, timeout=5)
        backend = from_spec(spec)
        assert isinstance(backend, OpenAICompatBackend) and backend.adaptive is not None
        client = LLMClient(backend, retry=RetryPolicy(max_attempts=20, base_delay=0.05))
        deadline = time.monotonic() + 4.0
        counter = iter(range(10**6))

        async def worker() -> None:
            while time.monotonic() < deadline:
                message = Message(role="user", content=f"review {next(counter)}")
                await client.complete(ChatRequest(messages=(message,), max_tokens=8))

        await asyncio.gather(*(worker() for _ in range(12)))
        await client.aclose()
        times = server.stats(times=True)["times"]
    assert backend.adaptive.cuts >= 1 and backend.adaptive.rate is not None and 5 < backend.adaptive.rate < 20
    # once found (the last two seconds of sending): near the limit, few refusals
    end = max(started for started, _, _ in times if started is not None)
    late = [outcome for started, _, outcome in times if started is not None and started > end - 2.0]
    ok, refused = late.count("ok"), late.count("rpm_limited")
    assert ok >= 0.7 * 10 * 2
    assert refused <= 0.1 * ok


async def test_slow_start_window_until_the_first_429() -> None:
    rate = AdaptiveRate(window=2)
    first = [await rate.acquire() for _ in range(2)]
    third = asyncio.ensure_future(rate.acquire())
    await asyncio.sleep(0.01)
    assert not third.done() and rate.in_flight == 2  # two in flight at most, at first
    rate.release(first[0])
    await asyncio.sleep(0.01)
    assert third.done() and rate.window == 3  # one more per answer: doubles each round trip
    rate.release(first[1], ok=False)  # a failure that is not a 429 teaches nothing
    assert rate.window == 3 and rate.rate is None and rate.in_flight == 1
