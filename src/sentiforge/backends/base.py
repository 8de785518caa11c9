"""The LLM backend seam: one request type, one response type, one method.

A backend turns a :class:`ChatRequest` into a :class:`Completion`. Everything around it
(response cache, token and cost accounting, budget, retries of invalid output) lives in
:mod:`sentiforge.backends.client`, so every backend gets it for free and a backend stays a
small class: an id, a model name, and ``complete``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    """What we ask a model. ``json_schema`` asks for JSON output validated by that schema;
    ``grammar_choices`` restricts the answer to one of a few strings (a judge's labels);
    ``top_logprobs`` asks for the log-probabilities of that many most likely first tokens
    (a judge that scores every label at once, see quality/label_judge.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    messages: tuple[Message, ...]
    temperature: float = Field(default=0.8, ge=0.0, le=2.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    max_tokens: int = Field(default=256, ge=1, le=32768)
    seed: int | None = None
    json_schema: dict[str, Any] | None = None
    grammar_choices: tuple[str, ...] | None = None
    stop: tuple[str, ...] = ()
    top_logprobs: int | None = Field(default=None, ge=1, le=20)

    def cache_key(self, backend_key: str) -> str:
        """Content hash of the request as sent to one backend/model."""
        fields = self.model_dump(mode="json")
        if fields["top_logprobs"] is None:  # keys of requests made before the field existed stay the same
            del fields["top_logprobs"]
        payload = json.dumps([backend_key, fields], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def prompt_chars(self) -> int:
        return sum(len(m.content) for m in self.messages)


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Completion(BaseModel):
    text: str
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    finish_reason: str | None = None
    cached: bool = False
    # the first generated token's most likely alternatives (token text -> log-probability),
    # when the request asked for ``top_logprobs`` and the backend gives them
    logprobs: dict[str, float] | None = None


@runtime_checkable
class Backend(Protocol):
    """An LLM that completes chat requests.

    ``key`` identifies backend *and* model (it goes into cache keys: the same request to a
    different model is a different request). ``max_concurrency`` is how many requests the
    engine may have in flight against it.
    """

    name: str
    model: str
    max_concurrency: int

    @property
    def key(self) -> str: ...

    async def complete(self, request: ChatRequest) -> Completion: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class BatchBackend(Protocol):
    """A backend whose provider also answers requests in batches (OpenAI's batch API: a lower
    price, answers within a day). A recipe's ``backend.batch_api`` sends a job's requests this
    way (engine/batching.py); a backend without these methods cannot batch."""

    def open_batches(self) -> BatchService:
        """The provider's files and batches endpoints (close them with ``aclose``)."""
        ...

    def batch_line(self, custom_id: str, request: ChatRequest) -> dict[str, Any]:
        """One line of a batch's input file: the request as this backend sends it."""
        ...

    def batch_completion(self, body: Any, request: ChatRequest) -> Completion:
        """The completion in one answer line's body, as billed (TransientBackendError when it holds none)."""
        ...

    def batch_answer(self, completion: Completion, request: ChatRequest) -> Completion:
        """That completion as :meth:`Backend.complete` returns it (InvalidOutputError when unusable)."""
        ...


class BatchService(Protocol):
    """A provider's batch endpoints, as engine/batching.py drives them (backends/openai_batch.py)."""

    async def upload(self, lines: list[dict[str, Any]]) -> str: ...

    async def create(self, input_file_id: str, metadata: dict[str, str]) -> dict[str, Any]: ...

    async def find(self, input_file_id: str) -> dict[str, Any] | None: ...

    async def wait(self, batch_id: str, *, longest: float, stopped: Callable[[], bool]) -> dict[str, Any] | None: ...

    async def outcomes(self, batch: dict[str, Any]) -> tuple[list[Any], list[str]]: ...

    def chunks(self, lines: list[dict[str, Any]]) -> list[list[dict[str, Any]]]: ...

    async def aclose(self) -> None: ...


def estimate_tokens(chars: int) -> int:
    """A cheap token estimate (about four characters a token for English and French)."""
    return max(1, chars // 4 + 1)
