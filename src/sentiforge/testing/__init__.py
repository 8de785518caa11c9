"""Test doubles shipped with the library, so users can test their recipes too; every fake
sentiforge has lives here.

- :class:`~sentiforge.testing.backend.FakeBackend`: the in-process LLM (``enqueue``, ``history``).
- :class:`~sentiforge.testing.augmenter.ScriptedAugmenter`: a responder for it that answers the
  augmentation prompts as a good model would, with switches that break one behaviour.
- :class:`~sentiforge.testing.embedder.FakeEmbedder` (``get_embedder("fake")``) and
  :class:`~sentiforge.testing.classifier.FakeClassifier` (the ``fake`` classifier kind).
- :class:`OpenAITestServer`: a real OpenAI-compatible HTTP server with fault injection
  (starlette and uvicorn, the ``testing`` extra), on a thread or, as :class:`ServerProcess`,
  in its own process.

:func:`register` registers the fakes by name: the backend kind ``fake`` (with
``fake_responder: augment``, the ScriptedAugmenter answers), the embedder ``fake`` and the
classifier kind ``fake``. It is the ``sentiforge.plugins`` entry point (pyproject.toml), so the
registries find the fakes when a user names them (``--backend fake`` is a dry run) and nothing
in the library imports this package; importing it registers them too (tests/conftest.py).
Every name loads on first use, so importing this package pulls in no server library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sentiforge.backends import register_backend
from sentiforge.classifiers.registry import register_classifier
from sentiforge.embeddings import register_embedder

if TYPE_CHECKING:
    from sentiforge.backends.base import Backend
    from sentiforge.config import Runtime
    from sentiforge.recipe import BackendSpec
    from sentiforge.testing.augmenter import ScriptedAugmenter
    from sentiforge.testing.backend import FakeBackend
    from sentiforge.testing.classifier import FakeClassifier
    from sentiforge.testing.embedder import FakeEmbedder
    from sentiforge.testing.faults import FAULTS, Fault, RecordedRequest
    from sentiforge.testing.process import ServerProcess
    from sentiforge.testing.server import OpenAITestServer

_LAZY = {
    "FakeBackend": "sentiforge.testing.backend",
    "ScriptedAugmenter": "sentiforge.testing.augmenter",
    "FakeEmbedder": "sentiforge.testing.embedder",
    "FakeClassifier": "sentiforge.testing.classifier",
    "ServerProcess": "sentiforge.testing.process",
    "FAULTS": "sentiforge.testing.faults",
    "Fault": "sentiforge.testing.faults",
    "OpenAITestServer": "sentiforge.testing.server",
    "RecordedRequest": "sentiforge.testing.faults",
}

__all__ = [
    "FAULTS",
    "FakeBackend",
    "FakeClassifier",
    "FakeEmbedder",
    "Fault",
    "OpenAITestServer",
    "RecordedRequest",
    "ScriptedAugmenter",
    "ServerProcess",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


def _fake_backend(spec: BackendSpec, _runtime: Runtime) -> Backend:
    from sentiforge.backend_spec import FakeSpec
    from sentiforge.testing.augmenter import ScriptedAugmenter
    from sentiforge.testing.backend import FakeBackend

    assert isinstance(spec, FakeSpec), "registered for kind fake"

    responder = ScriptedAugmenter() if spec.fake_responder == "augment" else None
    return FakeBackend(
        model=spec.model, latency=spec.fake_latency, max_concurrency=spec.concurrency, responder=responder
    )


def _fake_embedder() -> FakeEmbedder:
    from sentiforge.testing.embedder import FakeEmbedder

    return FakeEmbedder()


def register() -> None:
    """Register the fakes (the ``sentiforge.plugins`` entry point)."""
    from sentiforge.testing.classifier import FakeClassifier

    register_backend("fake", _fake_backend)
    register_embedder("fake", _fake_embedder)
    register_classifier(FakeClassifier)


register()
