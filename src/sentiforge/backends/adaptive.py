"""Adaptive sending rate: find a provider's undisclosed rate limit from its 429s and hold close to it.

Without a configured ``--rpm`` and without ``x-ratelimit-*`` headers, the only signal is
the 429 itself. What adapts is the pace at which requests leave (requests in flight then
settle at rate x latency, under the backend's concurrency cap), by AIMD as TCP does:

* no pacing until the first 429, only a slow start of requests in flight: ``window``
  (8) at first, one more per answer, so it doubles each round trip (a provider that
  never refuses reaches the backend's concurrency cap within a few round trips);
* the first 429 sets the rate to the requests sent in the last second, times ``decrease``;
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
import collections
import time
from collections.abc import Awaitable, Callable

from sentiforge.backends.ratelimit import report_wait
from sentiforge.errors import ConfigError

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class AdaptiveRate:
    """Paces requests at ``rate`` per second and adapts the rate to 429s (AIMD)."""

    def __init__(
        self,
        *,
        step: float = 0.05,
        decrease: float = 0.8,
        minimum: float = 0.1,
        window: int = 8,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if step <= 0 or not 0 < decrease < 1 or minimum <= 0:
            raise ConfigError(
                f"an adaptive rate needs step and minimum > 0 and 0 < decrease < 1, got {step}, {minimum}, {decrease}"
            )
        self.rate: float | None = None  # requests/s; None: not paced (no 429 yet)
        self.step, self.decrease, self.minimum = step, decrease, minimum
        self._sent: collections.deque[float] = collections.deque()  # sends of the last second (until paced)
        self.window = float(window)  # requests in flight allowed until the first 429
        self.in_flight = 0
        self._room = asyncio.Event()
        self.cuts = 0
        self._clock, self._sleep = clock, sleep
        self._last = float("-inf")  # when the last request left
        self._last_cut = float("-inf")

    async def acquire(self) -> float:
        """Wait for this request's turn; returns its send time, to hand back to ``release``."""
        while True:  # turns are taken when due, at the rate of that moment (not reserved ahead)
            now = self._clock()
            if self.rate is None and self.in_flight >= self.window:
                self._room.clear()
                await self._room.wait()
                continue
            if self.rate is None:
                self.in_flight += 1
                self._sent.append(now)
                while self._sent[0] < now - 1.0:
                    self._sent.popleft()
                return now
            due = self._last + 1.0 / self.rate  # the rate may have changed while we slept
            if now >= due:
                self._last = now
                self.in_flight += 1
                return now
            report_wait("adaptive", due - now)
            await self._sleep(due - now)

    def release(self, sent: float, *, limited: bool = False, ok: bool = True) -> None:
        """The request sent at ``sent`` is over: answered, refused with a 429 (``limited``) or
        failed otherwise (not ``ok``: no signal about the rate)."""
        now = self._clock()
        self.in_flight -= 1
        self._room.set()
        if not ok and not limited:
            return
        if limited:
            if sent > self._last_cut:
                self._cut(now)
            return
        if self.rate is None:
            self.window += 1.0
            return
        if self._last < now - 2.0 / self.rate:
            return  # the pace held nothing back: the job sends fewer than the rate allows
        self.rate += max(1.0, self.step * self.rate) / self.rate

    def _cut(self, now: float) -> None:
        if self.rate is None:  # the first 429: start from the rate we were sending at
            self.rate = max(self.minimum, len([t for t in self._sent if t >= now - 1.0]) * self.decrease)
            self._sent.clear()
        else:
            self.rate = max(self.minimum, self.rate * self.decrease)
        self._last_cut = now
        self.cuts += 1
        self._last = max(self._last, now)


__all__ = ["AdaptiveRate"]
