"""LLM backends behind one interface (:class:`Backend`), and the client that wraps them.

The deterministic fake lives with the other test doubles in :mod:`sentiforge.testing`;
``FakeBackend`` is re-exported here (on first use) because recipes name it as a backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sentiforge.backends.base import Backend, ChatRequest, Completion, Message, Usage
from sentiforge.backends.client import Accounting, LLMClient, MemoryCache, Pricing, RetryPolicy

if TYPE_CHECKING:
    from sentiforge.recipe import BackendSpec
    from sentiforge.testing.backend import FakeBackend


def from_spec(spec: BackendSpec) -> Backend:
    """Build the backend a recipe names. Heavy imports happen only here, on demand."""
    if spec.kind == "fake":
        from sentiforge.testing.backend import FakeBackend

        responder = None
        if spec.fake_responder == "augment":
            from sentiforge.testing.augmenter import ScriptedAugmenter

            responder = ScriptedAugmenter()
        return FakeBackend(
            model=spec.model, latency=spec.fake_latency, max_concurrency=spec.concurrency, responder=responder
        )
    if spec.kind == "openai":
        from sentiforge.backends.openai_compat import OpenAICompatBackend

        return OpenAICompatBackend.from_spec(spec)
    from sentiforge.backends.embedded import EmbeddedBackend

    return EmbeddedBackend.from_spec(spec)


__all__ = [
    "Accounting",
    "Backend",
    "ChatRequest",
    "Completion",
    "FakeBackend",
    "LLMClient",
    "MemoryCache",
    "Message",
    "Pricing",
    "RetryPolicy",
    "Usage",
    "from_spec",
]


def __getattr__(name: str) -> Any:
    # Lazy: sentiforge.testing.backend imports backends.base, so an eager import here would be circular.
    if name == "FakeBackend":
        from sentiforge.testing.backend import FakeBackend

        return FakeBackend
    raise AttributeError(f"module 'sentiforge.backends' has no attribute {name!r}")
