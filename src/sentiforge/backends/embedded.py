"""The embedded backend: a packaged GGUF model run in-process by llama.cpp (the offline default).

Why it looks the way it does:

- A model is loaded once per process and shared (keyed by file, context size, threads,
  copy and prefix cache): loading costs seconds and a gigabyte, and a job, a benchmark and a
  judge may all ask for it.
- llama.cpp is not thread-safe, so one lock per loaded model serialises its calls (run in a
  worker thread so the event loop stays free). ``copies`` loads the model more than once and
  ``max_concurrency`` is the number of copies (ctypes releases the GIL during llama.cpp
  calls, so copies run at once). Measured on a 2-core machine: 2 copies x 1 thread answer
  an augmentation workload 1.34x faster than 1 copy x 2 threads without the prefix cache,
  1.04x with it (benchmarks/embedded/parallel.py).
- Prefix cache: every prompt of a step starts with the same system prompt and instructions,
  and a strategy interleaves several prompts (extraction, rewrite, judge). llama.cpp only
  keeps the KV state of the last prompt, so each call would evaluate its instructions
  again; prompt evaluation is most of a short call's time on a CPU. With
  ``prefix_cache_mb`` the KV state after each call is kept (LRU, in RAM) and the state
  sharing the longest prefix with the next prompt is restored first. Only the KV cells are
  kept, not llama-cpp-python's per-token logits (600 KB a token for a 150k vocabulary):
  the prompt's remaining tokens are always decoded again, which refreshes the logits.
  Caveat: llama.cpp's results differ in the last bits between batch sizes, so a prompt
  decoded partly from a restored state can sample a different text at temperature > 0 than
  the same prompt decoded whole. A job is still reproducible (the same calls in the same
  order restore the same states) and a repeated request is answered by the response cache;
  ``prefix_cache_mb=0`` gives bit-for-bit fresh evaluation.
- Batched decoding (``batch_size`` > 1; ``None`` chooses it from the machine: two sequences
  a core, more on a GPU): concurrent requests are decoded together in one llama.cpp
  context, sharing prompt prefixes in its KV cache (see :mod:`sentiforge.backends.batched`).
  Not the default yet: on the 2-core machine the main job ran slower batched
  (benchmarks/embedded/README.md); ``batch_size: 1`` is the one-request-at-a-time path
  below, with its prefix cache.
- ``key`` names the model *file* (packaged name + sha256, or a fingerprint of a user's
  file), so response caches never mix two models behind the same name.

llama-cpp-python builds from source; the README's install script passes the CMAKE_ARGS
that work on machines where a plain build crashes (see MODELS.md).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import functools
import hashlib
import itertools
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from sentiforge.backends.base import ChatRequest, Completion, Usage
from sentiforge.backends.batched import BatchedDecoder, default_batch_size, schema_grammar
from sentiforge.backends.models import DEFAULT_MODEL, PACKAGED, resolve_model
from sentiforge.errors import ConfigError, PermanentBackendError, require
from sentiforge.recipe import JsonMode

if TYPE_CHECKING:
    from sentiforge.recipe import BackendSpec


@dataclass
class _Loaded:
    """A loaded model and the lock every call to it must hold."""

    llama: Any
    lock: threading.Lock
    decoders: dict[tuple[int, int, int], BatchedDecoder] = field(default_factory=dict)

    def decoder(self, batch_size: int, n_ctx: int, n_threads: int, model: str) -> BatchedDecoder:
        """The batched decoder of this model for these settings (made on first use)."""
        with self.lock:
            key = (batch_size, n_ctx, n_threads)
            if key not in self.decoders:
                self.decoders[key] = BatchedDecoder(
                    self.llama, batch_size=batch_size, n_ctx=n_ctx, n_threads=n_threads, model=model
                )
            return self.decoders[key]


# KV states kept per loaded model for prompt-prefix reuse (~28 KB a token for the 1.5B model)
DEFAULT_PREFIX_CACHE_MB = 512

_MODELS: dict[tuple[str, int, int, int, int], _Loaded] = {}
_MODELS_LOCK = threading.Lock()


def llama_cpp_module() -> Any:
    """The llama_cpp module, or MissingExtraError naming the extra to install."""
    return require("llama_cpp", feature="the embedded backend", extra="embedded")


def default_threads() -> int:
    """The cores this process may use (affinity-aware, unlike os.cpu_count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


@functools.lru_cache(maxsize=1)
def _kv_only_llama() -> type:
    """llama_cpp.Llama whose saved states hold the KV cells and tokens but not the logits.

    Llama.save_state copies ``scores`` (n_tokens x n_vocab floats: ~250 MB for a 400-token
    prompt of a 150k-vocabulary model) although a restored state is always followed by
    decoding at least one token (``_requires_eval``), which rewrites the logits it samples
    from. Without them a state of the 1.5B model is ~28 KB a token.
    """
    llama_cpp = llama_cpp_module()
    import ctypes

    import numpy as np

    class KVOnlyLlama(llama_cpp.Llama):  # type: ignore[name-defined]
        def save_state(self) -> Any:
            ctx = self._ctx.ctx
            size = int(llama_cpp.llama_state_get_size(ctx))
            buffer = (ctypes.c_uint8 * size)()
            n_bytes = int(llama_cpp.llama_state_get_data(ctx, buffer, size))
            if n_bytes > size:
                raise PermanentBackendError("llama.cpp wrote more KV state than it said; set prefix_cache_mb: 0")
            return llama_cpp.LlamaState(
                scores=np.empty((0, 0), dtype=np.single),
                input_ids=self.input_ids[: self.n_tokens].copy(),
                n_tokens=self.n_tokens,
                llama_state=ctypes.string_at(buffer, n_bytes),
                llama_state_size=n_bytes,
                seed=self._seed,
            )

        def load_state(self, state: Any) -> None:
            data = (ctypes.c_uint8 * state.llama_state_size).from_buffer_copy(state.llama_state)
            if llama_cpp.llama_state_set_data(self._ctx.ctx, data, state.llama_state_size) != state.llama_state_size:
                raise PermanentBackendError("llama.cpp could not restore a saved KV state; set prefix_cache_mb: 0")
            self.input_ids[: state.n_tokens] = state.input_ids
            self.n_tokens = state.n_tokens
            self._requires_eval = True  # the logits were not kept: decode before sampling
            self._seed = state.seed

    return KVOnlyLlama


def load_model(
    path: Path,
    *,
    n_ctx: int,
    n_threads: int,
    chat_format: str | None = None,
    copy: int = 0,
    prefix_cache_mb: int = 0,
) -> _Loaded:
    """Load a GGUF file once per process; later calls with the same settings share it.

    ``copy`` numbers independent copies of the same model (see ``EmbeddedBackend.copies``).
    """
    key = (str(path.resolve()), n_ctx, n_threads, copy, prefix_cache_mb)
    with _MODELS_LOCK:
        loaded = _MODELS.get(key)
        if loaded is not None:
            return loaded
        llama_cpp = llama_cpp_module()
        cls = _kv_only_llama() if prefix_cache_mb else llama_cpp.Llama
        try:
            llama = cls(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, chat_format=chat_format, verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ConfigError(
                f"llama.cpp could not load the model file {path} ({exc}); check that it is a complete GGUF "
                "file of a model llama.cpp supports, or use one of the packaged models "
                f"{sorted(PACKAGED)}"
            ) from exc
        if prefix_cache_mb:
            llama.set_cache(llama_cpp.LlamaRAMCache(capacity_bytes=prefix_cache_mb << 20))
        loaded = _Loaded(llama, threading.Lock())
        _MODELS[key] = loaded
        return loaded


def unload_models() -> None:
    """Close every loaded model. Also runs at exit: a Llama left to the interpreter's
    teardown calls into an already-unloaded llama_cpp and prints tracebacks."""
    with _MODELS_LOCK:
        for loaded in _MODELS.values():
            with loaded.lock:
                for decoder in loaded.decoders.values():
                    decoder.close()
                loaded.decoders.clear()
                loaded.llama.close()
        _MODELS.clear()


atexit.register(unload_models)


def _gpu_offload() -> bool:
    return bool(llama_cpp_module().llama_supports_gpu_offload())


def file_fingerprint(path: Path) -> str:
    """A cheap content id for a user's model file: size plus the first and last MiB."""
    size = path.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with path.open("rb") as f:
        h.update(f.read(1 << 20))
        if size > 2 << 20:
            f.seek(-(1 << 20), os.SEEK_END)
            h.update(f.read(1 << 20))
    return h.hexdigest()[:16]


def choices_grammar(choices: tuple[str, ...]) -> str:
    """A GBNF grammar whose only sentences are the given strings."""
    if not choices or any(not c for c in choices):
        raise ConfigError(f"grammar_choices must be non-empty strings, got {list(choices)!r}")
    escaped = [c.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for c in choices]
    return "root ::= " + " | ".join(f'"{c}"' for c in escaped)


@functools.lru_cache(maxsize=64)
def _compiled_grammar(choices: tuple[str, ...]) -> Any:
    return llama_cpp_module().LlamaGrammar.from_string(choices_grammar(choices), verbose=False)


class EmbeddedBackend:
    """A local GGUF model through llama-cpp-python: one request at a time per copy."""

    name = "embedded"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        json_mode: JsonMode = "auto",
        copies: int = 1,
        prefix_cache_mb: int = DEFAULT_PREFIX_CACHE_MB,
        batch_size: int | None = 1,
    ) -> None:
        llama_cpp_module()  # fail now, before a job starts, if the extra is missing
        if copies < 1 or prefix_cache_mb < 0 or (batch_size is not None and batch_size < 1):
            raise ConfigError(
                f"copies and batch_size must be >= 1 and prefix_cache_mb >= 0, not {copies}, {batch_size} "
                f"and {prefix_cache_mb}"
            )
        self.model = model
        self.path = resolve_model(model)
        self.n_ctx = n_ctx
        self.copies = copies
        self.prefix_cache_mb = prefix_cache_mb
        # the cores are shared out between the copies
        self.n_threads = n_threads or max(1, default_threads() // copies)
        # sequences decoded together (one copy); copies > 1 keeps one request per copy
        if batch_size is None:
            batch_size = 1 if copies > 1 else default_batch_size(self.n_threads, _gpu_offload())
        if batch_size > 1 and copies > 1:
            raise ConfigError("batch_size > 1 decodes several requests in one copy: set copies: 1 with it")
        self.batch_size = batch_size
        self.max_concurrency = copies if batch_size == 1 else batch_size
        self._next = itertools.count()
        # "none": no grammar for JSON schemas, the prompt asks for JSON and the strategies'
        # lenient parser + retries catch the rest. llama.cpp's grammar sampling roughly halves
        # decoding speed on a CPU (benchmarks/embedded), so long jobs may prefer it.
        # Label-choice grammars (judges) stay on: they are short and cheap.
        if json_mode not in get_args(JsonMode):
            raise ConfigError(f"json_mode must be auto, json_schema, json_object or none, not {json_mode!r}")
        self.json_mode: JsonMode = json_mode
        packaged = PACKAGED.get(model)
        self.chat_format = packaged.chat_format if packaged else None
        fingerprint = packaged.sha256[:16] if packaged else file_fingerprint(self.path)
        # the answers differ with and without the grammar: so do the cache keys
        suffix = ":nogrammar" if json_mode == "none" else ""
        self._key = f"embedded:{model if packaged else self.path.name}:{fingerprint}{suffix}"

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> EmbeddedBackend:
        return cls(
            spec.model,
            n_ctx=spec.n_ctx,
            n_threads=spec.n_threads,
            json_mode=spec.json_mode,
            copies=spec.copies,
            prefix_cache_mb=spec.prefix_cache_mb,
            batch_size=spec.batch_size,
        )

    @property
    def key(self) -> str:
        return self._key

    def load(self, copy: int = 0) -> Any:
        """The loaded llama_cpp.Llama (loading it on first use)."""
        return self._loaded(copy).llama

    def _loaded(self, copy: int = 0) -> _Loaded:
        # looked up on every call, never kept: unload_models() may have closed it since
        return load_model(
            self.path,
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            chat_format=self.chat_format,
            copy=copy,
            prefix_cache_mb=self.prefix_cache_mb,
        )

    def _acquire(self) -> _Loaded:
        """A copy of the model, locked for this call: a free one if any, else wait in turn."""
        copies = [self._loaded(i) for i in range(self.copies)]
        for loaded in copies:
            if loaded.lock.acquire(blocking=False):
                return loaded
        loaded = copies[next(self._next) % self.copies]
        loaded.lock.acquire()
        return loaded

    def request_kwargs(self, request: ChatRequest) -> dict[str, Any]:
        """The create_chat_completion arguments for a request (grammar choices win over a schema)."""
        kwargs: dict[str, Any] = {
            "messages": [m.model_dump() for m in request.messages],
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
            "seed": request.seed,
            "stop": list(request.stop),
        }
        if request.grammar_choices:
            kwargs["grammar"] = _compiled_grammar(tuple(request.grammar_choices))
        elif request.json_schema is not None and self.json_mode != "none":
            kwargs["response_format"] = {"type": "json_object", "schema": request.json_schema}
        return kwargs

    async def complete(self, request: ChatRequest) -> Completion:
        if self.batch_size > 1:
            future = await asyncio.to_thread(self._submit, request)
            return await asyncio.wrap_future(future)
        return await asyncio.to_thread(self._complete_sync, request)

    def _submit(self, request: ChatRequest) -> concurrent.futures.Future[Completion]:
        """Hand a request to the model's batched decoder (grammar choices win over a schema)."""
        grammar: str | None = None
        if request.grammar_choices:
            grammar = choices_grammar(tuple(request.grammar_choices))
        elif request.json_schema is not None and self.json_mode != "none":
            grammar = schema_grammar(request.json_schema)
        decoder = self._loaded().decoder(self.batch_size, self.n_ctx, self.n_threads, self.model)
        return decoder.submit(request, grammar)

    def _complete_sync(self, request: ChatRequest) -> Completion:
        kwargs = self.request_kwargs(request)
        loaded = self._acquire()
        try:
            try:
                response = loaded.llama.create_chat_completion(**kwargs)
            except ValueError as exc:
                if "context window" in str(exc):
                    raise PermanentBackendError(
                        f"the prompt does not fit the model's context ({exc}); raise the backend's n_ctx "
                        f"(now {self.n_ctx}) or shorten the prompt (fewer or shorter few-shot examples)"
                    ) from exc
                raise PermanentBackendError(f"llama.cpp rejected the request: {exc}") from exc
            except (RuntimeError, OSError) as exc:
                raise PermanentBackendError(f"llama.cpp failed while generating with {self.model}: {exc}") from exc
        finally:
            loaded.lock.release()
        return _completion(response, self.model)

    async def aclose(self) -> None:
        """Nothing to release: the loaded model is shared by the process (see unload_models)."""


def _completion(response: dict[str, Any], model: str) -> Completion:
    choice = response["choices"][0]
    usage = response.get("usage") or {}
    return Completion(
        text=choice["message"].get("content") or "",
        model=model,
        finish_reason=choice.get("finish_reason"),
        usage=Usage(prompt_tokens=usage.get("prompt_tokens", 0), completion_tokens=usage.get("completion_tokens", 0)),
    )


__all__ = ["EmbeddedBackend", "choices_grammar", "file_fingerprint", "load_model", "unload_models"]
