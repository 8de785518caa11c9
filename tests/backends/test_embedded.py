"""The embedded backend: request mapping, serialised calls, clear errors, and real generations.

Tests marked slow run the packaged 0.5B model (loaded once per test process)."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sentiforge.app.jobs import run_recipe
from sentiforge.backends import embedded, from_spec
from sentiforge.backends.base import ChatRequest, Message
from sentiforge.backends.embedded import EmbeddedBackend, choices_grammar
from sentiforge.errors import ConfigError, MissingExtraError, PermanentBackendError
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.strategies.output import contains_term

FAST = "qwen2.5-0.5b"
LABELS = ("positive", "negative", "neutral")


def req(text: str, **kw: Any) -> ChatRequest:
    return ChatRequest(messages=(Message(role="user", content=text),), **kw)


def gguf(tmp_path: Path, name: str = "mine.gguf", content: bytes = b"GGUF" + b"\0" * 64) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


class FakeLlama:
    """Stands in for llama_cpp.Llama at the seam: records calls and how many overlap."""

    def __init__(self, error: Exception | None = None, delay: float = 0.0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error, self.delay = error, delay
        self.active = self.max_active = 0
        self.closed = False
        self._guard = threading.Lock()

    def close(self) -> None:
        self.closed = True

    def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
        with self._guard:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            time.sleep(self.delay)
            self.calls.append(kwargs)
            if self.error:
                raise self.error
            return {
                "choices": [{"message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 7, "completion_tokens": 1},
            }
        finally:
            with self._guard:
                self.active -= 1


def with_fake_llama(
    monkeypatch: pytest.MonkeyPatch, path: Path, fake: FakeLlama, n_threads: int = 2, copy: int = 0, copies: int = 1
) -> EmbeddedBackend:
    key = (str(path.resolve()), 4096, n_threads, copy, embedded.DEFAULT_PREFIX_CACHE_MB)
    monkeypatch.setitem(embedded._MODELS, key, embedded._Loaded(fake, threading.Lock()))
    return EmbeddedBackend(str(path), n_threads=n_threads, copies=copies, batch_size=1)


# -- without a model --------------------------------------------------------------------


def test_choices_grammar_quotes_every_choice() -> None:
    assert choices_grammar(("positive", "negative")) == 'root ::= "positive" | "negative"'
    assert choices_grammar(('say "hi"', "a\\b")) == 'root ::= "say \\"hi\\"" | "a\\\\b"'
    with pytest.raises(ConfigError, match="non-empty"):
        choices_grammar(("yes", ""))


def test_request_maps_schema_grammar_and_sampling_params(tmp_path: Path) -> None:
    backend = EmbeddedBackend(str(gguf(tmp_path)))
    schema = {"type": "object", "properties": {"text": {"type": "string"}}}
    kw = backend.request_kwargs(
        req("hi", json_schema=schema, seed=5, temperature=0.3, top_p=0.5, max_tokens=9, stop=("\n",))
    )
    assert kw["response_format"] == {"type": "json_object", "schema": schema} and "grammar" not in kw
    assert (kw["seed"], kw["temperature"], kw["top_p"], kw["max_tokens"], kw["stop"]) == (5, 0.3, 0.5, 9, ["\n"])
    assert kw["messages"] == [{"role": "user", "content": "hi"}]
    kw = backend.request_kwargs(req("hi", grammar_choices=LABELS, json_schema=schema))
    assert "response_format" not in kw and kw["grammar"] is not None


def test_json_mode_none_drops_the_schema_grammar_but_keeps_choices(tmp_path: Path) -> None:
    path = gguf(tmp_path)
    backend = from_spec(BackendSpec(kind="embedded", model=str(path), json_mode="none"))
    schema = {"type": "object", "properties": {"text": {"type": "string"}}}
    assert "response_format" not in backend.request_kwargs(req("hi", json_schema=schema))
    assert backend.request_kwargs(req("hi", grammar_choices=LABELS))["grammar"] is not None
    # answers made without the grammar are cached apart from answers made with it
    assert backend.key != EmbeddedBackend(str(path)).key and backend.key.endswith(":nogrammar")
    with pytest.raises(ConfigError, match="json_mode must be"):
        EmbeddedBackend(str(path), json_mode="xml")


def test_spec_settings_and_one_request_at_a_time(tmp_path: Path) -> None:
    path = gguf(tmp_path)
    spec = BackendSpec(kind="embedded", model=str(path), n_ctx=2048, n_threads=1, concurrency=8, batch_size=1)
    backend = from_spec(spec)
    assert isinstance(backend, EmbeddedBackend)
    assert (backend.n_ctx, backend.n_threads, backend.max_concurrency) == (2048, 1, 1)
    assert EmbeddedBackend(str(path)).n_threads == embedded.default_threads() >= 1
    two = from_spec(BackendSpec(kind="embedded", model=str(path), copies=2, prefix_cache_mb=0))
    assert isinstance(two, EmbeddedBackend)
    # copies answer in parallel and share the cores out between them
    assert (two.max_concurrency, two.prefix_cache_mb) == (2, 0)
    assert two.n_threads == max(1, embedded.default_threads() // 2)
    with pytest.raises(ConfigError, match="copies and batch_size must be >= 1"):
        EmbeddedBackend(str(path), copies=0)


def test_key_identifies_the_model_file(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = gguf(tmp_path / "a", content=b"GGUF model one")
    b = gguf(tmp_path / "b", content=b"GGUF model two")
    assert a.name == b.name
    assert EmbeddedBackend(str(a)).key != EmbeddedBackend(str(b)).key
    assert EmbeddedBackend(str(a)).key == EmbeddedBackend(str(a)).key
    packaged = EmbeddedBackend(FAST)
    assert packaged.key == f"embedded:{FAST}:{embedded.PACKAGED[FAST].sha256[:16]}"


async def test_calls_are_serialised_and_usage_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = gguf(tmp_path)
    fake = FakeLlama(delay=0.05)
    one, two = with_fake_llama(monkeypatch, path, fake), with_fake_llama(monkeypatch, path, fake)
    results = await asyncio.gather(*(b.complete(req(f"q{i}")) for i in range(3) for b in (one, two)))
    assert fake.max_active == 1 and len(fake.calls) == 6
    assert results[0].text == "ok" and results[0].usage.prompt_tokens == 7 and results[0].finish_reason == "stop"


async def test_copies_answer_in_parallel_one_call_each_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = gguf(tmp_path)
    first, second = FakeLlama(delay=0.05), FakeLlama(delay=0.05)
    with_fake_llama(monkeypatch, path, second, copy=1, copies=2)
    backend = with_fake_llama(monkeypatch, path, first, copies=2)
    await asyncio.gather(*(backend.complete(req(f"q{i}")) for i in range(8)))
    # both copies worked, each never more than one call at a time (llama.cpp is not thread-safe)
    assert len(first.calls) + len(second.calls) == 8 and first.calls and second.calls
    assert first.max_active == second.max_active == 1


def test_unload_closes_loaded_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeLlama()
    monkeypatch.setattr(embedded, "_MODELS", {})  # leave models other tests loaded alone
    backend = with_fake_llama(monkeypatch, gguf(tmp_path), fake)
    assert backend.load() is fake
    embedded.unload_models()
    assert fake.closed and not embedded._MODELS


@pytest.mark.parametrize(
    ("error", "match"),
    [
        (
            ValueError("Requested tokens (5000) exceed context window of 4096"),
            r"raise the backend's n_ctx \(now 4096\)",
        ),
        (ValueError("bad grammar"), "llama.cpp rejected the request: bad grammar"),
        (RuntimeError("llama_decode returned -1"), "failed while generating"),
    ],
)
async def test_generation_failures_map_to_backend_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, match: str
) -> None:
    backend = with_fake_llama(monkeypatch, gguf(tmp_path), FakeLlama(error=error))
    with pytest.raises(PermanentBackendError, match=match):
        await backend.complete(req("hi"))


def test_missing_llama_cpp_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'sentiforge\[embedded\]'"):
        from_spec(BackendSpec(kind="embedded", model=str(gguf(tmp_path))))


def test_bad_model_paths_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"model file .*nowhere\.gguf does not exist"):
        EmbeddedBackend(str(tmp_path / "nowhere.gguf"))
    with pytest.raises(ConfigError, match="unknown embedded model 'qwen-7b'"):
        EmbeddedBackend("qwen-7b")
    broken = EmbeddedBackend(str(gguf(tmp_path, "broken.gguf", b"GGUF\x03\0\0\0 not really a model")))
    with pytest.raises(ConfigError, match=r"could not load the model file .*broken\.gguf.*complete GGUF file"):
        broken.load()


async def test_unloadable_model_fails_the_job_with_the_reason(tmp_path: Path) -> None:
    path = gguf(tmp_path, "broken.gguf", b"GGUF\x03\0\0\0 not really a model")
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    recipe = Recipe(backend=BackendSpec(kind="embedded", model=str(path)), steps=[StepSpec(params={"count": 2})])
    result = await run_recipe(recipe, store, "broken")
    assert result.status == "failed" and result.done == 0
    assert "could not load the model file" in (result.error or "")
    assert "could not load" in (store.job(result.job_id).error or "")


# -- the real 0.5B model ----------------------------------------------------------------


def run(recipe: Recipe, tmp_path: Path, name: str) -> tuple[Any, Store]:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    return asyncio.run(run_recipe(recipe, store, name)), store


def fast_recipe(scheme: str, count: int, **params: Any) -> Recipe:
    """Generation itself; the judge's label check (on by default here) is left to its own test."""
    params.setdefault("check_label", "off")
    return Recipe(
        scheme=scheme,
        seed=7,
        backend=BackendSpec(kind="embedded", model=FAST),
        steps=[StepSpec(strategy="generate", params={"count": count, "few_shot": 0, **params})],
        max_attempts=2,
    )


