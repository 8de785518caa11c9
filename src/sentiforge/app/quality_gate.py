"""The quality gate as one operation: build the judge from the request, gate the dataset."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sentiforge.app.requests import QualityRequest
from sentiforge.config import DEFAULT_RUNTIME, Runtime

if TYPE_CHECKING:
    from sentiforge.progress import OnProgress
    from sentiforge.quality.runner import RunSummary
    from sentiforge.store import Store


def judge_client(store: Store, kind: str, model: str, runtime: Runtime = DEFAULT_RUNTIME) -> Any:
    """An LLMClient for the judge whose answers are cached (reruns ask nothing twice): in Redis
    where the runtime's cache_url (SENTIFORGE_CACHE_URL) names one, else in the store."""
    if kind == "none":
        return None
    from sentiforge.backends import LLMClient, from_spec
    from sentiforge.backends.redis_cache import shared_cache
    from sentiforge.recipe import BackendSpec

    context = {"n_ctx": 2048} if kind == "embedded" else {}  # a judge's prompt is short
    backend = from_spec(BackendSpec(kind=kind, model=model, **context), runtime)
    cache = shared_cache(runtime.cache_url, runtime.cache_ttl)
    return LLMClient(backend, cache=cache or store.cache(backend.key))


def run_quality(
    store: Store, request: QualityRequest, *, runtime: Runtime = DEFAULT_RUNTIME, progress: OnProgress | None = None
) -> RunSummary:
    """Run every check over the dataset; each sample gets a record, rejects keep their reason."""
    from sentiforge.app.summaries import configured_embedder
    from sentiforge.errors import ConfigError
    from sentiforge.quality.config import QualityConfig
    from sentiforge.quality.runner import run_quality as gate

    try:
        cfg = QualityConfig.model_validate(request.config or {})
    except ValueError as exc:
        raise ConfigError(f"invalid quality config: {exc}") from exc
    embedder: Any = None
    if request.embedder == "none":
        cfg.dedup.embedding = False
        embedder = False
    elif request.embedder:
        cfg.dedup.embedder = request.embedder
    client = judge_client(store, request.judge, request.judge_model, runtime) if cfg.consistency.judge else None
    return gate(
        store,
        request.dataset,
        cfg,
        holdout=request.holdout,
        holdout_split=request.holdout_split,
        seeds=request.seeds,
        seed_split=request.seed_split,
        judge_client=client,
        embedder=embedder,
        progress=progress,
        summary_embedder=configured_embedder(runtime.drift_embedder),
        datasets=runtime.datasets,
    )
