"""The OpenAI chat-completions format over HTTP, for any provider that speaks it.

The provider is only a base URL and a key, so OpenAI, vLLM, Ollama and llama.cpp's server
all use this one class. It maps one :class:`ChatRequest` to one HTTP call and every failure
to the error hierarchy: transient ones (429, 5xx, timeouts, broken bodies) for LLMClient to
retry, permanent ones (400, 401, 403, 404) with a message saying what to fix. It never
retries by itself, except once to switch JSON mode when a server rejects the first one.

The API key is read from the environment variable the spec names, at each request: it is
never stored on this object, written to disk, logged, or put into an error message.

JSON mode (``json_mode``): ``json_schema`` sends OpenAI's structured-output format, which
OpenAI, vLLM, llama.cpp's llama-server, Ollama and LM Studio accept; ``json_object`` sends
``{"type": "json_object", "schema": ...}`` (llama-cpp-python's server, older Ollama);
``none`` sends no response_format and relies on the prompt. The default ``auto`` starts
with ``json_schema``, the format of OpenAI and of most servers, and if the server refuses
it (a 400/422, or llama-cpp-python's 500, naming ``response_format`` and ``json_schema``),
switches to ``json_object`` for the rest of this backend's life: one wasted call per run
instead of a setting users must know about.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import aiohttp

from sentiforge.backend_spec import JsonMode
from sentiforge.backends.adaptive import AdaptiveRate
from sentiforge.backends.base import ChatRequest, Completion, Usage, estimate_tokens
from sentiforge.backends.http import CONNECT_TIMEOUT, HttpPool, Response
from sentiforge.backends.openai_batch import BatchAPI, request_line
from sentiforge.backends.ratelimit import Limiter, RateLimiter, parse_duration
from sentiforge.config import DEFAULT_API_KEY_ENV
from sentiforge.errors import (
    ConfigError,
    InvalidOutputError,
    PermanentBackendError,
    RateLimitedError,
    TransientBackendError,
)

if TYPE_CHECKING:
    from sentiforge.backend_spec import OpenAISpec

log = logging.getLogger(__name__)


DEFAULT_BASE_URL = "https://api.openai.com/v1"
CHOICE_KEY = "answer"
_TRANSIENT_STATUS = {408, 409, 425, 429}
_HINTS = {
    400: "the server rejected the request; check the model name and the recipe's generation options",
    401: "the server refused the API key; set the environment variable {env} to a valid key",
    403: "the API key is not allowed to use this model or endpoint; check the key's permissions (variable {env})",
    404: "no such model or endpoint; check backend.model and backend.base_url (it usually ends in /v1)",
    422: "the server could not process the request; check the model name and the recipe's generation options",
}


class OpenAICompatBackend:
    name = "openai"

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key_env: str = DEFAULT_API_KEY_ENV,
        concurrency: int = 8,
        timeout: float = 60.0,
        json_mode: JsonMode = "auto",
        limiter: Limiter | None = None,
        adaptive: AdaptiveRate | None = None,
        gbnf_choices: bool = False,
    ) -> None:
        self.model = model
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.api_key_env = api_key_env
        self.max_concurrency = concurrency
        self.timeout = timeout
        self.json_mode: JsonMode = json_mode
        self._fallback = False  # auto mode: the server rejected json_schema once, use json_object
        self.limiter: Limiter = limiter or RateLimiter()
        # without a configured limit, the sending rate adapts to 429s (backends/adaptive.py)
        self.adaptive = adaptive
        # llama.cpp's server takes a GBNF ``grammar``: label choices go as the bare strings
        # instead of a JSON object around them (fewer tokens, no wrapper to cut short)
        self.gbnf_choices = gbnf_choices
        self._pool = HttpPool(self.base_url + "/chat/completions", concurrency, timeout)

    @classmethod
    def from_spec(cls, spec: OpenAISpec, *, limits_url: str = "") -> OpenAICompatBackend:
        """The backend a recipe names; its rate limits shared in Redis at ``limits_url``
        (SENTIFORGE_LIMITS_URL, handed down) when given, else kept in this process."""
        from sentiforge.backends.redis_limits import shared_limiter

        limiter = shared_limiter(spec, limits_url) or RateLimiter(
            requests_per_minute=spec.requests_per_minute, tokens_per_minute=spec.tokens_per_minute
        )
        return cls(
            model=spec.model,
            base_url=spec.base_url,
            api_key_env=spec.api_key_env,
            concurrency=spec.concurrency,
            timeout=spec.timeout,
            json_mode=spec.json_mode,
            limiter=limiter,
            adaptive=None if spec.requests_per_minute else AdaptiveRate(),
        )

    @property
    def key(self) -> str:
        return f"openai:{self.base_url}:{self.model}"

    def __repr__(self) -> str:
        # the key's variable name, never its value
        return f"OpenAICompatBackend(base_url={self.base_url!r}, model={self.model!r}, api_key_env={self.api_key_env})"

    async def aclose(self) -> None:
        await self._pool.aclose()

    # -- request ----------------------------------------------------------------------------
    @property
    def effective_json_mode(self) -> Literal["json_schema", "json_object", "none"]:
        if self.json_mode == "auto":
            return "json_object" if self._fallback else "json_schema"
        return self.json_mode

    def body(self, request: ChatRequest, mode: str | None = None) -> dict[str, Any]:
        """The JSON body for one request, in the given (default: current) JSON mode."""
        mode = mode or self.effective_json_mode
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        if request.stop:
            body["stop"] = list(request.stop)
        if request.top_logprobs:
            body["logprobs"] = True
            body["top_logprobs"] = request.top_logprobs
        if request.grammar_choices and self.gbnf_choices:
            body["grammar"] = choices_grammar(request.grammar_choices)
            return body
        schema = choices_schema(request.grammar_choices) if request.grammar_choices else request.json_schema
        if schema is not None and mode != "none":
            body["response_format"] = response_format(schema, "json_object" if mode == "json_object" else "json_schema")
        return body

    # -- the provider's batch API (it can batch: backends.base.BatchBackend) ---------------
    def open_batches(self) -> BatchAPI:
        return BatchAPI(self.base_url, api_key_env=self.api_key_env, timeout=self.timeout)

    def batch_line(self, custom_id: str, request: ChatRequest) -> dict[str, Any]:
        return request_line(custom_id, self.body(request))

    def batch_completion(self, body: Any, request: ChatRequest) -> Completion:
        return completion_from_body(body, request, self.model)

    def batch_answer(self, completion: Completion, request: ChatRequest) -> Completion:
        if request.grammar_choices:
            completion = completion.model_copy(update={"text": unwrap_choice(completion.text, request.grammar_choices)})
        return completion

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env, "").strip()
        return {"Authorization": f"Bearer {key}"} if key else {}

    async def complete(self, request: ChatRequest) -> Completion:
        if self.adaptive is None:
            return await self._complete(request)
        sent = await self.adaptive.acquire()
        outcome = "failed"
        try:
            completion = await self._complete(request)
            outcome = "ok"
        except RateLimitedError:
            outcome = "limited"
            raise
        finally:
            self.adaptive.release(sent, limited=outcome == "limited", ok=outcome == "ok")
        return completion

    async def _complete(self, request: ChatRequest) -> Completion:
        cost = estimate_tokens(request.prompt_chars()) + request.max_tokens
        await self.limiter.acquire(cost)
        mode = self.effective_json_mode
        response = await self._post(request, mode)
        if self.json_mode == "auto" and mode == "json_schema" and _rejects_json_schema(request, response):
            if not self._fallback:
                log.info("%s rejected response_format json_schema; switching to json_object", self.base_url)
            self._fallback = True
            response = await self._post(request, "json_object")
        if response.status_code != 200:
            retry_after = retry_after_seconds(response.headers) if response.status_code == 429 else None
            self.limiter.observe(cost=cost, headers=response.headers, retry_after=retry_after)
            raise self._error(response, retry_after)
        completion = self._parse(request, response)
        self.limiter.observe(cost=cost, used=completion.usage.total_tokens, headers=response.headers)
        if request.grammar_choices:
            completion = completion.model_copy(update={"text": unwrap_choice(completion.text, request.grammar_choices)})
        return completion

    async def _post(self, request: ChatRequest, mode: str) -> Response:
        """One HTTP call; transport failures become TransientBackendError."""
        started = time.monotonic()
        content = json.dumps(self.body(request, mode))
        try:
            response = await self._pool.post(content, self._headers())
        except aiohttp.ConnectionTimeoutError as exc:
            raise TransientBackendError(
                f"cannot connect to {self.base_url} (no connection within {CONNECT_TIMEOUT:g}s); "
                "check that the server runs and backend.base_url is right"
            ) from exc
        except TimeoutError as exc:
            raise TransientBackendError(
                f"{self.base_url} did not answer within {self.timeout:g}s ({type(exc).__name__}); "
                "raise backend.timeout if the model is just slow"
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            raise TransientBackendError(
                f"cannot connect to {self.base_url} ({exc}); check that the server runs and backend.base_url is right"
            ) from exc
        except aiohttp.ClientError as exc:
            raise TransientBackendError(
                f"the connection to {self.base_url} broke after {time.monotonic() - started:.1f}s: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return response

    # -- response ---------------------------------------------------------------------------
    def _parse(self, request: ChatRequest, response: Response) -> Completion:
        try:
            data = response.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise TransientBackendError(
                f"{self.base_url} answered 200 with a body that is not JSON: {self._snippet(response)}"
            ) from exc
        try:
            return completion_from_body(data, request, self.model)
        except TransientBackendError as exc:
            raise TransientBackendError(f"{self.base_url} answered 200 {exc}: {self._snippet(response)}") from exc

    def _error(self, response: Response, retry_after: float | None) -> Exception:
        status = response.status_code
        where = f"{self.base_url} answered HTTP {status}"
        detail = self._snippet(response)
        if status == 429:
            if _error_code(response) == "insufficient_quota":
                return PermanentBackendError(f"{where}: the account's quota is used up; add credit or a key: {detail}")
            wait = f"retry after {retry_after:g}s" if retry_after is not None else "no Retry-After given"
            return RateLimitedError(f"{where} (rate limited, {wait}): {detail}", retry_after=retry_after)
        if status >= 500 or status in _TRANSIENT_STATUS:
            return TransientBackendError(f"{where} (server side, will retry): {detail}")
        hint = _HINTS.get(status, "the server refused the request").format(env=self.api_key_env)
        return PermanentBackendError(f"{where}: {hint}. Server said: {detail}")

    def _snippet(self, response: Response, limit: int = 300) -> str:
        """The start of a body for an error message, with the API key blanked out if echoed."""
        try:
            text = response.text
        except (UnicodeDecodeError, LookupError):
            text = repr(response.content[:limit])
        text = " ".join(text.split())[:limit] or "<empty body>"
        key = os.environ.get(self.api_key_env, "").strip()
        if key:
            text = text.replace(key, "***")
            if len(key) > 8:
                text = text.replace(key[:8], "***")
        return repr(text)


# -- helpers, pure functions -----------------------------------------------------------------
def response_format(schema: dict[str, Any], mode: Literal["json_schema", "json_object"]) -> dict[str, Any]:
    if mode == "json_object":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": False}}


def schema_from_response_format(fmt: Any) -> dict[str, Any] | None:
    """The JSON schema inside either response_format style (used by the test server)."""
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") == "json_schema":
        inner = fmt.get("json_schema") or {}
        schema = inner.get("schema") if isinstance(inner, dict) else None
        return schema if isinstance(schema, dict) else None
    if fmt.get("type") == "json_object":
        schema = fmt.get("schema")
        return schema if isinstance(schema, dict) else {"type": "object"}
    return None


def choices_grammar(choices: tuple[str, ...]) -> str:
    """A GBNF grammar whose only sentences are the given strings."""
    if not choices or any(not c for c in choices):
        raise ConfigError(f"grammar_choices must be non-empty strings, got {list(choices)!r}")
    escaped = [c.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for c in choices]
    return "root ::= " + " | ".join(f'"{c}"' for c in escaped)


def choices_schema(choices: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {CHOICE_KEY: {"type": "string", "enum": list(choices)}},
        "required": [CHOICE_KEY],
    }


def unwrap_choice(text: str, choices: tuple[str, ...]) -> str:
    """The chosen string from ``{"answer": choice}`` (or a bare choice, if the server ignored
    the schema); anything else is an InvalidOutputError."""
    stripped = text.strip()
    if stripped in choices:
        return stripped
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict):
        value = value.get(CHOICE_KEY)
    if isinstance(value, str) and value.strip() in choices:
        return value.strip()
    raise InvalidOutputError(f"the answer is not one of {list(choices)}: {text[:80]!r}", raw=text)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """How long a 429 asks us to wait: retry-after-ms, Retry-After (seconds or HTTP-date),
    else the reset time of the exhausted x-ratelimit dimension."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is not None:
        seconds = _retry_after_value(value, now)
        if seconds is not None:
            return seconds
    return _reset_from_headers(headers)


