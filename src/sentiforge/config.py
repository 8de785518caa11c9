"""One settings object, read from the environment (``SENTIFORGE_*``) and an optional .env file.

API keys are never settings: a backend reads its key from the environment variable the
user names (``OPENAI_API_KEY`` by default) at call time, and never stores or logs it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


def _home() -> Path:
    return Path(os.environ.get("SENTIFORGE_HOME", Path.home() / ".sentiforge"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SENTIFORGE_", env_file=".env", extra="ignore")

    home: Path = _home()
    database_url: str = ""
    cache_dir: Path | None = None
    templates_dir: Path | None = None  # user templates override the packaged ones
    backend: str = "embedded"  # embedded | openai | fake
    model: str = "qwen2.5-1.5b"  # embedded: qwen2.5-1.5b | qwen2.5-0.5b | a .gguf path; openai: model id
    base_url: str = "https://api.openai.com/v1"
    api_key_env: str = "OPENAI_API_KEY"
    redis_url: str = "redis://127.0.0.1:6379/0"

    def model_post_init(self, _context: object) -> None:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'sentiforge.db'}"
        if self.cache_dir is None:
            self.cache_dir = self.home / "cache"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
