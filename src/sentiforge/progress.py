"""Where a long operation stands, one shape for all of them.

A generation job counts samples (``done`` of ``total``, and its ``rejected``); the quality gate
counts examined samples (``counts``: its decisions so far); an evaluation names its ``stage``; a
build counts estimated seconds of work and names the candidate it trains. Each reports an
:class:`Update` to an ``OnProgress`` callback: the CLI draws a bar, the service's runner keeps
the job's row and the fleet's counters, the task runner checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Update:
    done: int = 0
    total: int = 0  # 0: not known
    stage: str = ""
    rejected: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)


OnProgress = Callable[[Update], None]
