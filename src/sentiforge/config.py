"""One settings object, read from the environment (``SENTIFORGE_*``) and an optional .env file.

Only the entry points read it (:func:`get_settings`: the CLI, the HTTP service, the workers,
the benchmark scripts). They hand the application layer a :class:`Runtime` (the few values
that reach below it), and the application layer hands plain values further down: a database
URL and pool size to the store, a folder to the dataset loaders. Nothing below ``app/`` reads
the environment (tests/test_settings_flow.py checks it).

API keys are never settings: a backend reads its key from the environment variable the
user names (``OPENAI_API_KEY`` by default) at call time, and never stores or logs it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "qwen2.5-1.5b"  # the embedded default: the packaged Qwen2.5 1.5B GGUF
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"  # the variable an OpenAI-compatible backend reads its key from


def _home() -> Path:
    return Path(os.environ.get("SENTIFORGE_HOME", Path.home() / ".sentiforge"))


class Settings(BaseSettings):
    """Every ``SENTIFORGE_*`` variable the README documents, and nothing else."""

    model_config = SettingsConfigDict(env_prefix="SENTIFORGE_", env_file=".env", extra="ignore")

    home: Path = _home()
    database_url: str = ""  # default: SQLite in the home
    templates_dir: Path | None = None  # edited prompt templates, looked up before the packaged ones
    model_dir: Path | None = None  # joined GGUF files (default: models/ in the home)
    datasets: Path | None = None  # the real sets behind vader:* and uci:* (default: the packaged copy)
    db_pool_size: int = 5  # PostgreSQL: connections kept open per process (and as many again on demand)

    # -- the HTTP service (`sentiforge serve`, deploy/gunicorn.conf.py) -------------------------
    classifiers_dir: Path = Path()  # saved classifiers served by /v1/sentiment (default: classifiers/ in the home)
    reports_dir: Path = Path()  # evaluation reports made over the API (default: reports/ in the home)
    default_classifier: str = ""  # the model /v1/sentiment uses when a request names none (default: the newest)
    predict_batch_limit: int = 64  # most texts in one /v1/sentiment request
    max_body_mb: float = 1.0  # largest JSON request body (413 above)
    max_upload_mb: float = 100.0  # largest dataset upload (413 above)
    rate_limit_per_minute: int = 600  # requests per API key and minute (429 with Retry-After above; 0: no limit)
    redis_url: str = ""  # shares the rate limits between processes, and is checked by /ready (default: none)
    cors_origins: str = ""  # comma-separated origins allowed by CORS (default: none, CORS off)
    web_session_hours: float = Field(default=8.0, gt=0, le=720)  # a workbench login lasts this long
    max_running_jobs: int = 2  # jobs the server runs at once in the background; more wait queued
    backend_urls: str = ""  # comma-separated OpenAI-compatible base URLs jobs sent over HTTP may call
    # comma-separated variables a backend of a job sent over HTTP may read its key from
    backend_key_envs: str = DEFAULT_API_KEY_ENV

    review_lease_seconds: float = 300.0  # how long a reviewer holds the items the review page hands them

    # -- quality over time and input drift (quality/summary.py, quality/history.py, app/drift.py) --
    drift_threshold: float = 0.1  # a measure that moves more than this between runs is flagged
    drift_embedder: str = "auto"  # auto (minilm when installed) | minilm | multilingual | fake | none (n-grams)
    drift_window: int = 500  # served texts per model (and worker process) in the input-drift window

    # -- workers (`sentiforge worker`, sentiforge/worker/) ----------------------------------------
    broker_url: str = ""  # Celery broker (redis://...): set, large jobs are sharded over workers
    shard_size: int = 250  # slots per shard
    shard_max_deliveries: int = 3  # a shard delivered more often (it kills its worker) ends failed
    shard_time_limit: int = 1800  # hard limit of one shard, seconds: below the visibility timeout
    broker_visibility_timeout: int = 3600  # Redis redelivers an unacked task after this many seconds
    worker_queue: str = "sentiforge-shards"  # the Celery queue shards go to
    limits_url: str = ""  # Redis holding the provider's RPM/TPM buckets shared by every worker
    cache_url: str = ""  # Redis holding the response cache (redis://...; default: the database's cache)
    cache_ttl: float = 0.0  # seconds a response stays in the Redis cache (0: until Redis evicts it)

    @property
    def backend_url_list(self) -> list[str]:
        return _listed(self.backend_urls)

    @property
    def backend_key_env_list(self) -> list[str]:
        return _listed(self.backend_key_envs)

    def model_post_init(self, _context: object) -> None:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'sentiforge.db'}"
        if self.model_dir is None:
            self.model_dir = self.home / "models"
        if self.classifiers_dir == Path():
            self.classifiers_dir = self.home / "classifiers"
        if self.reports_dir == Path():
            self.reports_dir = self.home / "reports"

    def runtime(self) -> Runtime:
        """The values the application layer hands down to the layers below it."""
        return Runtime(
            db_pool_size=self.db_pool_size,
            datasets=self.datasets,
            templates_dir=self.templates_dir,
            drift_embedder=self.drift_embedder,
            model_dir=self.model_dir,
            limits_url=self.limits_url,
            cache_url=self.cache_url,
            cache_ttl=self.cache_ttl,
        )


@dataclass(frozen=True)
class Runtime:
    """What the application layer needs from the settings to run an operation, as plain
    values; one argument instead of one keyword per setting on every call that passes them
    through (a job's run reaches the store, the dataset loaders, the summaries, the engine's
    Redis cache, the backend's shared limiter and the GGUF models).

    The defaults are what a library caller gets without configuring anything: the packaged
    datasets and templates, no edited templates, the n-gram summary measures (no model load).
    The entry points build it from :class:`Settings` (:meth:`Settings.runtime`)."""

    db_pool_size: int = 5  # PostgreSQL connections a store opened on the way keeps
    datasets: Path | None = None  # the real sets behind vader:* and uci:* (None: the packaged copy)
    templates_dir: Path | None = None  # edited prompt templates a job uses unless its request names some
    drift_embedder: str = "none"  # the embedder of job and quality summaries (none: the n-gram measures)
    model_dir: Path | None = None  # joined GGUF files and judge calibrations (None: ~/.sentiforge/models, none kept)
    limits_url: str = ""  # Redis holding the provider's RPM/TPM buckets shared by every worker ("": none)
    cache_url: str = ""  # Redis holding the response cache ("": the database's cache)
    cache_ttl: float = 0.0  # seconds a response stays in the Redis cache (0: until Redis evicts it)


DEFAULT_RUNTIME = Runtime()


def _listed(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