def _retry_after_value(value: str, now: float | None) -> float | None:
    value = value.strip()
    try:
        seconds = float(value)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _reset_from_headers(headers: Mapping[str, str]) -> float | None:
    exhausted, known = [], []
    for dim in ("requests", "tokens"):
        reset = parse_duration(headers.get(f"x-ratelimit-reset-{dim}"))
        if reset is None:
            continue
        known.append(reset)
        if headers.get(f"x-ratelimit-remaining-{dim}", "").strip() in {"0", "0.0"}:
            exhausted.append(reset)
    if exhausted:
        return max(exhausted)
    return min(known) if known else None


def completion_from_body(data: Any, request: ChatRequest, model: str) -> Completion:
    """The completion in a chat-completions JSON body (an HTTP answer or a batch output line);
    TransientBackendError ("without choices", "with non-text content") when it holds none."""
    try:
        choice = data["choices"][0]
        text = (choice.get("message") or {}).get("content") or ""
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise TransientBackendError("without choices") from exc
    if not isinstance(text, str):
        raise TransientBackendError("with non-text content")
    return Completion(
        text=text,
        usage=_usage(data.get("usage"), request, text),
        model=str(data.get("model") or model),
        finish_reason=choice.get("finish_reason"),
        logprobs=first_token_logprobs(choice) if request.top_logprobs else None,
    )


