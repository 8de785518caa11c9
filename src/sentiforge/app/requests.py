"""Requests as data: what a user asks for, as pydantic models the CLI builds from its options
and the HTTP API takes as JSON bodies. Job requests turn into recipes (``to_recipe``); the
others are arguments of one application-layer operation each.

Unknown fields are refused, so a misspelt option is an error, not a silent default; types are
strict (``"5"`` or ``true`` is no count), numbers stay within what the store can hold, names
follow the one name rule (:mod:`sentiforge.names`) and no text holds a NUL character.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator

from sentiforge.config import DEFAULT_MODEL
from sentiforge.errors import ConfigError
from sentiforge.names import NAME_MAX, CallerInput, Name
from sentiforge.recipe import MAX_COUNT, AnyBackendSpec, EmbeddedSpec, FakeSpec, Recipe, Seed, StepSpec
from sentiforge.strategies.generate import DEFAULT_KIND_OF_TEXT

if TYPE_CHECKING:
    from sentiforge.store import Store

AUGMENTERS = ("extract_aspects", "cda", "ada", "cada", "backtranslate", "translate", "evolve")


class _Request(CallerInput):
    @classmethod
    def build(cls, **fields: Any) -> Any:
        """Validate, turning pydantic's error into a ConfigError that names the bad fields."""
        try:
            return cls(**fields)
        except ValidationError as exc:
            problems = "; ".join(f"{_where(e['loc'])}: {e['msg']}" if e["loc"] else e["msg"] for e in exc.errors())
            raise ConfigError(f"invalid {cls.__name__}: {problems}") from exc


def _where(loc: tuple[Any, ...]) -> str:
    """A field's place for messages, with its command-line spelling: ``on_leak (--on-leak)``."""
    path = ".".join(map(str, loc))
    return f"{path} (--{str(loc[0]).replace('_', '-')})" if loc and isinstance(loc[0], str) else path


def _classifier(name: str) -> str:
    from sentiforge.classifiers.registry import kinds

    if name not in kinds():
        raise ValueError(f"unknown classifier {name!r}; choose one of {list(kinds())}")
    return name


def _embedder(name: str) -> str:
    """``auto``, ``none``, or a name :func:`~sentiforge.embeddings.get_embedder` knows (its rules:
    aliases, names joined by ``+``, no model twice); no model is loaded here."""
    from sentiforge.embeddings import get_embedder

    if name in ("auto", "none"):
        return name
    try:
        get_embedder(name)
    except ConfigError as exc:
        raise ValueError(f"{exc} (or 'auto', 'none')") from None
    return name


def _quality_config(config: dict[str, Any]) -> dict[str, Any]:
    from sentiforge.quality.config import QualityConfig

    QualityConfig.model_validate(config)  # its ValidationError names the bad setting
    return config


Classifier = Annotated[str, AfterValidator(_classifier)]


