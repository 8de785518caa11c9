"""A recipe is plain data: what to make, with which backend, in which steps.

It serialises to JSON/YAML, is stored with the job that ran it, and is all a worker needs
to run or resume that job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sentiforge.config import DEFAULT_API_KEY_ENV, DEFAULT_MODEL
from sentiforge.errors import ConfigError

JsonMode = Literal["auto", "json_schema", "json_object", "none"]


class BackendSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["embedded", "openai", "fake"] = "embedded"
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    api_key_env: str = DEFAULT_API_KEY_ENV  # the *name* of the variable; the key itself is never stored
    requests_per_minute: float | None = Field(default=None, gt=0)
    tokens_per_minute: float | None = Field(default=None, gt=0)
    concurrency: int = Field(default=8, ge=1, le=1024)
    timeout: float = Field(default=60.0, gt=0)
    input_per_mtok: float = 0.0  # USD per million prompt tokens
    output_per_mtok: float = 0.0
    n_ctx: int = 4096
    n_threads: int | None = None  # embedded: llama.cpp threads per copy (default: the cores / copies)
    copies: int = Field(default=1, ge=1, le=16)  # embedded: model copies answering in parallel
    prefix_cache_mb: int = Field(default=512, ge=0)  # embedded: RAM for KV states of earlier prompts (0 = off)
    # embedded: requests decoded together in one context (1: one at a time; None: chosen from the cores / GPU).
    # 1 by default: on the 2-core machine the main job ran 2.4x slower batched (benchmarks/embedded/README.md)
    batch_size: int | None = Field(default=1, ge=1, le=256)
    fake_latency: float = 0.0
    # fake: "schema" fills the asked JSON schema with random words; "augment" answers the
    # augmentation prompts like a good model would (a dry run through every check)
    fake_responder: Literal["schema", "augment"] = "schema"
    # embedded: "none" turns the JSON-schema grammar off (about 2x faster decoding on a CPU;
    # the lenient parser and retries handle the rare malformed answer); the other values keep it.
    # openai: how to ask for JSON output. auto = OpenAI's json_schema, falling back to json_object
    # ({"type": "json_object", "schema": ...}) once if the server rejects it (llama-cpp-python's server)
    json_mode: JsonMode = "auto"
    # openai: send the job's requests through the provider's batch API (/v1/files + /v1/batches),
    # billed at ``batch_discount`` times the prices above; see sentiforge/batching.py
    batch_api: bool = False
    batch_discount: float = Field(default=0.5, gt=0, le=1)
    batch_rounds: int = Field(default=3, ge=1, le=20)  # batches per step: failed lines go in the next one
    batch_poll_seconds: float = Field(default=30.0, gt=0)  # the longest wait between two looks at a batch
    # what runs the requests still unanswered after the last round: "live" (normal requests, full
    # price) or "stop" (the job stops incomplete, resumable; nothing is paid at full price)
    batch_fallback: Literal["live", "stop"] = "live"

    @model_validator(mode="after")
    def _batch_needs_openai(self) -> BackendSpec:
        if self.batch_api and self.kind != "openai":
            raise ValueError("batch_api needs backend kind 'openai' (a provider with /v1/files and /v1/batches)")
        return self


class StepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: str = "generate"
    params: dict[str, Any] = Field(default_factory=dict)


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "sentiforge-run"
    scheme: str | dict[str, Any] = "three_class"
    language: str = "en"
    seed: int = 0
    backend: BackendSpec = Field(default_factory=BackendSpec)
    steps: list[StepSpec] = Field(default_factory=lambda: [StepSpec()])
    seeds: str | None = None  # name of a real dataset: few-shot pool and augmentation seeds
    seed_split: str | None = "train"  # only this split of the seed dataset is used (never a holdout)
    max_attempts: int = Field(default=5, ge=1, le=50)
    max_cost: float | None = None
    max_total_tokens: int | None = None
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
