"""What a recipe says about its backend: one strict model per kind, told apart by ``kind``.

    BackendSpec                 the base: kind, model, prices; BackendSpec(kind=...) builds a member
    ├── EmbeddedSpec            kind "embedded" (the default): a GGUF model on this machine's llama-server
    ├── OpenAISpec              kind "openai": any OpenAI-compatible server, live or through its batch API
    └── FakeSpec                kind "fake": the deterministic test double, no model

A field belongs to the kinds that read it: ``base_url`` to openai, ``n_ctx`` to embedded,
``fake_latency`` to fake. A spec naming another kind's field is refused with the kind and
where the field belongs. A spec never holds an API key: ``api_key_env`` is the *name* of the
variable the openai backend reads at each request.

Specs stored before the kinds were split (one flat model of 23 fields, in job rows and recipe
files) load through the same validation: a field of another kind that still holds its old
default (or None) is dropped, as it meant nothing for that kind; any other value is refused.
The older embedded fields (``batch_size``, ``copies``, ``prefix_cache_mb``) map as before.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, model_validator
from pydantic_core import PydanticCustomError

from sentiforge.config import DEFAULT_API_KEY_ENV, DEFAULT_MODEL
from sentiforge.errors import ConfigError

JsonMode = Literal["auto", "json_schema", "json_object", "none"]
FOREIGN_FIELD = "backend_field"  # the error type of a field the kind does not have (the API: a ConfigError)
# errors name the field, never echo the input: an API key pasted into a spec stays out of messages
_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, hide_input_in_errors=True)

# Every field of the flat spec (until 2026-12) with its default: what an old stored spec may hold.
FLAT_DEFAULTS: dict[str, Any] = {
    "model": DEFAULT_MODEL,
    "base_url": None,
    "api_key_env": DEFAULT_API_KEY_ENV,
    "requests_per_minute": None,
    "tokens_per_minute": None,
    "concurrency": 8,
    "timeout": 60.0,
    "input_per_mtok": 0.0,
    "output_per_mtok": 0.0,
    "n_ctx": 4096,
    "n_threads": None,
    "parallel": None,
    "fake_latency": 0.0,
    "fake_responder": "schema",
    "json_mode": "auto",
    "batch_api": False,
    "batch_discount": 0.5,
    "batch_rounds": 3,
    "batch_poll_seconds": 30.0,
    "batch_fallback": "live",
}


class BackendSpec(BaseModel):
    """The base of every kind. ``BackendSpec(kind="openai", ...)`` builds the member for the
    kind (embedded when none is given), and ``BackendSpec.model_validate`` reads any kind."""

    model_config = _STRICT
    KIND: ClassVar[str] = ""

    kind: str
    model: str = DEFAULT_MODEL
    input_per_mtok: float = Field(default=0.0, ge=0)  # USD per million prompt tokens
    output_per_mtok: float = Field(default=0.0, ge=0)

    def __new__(cls, *args: Any, **data: Any) -> Any:
        if cls is BackendSpec:
            cls = SPECS.get(data.get("kind", "embedded"), BackendSpec)  # an unknown kind fails in __init__
        return super().__new__(cls)

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        extra: Any = None,
        from_attributes: bool | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Any:
        options = {"strict": strict, "extra": extra, "from_attributes": from_attributes, "context": context,
                   "by_alias": by_alias, "by_name": by_name}  # fmt: skip
        if cls is BackendSpec:
            return ANY_SPEC.validate_python(obj, **options)
        return super().model_validate(obj, **options)

    @model_validator(mode="before")
    @classmethod
    def _fields_of_this_kind(cls, data: Any) -> Any:
        """Fields of the flat spec at their old default go; any other field is refused, naming
        the kind and where the field belongs (see the module docstring)."""
        if cls is BackendSpec:  # BackendSpec(kind=...) with a kind no member has
            kind = data.get("kind") if isinstance(data, dict) else None
            raise ValueError(f"unknown backend kind {kind!r}; choose one of {', '.join(SPECS)}")
        if not isinstance(data, dict):
            return data
        data = _legacy_embedded(data)
        own = cls.model_fields.keys()
        if data.keys() <= own:
            return data
        kept: dict[str, Any] = {}
        for name, value in data.items():
            if name in own:
                kept[name] = value
            elif name in FLAT_DEFAULTS and _same(value, FLAT_DEFAULTS[name]):
                continue  # an old flat spec's default: it meant nothing for this kind
            else:
                raise PydanticCustomError(FOREIGN_FIELD, _foreign(cls, name))
        return kept

    def check_allowed(self, base_urls: list[str], key_envs: list[str], where: str = "backend") -> None:
        """Where a caller is not the operator (the HTTP API), a backend may call only the default
        endpoint or one of ``base_urls``, and read its key only from a variable in ``key_envs``:
        the one check every backend spec of a request goes through. Only the openai kind calls
        an endpoint or reads a key."""


class EmbeddedSpec(BackendSpec):
    """A GGUF model (packaged name or file path) served by this process's llama-server."""

    KIND: ClassVar[str] = "embedded"
    kind: Literal["embedded"] = "embedded"
    n_ctx: int = Field(default=4096, ge=64, le=1 << 20)  # tokens a slot may hold
    n_threads: int | None = Field(default=None, ge=1, le=1024)  # llama-server threads (None: the cores)
    parallel: int | None = Field(default=None, ge=1, le=256)  # slots decoding together (None: two a core, 4-16)
    # "none" turns the JSON-schema grammar off (about 2x faster decoding on a CPU; the lenient
    # parser and retries handle the rare malformed answer); the other values keep it
    json_mode: JsonMode = "auto"