def comma_separated(value: Any) -> Any:
    """``["tfidf,embedding", "transformer"]`` names three classifiers; anything but strings is
    left for the type check to refuse (a 422 over HTTP)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return value
    return [name.strip() for item in value for name in item.split(",") if name.strip()]


Embedder = Annotated[str, AfterValidator(_embedder)]
Count = Annotated[int, Field(ge=1, le=MAX_COUNT)]


def templates_folder(given: str | None, configured: Path | None = None) -> str | None:
    """The templates folder a job uses: the one its request gives, else the configured one
    (``SENTIFORGE_TEMPLATES_DIR``, handed down from an entry point)."""
    chosen = given or configured
    return str(Path(chosen).expanduser().resolve()) if chosen else None


class GenerateRequest(_Request):
    """Generate a balanced, labelled synthetic dataset from scratch."""

    dataset: Name
    count: Count = 30
    scheme: str | dict[str, Any] = "three_class"
    kind_of_text: str = DEFAULT_KIND_OF_TEXT
    attributes: dict[str, list[str]] = Field(default_factory=dict)
    lengths: list[Literal["short", "medium", "long"]] = Field(default_factory=lambda: ["short"])  # type: ignore[arg-type]
    balance_attributes: bool = False
    few_shot: int = Field(default=2, ge=0, le=3)
    seeds: str | None = None
    seed_split: str = "train"
    pool: str | None = None  # a clustered unlabelled pool (`sentiforge ground`): grounded generation
    temperature: float = Field(default=0.9, ge=0.0, le=2.0)
    rationale: bool = False
    match_style: bool = False  # lengths and surface habits of the seeds (needs seeds)
    avoid_words: list[str] = Field(default_factory=list)
    check_label: Literal["auto", "judge", "off"] = "auto"  # auto: the judge on the embedded model
    # default: the seeds' own (detected at import), else English
    language: str | None = Field(default=None, min_length=1, max_length=12)
    max_cost: float | None = Field(default=None, ge=0)
    seed: Seed = 0
    fresh: bool = False  # send every request again, even one an earlier job's answer is cached for
    templates: str | None = None
    backend: AnyBackendSpec = Field(default_factory=EmbeddedSpec)

    def to_recipe(self, store: Store | None = None, *, templates_dir: Path | None = None) -> Recipe:
        """The recipe the request describes; ``templates_dir`` is the configured templates
        folder, used when the request names none."""
        params = {
            "count": self.count,
            "kind_of_text": self.kind_of_text,
            "attributes": self.attributes,
            "lengths": self.lengths,
            "balance_attributes": self.balance_attributes,
            "few_shot": self.few_shot,
            "temperature": self.temperature,
            "rationale": self.rationale,
            "match_style": self.match_style,
            "avoid_words": self.avoid_words,
            "check_label": self.check_label,
        }
        return Recipe(
            name=f"generate-{self.dataset}"[:NAME_MAX],
            scheme=self.scheme,
            language=self.language or self._seed_language(store),
            seed=self.seed,
            seeds=self.pool or self.seeds,
            seed_split=None if self.pool else self.seed_split,
            max_cost=self.max_cost,
            fresh=self.fresh,
            backend=self.backend,
            templates=templates_folder(self.templates, templates_dir),
            steps=[StepSpec(strategy="grounded" if self.pool else "generate", params=params)],
        )

    def _seed_language(self, store: Store | None) -> str:
        source = self.pool or self.seeds
        if not source or store is None:
            return "en"
        dataset_id = store.dataset_id(source)
        first = next(iter(store.iter_samples(dataset_id, split=None if self.pool else self.seed_split)), None)
        return first.language if first is not None else "en"


class AugmentRequest(_Request):
    """Augment real seeds (CDA, ADA, CADA, backtranslation, translation)."""

    seeds: str
    dataset: Name
    strategies: list[str] = Field(default_factory=lambda: ["cada"], min_length=1)
    per_seed: int = Field(default=2, ge=1, le=100)
    rationale: bool = False
    judge: bool = True
    routes: list[str] = Field(default_factory=list)
    engine: Literal["llm", "apertium"] = "llm"
    target: str | None = None
    temperature: float | None = None
    seed_split: str = "train"
    language: str | None = Field(default=None, min_length=1, max_length=12)  # default: the seeds' own
    max_cost: float | None = Field(default=None, ge=0)
    max_attempts: int = Field(default=3, ge=1, le=50)
    seed: Seed = 0
    fresh: bool = False  # send every request again, even one an earlier job's answer is cached for
    templates: str | None = None
    backend: AnyBackendSpec = Field(default_factory=EmbeddedSpec)

    @model_validator(mode="after")
    def _scripted_fake(self) -> AugmentRequest:
        """A fake backend filling schemas with random words passes no augmentation check: unless
        the request says otherwise, the fake answers the augmentation prompts as a good model would."""
        if isinstance(self.backend, FakeSpec) and "fake_responder" not in self.backend.model_fields_set:
            self.backend = self.backend.model_copy(update={"fake_responder": "augment"})
        return self

    def step_params(self, strategy: str) -> dict[str, Any]:
        """The recipe step for one strategy (only the options that apply to it)."""
        if strategy not in AUGMENTERS:
            raise ConfigError(f"unknown augmentation strategy {strategy!r}; choose from {list(AUGMENTERS)}")
        if strategy == "extract_aspects":
            return {}
        if strategy == "translate":
            if not self.target:
                raise ConfigError("strategy 'translate' needs --target LANG (e.g. --target fr)")
            return {"target": self.target, "engine": self.engine}
        params: dict[str, Any] = {
            "per_seed": self.per_seed,
            "rationale": self.rationale,
            "check_polarity": "judge" if self.judge else "off",
        }
        if strategy == "backtranslate":
            params |= {"routes": self.routes or ["fr"], "engine": self.engine}
        if self.temperature is not None:
            params["temperature"] = self.temperature
        return params

    def to_recipe(self, store: Store | None = None, *, templates_dir: Path | None = None) -> Recipe:
        """The recipe the request describes; ``templates_dir`` is the configured templates
        folder, used when the request names none."""
        """Needs the store: the recipe takes the seeds' scheme and language."""
        if store is None:
            raise ConfigError("an augmentation recipe reads its seeds: pass the store")
        scheme = store.scheme(self.seeds)
        split = self.seed_split or None
        first = next(iter(store.iter_samples(store.dataset_id(self.seeds), split=split)), None)
        if first is None:
            raise ConfigError(
                f"dataset '{self.seeds}' has no accepted samples in split '{self.seed_split}'; "
                "import seeds with a train split or pass --seed-split"
            )
        return Recipe(
            name=f"augment-{self.dataset}"[:NAME_MAX],
            scheme=scheme.model_dump(mode="json"),
            language=self.language or first.language,
            seed=self.seed,
            seeds=self.seeds,
            seed_split=split,
            max_cost=self.max_cost,
            max_attempts=self.max_attempts,
            fresh=self.fresh,
            backend=self.backend,
            templates=templates_folder(self.templates, templates_dir),
            steps=[StepSpec(strategy=name, params=self.step_params(name)) for name in self.strategies],
        )


class RecipeRequest(_Request):
    """Run a recipe (plain data, e.g. read from a YAML file) into a dataset."""

    dataset: Name
    recipe: Recipe

    def to_recipe(self, store: Store | None = None, *, templates_dir: Path | None = None) -> Recipe:
        return self.recipe


