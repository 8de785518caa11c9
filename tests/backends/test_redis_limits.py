"""The Redis-backed limiter: two limiters (as two processes would) share one bucket, a 429's
Retry-After holds both, a provider's low x-ratelimit headers pace both."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from sentiforge.backends.redis_limits import RedisLimiter

pytestmark = pytest.mark.redis
URL = "redis://127.0.0.1:6379/7"


def _pair(**limits: float) -> tuple[RedisLimiter, RedisLimiter]:
    name = f"test-{uuid.uuid4().hex}"
    return RedisLimiter(URL, name, **limits), RedisLimiter(URL, name, **limits)  # type: ignore[arg-type]


async def _timed(limiters: tuple[RedisLimiter, ...], n: int, cost: int = 1) -> float:
    start = time.monotonic()
    await asyncio.gather(*(limiters[i % len(limiters)].acquire(cost) for i in range(n)))
    return time.monotonic() - start


async def test_two_limiters_share_one_rpm_bucket() -> None:
    a, b = _pair(requests_per_minute=1200)  # 20/s, a burst of 5
    took = await _timed((a, b), 25)
    assert 0.9 <= took <= 2.0, took  # (25 - 5) / 20 = 1.0 s together, not 0.5 s each
    assert await _timed((_pair(requests_per_minute=1200)[0],), 5) < 0.2


async def test_tpm_and_retry_after_and_headers_are_shared() -> None:
    a, b = _pair(tokens_per_minute=60_000)  # 1,000 tokens/s, a burst of 250
    assert 0.6 <= await _timed((a, b), 10, cost=100) <= 1.4  # (1000 - 250) / 1000
    a, b = _pair()
    a.observe(cost=1, retry_after=0.5)
    assert 0.4 <= await _timed((b,), 1) <= 0.8
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-limit-requests": "600",
               "x-ratelimit-reset-requests": "2s"}  # fmt: skip
    a.observe(cost=1, headers=headers)
    assert 0.25 <= await _timed((a, b), 3) <= 0.6  # 10/s from an empty view: 3 requests ~0.3 s
