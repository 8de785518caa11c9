"""Adaptive sending rate: find a provider's undisclosed rate limit from its 429s and hold close to it.

Without a configured ``--rpm`` and without ``x-ratelimit-*`` headers, the only signal is
the 429 itself. What adapts is the pace at which requests leave (requests in flight then
settle at rate x latency, under the backend's concurrency cap), by AIMD as TCP does:

* slow start: from ``initial`` requests/s, +1 a success (the rate doubles each second)
  until the first 429;
* then additive increase (``step`` of the rate a second, at least one request/s) and
  multiplicative decrease (``rate * decrease`` on a 429), at most one cut per round trip:
  a 429 for a request sent before the last cut says nothing about the new rate.

Why a rate and not a window of requests in flight: a window is an integer, and when the
limit x latency is small (1,200/min at 50 ms is one request in flight) one more request in
flight doubles the rate, so the window can only oscillate between too slow and twice too
fast. ``decrease`` is gentler than TCP's 0.5: a provider's limit is a fixed rate, not a
shared link, and an AIMD saw-tooth averages ``(1 + decrease) / 2`` of its peak. The rate
only grows while pacing is what holds requests back (not when the job sends fewer).
Retry-After holds stay the RateLimiter's job.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sentiforge.errors import ConfigError

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class AdaptiveRate:
    """Paces requests at ``rate`` per second and adapts the rate to 429s (AIMD)."""

    def __init__(
        self,
        *,
        initial: float = 4.0,
        step: float = 0.05,
        decrease: float = 0.8,
        minimum: float = 0.1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if initial <= 0 or step <= 0 or not 0 < decrease < 1 or minimum <= 0:
            raise ConfigError(
                f"an adaptive rate needs initial, step and minimum > 0 and 0 < decrease < 1, got "
                f"{initial}, {step}, {minimum}, {decrease}"
            )
        self.rate = float(initial)
        self.step, self.decrease, self.minimum = step, decrease, minimum
        self.slow_start = True
        self.cuts = 0
        self._clock, self._sleep = clock, sleep
        self._next = float("-inf")  # when the next request may leave
        self._last_cut = float("-inf")

    async def acquire(self) -> float:
        """Wait for this request's turn; returns its send time, to hand back to ``release``."""
        while True:  # turns are taken when due, at the rate of that moment (not reserved ahead)
            now = self._clock()
            if now >= self._next:
                self._next = max(self._next, now) + 1.0 / self.rate
                return now
            await self._sleep(self._next - now)

    def release(self, sent: float, *, limited: bool) -> None:
        """The request sent at ``sent`` is answered: a 429 (``limited``) or anything else."""
        now = self._clock()
        if limited:
            if sent > self._last_cut:
                self.rate = max(self.minimum, self.rate * self.decrease)
                self.slow_start = False
                self._last_cut = now
                self.cuts += 1
                self._next = max(self._next, now) + 1.0 / self.rate
            return
        if self._next < now - 1.0 / self.rate:
            return  # the pace held nothing back: the job sends fewer than the rate allows
        if self.slow_start:
            self.rate += 1.0
        else:
            self.rate += max(1.0, self.step * self.rate) / self.rate


__all__ = ["AdaptiveRate"]
