"""A recipe is plain data: what to make, with which backend, in which steps.

It serialises to JSON/YAML, is stored with the job that ran it, and is all a worker needs
to run or resume that job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sentiforge.config import DEFAULT_API_KEY_ENV, DEFAULT_MODEL
from sentiforge.errors import ConfigError
from sentiforge.names import Name

JsonMode = Literal["auto", "json_schema", "json_object", "none"]
MAX_COUNT = 2**31 - 1  # a job counts to its target in an Integer column: int4 on PostgreSQL
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]  # what numpy and scikit-learn take as a seed
_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class BackendSpec(BaseModel):
    model_config = _STRICT

    kind: Literal["embedded", "openai", "fake"] = "embedded"
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    api_key_env: str = DEFAULT_API_KEY_ENV  # the *name* of the variable; the key itself is never stored
    requests_per_minute: float | None = Field(default=None, gt=0)
    tokens_per_minute: float | None = Field(default=None, gt=0)
    concurrency: int = Field(default=8, ge=1, le=1024)
    timeout: float = Field(default=60.0, gt=0, le=86_400)
    input_per_mtok: float = Field(default=0.0, ge=0)  # USD per million prompt tokens
    output_per_mtok: float = Field(default=0.0, ge=0)
    n_ctx: int = Field(default=4096, ge=64, le=1 << 20)
    # embedded: llama-server threads (default: the cores this process may use)
    n_threads: int | None = Field(default=None, ge=1, le=1024)
    # embedded: llama-server's parallel slots, requests decoded together (None: two a core, 4 to 16)
    parallel: int | None = Field(default=None, ge=1, le=256)
    fake_latency: float = Field(default=0.0, ge=0, le=60)
    # fake: "schema" fills the asked JSON schema with random words; "augment" answers the
    # augmentation prompts like a good model would (a dry run through every check)
    fake_responder: Literal["schema", "augment"] = "schema"
    # embedded: "none" turns the JSON-schema grammar off (about 2x faster decoding on a CPU;
    # the lenient parser and retries handle the rare malformed answer); the other values keep it.
    # openai: how to ask for JSON output. auto = OpenAI's json_schema, falling back to json_object
    # ({"type": "json_object", "schema": ...}) once if the server rejects it (llama-cpp-python's server)
    json_mode: JsonMode = "auto"
    # openai: send the job's requests through the provider's batch API (/v1/files + /v1/batches),
    # billed at ``batch_discount`` times the prices above; see sentiforge/engine/batching.py
    batch_api: bool = False
    batch_discount: float = Field(default=0.5, gt=0, le=1)
    batch_rounds: int = Field(default=3, ge=1, le=20)  # batches per step: failed lines go in the next one
    batch_poll_seconds: float = Field(default=30.0, gt=0)  # the longest wait between two looks at a batch
    # what runs the requests still unanswered after the last round: "live" (normal requests, full
    # price) or "stop" (the job stops incomplete, resumable; nothing is paid at full price)
    batch_fallback: Literal["live", "stop"] = "live"

    @model_validator(mode="before")
    @classmethod
    def _legacy_embedded_fields(cls, data: Any) -> Any:
        """Recipes stored before llama-server was the engine still load: ``batch_size`` (requests
        decoded together) is now ``parallel``; ``copies`` and ``prefix_cache_mb`` are the
        server's business (slots and its prompt cache) and are dropped."""
        if not isinstance(data, dict) or not {"batch_size", "copies", "prefix_cache_mb"} & data.keys():
            return data
        data = dict(data)
        data.pop("copies", None)
        data.pop("prefix_cache_mb", None)
        batch = data.pop("batch_size", None)
        if isinstance(batch, int) and batch > 1 and data.get("parallel") is None:
            data["parallel"] = batch
        return data

    @model_validator(mode="after")
    def _batch_needs_openai(self) -> BackendSpec:
        if self.batch_api and self.kind != "openai":
            raise ValueError("batch_api needs backend kind 'openai' (a provider with /v1/files and /v1/batches)")
        return self

    def check_allowed(self, base_urls: list[str], key_envs: list[str], where: str = "backend") -> None:
        """Where a caller is not the operator (the HTTP API), a backend may call only the default
        endpoint or one of ``base_urls``, and read its key only from a variable in ``key_envs``:
        the one check every backend spec of a request goes through."""
        allowed = [u.strip().rstrip("/") for u in base_urls if u.strip()]
        if self.base_url is not None and self.base_url.rstrip("/") not in allowed:
            raise ConfigError(
                f"{where}.base_url {self.base_url!r} is not one the server allows; "
                f"the operator lists them in SENTIFORGE_BACKEND_URLS ({allowed})"
            )
        if self.api_key_env not in key_envs:
            raise ConfigError(
                f"{where}.api_key_env must be one of {key_envs} (SENTIFORGE_BACKEND_KEY_ENVS), "
                f"not {self.api_key_env[:60]!r}"
            )


class StepSpec(BaseModel):
    model_config = _STRICT

    strategy: str = "generate"
    params: dict[str, Any] = Field(default_factory=dict)


class Recipe(BaseModel):
    model_config = _STRICT

    name: Name = "sentiforge-run"
    scheme: str | dict[str, Any] = "three_class"
    language: str = Field(default="en", min_length=1, max_length=12)
    seed: Seed = 0
    backend: BackendSpec = Field(default_factory=BackendSpec)
    steps: list[StepSpec] = Field(default_factory=lambda: [StepSpec()], max_length=50)
    seeds: str | None = None  # name of a real dataset: few-shot pool and augmentation seeds
    seed_split: str | None = "train"  # only this split of the seed dataset is used (never a holdout)
    max_attempts: int = Field(default=5, ge=1, le=50)
    max_cost: float | None = Field(default=None, ge=0)
    max_total_tokens: int | None = Field(default=None, ge=1)
    # answers cached by other jobs (the same requests: same recipe and seed) are not reused:
    # every request is sent again, and only this job's own answers come back on a resume
    fresh: bool = False
    templates: str | None = None  # a folder of edited prompt templates, looked up before the packaged ones

    def label_scheme(self) -> Any:
        from sentiforge.labels import LabelScheme, get_scheme

        if isinstance(self.scheme, dict):
            return LabelScheme.model_validate(self.scheme)
        return get_scheme(self.scheme)

    @classmethod
    def load(cls, path: str | Path) -> Recipe:
        import json

        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read recipe {p}: {exc}") from exc
        try:
            if p.suffix in {".yaml", ".yml"}:
                import yaml

                data = yaml.safe_load(text)
            else:
                data = json.loads(text)
            return cls.model_validate(data)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"invalid recipe {p}: {exc}") from exc

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