@pytest.mark.slow
def test_real_three_class_generation_carries_the_requested_labels(tmp_path: Path) -> None:
    result, store = run(fast_recipe("three_class", 3), tmp_path, "tc")
    assert result.status == "completed" and result.done == 3
    assert result.completion_tokens > 0 and result.requests >= 3
    samples = store.samples(result.dataset_id)
    assert sorted(s.label for s in samples) == sorted(LABELS)
    for s in samples:
        assert len(s.text.split()) >= 3 and "{" not in s.text
        assert s.provenance.backend == "embedded" and s.provenance.model == FAST
        assert s.provenance.completion_tokens > 0


@pytest.mark.slow
def test_real_generation_with_the_default_label_check(tmp_path: Path) -> None:
    """On the embedded model the judge reads every text: an accepted text's label is the judge's."""
    result, store = run(fast_recipe("three_class", 2, check_label="auto"), tmp_path, "judged")
    assert result.status in {"completed", "incomplete"} and result.error is None
    everything = store.samples(result.dataset_id, status=None)
    assert result.requests > result.done + result.rejected  # a judge call per generated text
    for s in everything:
        assert s.status == "accepted" or (s.reason and s.reason.strip())


def assert_accepted_or_reasoned(store: Store, dataset_id: int) -> list[Any]:
    everything = store.samples(dataset_id, status=None)
    assert everything
    for s in everything:
        if s.status == "rejected":
            assert s.reason and s.reason.strip()
    return [s for s in everything if s.status == "accepted"]