JobRequest = GenerateRequest | AugmentRequest | RecipeRequest


def kind_of(request: JobRequest | QualityRequest | EvaluateRequest | TrainRequest | BuildRequest) -> str:
    """The job kind a request makes: generate, augment, recipe, quality, evaluate, train or build."""
    return type(request).__name__.removesuffix("Request").lower()


class QualityRequest(_Request):
    """Run the quality gate over a dataset."""

    dataset: str
    holdout: str | None = None
    holdout_split: str | None = None
    seeds: str | None = None
    seed_split: str | None = "train"
    # thresholds and weights (QualityConfig); None: the defaults
    config: Annotated[dict[str, Any], AfterValidator(_quality_config)] | None = None
    judge: Literal["embedded", "openai", "fake", "none"] = "embedded"
    judge_model: str = DEFAULT_MODEL
    embedder: Embedder | None = None  # auto, minilm, multilingual, fake, or none (no embedding checks)


class EvaluateRequest(_Request):
    """Train-Synthetic-Test-Real: the same classifier on real, synthetic and mixed data."""

    real: str
    synthetic: str
    holdout: str | None = None
    scheme: str | None = None
    classifiers: list[Classifier] = Field(default_factory=lambda: ["tfidf"], min_length=1, max_length=6)
    out_dir: str = "sentiforge-report"
    holdout_fraction: float = Field(default=0.3, ge=0.05, le=0.9)
    cap: float = Field(default=0.6, ge=0.0, le=0.95)
    bootstrap: int = Field(default=1000, ge=0, le=100_000)
    cv: int = Field(default=5, ge=0, le=50)
    embedder: Embedder = "auto"
    on_leak: Literal["drop", "error"] = "drop"
    epochs: int | None = Field(default=None, ge=1, le=1000)  # None: 3, or the transformer preset's
    # transformer: auto (the cpu preset when no GPU trains it), cpu (minutes on a few thousand texts) or full
    transformer_preset: Literal["auto", "cpu", "full"] = "auto"
    base_model: str = "gemma-3-270m"  # reasoner: packaged name, .gguf path or local HF folder
    seed: Seed = 0

    @field_validator("classifiers", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return comma_separated(value)


class TrainRequest(_Request):
    """Train a classifier on a dataset and save it for `predict` and the service."""

    dataset: str
    out_dir: str
    classifier: Classifier = "tfidf"
    scheme: str | None = None
    epochs: int = Field(default=3, ge=1, le=1000)
    max_len: int = Field(default=128, ge=8, le=32_768)
    class_weight: Literal["balanced"] | None = None
    # the embedding kind's sentence body: the language's (auto), minilm, multilingual, or joined by '+'
    embedder: Embedder = "auto"
    evaluate: bool = True
    base_model: str = "gemma-3-270m"  # reasoner: packaged name, .gguf path or local HF folder
    full_finetune: bool = False  # reasoner: all weights instead of LoRA adapters
    # reasoner: samples without a rationale get one written by this backend first (else the label alone)
    rationale_backend: AnyBackendSpec | None = None
    seed: Seed = 0

    @model_validator(mode="after")
    def _body_of_the_embedding_kind(self) -> TrainRequest:
        if self.embedder != "auto" and (self.classifier != "embedding" or self.embedder == "none"):
            raise ValueError(f"embedder {self.embedder!r} is for the embedding classifier's sentence body")
        return self


PerSeed = Annotated[float, Field(gt=0, le=1000)]  # texts per seed


class BuildRequest(_Request):
    """Build the best classifier for labelled seeds, choosing by cross-validation on the seeds."""

    seeds: str = Field(min_length=1)  # a dataset name, a labelled file, or vader:* / uci:*
    out_dir: str = Field(min_length=1)  # where the model goes (over HTTP: its name)
    pool: str | None = None  # unlabelled in-domain texts: a dataset (e.g. from `ground`) or a file
    synthetic: list[str] = Field(default_factory=list, max_length=20)  # generated or augmented datasets
    generate: int = Field(default=0, ge=0, le=2**31 - 1)  # a generation budget: not run by build, see above
    scheme: str | None = None
    seed_split: str | None = "train"  # the seeds' split, when the dataset has splits
    language: str = "auto"
    classifiers: list[Classifier] = Field(
        default_factory=lambda: ["tfidf", "embedding", "contrastive", "transformer"], min_length=1, max_length=6
    )
    folds: int = Field(default=5, ge=2, le=10)
    # per seed; "all" always tried
    pseudo_sizes: list[PerSeed] = Field(default_factory=lambda: [1.0, 3.0], max_length=10)
    pseudo_precision: float = Field(default=0.9, gt=0.5, le=1.0)
    synthetic_cap: float = Field(default=1.0, gt=0.0, le=1000)  # synthetic samples per seed, at most
    self_training: bool = True
    max_minutes: float = Field(default=15.0, gt=0.0, le=7 * 24 * 60)
    bootstrap: int = Field(default=1000, ge=100, le=100_000)
    seed: Seed = 0

    @field_validator("classifiers", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return comma_separated(value)
