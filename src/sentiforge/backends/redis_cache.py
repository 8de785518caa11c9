"""The response cache in Redis, shared by every process that names the same Redis
(``SENTIFORGE_CACHE_URL``): a request one worker or job paid for is answered from it
everywhere else, without the database.

Keys are as in the database cache (the request content hash, which includes the backend and
model), under ``sentiforge:cache:``; values are the completion as JSON, kept for
``SENTIFORGE_CACHE_TTL`` seconds (0: until Redis evicts them). Each answer is written when it
arrives, so a job that stops early never repays what it already got.

Redis unreachable is never silent: opening the cache pings it (a job then fails at its start
with the URL and the cause), and a read or write that fails mid-job raises StoreError, which
stops the job ``failed``; its samples stored so far stay, and a resume pays only what Redis
had not kept.
"""

from __future__ import annotations

import json
from typing import Any

from sentiforge.backends.base import Completion, Usage
from sentiforge.errors import ConfigError, StoreError, require

PREFIX = "sentiforge:cache"


class RedisCache:
    """The :class:`~sentiforge.backends.client.ResponseCache` interface on Redis at ``url``."""

    def __init__(self, url: str, *, ttl: float = 0.0, prefix: str = PREFIX, client: Any = None) -> None:
        if ttl < 0:
            raise ConfigError(f"a response cache TTL must be 0 (none) or positive seconds, got {ttl}")
        self.url = url
        self.ttl_ms = int(ttl * 1000)
        self.prefix = prefix
        if client is None:
            redis: Any = require("redis", feature="the Redis response cache", extra="service")
            client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10)
        self._redis = client
        self.safe_url = _safe(url)

    def ping(self) -> RedisCache:
        """Check that Redis answers (StoreError naming the URL if not); the cache itself."""
        try:
            self._redis.ping()
        except Exception as exc:  # redis' ConnectionError, TimeoutError, AuthenticationError...
            raise StoreError(f"the response cache in Redis at {self.safe_url} is unreachable: {exc}") from exc
        return self

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    def get(self, key: str) -> Completion | None:
        try:
            raw = self._redis.get(self._key(key))
        except Exception as exc:
            raise StoreError(f"could not read the response cache in Redis at {self.safe_url}: {exc}") from exc
        if raw is None:
            return None
        value = json.loads(raw)
        return Completion(
            text=value["text"],
            model=value.get("model", ""),
            finish_reason=value.get("finish_reason"),
            usage=Usage(
                prompt_tokens=value.get("prompt_tokens", 0), completion_tokens=value.get("completion_tokens", 0)
            ),
            logprobs=value.get("logprobs"),
        )

    def put(self, key: str, completion: Completion) -> None:
        value = json.dumps(
            {
                "text": completion.text,
                "model": completion.model,
                "finish_reason": completion.finish_reason,
                "prompt_tokens": completion.usage.prompt_tokens,
                "completion_tokens": completion.usage.completion_tokens,
                "logprobs": completion.logprobs,
            },
            ensure_ascii=False,
        )
        try:
            # NX: the first answer cached for a request stays (as ON CONFLICT DO NOTHING in SQL)
            self._redis.set(self._key(key), value, px=self.ttl_ms or None, nx=True)
        except Exception as exc:
            raise StoreError(f"could not write the response cache in Redis at {self.safe_url}: {exc}") from exc

    def flush(self) -> None:
        """Nothing is buffered: every answer was written when it was put."""

    def close(self) -> None:
        self._redis.close()


def _safe(url: str) -> str:
    """A Redis URL without its password."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, _, _ = head.partition("://")
    return f"{scheme}://***@{tail}"


def shared_cache(url: str, ttl: float = 0.0) -> RedisCache | None:
    """The Redis response cache at ``url`` (SENTIFORGE_CACHE_URL, handed down; checked
    reachable), else None when it is empty: the database's cache is used."""
    if not url:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"SENTIFORGE_CACHE_URL must be a redis:// URL (or empty: the database's cache), got {url!r}")
    return RedisCache(url, ttl=ttl).ping()


__all__ = ["PREFIX", "RedisCache", "shared_cache"]
