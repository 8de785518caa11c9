"""The provider's rate limits shared in Redis: every process sending to one provider (all the
workers) draws from the same RPM/TPM token buckets and obeys the same ``x-ratelimit-*`` and
Retry-After pacing, so together they stay within one limit.

It is :class:`~sentiforge.backends.ratelimit.RateLimiter`'s interface (``acquire`` /
``observe``) with the state in Redis, each change one atomic Lua script on Redis's own clock:
``reserve`` takes a request's tokens from every live bucket at once (the balance may go
negative, so waiters are served in arrival order) and answers how long to wait; ``view`` sets
the provider's remaining allowance from its headers until it resets; ``hold`` pushes the
shared hold-until time forward on a 429's Retry-After.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from sentiforge.backends.ratelimit import _number, parse_duration, report_wait
from sentiforge.errors import ConfigError, require

# KEYS: bucket hashes (configured rpm, tpm, provider views) then the hold key.
# ARGV: n buckets, then per bucket: rate/s, capacity, cost, ttl ms (0: none; a view's key expires itself).
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local n = tonumber(ARGV[1])
local ready = now
for i = 1, n do
  local key = KEYS[i]
  local rate, cap, cost = tonumber(ARGV[4*i-2]), tonumber(ARGV[4*i-1]), tonumber(ARGV[4*i])
  local view = tonumber(ARGV[4*i+1]) < 0
  local b = redis.call('HMGET', key, 'tokens', 'stamp', 'rate', 'cap')
  if b[1] or not view then
    local tokens = tonumber(b[1]) or cap
    local stamp = tonumber(b[2]) or now
    if view then rate, cap = tonumber(b[3]), tonumber(b[4]) end
    if now > stamp then tokens = math.min(cap, tokens + (now - stamp) * rate) end
    tokens = tokens - cost
    redis.call('HSET', key, 'tokens', tokens, 'stamp', now)
    if not view then redis.call('PEXPIRE', key, 3600000) end
    if tokens < 0 then ready = math.max(ready, now - tokens / rate) end
  end
end
local hold = tonumber(redis.call('GET', KEYS[n+1]) or '0')
return tostring(math.max(ready, hold) - now)
"""
VIEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local remaining, rate, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'stamp', 'rate', 'cap')
local tokens = remaining
if b[1] then
  local old = tonumber(b[1])
  if now > tonumber(b[2]) then old = math.min(tonumber(b[4]), old + (now - tonumber(b[2])) * tonumber(b[3])) end
  tokens = math.min(old, remaining)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'stamp', now, 'rate', rate, 'cap', math.max(1, remaining))
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
"""
HOLD = """
local t = redis.call('TIME')
local until_ = tonumber(t[1]) + tonumber(t[2]) / 1e6 + tonumber(ARGV[1])
if until_ > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return 1
"""
REFUND = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local b = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
if not b[1] then return 0 end
local tokens = tonumber(b[1]) + (now - tonumber(b[2])) * tonumber(ARGV[1]) + tonumber(ARGV[3])
tokens = math.min(tonumber(ARGV[2]), tokens)
redis.call('HSET', KEYS[1], 'tokens', tokens, 'stamp', now)
return 1
"""


class RedisLimiter:
    """Shared buckets for one provider (``name``: its base URL and model) in Redis at ``url``."""

    def __init__(
        self,
        url: str,
        name: str,
        *,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        burst_seconds: float = 0.25,
        low_water: float = 0.1,
    ) -> None:
        redis = require("redis", feature="shared rate limits", extra="service")
        for limit in (requests_per_minute, tokens_per_minute):
            if limit is not None and limit <= 0:
                raise ConfigError(f"a rate limit must be positive (requests or tokens per minute), got {limit}")
        self.prefix = f"sentiforge:limits:{name}"
        self.rpm, self.tpm = requests_per_minute, tokens_per_minute
        self.burst_seconds, self.low_water = burst_seconds, low_water
        self._async: Any = redis.asyncio.Redis.from_url(url)  # type: ignore[attr-defined]
        self._sync: Any = redis.Redis.from_url(url)  # type: ignore[attr-defined]
        self._reserve = self._async.register_script(RESERVE)
        self.waited = 0.0

    def _key(self, what: str) -> str:
        return f"{self.prefix}:{what}"

    def _buckets(self, cost: int) -> tuple[list[str], list[float]]:
        keys: list[str] = []
        args: list[float] = []
        for what, per_minute, amount in (("rpm", self.rpm, 1.0), ("tpm", self.tpm, float(cost))):
            if per_minute is not None:
                rate = per_minute / 60.0
                keys.append(self._key(what))
                args += [rate, max(1.0, rate * self.burst_seconds), amount, 0]
        for dim, amount in (("requests", 1.0), ("tokens", float(cost))):
            keys.append(self._key(f"view:{dim}"))
            args += [1.0, 1.0, amount, -1]  # a view's rate and capacity are stored with it
        return keys, args

    async def acquire(self, cost: int) -> None:
        keys, args = self._buckets(cost)
        wait = float(await self._reserve(keys=[*keys, self._key("hold")], args=[len(keys), *args]))
        while wait > 0:
            self.waited += wait
            report_wait("shared", wait)
            await asyncio.sleep(wait)
            hold = await self._async.get(self._key("hold"))
            remaining = float(hold or 0) - float(await self._now())
            wait = remaining if remaining > 0.001 else 0.0

    async def _now(self) -> float:
        secs, micros = await self._async.time()
        return float(secs) + micros / 1e6

    def observe(
        self,
        *,
        cost: int,
        used: int | None = None,
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        if used is not None and self.tpm is not None and used < cost:
            rate = self.tpm / 60.0
            self._sync.eval(REFUND, 1, self._key("tpm"), rate, max(1.0, rate * self.burst_seconds), cost - used)
        if retry_after is not None and retry_after > 0:
            self._sync.eval(HOLD, 1, self._key("hold"), retry_after)
        for dim in ("requests", "tokens") if headers else ():
            self._observe_headers(dim, headers or {})

    def _observe_headers(self, dim: str, headers: Mapping[str, str]) -> None:
        remaining = _number(headers.get(f"x-ratelimit-remaining-{dim}"))
        if remaining is None:
            return
        limit = _number(headers.get(f"x-ratelimit-limit-{dim}"))
        reset = parse_duration(headers.get(f"x-ratelimit-reset-{dim}"))
        if remaining > (max(1.0, self.low_water * limit) if limit else 1.0):
            return  # plenty left; a view set earlier expires at its reset
        rate = limit / 60.0 if limit else (max(remaining, 1.0) / reset if reset else 1.0)
        ttl_ms = int(1000 * (reset if reset is not None else 60.0)) + 1
        self._sync.eval(VIEW, 1, self._key(f"view:{dim}"), max(0.0, remaining), rate, ttl_ms)


def shared_limiter(spec: Any, url: str) -> RedisLimiter | None:
    """The Redis limiter at ``url`` (SENTIFORGE_LIMITS_URL, handed down) for a backend spec;
    None when the URL is empty."""
    if not url:
        return None
    name = f"{spec.base_url}|{spec.model}"
    return RedisLimiter(
        url, name, requests_per_minute=spec.requests_per_minute, tokens_per_minute=spec.tokens_per_minute
    )


__all__ = ["RedisLimiter", "shared_limiter"]
