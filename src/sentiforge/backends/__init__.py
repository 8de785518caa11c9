"""LLM backends behind one interface (:class:`Backend`), and the client that wraps them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentiforge.backends.base import Backend, ChatRequest, Completion, Message, Usage
from sentiforge.backends.client import Accounting, LLMClient, MemoryCache, Pricing, RetryPolicy
from sentiforge.backends.fake import FakeBackend

if TYPE_CHECKING:
    from sentiforge.recipe import BackendSpec


def from_spec(spec: BackendSpec) -> Backend:
    """Build the backend a recipe names. Heavy imports happen only here, on demand."""
    if spec.kind == "fake":
        responder = None
        if spec.fake_responder == "augment":
            from sentiforge.augment.testing import ScriptedAugmenter

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