@pytest.mark.slow
def test_real_aspect_generation_is_checked_or_rejected_with_reasons(tmp_path: Path) -> None:
    result, store = run(fast_recipe("aspect", 2, aspect_terms=["battery", "screen"]), tmp_path, "asp")
    assert result.status in {"completed", "incomplete"}
    for s in assert_accepted_or_reasoned(store, result.dataset_id):
        assert s.aspects and all(contains_term(s.text, a.term) for a in s.aspects)
        assert any(a.term.lower() in {"battery", "screen"} for a in s.aspects)
        assert all(a.polarity in LABELS for a in s.aspects)


@pytest.mark.slow
def test_real_rationale_generation_is_kept_or_rejected_with_reasons(tmp_path: Path) -> None:
    result, store = run(fast_recipe("three_class", 2, rationale=True), tmp_path, "rat")
    assert result.status in {"completed", "incomplete"}
    for s in assert_accepted_or_reasoned(store, result.dataset_id):
        assert s.rationale and s.rationale.strip() and s.label in LABELS


def real_backend() -> EmbeddedBackend:
    # one request at a time (the batched path has its own tests): shares the recipes' loaded model
    return EmbeddedBackend(FAST, batch_size=1)


@pytest.mark.slow
async def test_real_grammar_choices_always_answer_one_label() -> None:
    backend = real_backend()
    texts = ["The refund never came and nobody answers.", "Works great, thanks!", "The parcel arrived on Tuesday."]
    for i, text in enumerate(texts):
        request = req(f"Sentiment of: {text}\nAnswer with one word.", grammar_choices=LABELS, temperature=1.5, seed=i)
        assert (await backend.complete(request)).text in LABELS
    odd = ('say "yes"', "back\\slash")
    assert (await backend.complete(req("Pick one.", grammar_choices=odd, temperature=1.0, seed=3))).text in odd