def first_token_logprobs(choice: Any) -> dict[str, float] | None:
    """The first generated token's alternatives (token text -> log-probability) from a
    chat-completions choice (``logprobs.content[0].top_logprobs``); None when absent or
    malformed. Two token ids with the same text add up their probabilities."""
    try:
        first = choice["logprobs"]["content"][0]
        alternatives = first.get("top_logprobs") or [first]
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    found: dict[str, float] = {}
    for item in alternatives:
        token, value = (item.get("token"), item.get("logprob")) if isinstance(item, dict) else (None, None)
        if not isinstance(token, str) or not isinstance(value, int | float) or not math.isfinite(value):
            continue
        found[token] = _logaddexp(found[token], float(value)) if token in found else float(value)
    return found or None


def _logaddexp(a: float, b: float) -> float:
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


def _usage(raw: Any, request: ChatRequest, text: str) -> Usage:
    prompt = raw.get("prompt_tokens") if isinstance(raw, dict) else None
    completion = raw.get("completion_tokens") if isinstance(raw, dict) else None
    return Usage(
        prompt_tokens=prompt if isinstance(prompt, int) else estimate_tokens(request.prompt_chars()),
        completion_tokens=completion if isinstance(completion, int) else estimate_tokens(len(text)),
    )


def _error_code(response: Response) -> str | None:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return None
    return str(error.get("code") or error.get("type")) if isinstance(error, dict) else None


def _rejects_json_schema(request: ChatRequest, response: Response) -> bool:
    """A refusal naming response_format and json_schema (llama-cpp-python's server says so in a 500)."""
    asked = request.json_schema is not None or bool(request.grammar_choices)
    if not asked or response.status_code not in {400, 422, 500}:
        return False
    text = response.text
    return "response_format" in text and "json_schema" in text


__all__ = [
    "OpenAICompatBackend",
    "choices_grammar",
    "choices_schema",
    "completion_from_body",
    "first_token_logprobs",
    "response_format",
    "retry_after_seconds",
    "schema_from_response_format",
    "unwrap_choice",
]
