"""One event loop in a daemon thread, for sync callers of async clients (the gate, the judge)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """An LLMClient's semaphore binds to the first loop that uses it, so every batch a sync
    caller sends must go through the same loop; this also works when the caller itself runs
    inside an event loop (the service), where ``asyncio.run`` would fail."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="sentiforge-judge")
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


__all__ = ["LoopThread"]
