"""Counters every process of the fleet keeps (a server's jobs, a worker's shards): rate-limit
waits by kind and their seconds, samples accepted. Each process adds up its own and saves its
totals to the store (:meth:`save`: at the end of a shard, every few seconds while one runs,
and at each scrape); a scrape of any server sums every process's (api/metrics.py), so one
``/metrics`` shows the whole fleet, workers on other hosts included.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentiforge.progress import OnProgress, Update
    from sentiforge.store import Store

SAVE_SECONDS = 5.0  # how often a process that runs jobs saves its counters
WAITS = "llm_rate_limit_waits"
WAIT_SECONDS = "llm_rate_limit_wait_seconds"
SAMPLES = "job_samples"

_lock = threading.Lock()
_totals: dict[tuple[str, str], float] = {}
_process: dict[int, str] = {}  # pid -> name: a forked child is a process of its own


def process() -> str:
    """This process's name in the counters: host, pid and start, so a restart starts afresh."""
    pid = os.getpid()
    if pid not in _process:
        _process.clear()
        _totals.clear()  # a fork copies the parent's totals: the child counts only its own
        _process[pid] = f"{socket.gethostname()}:{pid}:{time.time():.0f}"
    return _process[pid]


def add(name: str, label: str = "", amount: float = 1.0) -> None:
    with _lock:
        process()
        _totals[name, label] = _totals.get((name, label), 0.0) + amount


def observe_wait(kind: str, seconds: float) -> None:
    """A request waited for a provider limit (registered with ``backends.ratelimit.on_wait``)."""
    add(WAITS, kind)
    add(WAIT_SECONDS, kind, max(seconds, 0.0))


def sample_counter(start: int) -> OnProgress:
    """A job's progress callback that counts its newly accepted samples (``start``: the samples
    it had when this run began)."""
    last = [start]

    def progress(update: Update) -> None:
        if update.done > last[0]:
            add(SAMPLES, "", update.done - last[0])
            last[0] = update.done

    return progress


def save(store: Store) -> None:
    """Save this process's totals (an upsert of its own rows)."""
    with _lock:
        name, totals = process(), dict(_totals)
    store.save_counters(name, totals)
