"""A deterministic, seeded backend for tests and for dry runs of recipes.

By default it answers any request by filling the request's JSON schema with words chosen
by a hash of the request (so the same request always gets the same answer, and different
requests get different answers). Tests steer it like simonw/llm's mock model: ``enqueue``
exact answers, or pass ``responder`` to compute one; ``history`` keeps the latest requests
(10,000 by default) and ``requests`` counts them all.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections import deque
from collections.abc import Callable
from typing import Any

from sentiforge.backends.base import ChatRequest, Completion, Usage, estimate_tokens

_VOCABULARY = (
    "the service was quick and the staff answered every question about my order delivery arrived "
    "late but support fixed the billing issue within a day screen battery keyboard price refund "
    "manager app update login password account really honestly frankly absolutely somewhat slightly "
    "never always again today great terrible fine awful lovely broken smooth slow friendly rude "
    "clear confusing "
)
_WORDS = tuple(_VOCABULARY.split())

# a responder may answer a dict (token -> log-probability): the first token's alternatives of a
# request that asked for ``top_logprobs``; the text is then the most likely token
Responder = Callable[[ChatRequest], str | Exception | dict[str, float]]


class FakeBackend:
    name = "fake"

    def __init__(
        self,
        *,
        model: str = "fake-1",
        seed: int = 0,
        latency: float = 0.0,
        responder: Responder | None = None,
        max_concurrency: int = 64,
        history_limit: int | None = 10_000,
        distinct_texts: int | None = None,
    ) -> None:
        self.model = model
        # a model that repeats itself: every answer's text is one of this many (None: all differ)
        self.distinct_texts = distinct_texts
        self.seed = seed
        self.latency = latency
        self.responder = responder
        self.max_concurrency = max_concurrency
        # the most recent requests, for tests to inspect; bounded so a 100k-sample job stays small
        self.history: deque[ChatRequest] = deque(maxlen=history_limit)
        self.requests = 0
        self._queue: deque[str | Exception | dict[str, float]] = deque()

    @property
    def key(self) -> str:
        return f"fake:{self.model}:{self.seed}"

    def enqueue(self, answers: list[str | Exception | dict[str, float]]) -> None:
        """Answer the next requests with these texts (or raise these errors), in order."""
        self._queue.extend(answers)

    async def complete(self, request: ChatRequest) -> Completion:
        self.history.append(request)
        self.requests += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        if self._queue:
            answer: str | Exception | dict[str, float] = self._queue.popleft()
        elif self.responder is not None:
            answer = self.responder(request)
        else:
            answer = self.default_answer(request)
        if isinstance(answer, Exception):
            raise answer
        logprobs = None
        if isinstance(answer, dict):
            logprobs = answer if request.top_logprobs else None
            answer = max(answer, key=answer.__getitem__)
        return Completion(
            logprobs=logprobs,
            text=answer,
            model=self.model,
            finish_reason="stop",
            usage=Usage(
                prompt_tokens=estimate_tokens(request.prompt_chars()),
                completion_tokens=estimate_tokens(len(answer)),
            ),
        )

    async def aclose(self) -> None:
        return None

    def default_answer(self, request: ChatRequest) -> str:
        digest = hashlib.sha256(f"{self.seed}|{request.model_dump_json()}".encode()).digest()
        rng = random.Random(digest)
        if request.grammar_choices:
            return rng.choice(request.grammar_choices)
        if request.json_schema is not None:
            value = _fill(request.json_schema, rng)
            if self.distinct_texts and isinstance(value, dict) and "text" in value:
                value["text"] = self._repeated(digest)
            return json.dumps(value, ensure_ascii=False)
        return self._repeated(digest) if self.distinct_texts else _sentence(rng)

    def _repeated(self, digest: bytes) -> str:
        """One of ``distinct_texts`` sentences, chosen by the request: different requests often
        get the same text (as near-identical prompts to a real model do)."""
        n = int.from_bytes(digest[:8], "big") % (self.distinct_texts or 1)
        return f"{_sentence(random.Random(f'{self.seed}|{n}'), 6)} ({n})"


def _sentence(rng: random.Random, n: int | None = None) -> str:
    words = [rng.choice(_WORDS) for _ in range(n or rng.randint(8, 18))]
    return " ".join(words).capitalize() + "."


def _fill(schema: dict[str, Any], rng: random.Random) -> Any:
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: _fill(v, rng) for k, v in props.items()}
    if kind == "array":
        items = schema.get("items", {"type": "string"})
        count = max(int(schema.get("minItems", 1)), 1)
        return [_fill(items, rng) for _ in range(count)]
    if kind == "integer":
        return rng.randint(int(schema.get("minimum", 0)), int(schema.get("maximum", 10)))
    if kind == "number":
        return rng.random()
    if kind == "boolean":
        return rng.random() < 0.5
    return _sentence(rng)
