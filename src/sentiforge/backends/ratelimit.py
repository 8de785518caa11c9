"""Client-side rate limiting for HTTP backends: stay under the provider's limits instead of
bouncing off them.

Three sources of truth, combined in :class:`RateLimiter`:

* the limits the user configured (requests/min, tokens/min) as smooth token buckets that
  allow a small burst, never a whole minute at once;
* the provider's own view, read from ``x-ratelimit-remaining-*`` / ``x-ratelimit-reset-*``
  headers: when little is left, requests are paced at the provider's rate until it resets;
* a 429's Retry-After, which holds every new request until that moment.

Bounded concurrency is not this module's job (LLMClient's semaphore does it). The
interface is two calls, ``acquire`` before a request and ``observe`` after it, so a
limiter shared between processes (Redis) can replace this one without touching backends.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from sentiforge.errors import ConfigError

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|h|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


WaitObserver = Callable[[str, float], None]
_wait_observers: list[WaitObserver] = []


def on_wait(observer: WaitObserver) -> None:
    """Call ``observer(kind, seconds)`` whenever a request waits for a provider limit in this
    process (kinds: ``limiter`` configured or header pacing, ``adaptive``, ``shared`` Redis
    limits, ``retry_after`` a 429's backoff). The service's metrics register one; idempotent."""
    if observer not in _wait_observers:
        _wait_observers.append(observer)


def report_wait(kind: str, seconds: float) -> None:
    for observer in _wait_observers:
        observer(kind, seconds)


def parse_duration(value: str | None) -> float | None:
    """Seconds in a Go-style duration as providers send it ("1s", "6m0s", "20ms", "1h2m");
    a bare number counts as seconds. None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip().lower()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    total, pos = 0.0, 0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _UNIT[match.group(2)]
        pos = match.end()
    return total if pos == len(text) else None


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class Limiter(Protocol):
    """What a backend needs from a rate limiter."""

    async def acquire(self, cost: int) -> None:
        """Wait until one request costing ``cost`` tokens may be sent."""

    def observe(
        self,
        *,
        cost: int,
        used: int | None = None,
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Learn from an answer: actual tokens used, rate-limit headers, a 429's Retry-After."""


class TokenBucket:
    """A smooth bucket: ``rate`` per second, at most ``capacity`` saved up.

    ``reserve`` takes tokens at once (the balance may go negative) and says how long to wait
    until they would have been there, so waiting requests are served in arrival order and a
    request larger than the capacity still gets through, just later.
    """

    def __init__(self, rate: float, capacity: float, *, now: float, tokens: float | None = None) -> None:
        if rate <= 0 or capacity <= 0:
            raise ConfigError(f"a token bucket needs a positive rate and capacity, got {rate} and {capacity}")
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity if tokens is None else tokens
        self.stamp = now

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def reserve(self, cost: float, now: float) -> float:
        self._refill(now)
        self.tokens -= cost
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def try_take(self, cost: float, now: float) -> float:
        """Take ``cost`` if it is there (returns 0), else take nothing and return the wait."""
        self._refill(now)
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        return (cost - self.tokens) / self.rate

    def refund(self, amount: float, now: float) -> None:
        self._refill(now)
        self.tokens = min(self.capacity, self.tokens + amount)


@dataclass
class _ProviderView:
    """The provider's remaining allowance for one dimension, valid until it resets."""

    bucket: TokenBucket
    until: float


class RateLimiter:
    """Configured buckets + header feedback + Retry-After hold, for one process.

    ``burst_seconds`` sizes the configured buckets: 1,200 requests/min with the default
    0.25 s allows a burst of 5, then one request every 50 ms. ``low_water`` is the share of
    the provider's per-minute limit below which its headers start pacing us.
    """

    def __init__(
        self,
        *,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        burst_seconds: float = 0.25,
        low_water: float = 0.1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self.requests = self._bucket(requests_per_minute, burst_seconds, 1.0, now)
        self.tokens = self._bucket(tokens_per_minute, burst_seconds, 0.0, now)
        self.low_water = low_water
        self.hold_until = 0.0
        self._views: dict[str, _ProviderView] = {}
        self.waited = 0.0  # total seconds requests spent waiting here (for reports and tests)

    @staticmethod
    def _bucket(per_minute: float | None, burst_seconds: float, floor: float, now: float) -> TokenBucket | None:
        if per_minute is None:
            return None
        if per_minute <= 0:
            raise ConfigError(f"a rate limit must be positive (requests or tokens per minute), got {per_minute}")
        rate = per_minute / 60.0
        return TokenBucket(rate, max(floor, 1.0, rate * burst_seconds), now=now)

    async def acquire(self, cost: int) -> None:
        now = self._clock()
        ready = now
        for bucket, amount in self._buckets(cost):
            ready = max(ready, now + bucket.reserve(amount, now))
        while True:
            target = max(ready, self.hold_until)
            delay = target - self._clock()
            if delay <= 0:
                return
            self.waited += delay
            report_wait("limiter", delay)
            await self._sleep(delay)

    def _buckets(self, cost: int) -> list[tuple[TokenBucket, float]]:
        found: list[tuple[TokenBucket, float]] = []
        if self.requests is not None:
            found.append((self.requests, 1.0))
        if self.tokens is not None:
            found.append((self.tokens, float(cost)))
        now = self._clock()
        for dim, view in list(self._views.items()):
            if now >= view.until:
                del self._views[dim]
            else:
                found.append((view.bucket, 1.0 if dim == "requests" else float(cost)))
        return found

    def observe(
        self,
        *,
        cost: int,
        used: int | None = None,
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        now = self._clock()
        if used is not None and self.tokens is not None and used < cost:
            self.tokens.refund(cost - used, now)
        if retry_after is not None and retry_after > 0:
            self.hold_until = max(self.hold_until, now + retry_after)
        if headers:
            for dim in ("requests", "tokens"):
                self._observe_headers(dim, headers, now)

    def _observe_headers(self, dim: str, headers: Mapping[str, str], now: float) -> None:
        remaining = _number(headers.get(f"x-ratelimit-remaining-{dim}"))
        if remaining is None:
            return
        limit = _number(headers.get(f"x-ratelimit-limit-{dim}"))
        reset = parse_duration(headers.get(f"x-ratelimit-reset-{dim}"))
        threshold = max(1.0, self.low_water * limit) if limit else 1.0
        if remaining > threshold:
            self._views.pop(dim, None)  # plenty left: the provider is no constraint right now
            return
        if limit and limit > 0:
            rate = limit / 60.0
        elif reset:
            rate = max(remaining, 1.0) / reset
        else:
            rate = 1.0
        until = now + (reset if reset is not None else 60.0)
        view = self._views.get(dim)
        if view is None:
            bucket = TokenBucket(rate, max(1.0, remaining), now=now, tokens=max(0.0, remaining))
            self._views[dim] = _ProviderView(bucket, until)
            return
        # Keep the more cautious of our running estimate and the provider's figure: the
        # estimate already counts requests sent since, and requests still waiting their turn.
        view.bucket._refill(now)
        view.bucket.tokens = min(view.bucket.tokens, remaining)
        view.bucket.rate, view.bucket.capacity = rate, max(view.bucket.capacity, remaining, 1.0)
        view.until = until


__all__ = ["Limiter", "RateLimiter", "TokenBucket", "parse_duration"]
