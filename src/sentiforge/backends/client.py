"""What every backend gets for free: response cache, retries, token/cost accounting, budget.

The engine and the strategies talk to an :class:`LLMClient`, never to a backend directly.
Order of a call: cache lookup (a hit costs nothing and sends nothing) -> budget reservation
-> bounded concurrency -> backend call, retried on transient errors with exponential
backoff and full jitter (a server's Retry-After wins) -> accounting -> cache write.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from pydantic import ConfigDict, Field, PrivateAttr

from sentiforge.backends.base import Backend, ChatRequest, Completion, Usage, estimate_tokens
from sentiforge.backends.ratelimit import report_wait
from sentiforge.counters import Spend
from sentiforge.errors import BudgetExceededError, RateLimitedError, TransientBackendError


class ResponseCache(Protocol):
    """Stores completions by request content hash: the store's ``SqlCache`` (the default),
    ``RedisCache`` (backends/redis_cache.py, SENTIFORGE_CACHE_URL) and, in memory,
    :class:`MemoryCache`."""

    def get(self, key: str) -> Completion | None: ...

    def put(self, key: str, completion: Completion) -> None: ...


class MemoryCache:
    def __init__(self) -> None:
        self._data: dict[str, Completion] = {}

    def get(self, key: str) -> Completion | None:
        return self._data.get(key)

    def put(self, key: str, completion: Completion) -> None:
        self._data[key] = completion

    def __len__(self) -> int:
        return len(self._data)


@dataclass(frozen=True)
class Pricing:
    """US dollars per million tokens. Local models cost nothing."""

    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0

    def cost(self, usage: Usage) -> float:
        return (usage.prompt_tokens * self.input_per_mtok + usage.completion_tokens * self.output_per_mtok) / 1e6

    def scaled(self, factor: float) -> Pricing:
        """These prices times ``factor`` (a provider batch's discount)."""
        return Pricing(self.input_per_mtok * factor, self.output_per_mtok * factor)


class Accounting(Spend):
    """Running totals for one job (its :class:`~sentiforge.counters.Spend`). ``max_cost`` /
    ``max_total_tokens`` are the budget cap."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    pricing: Pricing = Field(default_factory=Pricing)
    max_cost: float | None = None
    max_total_tokens: int | None = None
    _reserved_cost: float = PrivateAttr(default=0.0)
    _reserved_tokens: int = PrivateAttr(default=0)

    def reserve(self, request: ChatRequest, pricing: Pricing | None = None) -> tuple[float, int]:
        """Claim the most this request can cost (at ``pricing``, default the job's), or raise
        BudgetExceededError."""
        tokens = estimate_tokens(request.prompt_chars()) + request.max_tokens
        cost = (pricing or self.pricing).cost(
            Usage(prompt_tokens=tokens - request.max_tokens, completion_tokens=request.max_tokens)
        )
        if self.max_cost is not None and self.cost + self._reserved_cost + cost > self.max_cost:
            raise BudgetExceededError(
                f"the job's budget of ${self.max_cost:.4f} would be exceeded (spent ${self.cost:.4f}); "
                "raise --max-cost or resume the job later with a larger budget"
            )
        used = self.prompt_tokens + self.completion_tokens
        if self.max_total_tokens is not None and used + self._reserved_tokens + tokens > self.max_total_tokens:
            raise BudgetExceededError(
                f"the job's budget of {self.max_total_tokens} tokens would be exceeded (used {used}); "
                "raise --max-tokens-total or resume the job later with a larger budget"
            )
        self._reserved_cost += cost
        self._reserved_tokens += tokens
        return cost, tokens

    def release(self, reservation: tuple[float, int]) -> None:
        self._reserved_cost -= reservation[0]
        self._reserved_tokens -= reservation[1]

    def record(self, usage: Usage, pricing: Pricing | None = None) -> float:
        """Count one paid answer, at ``pricing`` (a provider batch's discount) or the job's prices."""
        self.requests += 1
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        spent = (pricing or self.pricing).cost(usage)
        self.cost += spent
        return spent


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter; Retry-After from the server overrides it."""

    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay * 4)
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


Sleep = Callable[[float], Awaitable[None]]


class LLMClient:
    """A backend plus cache, retries, accounting and the budget cap."""

    def __init__(
        self,
        backend: Backend,
        *,
        cache: ResponseCache | None = None,
        accounting: Accounting | None = None,
        retry: RetryPolicy | None = None,
        concurrency: int | None = None,
        sleep: Sleep = asyncio.sleep,
        seed: int = 0,
        cache_scope: str = "",
    ) -> None:
        self.backend = backend
        self.cache_scope = cache_scope  # set: cache keys of its own (a job that must not reuse others' answers)
        self.cache = cache if cache is not None else MemoryCache()
        self.accounting = accounting or Accounting()
        self.retry = retry or RetryPolicy()
        limit = min(concurrency or backend.max_concurrency, backend.max_concurrency)
        self.concurrency = max(1, limit)
        self._semaphore = asyncio.Semaphore(self.concurrency)
        self._sleep = sleep
        self._rng = random.Random(seed)
        self.retries = 0

    def key(self, request: ChatRequest) -> str:
        """The request's cache key: by content, within this client's scope when it has one."""
        return request.cache_key(f"{self.backend.key}|{self.cache_scope}" if self.cache_scope else self.backend.key)

    async def complete(self, request: ChatRequest) -> Completion:
        key = self.key(request)
        hit = self.cache.get(key)
        if hit is not None:
            self.accounting.cache_hits += 1
            return hit.model_copy(update={"cached": True})
        reservation = self.accounting.reserve(request)
        try:
            completion = await self._call_with_retries(request)
        finally:
            self.accounting.release(reservation)
        self.accounting.record(completion.usage)
        self.cache.put(key, completion)
        return completion

    def cost_of(self, completion: Completion) -> float:
        return 0.0 if completion.cached else self.accounting.pricing.cost(completion.usage)

    async def _call_with_retries(self, request: ChatRequest) -> Completion:
        attempt = 0
        while True:
            try:
                async with self._semaphore:
                    return await self.backend.complete(request)
            except TransientBackendError as exc:
                attempt += 1
                if attempt >= self.retry.max_attempts:
                    raise
                self.retries += 1
                delay = self.retry.delay(attempt - 1, exc.retry_after, self._rng)
                if isinstance(exc, RateLimitedError):
                    report_wait("retry_after", delay)
                await self._sleep(delay)

    async def aclose(self) -> None:
        await self.backend.aclose()
