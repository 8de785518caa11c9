"""The embedded backend: a packaged (or any) GGUF model served by llama.cpp on loopback.

The offline default. The engine is llama.cpp's own ``llama-server`` run as a child process
(:mod:`sentiforge.backends.llama_server`): parallel slots and continuous batching, a prompt
cache per slot, grammars, JSON schemas and sampling in C, token log-probabilities for the
judge. This class only chooses the server's settings and speaks to it through the
OpenAI-compatible backend, so every feature of that backend (JSON modes, error mapping)
holds here too. A server that died is started again and the request sent once more.

``key`` names the model *file* (packaged name + sha256, or a fingerprint of a user's file),
so response caches never mix two models behind the same name.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, get_args

from sentiforge.backend_spec import JsonMode
from sentiforge.backends.base import ChatRequest, Completion
from sentiforge.backends.gguf import DEFAULT_MODEL, PACKAGED, resolve_model
from sentiforge.backends.llama_server import LlamaServer, ServerConfig, shared_server
from sentiforge.backends.openai_compat import OpenAICompatBackend
from sentiforge.errors import ConfigError, TransientBackendError

if TYPE_CHECKING:
    from sentiforge.backend_spec import EmbeddedSpec

# A request may wait for a slot behind others and then decode a few hundred tokens at ~10
# tokens/s on 2 cores: generous, since a timeout only makes the client ask again.
REQUEST_TIMEOUT = 900.0
NO_KEY_ENV = "SENTIFORGE_EMBEDDED_NO_KEY"  # a variable nobody sets: no Authorization header


def default_threads() -> int:
    """The cores this process may use (affinity-aware, unlike os.cpu_count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def default_parallel(threads: int) -> int:
    """Server slots: two a core, 4 to 16 (on 2 cores, 4 slots gave the best time per sample
    of 1, 4 and 8 with llama-batched-bench and with the main job: benchmarks/embedded)."""
    return max(4, min(16, 2 * threads))


def file_fingerprint(path: os.PathLike[str]) -> str:
    """A cheap content id for a user's model file: size plus the first and last MiB."""
    size = os.stat(path).st_size
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as f:
        h.update(f.read(1 << 20))
        if size > 2 << 20:
            f.seek(-(1 << 20), os.SEEK_END)
            h.update(f.read(1 << 20))
    return h.hexdigest()[:16]


class EmbeddedBackend:
    """A local GGUF model answered by this process's llama-server."""

    name = "embedded"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        json_mode: JsonMode = "auto",
        parallel: int | None = None,
        model_dir: Path | None = None,
    ) -> None:
        if json_mode not in get_args(JsonMode):
            raise ConfigError(f"json_mode must be auto, json_schema, json_object or none, not {json_mode!r}")
        if parallel is not None and parallel < 1:
            raise ConfigError(f"parallel (the server's slots) must be >= 1, not {parallel}")
        self.model = model
        self.path = resolve_model(model, model_dir)  # a packaged model is joined into model_dir
        packaged = PACKAGED.get(model)
        threads = n_threads or default_threads()
        self.config = ServerConfig(
            model=self.path,
            n_ctx=n_ctx,
            threads=threads,
            parallel=parallel or default_parallel(threads),
            chat_template=packaged.chat_format if packaged else None,
        )
        self.max_concurrency = self.config.parallel
        # "none": no JSON schema is sent; the prompt asks for JSON and the strategies' lenient
        # parser + retries catch the rest. Label choices (judges) keep their schema.
        self.json_mode: JsonMode = json_mode
        fingerprint = packaged.sha256[:16] if packaged else file_fingerprint(self.path)
        suffix = ":nogrammar" if json_mode == "none" else ""  # the answers differ: so do the cache keys
        self._key = f"embedded:{model if packaged else self.path.name}:{fingerprint}{suffix}"
        self._client: OpenAICompatBackend | None = None
        self._client_start = 0  # the server start the client's connections belong to
        self._client_loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_spec(cls, spec: EmbeddedSpec, *, model_dir: Path | None = None) -> EmbeddedBackend:
        return cls(spec.model, n_ctx=spec.n_ctx, n_threads=spec.n_threads, json_mode=spec.json_mode,
                   parallel=spec.parallel, model_dir=model_dir)  # fmt: skip

    @property
    def key(self) -> str:
        return self._key

    @property
    def server(self) -> LlamaServer:
        return shared_server(self.config)

    async def _http(self) -> OpenAICompatBackend:
        """The HTTP client of the running server (started first if needed; a new client when a
        restart moved it to another port)."""
        url = self.server.url if self.server.alive() else await asyncio.to_thread(self.server.ensure)
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_start != self.server.starts or self._client_loop is not loop:
            # a new process (a restart may keep the port), or a new event loop (the connections
            # of the last one are bound to it): nothing of the old client is reused
            self._client_start, self._client_loop = self.server.starts, loop
            old, self._client = self._client, OpenAICompatBackend(
                model=self.model,
                base_url=url,
                api_key_env=NO_KEY_ENV,
                concurrency=self.max_concurrency,
                timeout=REQUEST_TIMEOUT,
                json_mode="json_schema",  # llama-server takes OpenAI's format
                gbnf_choices=True,
            )
            if old is not None:
                with contextlib.suppress(RuntimeError):  # its loop may be closed already
                    await old.aclose()
        return self._client

    async def complete(self, request: ChatRequest) -> Completion:
        if self.json_mode == "none" and request.json_schema is not None and not request.grammar_choices:
            request = request.model_copy(update={"json_schema": None})
        client = await self._http()
        try:
            completion = await client.complete(request)
        except TransientBackendError:
            if self.server.alive():
                raise  # a slow or broken answer: the client's retry policy decides
            # the server died under this request: start it again and ask once more
            client = await self._http()
            completion = await client.complete(request)
        return completion.model_copy(update={"model": self.model})  # the server names the file

    async def aclose(self) -> None:
        """Closes this backend's connections; the server is shared by the process (stop_servers)."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


__all__ = ["EmbeddedBackend", "default_parallel", "default_threads", "file_fingerprint"]
