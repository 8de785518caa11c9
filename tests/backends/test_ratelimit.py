"""The client-side rate limiter, on a fake clock: smooth buckets, header feedback, holds."""

from __future__ import annotations

import itertools

import pytest

from sentiforge.backends.ratelimit import RateLimiter, TokenBucket, parse_duration
from sentiforge.errors import ConfigError


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def t() -> FakeTime:
    return FakeTime()


def limiter(t: FakeTime, **kw: float) -> RateLimiter:
    return RateLimiter(clock=t.clock, sleep=t.sleep, **kw)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("0.5s", 0.5), ("2", 2.0), ("150us", 150e-6)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", [None, "", "soon", "1x", "s1"])
def test_parse_duration_rejects_garbage(text: str | None) -> None:
    assert parse_duration(text) is None


def test_bucket_reserves_in_order_and_goes_into_debt() -> None:
    bucket = TokenBucket(rate=10.0, capacity=2.0, now=0.0)
    assert [bucket.reserve(1, 0.0) for _ in range(4)] == pytest.approx([0.0, 0.0, 0.1, 0.2])
    big = TokenBucket(rate=10.0, capacity=2.0, now=0.0)
    assert big.reserve(12, 0.0) == pytest.approx(1.0)  # larger than the capacity: allowed, later


def test_bucket_try_take_takes_nothing_when_short() -> None:
    bucket = TokenBucket(rate=1.0, capacity=1.0, now=0.0)
    assert bucket.try_take(1, 0.0) == 0.0
    assert bucket.try_take(1, 0.25) == pytest.approx(0.75)
    assert bucket.try_take(1, 1.0) == 0.0


async def test_requests_per_minute_is_smooth(t: FakeTime) -> None:
    lim = limiter(t, requests_per_minute=1200)  # 20/s, burst of 5
    start = t.now
    stamps = []
    for _ in range(25):
        await lim.acquire(1)
        stamps.append(t.now - start)
    assert stamps[:5] == [0.0] * 5  # a small burst, not a minute's worth
    assert stamps[-1] == pytest.approx(20 / 20.0)  # then exactly the configured rate
    gaps = [b - a for a, b in itertools.pairwise(stamps[4:])]
    assert all(g == pytest.approx(0.05) for g in gaps)


async def test_tokens_per_minute_counts_prompt_plus_max_tokens_and_refunds(t: FakeTime) -> None:
    lim = limiter(t, tokens_per_minute=60_000)  # 1,000 tokens/s, burst 250
    await lim.acquire(250)
    await lim.acquire(500)
    assert t.now - 1000.0 == pytest.approx(0.5)
    lim.observe(cost=500, used=100)  # the answer was short: 400 tokens come back
    before = t.now
    await lim.acquire(250)
    assert t.now == before  # refunded tokens were enough


async def test_retry_after_holds_every_new_request(t: FakeTime) -> None:
    lim = limiter(t)
    lim.observe(cost=10, retry_after=2.5)
    await lim.acquire(10)
    assert t.now == pytest.approx(1002.5)
    await lim.acquire(10)
    assert t.now == pytest.approx(1002.5)  # the hold is over


async def test_headers_near_zero_pace_us_at_the_providers_rate(t: FakeTime) -> None:
    lim = limiter(t)
    headers = {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "2s",
    }
    lim.observe(cost=10, headers=headers)
    await lim.acquire(10)
    assert t.now == pytest.approx(1001.0)  # one request a second, the provider's 60/min
    await lim.acquire(10)
    assert t.now == pytest.approx(1002.0)
    await lim.acquire(10)
    assert t.now == pytest.approx(1002.0)  # the provider has reset: no more pacing


async def test_plenty_remaining_does_not_slow_us(t: FakeTime) -> None:
    lim = limiter(t)
    lim.observe(
        cost=10,
        headers={
            "x-ratelimit-limit-requests": "500",
            "x-ratelimit-remaining-requests": "499",
            "x-ratelimit-limit-tokens": "30000",
            "x-ratelimit-remaining-tokens": "29000",
        },
    )
    for _ in range(20):
        await lim.acquire(100)
    assert t.now == 1000.0


async def test_token_headers_wait_until_the_request_fits(t: FakeTime) -> None:
    lim = limiter(t)
    lim.observe(
        cost=10,
        headers={
            "x-ratelimit-limit-tokens": "6000",
            "x-ratelimit-remaining-tokens": "100",
            "x-ratelimit-reset-tokens": "6m0s",
        },
    )
    await lim.acquire(300)  # 200 missing at 100 tokens/s
    assert t.now == pytest.approx(1002.0)


def test_rejects_a_nonpositive_limit() -> None:
    with pytest.raises(ConfigError, match="positive"):
        RateLimiter(requests_per_minute=0)


async def test_a_later_header_figure_does_not_undo_what_we_already_sent(t: FakeTime) -> None:
    """Headers describe the provider at the moment it answered; requests sent since are not
    in them yet, so a higher 'remaining' must not let a burst through."""
    lim = limiter(t)
    low = {"x-ratelimit-limit-requests": "60", "x-ratelimit-reset-requests": "10s"}
    lim.observe(cost=1, headers={**low, "x-ratelimit-remaining-requests": "1"})
    await lim.acquire(1)
    await lim.acquire(1)
    assert t.now == pytest.approx(1001.0)
    lim.observe(cost=1, headers={**low, "x-ratelimit-remaining-requests": "3"})  # an older answer, arriving late
    await lim.acquire(1)
    assert t.now == pytest.approx(1002.0)  # still paced at the provider's rate
