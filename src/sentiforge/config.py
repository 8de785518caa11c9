"""One settings object, read from the environment (``SENTIFORGE_*``) and an optional .env file.

API keys are never settings: a backend reads its key from the environment variable the
user names (``OPENAI_API_KEY`` by default) at call time, and never stores or logs it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

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

    def model_post_init(self, _context: object) -> None:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'sentiforge.db'}"
        if self.model_dir is None:
            self.model_dir = self.home / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
