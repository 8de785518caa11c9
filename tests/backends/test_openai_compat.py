"""The OpenAI-compatible backend against the real test server over loopback: request
mapping, JSON modes, every fault through LLMClient, Retry-After, concurrency, the API key."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
import traceback
from collections.abc import Iterator

import httpx
import pytest

from sentiforge.backends import from_spec
from sentiforge.backends.base import ChatRequest, Message
from sentiforge.backends.client import LLMClient, RetryPolicy
from sentiforge.backends.openai_compat import OpenAICompatBackend, retry_after_seconds, unwrap_choice
from sentiforge.errors import InvalidOutputError, PermanentBackendError, RateLimitedError, TransientBackendError
from sentiforge.recipe import BackendSpec
from sentiforge.testing import Fault, OpenAITestServer

SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


def ask(content: str = "Write one review.", **kw: object) -> ChatRequest:
    return ChatRequest(messages=(Message(role="user", content=content),), **kw)  # type: ignore[arg-type]


@pytest.fixture
def server() -> Iterator[OpenAITestServer]:
    with OpenAITestServer(retry_after=0.2, hang=20) as s:
        yield s


def backend_for(server: OpenAITestServer, **kw: object) -> OpenAICompatBackend:
    options: dict[str, object] = {"model": "test-model", "base_url": server.base_url, "timeout": 2.0, "concurrency": 4}
    options.update(kw)
    return OpenAICompatBackend(**options)  # type: ignore[arg-type]


# -- request mapping ---------------------------------------------------------------------------
async def test_maps_the_request_and_reads_usage(server: OpenAITestServer) -> None:
    backend = backend_for(server)
    request = ask(temperature=0.3, top_p=0.9, max_tokens=77, seed=5, stop=("\n\n",), json_schema=SCHEMA)
    completion = await backend.complete(request)
    await backend.aclose()
    body = server.requests[0].body
    assert body is not None
    assert body["model"] == "test-model"
    assert body["messages"] == [{"role": "user", "content": "Write one review."}]
    sampling = (body["temperature"], body["top_p"], body["max_tokens"], body["seed"], body["stop"])
    assert sampling == (0.3, 0.9, 77, 5, ["\n\n"])
    fmt = {"type": "json_schema", "json_schema": {"name": "answer", "schema": SCHEMA, "strict": False}}
    assert body["response_format"] == fmt
    assert isinstance(json.loads(completion.text)["text"], str)
    assert completion.usage.completion_tokens > 0 and completion.finish_reason == "stop"
    assert completion.model == server.model


async def test_plain_request_sends_no_response_format_or_empty_stop(server: OpenAITestServer) -> None:
    backend = backend_for(server)
    completion = await backend.complete(ask())
    await backend.aclose()
    body = server.requests[0].body
    assert body is not None and "response_format" not in body and "stop" not in body and "seed" not in body
    assert completion.text.endswith(".")


async def test_json_object_mode_sends_the_schema_inline(server: OpenAITestServer) -> None:
    backend = backend_for(server, json_mode="json_object")
    await backend.complete(ask(json_schema=SCHEMA))
    await backend.aclose()
    assert server.requests[0].body["response_format"] == {"type": "json_object", "schema": SCHEMA}  # type: ignore[index]


async def test_auto_mode_falls_back_to_json_object_once() -> None:
    with OpenAITestServer(json_modes=("json_object",)) as server:
        backend = backend_for(server)
        first = await backend.complete(ask("one", json_schema=SCHEMA))
        second = await backend.complete(ask("two", json_schema=SCHEMA))
        await backend.aclose()
    assert json.loads(first.text) and json.loads(second.text)
    assert [r.outcome for r in server.requests] == ["bad_request", "ok", "ok"]  # one refusal, then json_object only
    assert backend.effective_json_mode == "json_object"


async def test_fixed_json_schema_mode_reports_the_refusal() -> None:
    with OpenAITestServer(json_modes=("json_object",)) as server:
        backend = backend_for(server, json_mode="json_schema")
        with pytest.raises(PermanentBackendError, match="422"):
            await backend.complete(ask(json_schema=SCHEMA))
        await backend.aclose()


async def test_grammar_choices_are_unwrapped(server: OpenAITestServer) -> None:
    backend = backend_for(server)
    completion = await backend.complete(ask(grammar_choices=("negative", "neutral", "positive")))
    await backend.aclose()
    assert completion.text == "negative"  # the server fills the enum with its first value
    schema = server.requests[0].body["response_format"]["json_schema"]["schema"]  # type: ignore[index]
    assert schema["properties"]["answer"]["enum"] == ["negative", "neutral", "positive"]


def test_unwrap_choice_accepts_wrapped_or_bare_and_rejects_the_rest() -> None:
    choices = ("yes", "no")
    assert unwrap_choice('{"answer": "no"}', choices) == "no"
    assert unwrap_choice(" yes\n", choices) == "yes"
    for bad in ['{"answer": "maybe"}', "maybe", '{"label": "yes"}', ""]:
        with pytest.raises(InvalidOutputError):
            unwrap_choice(bad, choices)


def test_from_spec_builds_the_backend_with_its_limits() -> None:
    spec = BackendSpec(
        kind="openai", model="m", base_url="http://127.0.0.1:9/v1/", concurrency=12, requests_per_minute=600
    )
    backend = from_spec(spec)
    assert isinstance(backend, OpenAICompatBackend)
    assert backend.max_concurrency == 12 and backend.key == "openai:http://127.0.0.1:9/v1:m"
    assert backend.limiter.requests is not None and backend.limiter.requests.rate == 10.0  # type: ignore[attr-defined]


# -- errors and retries ------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["server_error", "timeout", "truncated", "not_json", "no_choices", "rate_limit_bare"])
async def test_transient_faults_are_retried_until_success(server: OpenAITestServer, fault: str) -> None:
    server.script(fault)
    backend = backend_for(server, timeout=0.5)
    client = LLMClient(backend, retry=FAST_RETRY)
    completion = await client.complete(ask(json_schema=SCHEMA))
    await client.aclose()
    assert json.loads(completion.text)["text"]
    assert [r.outcome for r in server.requests] == [fault, "ok"]
    assert client.retries == 1
    assert server.requests[0].body_hash == server.requests[1].body_hash  # the same request, resent


async def test_transient_error_messages_say_what_happened(server: OpenAITestServer) -> None:
    backend = backend_for(server, timeout=0.3)
    expected = {
        "server_error": "HTTP 500",
        "timeout": "did not answer within 0.3s",
        "truncated": "connection",
        "not_json": "not JSON",
        "no_choices": "without choices",
    }
    for fault, words in expected.items():
        server.script(fault)
        with pytest.raises(TransientBackendError, match=words):
            await backend.complete(ask())
    await backend.aclose()


async def test_connection_refused_is_transient() -> None:
    backend = OpenAICompatBackend(model="m", base_url="http://127.0.0.1:9/v1", timeout=1.0)
    with pytest.raises(TransientBackendError, match="cannot connect"):
        await backend.complete(ask())
    await backend.aclose()


async def test_retry_after_is_honoured(server: OpenAITestServer) -> None:
    server.script(Fault("rate_limit", retry_after=1.0))
    client = LLMClient(backend_for(server))
    await client.complete(ask())
    await client.aclose()
    first, second = server.requests
    waited = second.started - first.finished
    assert 0.95 <= waited < 2.5, waited  # the server's 1 s, not a backoff of up to 0.5 s


async def test_retry_after_as_http_date_is_honoured(server: OpenAITestServer) -> None:
    when = email.utils.formatdate(time.time() + 2, usegmt=True)  # whole seconds: waits 1 to 2 s
    server.script(Fault("rate_limit", headers={"Retry-After": when}))
    client = LLMClient(backend_for(server))
    await client.complete(ask())
    await client.aclose()
    first, second = server.requests
    assert 0.9 <= second.started - first.finished < 3.5


async def test_429_without_retry_after_uses_the_reset_header(server: OpenAITestServer) -> None:
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "600ms"}
    server.script(Fault("rate_limit_bare", headers=headers))
    backend = backend_for(server)
    with pytest.raises(RateLimitedError) as info:
        await backend.complete(ask())
    assert info.value.retry_after == pytest.approx(0.6)
    started = time.monotonic()
    await backend.complete(ask())  # every new request is held until then
    assert time.monotonic() - started >= 0.5
    await backend.aclose()


def test_retry_after_parsing() -> None:
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "1"}) == 0.25
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:05 GMT"}, now=1445412480.0) == pytest.approx(5.0)
    assert retry_after_seconds({"x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s"}) == 1.0
    assert (
        retry_after_seconds(
            {
                "x-ratelimit-reset-requests": "1s",
                "x-ratelimit-reset-tokens": "6m0s",
                "x-ratelimit-remaining-tokens": "0",
            }
        )
        == 360.0
    )
    assert retry_after_seconds({"x-ratelimit-reset-requests": "20ms", "x-ratelimit-remaining-requests": "0"}) == 0.02
    assert retry_after_seconds({"retry-after": "whenever"}) is None
    assert retry_after_seconds({}) is None


async def test_bad_request_is_not_retried(server: OpenAITestServer) -> None:
    server.script("bad_request")
    client = LLMClient(backend_for(server), retry=FAST_RETRY)
    with pytest.raises(PermanentBackendError, match=r"HTTP 400.*check the model name"):
        await client.complete(ask())
    await client.aclose()
    assert len(server.requests) == 1 and client.retries == 0


async def test_insufficient_quota_is_permanent() -> None:
    body = b'{"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}}'
    backend = OpenAICompatBackend(model="m", base_url="http://127.0.0.1:9/v1")
    response = httpx.Response(
        429, content=body, request=httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    )
    error = backend._error(response, None)
    await backend.aclose()
    assert isinstance(error, PermanentBackendError) and "quota is used up" in str(error)


async def test_empty_completion_is_returned_as_is(server: OpenAITestServer) -> None:
    server.script("empty")
    backend = backend_for(server)
    completion = await backend.complete(ask(json_schema=SCHEMA))
    await backend.aclose()
    assert completion.text == "" and completion.usage.prompt_tokens > 0


# -- concurrency and rate limits ---------------------------------------------------------------
@pytest.mark.parametrize("concurrency", [4, 20])  # 20: three connection shards, still 20 at once
async def test_concurrency_bound_is_seen_server_side(concurrency: int) -> None:
    with OpenAITestServer(latency=0.05) as server:
        client = LLMClient(backend_for(server, concurrency=concurrency))
        await asyncio.gather(*(client.complete(ask(f"review {i}")) for i in range(3 * concurrency)))
        await client.aclose()
    assert server.max_in_flight == concurrency
    assert len(server.requests) == 3 * concurrency and server.answered_twice() == []


async def test_headers_near_zero_slow_the_client(server: OpenAITestServer) -> None:
    server.script("low_headers")  # remaining 0 of 60/min: one request a second
    backend = backend_for(server)
    for i in range(3):
        await backend.complete(ask(f"review {i}"))
    await backend.aclose()
    first, second, third = server.requests
    assert second.started - first.finished >= 0.9
    assert third.started - second.finished < 0.9  # the provider's reset (1s) has passed


async def test_configured_rpm_stays_under_a_server_limit() -> None:
    with OpenAITestServer(rpm_limit=600, rpm_burst_seconds=0.5) as server:  # 10/s, burst 5
        spec = BackendSpec(kind="openai", model="m", base_url=server.base_url, concurrency=8, requests_per_minute=600)
        client = LLMClient(from_spec(spec))
        started = time.monotonic()
        await asyncio.gather(*(client.complete(ask(f"review {i}")) for i in range(25)))
        elapsed = time.monotonic() - started
        await client.aclose()
    assert server.counts["rpm_limited"] == 0 and server.counts["ok"] == 25
    assert elapsed >= 1.5  # (25 - burst) / 10 per second


# -- the API key -------------------------------------------------------------------------------
SECRET = "sk-test-0123456789abcdefSECRET"


async def test_key_is_read_at_request_time_and_never_leaks(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with OpenAITestServer(api_key=SECRET) as server:
        backend = OpenAICompatBackend(model="m", base_url=server.base_url, api_key_env="SENTIFORGE_TEST_KEY")
        monkeypatch.setenv("SENTIFORGE_TEST_KEY", SECRET + "-wrong")  # the server echoes wrong keys back
        with pytest.raises(PermanentBackendError) as info:
            await backend.complete(ask())
        monkeypatch.setenv("SENTIFORGE_TEST_KEY", SECRET)  # no restart needed: read per request
        completion = await backend.complete(ask())
        await backend.aclose()
    assert completion.text and [r.outcome for r in server.requests] == ["unauthorized", "ok"]
    message = str(info.value)
    assert "HTTP 401" in message and "SENTIFORGE_TEST_KEY" in message and "***" in message
    shown = [message, repr(info.value), "".join(traceback.format_exception(info.value)), repr(backend), caplog.text]
    shown += [repr(vars(backend))]
    for text in shown:
        assert SECRET not in text and SECRET[:12] not in text


async def test_no_key_sends_no_authorization_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENTIFORGE_TEST_KEY", raising=False)
    with OpenAITestServer(api_key=SECRET) as server:
        backend = OpenAICompatBackend(model="m", base_url=server.base_url, api_key_env="SENTIFORGE_TEST_KEY")
        with pytest.raises(PermanentBackendError, match="set the environment variable SENTIFORGE_TEST_KEY"):
            await backend.complete(ask())
        await backend.aclose()


@pytest.mark.parametrize("body", [{"choices": ["oops"]}, {"choices": [{"message": "oops"}]}, {"error": {}}, [1, 2]])
async def test_odd_200_bodies_are_transient(body: object) -> None:
    backend = OpenAICompatBackend(model="m", base_url="http://127.0.0.1:9/v1")
    response = httpx.Response(200, json=body, request=httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions"))
    with pytest.raises(TransientBackendError, match="without choices"):
        backend._parse(ask(), response)
    await backend.aclose()
