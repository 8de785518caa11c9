"""Batched decoding in the embedded backend: several requests in one llama.cpp context.

The slow tests run the packaged 0.5B model (greedy decoding, few tokens)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from sentiforge.backends import from_spec
from sentiforge.backends.base import ChatRequest, Completion, Message
from sentiforge.backends.batched import default_batch_size
from sentiforge.backends.embedded import EmbeddedBackend
from sentiforge.errors import ConfigError, PermanentBackendError
from sentiforge.recipe import BackendSpec

FAST = "qwen2.5-0.5b"
LABELS = ("positive", "negative", "neutral")
SYSTEM = "You write and label short synthetic customer reviews for training a sentiment classifier."
SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "label": {"type": "string", "enum": list(LABELS)}},
    "required": ["text", "label"],
}


def req(text: str, **kw: Any) -> ChatRequest:
    messages = (Message(role="system", content=SYSTEM), Message(role="user", content=text))
    return ChatRequest(messages=messages, **{"temperature": 0.0, **kw})


# -- without a model --------------------------------------------------------------------


def test_batch_size_is_chosen_from_the_machine_and_overridable(tmp_path: Path) -> None:
    assert default_batch_size(2, gpu=False) == 4 and default_batch_size(1, gpu=False) == 2
    assert default_batch_size(64, gpu=False) == 16 and default_batch_size(2, gpu=True) == 32
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 64)
    assert from_spec(BackendSpec(kind="embedded", model=str(path))).max_concurrency == 1  # not the default yet
    auto = from_spec(BackendSpec(kind="embedded", model=str(path), n_threads=2, batch_size=None))
    assert isinstance(auto, EmbeddedBackend) and auto.batch_size == auto.max_concurrency == 4
    three = from_spec(BackendSpec(kind="embedded", model=str(path), batch_size=3))
    assert isinstance(three, EmbeddedBackend) and three.max_concurrency == 3
    # copies keep one request per copy; both at once is refused
    assert EmbeddedBackend(str(path), copies=2, batch_size=None).batch_size == 1
    with pytest.raises(ConfigError, match="copies: 1"):
        EmbeddedBackend(str(path), copies=2, batch_size=4)
    with pytest.raises(ConfigError, match="batch_size must be >= 1"):
        EmbeddedBackend(str(path), batch_size=0)


# -- with the 0.5B model ----------------------------------------------------------------


def batched(size: int = 4) -> EmbeddedBackend:
    return EmbeddedBackend(FAST, batch_size=size, n_ctx=1024)


def single() -> EmbeddedBackend:
    return EmbeddedBackend(FAST, batch_size=1, prefix_cache_mb=0)


@pytest.mark.slow
async def test_real_batched_answers_match_single_ones_in_format_and_labels() -> None:
    asks = [
        req("Label this review: 'The refund never came.' Answer with one word.", grammar_choices=LABELS),
        req("Label this review: 'Works great, thanks!' Answer with one word.", grammar_choices=LABELS),
        req(
            "Write one short negative review of a phone as JSON with text and label.", json_schema=SCHEMA, max_tokens=48
        ),
    ]
    together = await asyncio.gather(*(batched().complete(a) for a in asks))
    alone = [await single().complete(a) for a in asks]
    assert [c.text for c in together[:2]] == [c.text for c in alone[:2]] and together[0].text in LABELS
    for b, s in zip(together[2:], alone[2:], strict=True):
        if b.finish_reason == "stop" and s.finish_reason == "stop":
            assert set(json.loads(b.text)) == set(json.loads(s.text)) == {"text", "label"}
            assert json.loads(b.text)["label"] == json.loads(s.text)["label"]
        assert b.usage.prompt_tokens == s.usage.prompt_tokens


@pytest.mark.slow
async def test_real_sequences_of_different_lengths_finish_independently() -> None:
    backend = batched()
    finished: list[int] = []

    async def ask(i: int, max_tokens: int) -> Completion:
        completion = await backend.complete(req(f"Count from {i} to 200 separated by commas.", max_tokens=max_tokens))
        finished.append(max_tokens)
        return completion

    results = await asyncio.gather(ask(0, 24), ask(1, 2), ask(2, 8), ask(3, 1))
    assert [r.usage.completion_tokens for r in results] == [24, 2, 8, 1]
    assert all(r.finish_reason == "length" for r in results)
    # the short ones came back while the long one still decoded (admission order may vary by a step)
    assert finished[-1] == 24 and sorted(finished[:3]) == [1, 2, 8]
    # a stop string ends one sequence only
    stopped, other = await asyncio.gather(
        backend.complete(req("Count from 1 to 20 separated by commas.", max_tokens=40, stop=("5",))),
        backend.complete(req("Count from 1 to 20 separated by commas.", max_tokens=12)),
    )
    assert "5" not in stopped.text and stopped.finish_reason == "stop"
    assert other.usage.completion_tokens == 12


@pytest.mark.slow
async def test_real_grammar_sequence_in_a_batch_still_parses_and_prefixes_are_shared() -> None:
    backend = batched()
    free = [req(f"Write a review of hotel number {i}.", max_tokens=6, temperature=1.0, seed=i) for i in range(3)]
    label_only = {"type": "object", "properties": {"label": SCHEMA["properties"]["label"]}, "required": ["label"]}
    schema = req("Label 'the room was dirty' as JSON.", json_schema=label_only, max_tokens=24)
    results = await asyncio.gather(backend.complete(schema), *(backend.complete(r) for r in free))
    answer = json.loads(results[0].text)
    assert answer["label"] in LABELS
    decoder = backend._loaded().decoder(4, 1024, backend.n_threads, FAST)
    before = decoder.prompt_tokens_evaluated
    again = await asyncio.gather(*(backend.complete(r.model_copy(update={"seed": 9})) for r in free))
    prompts = sum(c.usage.prompt_tokens for c in again)
    # the system prompt and the instructions were in the KV cache already: only the tails were read
    assert decoder.prompt_tokens_evaluated - before < prompts / 3


@pytest.mark.slow
async def test_real_prompt_too_long_for_a_sequence_is_refused() -> None:
    with pytest.raises(PermanentBackendError, match="n_ctx"):
        await batched().complete(req("word " * 900, max_tokens=200))
