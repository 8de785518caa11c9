"""The HTTP backend against a real peer: llama.cpp's own ``llama-server`` (built by
scripts/build_llama_server.sh) serving the packaged 0.5B model on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from sentiforge.app.jobs import run_recipe
from sentiforge.backends.base import ChatRequest, Message
from sentiforge.backends.llama_server import LlamaServer, ServerConfig, find_binary
from sentiforge.backends.openai_compat import OpenAICompatBackend
from sentiforge.errors import ConfigError
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store

pytestmark = pytest.mark.slow
SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "sentiment": {"type": "string", "enum": ["positive", "negative"]}},
    "required": ["text", "sentiment"],
}


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    try:
        find_binary()
    except ConfigError as exc:
        pytest.skip(str(exc))
    from sentiforge.backends.gguf import resolve_model

    server = LlamaServer(ServerConfig(resolve_model("qwen2.5-0.5b"), n_ctx=2048, threads=2, parallel=2))
    try:
        yield server.ensure()
    finally:
        server.stop()


@pytest.fixture
async def backend(llama_server: str) -> AsyncIterator[OpenAICompatBackend]:
    b = OpenAICompatBackend(model="qwen2.5-0.5b", base_url=llama_server, concurrency=1, timeout=300)
    yield b
    await b.aclose()


def ask(content: str, **kw: object) -> ChatRequest:
    return ChatRequest(messages=(Message(role="user", content=content),), temperature=0.0, seed=1, **kw)  # type: ignore[arg-type]


async def test_plain_completion(backend: OpenAICompatBackend) -> None:
    completion = await backend.complete(ask("Say hello in one word.", max_tokens=8))
    assert completion.text.strip()
    assert completion.usage.prompt_tokens > 5 and 0 < completion.usage.completion_tokens <= 8


async def test_json_schema_mode_gives_parseable_json_with_the_fields(backend: OpenAICompatBackend) -> None:
    request = ask("Write a short positive review of a phone as JSON.", max_tokens=60, json_schema=SCHEMA)
    completion = await backend.complete(request)
    data = json.loads(completion.text)
    assert isinstance(data["text"], str) and data["text"]
    assert data["sentiment"] in {"positive", "negative"}
    assert backend.effective_json_mode == "json_schema"  # llama-server takes OpenAI's format as it is


async def test_grammar_choices(backend: OpenAICompatBackend) -> None:
    choices = ("positive", "negative", "neutral")
    completion = await backend.complete(
        ask("Sentiment of 'I love this phone, it is perfect.'?", max_tokens=12, grammar_choices=choices)
    )
    assert completion.text in choices


async def test_a_small_generate_job_through_the_engine(llama_server: str, tmp_path: Path) -> None:
    """One sample per label: each costs tens of seconds of a shared 2-core machine."""
    recipe = Recipe(
        scheme="three_class",
        backend=BackendSpec(kind="openai", model="qwen2.5-0.5b", base_url=llama_server, concurrency=1, timeout=300),
        steps=[StepSpec(strategy="generate", params={"count": 3, "few_shot": 0})],
    )
    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")
    result = await run_recipe(recipe, store, "llama")
    dataset = store.dataset_id("llama")
    assert result.status == "completed", result.error
    assert store.count(dataset) == 3
    assert store.count(dataset, by="label") == {"negative": 1, "neutral": 1, "positive": 1}
    assert all(s.provenance.backend == "openai" and s.provenance.completion_tokens > 0 for s in store.samples(dataset))
    store.close()
