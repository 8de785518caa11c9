"""What a request may touch when it comes over HTTP (:func:`for_service`): datasets of the
store or the built-in sets (never a server path), models saved in the models folder by name,
reports in the reports folder, label schemes by built-in name or inline, packaged models only,
and backends only as the operator allows (``SENTIFORGE_BACKEND_URLS``,
``SENTIFORGE_BACKEND_KEY_ENVS``). The CLI trusts its user and skips this.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentiforge.app.requests import BuildRequest, EvaluateRequest, QualityRequest, TrainRequest
from sentiforge.errors import ConfigError, NotFoundError
from sentiforge.names import check_name

if TYPE_CHECKING:
    from sentiforge.config import Settings
    from sentiforge.recipe import BackendSpec
    from sentiforge.store import Store

BUILTIN = ("vader:", "uci:")


def in_store(store: Store, name: str) -> bool:
    try:
        store.dataset_id(name)
    except NotFoundError:
        return False
    return True


def model_folder(name: str, models_dir: Path) -> Path:
    """Where the service saves a model called ``name``: a plain name inside the models folder."""
    return models_dir / check_name(name, "model name")


def backend_specs(request: Any) -> list[tuple[str, BackendSpec]]:
    """Every backend a request can make the server call, with where it sits in the request:
    the job's backend (a recipe's included), a train job's rationale writer, a quality judge."""
    from sentiforge.recipe import BackendSpec

    specs: list[tuple[str, BackendSpec]] = []
    for where, holder in (("backend", request), ("recipe.backend", getattr(request, "recipe", None))):
        if isinstance(getattr(holder, "backend", None), BackendSpec):
            specs.append((where, holder.backend))  # type: ignore[union-attr]
    if isinstance(request, TrainRequest) and request.rationale_backend is not None:
        specs.append(("rationale_backend", request.rationale_backend))
    if isinstance(request, QualityRequest) and request.judge != "none":
        specs.append(("judge", BackendSpec(kind=request.judge, model=request.judge_model)))
    return specs


def _check_paths(request: Any) -> None:
    """Over HTTP nothing in a request names a file of the server: prompt templates come from the
    server's settings, a label scheme is a built-in name or an inline scheme, a base model or an
    embedded model a packaged name."""
    from sentiforge.labels import BUILTIN

    recipe = getattr(request, "recipe", None)
    if getattr(request, "templates", None) or getattr(recipe, "templates", None):
        raise ConfigError("the service uses the server's templates (SENTIFORGE_TEMPLATES_DIR); leave 'templates' out")
    schemes = (("scheme", getattr(request, "scheme", None)), ("recipe.scheme", getattr(recipe, "scheme", None)))
    for where, scheme in schemes:
        if isinstance(scheme, str) and scheme not in BUILTIN:
            raise ConfigError(
                f"{where}: unknown label scheme {scheme[:60]!r}; over HTTP a scheme is one of "
                f"{sorted(set(BUILTIN))} or an inline scheme object (a JSON object)"
            )
        if isinstance(scheme, dict):
            _check_inline_scheme(where, scheme)
    if isinstance(request, TrainRequest | EvaluateRequest):
        check_name(request.base_model, "base_model (a packaged model name over HTTP)")
        if request.base_model.endswith(".gguf"):
            raise ConfigError("base_model: over HTTP a packaged model name, not a .gguf file")
    from sentiforge.backends.gguf import PACKAGED

    for where, spec in backend_specs(request):
        if spec.kind == "embedded" and spec.model not in PACKAGED:
            raise ConfigError(f"{where}.model: over HTTP an embedded model is one of {sorted(PACKAGED)}, never a path")


def _check_inline_scheme(where: str, scheme: dict[str, Any]) -> None:
    """An inline scheme that the store can hold: valid, each label 1 to 100 characters."""
    from sentiforge.errors import LabelError
    from sentiforge.labels import LabelScheme

    try:
        labels = LabelScheme.model_validate(scheme).labels
    except (ValueError, LabelError) as exc:
        raise ConfigError(f"{where}: invalid inline label scheme: {exc}") from None
    if any(not 1 <= len(label) <= 100 for label in labels):
        raise ConfigError(f"{where}: a label is 1 to 100 characters")


def _check_sources(store: Store, request: Any) -> None:
    """Every data source a store dataset or a built-in set."""
    sources: tuple[str, ...] = ("seeds",) if getattr(request, "seeds", None) and hasattr(request, "to_recipe") else ()
    if getattr(request, "pool", None):
        sources += ("pool",)
    if isinstance(request, QualityRequest):
        sources = ("dataset", "holdout", "seeds")
    elif isinstance(request, EvaluateRequest):
        sources = ("real", "synthetic", "holdout")
    elif isinstance(request, TrainRequest):
        sources = ("dataset",)
    elif isinstance(request, BuildRequest):
        sources = ("seeds", "pool")
    names = [(f, getattr(request, f)) for f in sources]
    if isinstance(request, BuildRequest):
        names += [("synthetic", n) for n in request.synthetic]
    for field, name in names:
        if name and not name.startswith(BUILTIN):
            check_name(name, f"{field}: the service reads only stored datasets and the built-in sets; dataset name")
        if name and not name.startswith(BUILTIN) and not in_store(store, name):
            raise NotFoundError(
                f"{field}: no dataset named '{name}' in the store (the service reads only stored datasets and the "
                "built-in vader:* / uci:* sets; upload a file with POST /v1/datasets/{name}/import first)"
            )


def for_service(store: Store, request: Any, settings: Settings) -> Any:
    """The request as the service runs it: every data source a store dataset or a built-in set,
    ``out_dir`` a model name (train) or a fresh folder in the reports folder (evaluate), and
    no server path, endpoint or variable chosen by the caller: every backend spec passes
    :meth:`BackendSpec.check_allowed` with the operator's lists."""
    for where, spec in backend_specs(request):
        spec.check_allowed(settings.backend_url_list, settings.backend_key_env_list, where)
    _check_paths(request)
    _check_sources(store, request)
    if isinstance(request, TrainRequest | BuildRequest):
        return request.model_copy(update={"out_dir": str(model_folder(request.out_dir, settings.classifiers_dir))})
    if isinstance(request, EvaluateRequest):
        return request.model_copy(update={"out_dir": str(settings.reports_dir / uuid.uuid4().hex[:12])})
    return request
