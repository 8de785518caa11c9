import asyncio

import pytest

from sentiforge.backends import Accounting, ChatRequest, LLMClient, Message, Pricing, RetryPolicy
from sentiforge.errors import BudgetExceededError, PermanentBackendError, RateLimitedError, TransientBackendError
from sentiforge.testing import FakeBackend


def req(text: str = "hi", **kw: object) -> ChatRequest:
    return ChatRequest(messages=(Message(role="user", content=text),), **kw)  # type: ignore[arg-type]


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


async def test_cache_hit_sends_nothing_and_costs_nothing() -> None:
    fake = FakeBackend()
    client = LLMClient(fake, accounting=Accounting(pricing=Pricing(1.0, 2.0)))
    first = await client.complete(req())
    second = await client.complete(req())
    assert len(fake.history) == 1
    assert second.cached and not first.cached and second.text == first.text
    assert client.accounting.cache_hits == 1 and client.accounting.requests == 1
    assert client.cost_of(second) == 0.0 and client.cost_of(first) > 0


async def test_cache_key_depends_on_model_and_params() -> None:
    r = req()
    assert r.cache_key("a") != r.cache_key("b")
    assert r.cache_key("a") != req(temperature=0.1).cache_key("a")
    assert r.cache_key("a") == req().cache_key("a")


async def test_transient_errors_retry_with_backoff_and_retry_after() -> None:
    fake = FakeBackend()
    fake.enqueue([TransientBackendError("500"), RateLimitedError("429", retry_after=7.0), "ok"])
    sleeps = Sleeps()
    client = LLMClient(fake, retry=RetryPolicy(max_attempts=5, base_delay=1.0), sleep=sleeps)
    assert (await client.complete(req())).text == "ok"
    assert len(sleeps.calls) == 2
    assert 0 <= sleeps.calls[0] <= 1.0  # full jitter on the first backoff
    assert sleeps.calls[1] == 7.0  # the server's Retry-After wins


async def test_retries_are_bounded_and_permanent_errors_not_retried() -> None:
    fake = FakeBackend()
    fake.enqueue([TransientBackendError("x")] * 3)
    client = LLMClient(fake, retry=RetryPolicy(max_attempts=3), sleep=Sleeps())
    with pytest.raises(TransientBackendError):
        await client.complete(req())
    assert len(fake.history) == 3
    fake.enqueue([PermanentBackendError("401")])
    with pytest.raises(PermanentBackendError):
        await client.complete(req("other"))
    assert len(fake.history) == 4


async def test_budget_cap_refuses_before_spending() -> None:
    acc = Accounting(pricing=Pricing(input_per_mtok=1000.0, output_per_mtok=1000.0), max_cost=0.5)
    client = LLMClient(FakeBackend(), accounting=acc)
    await client.complete(req("a", max_tokens=100))
    with pytest.raises(BudgetExceededError, match="budget"):
        for i in range(100):
            await client.complete(req(f"b{i}", max_tokens=100))
    assert acc.cost <= 0.5


async def test_concurrency_is_bounded() -> None:
    inflight = 0
    peak = 0

    class Slow(FakeBackend):
        async def complete(self, request: ChatRequest):  # type: ignore[no-untyped-def]
            nonlocal inflight, peak
            inflight += 1
            peak = max(peak, inflight)
            await asyncio.sleep(0.01)
            inflight -= 1
            return await super().complete(request)

    client = LLMClient(Slow(max_concurrency=64), concurrency=4)
    await asyncio.gather(*(client.complete(req(str(i))) for i in range(40)))
    assert peak == 4