class OpenAISpec(BackendSpec):
    """Any OpenAI-compatible server: OpenAI, vLLM, Ollama, llama.cpp's server, LM Studio."""

    KIND: ClassVar[str] = "openai"
    kind: Literal["openai"]
    base_url: str | None = None  # None: OpenAI's own
    api_key_env: str = DEFAULT_API_KEY_ENV  # the *name* of the variable; the key itself is never stored
    requests_per_minute: float | None = Field(default=None, gt=0)
    tokens_per_minute: float | None = Field(default=None, gt=0)
    concurrency: int = Field(default=8, ge=1, le=1024)
    timeout: float = Field(default=60.0, gt=0, le=86_400)
    # how to ask for JSON output. auto = OpenAI's json_schema, falling back to json_object
    # ({"type": "json_object", "schema": ...}) once if the server rejects it (llama-cpp-python's server)
    json_mode: JsonMode = "auto"
    # send the job's requests through the provider's batch API (/v1/files + /v1/batches),
    # billed at ``batch_discount`` times the prices; see sentiforge/engine/batching.py
    batch_api: bool = False
    batch_discount: float = Field(default=0.5, gt=0, le=1)
    batch_rounds: int = Field(default=3, ge=1, le=20)  # batches per step: failed lines go in the next one
    batch_poll_seconds: float = Field(default=30.0, gt=0)  # the longest wait between two looks at a batch
    # what runs the requests still unanswered after the last round: "live" (normal requests, full
    # price) or "stop" (the job stops incomplete, resumable; nothing is paid at full price)
    batch_fallback: Literal["live", "stop"] = "live"

    def check_allowed(self, base_urls: list[str], key_envs: list[str], where: str = "backend") -> None:
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


class FakeSpec(BackendSpec):
    """The deterministic fake (sentiforge.testing): answers without a model, for tests and dry runs."""

    KIND: ClassVar[str] = "fake"
    kind: Literal["fake"]
    concurrency: int = Field(default=8, ge=1, le=1024)
    fake_latency: float = Field(default=0.0, ge=0, le=60)
    # "schema" fills the asked JSON schema with random words; "augment" answers the
    # augmentation prompts like a good model would (a dry run through every check)
    fake_responder: Literal["schema", "augment"] = "schema"


SPECS: dict[str, type[BackendSpec]] = {spec.KIND: spec for spec in (EmbeddedSpec, OpenAISpec, FakeSpec)}


def _kind_of(value: Any) -> str | None:
    kind = value.get("kind", "embedded") if isinstance(value, dict) else getattr(value, "kind", None)
    return kind if isinstance(kind, str) else None


AnyBackendSpec = Annotated[
    Annotated[EmbeddedSpec, Tag("embedded")] | Annotated[OpenAISpec, Tag("openai")] | Annotated[FakeSpec, Tag("fake")],
    Discriminator(_kind_of),
]
ANY_SPEC: TypeAdapter[EmbeddedSpec | OpenAISpec | FakeSpec] = TypeAdapter(
    AnyBackendSpec, config=ConfigDict(hide_input_in_errors=True)
)


def _legacy_embedded(data: dict[str, Any]) -> dict[str, Any]:
    """Recipes stored before llama-server was the engine: ``batch_size`` (requests decoded
    together) is now ``parallel``; ``copies`` and ``prefix_cache_mb`` are the server's
    business (slots and its prompt cache) and are dropped."""
    if not {"batch_size", "copies", "prefix_cache_mb"} & data.keys():
        return data
    data = dict(data)
    data.pop("copies", None)
    data.pop("prefix_cache_mb", None)
    batch = data.pop("batch_size", None)
    if isinstance(batch, int) and batch > 1 and data.get("parallel") is None:
        data["parallel"] = batch
    return data


def _same(value: Any, default: Any) -> bool:
    return bool(value == default) and isinstance(value, bool) == isinstance(default, bool)


def _foreign(spec: type[BackendSpec], name: str) -> str:
    """The error for a field the kind does not have: where it belongs, and what the kind takes."""
    owners = [kind for kind, other in SPECS.items() if name in other.model_fields]
    where = f": {name} needs backend kind {' or '.join(repr(k) for k in owners)}" if owners else ""
    if name == "api_key_env":  # no key is read but the openai kind's, from a variable the operator allows
        where += " (over HTTP, one of the variables SENTIFORGE_BACKEND_KEY_ENVS lists)"
    fields = ", ".join(f for f in spec.model_fields if f != "kind")
    return f"backend kind {spec.KIND!r} takes no extra field {name!r}{where} (its fields: {fields})"


__all__ = [
    "ANY_SPEC",
    "FLAT_DEFAULTS",
    "FOREIGN_FIELD",
    "SPECS",
    "AnyBackendSpec",
    "BackendSpec",
    "EmbeddedSpec",
    "FakeSpec",
    "JsonMode",
    "OpenAISpec",
]
