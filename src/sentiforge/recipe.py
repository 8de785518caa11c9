"""A recipe is plain data: what to make, with which backend, in which steps.

It serialises to JSON/YAML, is stored with the job that ran it, and is all a worker needs
to run or resume that job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from sentiforge.backend_spec import AnyBackendSpec, BackendSpec, EmbeddedSpec, FakeSpec, JsonMode, OpenAISpec
from sentiforge.errors import ConfigError
from sentiforge.names import Name

MAX_COUNT = 2**31 - 1  # a job counts to its target in an Integer column: int4 on PostgreSQL
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]  # what numpy and scikit-learn take as a seed
# errors name the field, never echo the input (a recipe may hold a key pasted by mistake)
_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, hide_input_in_errors=True)


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
    backend: AnyBackendSpec = Field(default_factory=EmbeddedSpec)
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


__all__ = [
    "MAX_COUNT",
    "AnyBackendSpec",
    "BackendSpec",
    "EmbeddedSpec",
    "FakeSpec",
    "JsonMode",
    "Name",
    "OpenAISpec",
    "Recipe",
    "Seed",
    "StepSpec",
]
