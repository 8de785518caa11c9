"""The Celery app, configured from the settings for work that must not be lost or repeated.

- ``acks_late`` + ``task_reject_on_worker_lost``: a shard whose worker dies goes back to the
  queue (its slots stored so far are kept: the rerun skips them).
- prefetch 1: a worker holds one shard at a time, so a slow one does not hoard the queue.
- a hard time limit below the broker's visibility timeout: Redis redelivers a task still
  unacked after the timeout, so a shard must end (or be killed) before it; a copy delivered
  anyway finds the shard claimed in the database and waits instead of running it twice.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sentiforge.config import Settings, get_settings
from sentiforge.errors import ConfigError, require


def celery_config(settings: Settings) -> dict[str, Any]:
    if not settings.broker_url:
        raise ConfigError("workers need a broker: set SENTIFORGE_BROKER_URL (e.g. redis://127.0.0.1:6379/1)")
    if settings.shard_time_limit >= settings.broker_visibility_timeout:
        raise ConfigError(
            f"SENTIFORGE_SHARD_TIME_LIMIT ({settings.shard_time_limit} s) must stay below "
            f"SENTIFORGE_BROKER_VISIBILITY_TIMEOUT ({settings.broker_visibility_timeout} s), or Redis "
            "hands a running shard to a second worker"
        )
    return {
        "broker_url": settings.broker_url,
        "broker_transport_options": {"visibility_timeout": settings.broker_visibility_timeout},
        "broker_connection_retry_on_startup": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": settings.shard_time_limit,
        "task_soft_time_limit": max(int(settings.shard_time_limit * 0.9), 1),  # the engine stops cleanly first
        "task_ignore_result": True,
        "task_default_queue": settings.worker_queue,
        "worker_hijack_root_logger": False,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
    }


@lru_cache(maxsize=1)
def celery_app() -> Any:
    celery: Any = require("celery", feature="workers", extra="service")
    app = celery.Celery("sentiforge", include=["sentiforge.worker.tasks"])
    app.conf.update(celery_config(get_settings()))
    return app
