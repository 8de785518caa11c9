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


async def test_paces_then_slow_start_then_one_cut_per_round_trip_then_additive_increase() -> None:
    clock = Clock()
    rate = AdaptiveRate(initial=4, decrease=0.5, clock=clock, sleep=clock.sleep)
    sent = [await rate.acquire() for _ in range(4)]
    assert sent == [0.0, 0.25, 0.5, 0.75]  # one every 1/rate seconds
    for s in sent:
        rate.release(s, limited=False)
    assert rate.rate == 8 and rate.slow_start  # +1 a success: doubles each second
    early = [await rate.acquire() for _ in range(4)]
    rate.release(early[0], limited=True)
    assert rate.rate == 4 and not rate.slow_start and rate.cuts == 1
    for s in early[1:]:  # 429s of requests sent before the cut do not cut again
        rate.release(s, limited=True)
    assert rate.rate == 4 and rate.cuts == 1
    late = await rate.acquire()
    rate.release(late, limited=False)
    assert rate.rate == pytest.approx(4.25)  # additive: about one request/s more a second
    with pytest.raises(ConfigError):
        AdaptiveRate(decrease=1.0)


async def test_rate_does_not_grow_when_pacing_holds_nothing_back() -> None:
    clock = Clock()
    rate = AdaptiveRate(initial=4, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        sent = await rate.acquire()
        clock.now += 10.0  # the job sends one request every ten seconds
        rate.release(sent, limited=False)
    assert rate.rate == 4


def test_used_only_without_a_configured_rpm() -> None:
    spec = BackendSpec(kind="openai", model="m", base_url="http://127.0.0.1:9/v1", concurrency=16)
    adaptive = from_spec(spec)
    assert isinstance(adaptive, OpenAICompatBackend) and isinstance(adaptive.adaptive, AdaptiveRate)
    told = from_spec(spec.model_copy(update={"requests_per_minute": 600}))
    assert isinstance(told, OpenAICompatBackend) and told.adaptive is None


async def test_converges_under_a_server_limit_it_was_not_told() -> None:
    # 600/min = 10/s; the server sends no x-ratelimit headers: only its 429s tell the limit
    with OpenAITestServer(latency=0.05, rpm_limit=600, limit_headers=False) as server:
        spec = BackendSpec(kind="openai", model="m", base_url=server.base_url, concurrency=32, timeout=5)
        backend = from_spec(spec)
        assert isinstance(backend, OpenAICompatBackend) and backend.adaptive is not None
        client = LLMClient(backend, retry=RetryPolicy(max_attempts=20, base_delay=0.05))
        deadline = time.monotonic() + 4.0
        counter = iter(range(10**6))

        async def worker() -> None:
            while time.monotonic() < deadline:
                message = Message(role="user", content=f"review {next(counter)}")
                await client.complete(ChatRequest(messages=(message,), max_tokens=8))

        await asyncio.gather(*(worker() for _ in range(32)))
        await client.aclose()
        outcomes = server.stats()["outcomes"]
    assert backend.adaptive.cuts >= 1 and 5 < backend.adaptive.rate < 20
    ok, refused = outcomes.get("ok", 0), outcomes.get("rpm_limited", 0)
    assert ok >= 0.7 * 10 * 4  # most of the 40 the limit allows in 4 s (plus its burst of 10)
    assert refused < 0.1 * ok