@pytest.mark.slow
async def test_real_same_request_and_seed_give_the_same_text() -> None:
    # Without the prefix cache. With it, a request may be answered from a restored state that
    # ends inside its prompt: llama.cpp then decodes a shorter batch, whose floating-point
    # results differ slightly, so a sampled (temperature > 0) text can differ from a fresh one.
    backend = EmbeddedBackend(FAST, prefix_cache_mb=0, batch_size=1)
    ask = req("Write one short sentence about a late train.", temperature=1.0, max_tokens=30, seed=42)
    first = await backend.complete(ask)
    other = await backend.complete(
        req("Write one short sentence about a cake.", temperature=1.0, max_tokens=30, seed=1)
    )
    again = await backend.complete(ask)
    assert first.text == again.text and first.text != other.text
    reseeded = [await backend.complete(ask.model_copy(update={"seed": s})) for s in (1, 2)]
    assert {r.text for r in reseeded} != {first.text}


@pytest.mark.slow
async def test_real_prefix_cache_restores_the_instructions_of_an_earlier_prompt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = real_backend()
    llama = backend.load()
    evaluated: list[int] = []
    real_eval = llama.eval

    def counting_eval(tokens: Any) -> None:
        evaluated.append(len(tokens))
        real_eval(tokens)

    monkeypatch.setattr(llama, "eval", counting_eval)
    instructions = "You label the sentiment of customer messages as positive, negative or neutral. " * 6
    messages = ("The refund never came and nobody answers.", "Thanks, it works perfectly now!", "Where is my parcel?")
    ask = [req(f"{instructions}\nMessage: {m}\nLabel:", grammar_choices=LABELS, temperature=0.0) for m in messages]
    other = req("Write one short sentence about a cake.", temperature=0.0, max_tokens=8, seed=1)
    answers, prompt_evals = [], []
    for request in ask:
        await backend.complete(other)  # llama.cpp's live KV state now holds an unrelated prompt
        evaluated.clear()
        completion = await backend.complete(request)
        answers.append(completion.text)
        prompt_evals.append((evaluated[0], completion.usage.prompt_tokens))
    # the same labels as a copy of the model without the prefix cache, which evaluates every prompt whole
    fresh = EmbeddedBackend(FAST, prefix_cache_mb=0, batch_size=1)
    assert answers == [(await fresh.complete(request)).text for request in ask]
    assert set(answers) <= set(LABELS)
    # the first classification evaluated its prompt past the chat template's opening (shared with the
    # cake prompt); the later ones restored the saved state of the instructions and evaluated only
    # the message and what follows it
    assert prompt_evals[0][0] > prompt_evals[0][1] - 30
    for n_evaluated, n_prompt in prompt_evals[1:]:
        assert n_evaluated < 30 < n_prompt - 60
    saved = list(llama.cache.cache_state.values())
    # KV cells only, no per-token logits (those would be ~600 KB a token)
    assert saved and all(state.scores.size == 0 for state in saved)
    assert max(s.llama_state_size for s in saved) < 60_000 * max(s.n_tokens for s in saved)


@pytest.mark.slow
def test_real_model_loads_once_per_process() -> None:
    a, b = real_backend(), real_backend()
    assert a.load() is b.load()
