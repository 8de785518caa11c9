"""Test helpers shipped with the library, so users can test their recipes too.

:class:`OpenAITestServer` is a real OpenAI-compatible HTTP server with fault injection
(starlette and uvicorn, the ``testing`` extra), on a thread or, as :class:`ServerProcess`,
in its own process; :class:`~sentiforge.backends.fake.FakeBackend` is the in-process fake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentiforge.testing.process import ServerProcess
    from sentiforge.testing.server import FAULTS, Fault, OpenAITestServer, RecordedRequest

__all__ = ["FAULTS", "Fault", "OpenAITestServer", "RecordedRequest", "ServerProcess"]


def __getattr__(name: str) -> Any:
    if name == "ServerProcess":
        from sentiforge.testing import process

        return process.ServerProcess
    if name in __all__:
        from sentiforge.testing import server

        return getattr(server, name)
    raise AttributeError(name)
