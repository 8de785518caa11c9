"""LLM backends behind one interface (:class:`Backend`), and the client that wraps them.

A recipe names its backend by kind; :func:`from_spec` builds it from the kinds registered
here. The real ones (``openai``, ``embedded``) are built in; another registers itself with
:func:`register_backend`, from a ``sentiforge.plugins`` entry point (:mod:`sentiforge.plugins`),
as the deterministic fake in :mod:`sentiforge.testing` does (so ``--backend fake`` works for users).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sentiforge.backends.base import Backend, ChatRequest, Completion, Message, Usage
from sentiforge.backends.client import Accounting, LLMClient, MemoryCache, Pricing, RetryPolicy
from sentiforge.config import DEFAULT_RUNTIME, Runtime
from sentiforge.errors import ConfigError

if TYPE_CHECKING:
    from sentiforge.backend_spec import BackendSpec

BackendFactory = Callable[["BackendSpec", Runtime], Backend]  # the spec, and the values handed down


def _openai(spec: BackendSpec, runtime: Runtime) -> Backend:
    from sentiforge.backend_spec import OpenAISpec
    from sentiforge.backends.openai_compat import OpenAICompatBackend

    assert isinstance(spec, OpenAISpec), "registered for kind openai"
    return OpenAICompatBackend.from_spec(spec, limits_url=runtime.limits_url)


def _embedded(spec: BackendSpec, runtime: Runtime) -> Backend:
    from sentiforge.backend_spec import EmbeddedSpec
    from sentiforge.backends.embedded import EmbeddedBackend

    assert isinstance(spec, EmbeddedSpec), "registered for kind embedded"
    return EmbeddedBackend.from_spec(spec, model_dir=runtime.model_dir)


_KINDS: dict[str, BackendFactory] = {"openai": _openai, "embedded": _embedded}


def register_backend(kind: str, factory: BackendFactory) -> None:
    """Make ``kind`` buildable by :func:`from_spec` (a later registration of a kind wins)."""
    _KINDS[kind] = factory


def from_spec(spec: BackendSpec, runtime: Runtime = DEFAULT_RUNTIME) -> Backend:
    """Build the backend a recipe names. Heavy imports happen only here, on demand. The
    ``runtime`` (handed down from an entry point) says where packaged GGUF models are joined
    and where the provider's rate limits are shared."""
    from sentiforge.plugins import load_plugins

    load_plugins()
    factory = _KINDS.get(spec.kind)
    if factory is None:
        hint = "; sentiforge's fakes register from its entry points: reinstall it (pip install -e .)"
        raise ConfigError(
            f"no backend of kind {spec.kind!r} is registered (known: {sorted(_KINDS)})"
            + (hint if spec.kind == "fake" else "")
        )
    return factory(spec, runtime)


__all__ = [
    "Accounting",
    "Backend",
    "BackendFactory",
    "ChatRequest",
    "Completion",
    "LLMClient",
    "MemoryCache",
    "Message",
    "Pricing",
    "RetryPolicy",
    "Usage",
    "from_spec",
    "register_backend",
]
