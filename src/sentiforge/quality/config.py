"""Every threshold and weight of the quality gate, as one pydantic model loadable from YAML.

Defaults come from ``benchmarks/quality`` (see its README for the measurements behind
them); a user changes them in a YAML file passed with ``--config``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sentiforge.errors import ConfigError
from sentiforge.language import COMMON_LANGUAGES

Action = Literal["off", "flag", "reject"]
EMBEDDING_THRESHOLDS = {"minilm": 0.9, "multilingual": 0.95, "fake": 0.9}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FilterConfig(_Section):
    min_words: int = Field(default=2, ge=0)
    max_chars: int = Field(default=2000, ge=1)
    max_junk_share: float = Field(default=0.1, ge=0, le=1)  # control / replacement characters
    language: Action = "reject"  # text in another language than the sample says
    unknown_language: Action = "flag"  # language could not be identified
    languages: list[str] = Field(default_factory=lambda: list(COMMON_LANGUAGES))
    langid_min_words: int = Field(default=4, ge=1)  # shorter texts are not judged (too unreliable)
    langid_min_confidence: float = Field(default=0.9, ge=0, le=1)  # needed to call it another language
    langid_unknown_below: float = Field(default=0.4, ge=0, le=1)  # top confidence below: not identified
    refusals: Action = "reject"  # "As an AI...", "I can't help with that"
    meta_text: Action = "reject"  # "Here is a review:", "Sure! ..."
    template_leftovers: Action = "reject"  # {{ }}, [product], <text>
    # placeholders ([Customer Name], #XXXX) and JSON residue (a trailing "}), see quality/voice.py
    artefacts: Action = "reject"
    agent_voice: Action = "reject"  # "How can I assist you", "We apologize...": off for agent replies
    profanity: Action = "off"
    pii: Action = "off"
    extra_patterns: list[str] = Field(default_factory=list)  # user regexes, rejected as "pattern"


class DedupConfig(_Section):
    exact: bool = True
    minhash: bool = True
    minhash_threshold: float = Field(default=0.5, gt=0, le=1)  # estimated Jaccard of character 5-grams
    num_perm: int = Field(default=64, ge=16, le=512)
    shingle: int = Field(default=5, ge=2, le=12)
    embedding: bool = True
    # Cosine of L2-normalised embeddings, per embedder: their scales differ (multilingual-e5
    # puts unrelated sentences near 0.75, MiniLM near 0.1).
    embedding_thresholds: dict[str, float] = Field(default_factory=lambda: dict(EMBEDDING_THRESHOLDS))
    seed_copies: bool = True  # reject copies of the real seeds (exact or MinHash), as "seed_copy"
    embedder: str = "auto"  # auto (minilm for English, multilingual otherwise) | minilm | multilingual | fake


class LeakageConfig(_Section):
    enabled: bool = True
    minhash_threshold: float = Field(default=0.5, gt=0, le=1)
    embedding_thresholds: dict[str, float] = Field(default_factory=lambda: dict(EMBEDDING_THRESHOLDS))


class ConsistencyConfig(_Section):
    judge: bool = True
    classifier: bool = True
    # auto: TF-IDF plus VADER lexicon features for English, TF-IDF alone otherwise.
    classifier_kind: Literal["auto", "tfidf", "tfidf+lexicon"] = "auto"
    judge_temperature: float = Field(default=0.0, ge=0, le=2)
    # per-label offsets on the judge's label probabilities, fitted on the seeds (or the packaged
    # set of the scheme's kind): quality/judge_calibration.py; off: the judge's own argmax
    judge_calibration: bool = True
    # The consistency sub-score is the mean support the two opinions give the sample's label.
    # Policy "reject": reject when both opinions disagree and the score is below reject_below,
    # or when the seed classifier's probability for the label is below classifier_reject_below;
    # flag when either disagrees. Policy "flag": never reject. Defaults chosen on the dev part
    # of the flipped-label benchmark (benchmarks/quality/README.md).
    policy: Literal["reject", "flag"] = "reject"
    reject_below: float = Field(default=0.075, ge=0, le=1)
    classifier_reject_below: float = Field(default=0.02, ge=0, le=1)
    min_seeds_per_label: int = Field(default=5, ge=1)
    # One-step flips (neutral <-> polar), for schemes with a neutral label: when the judge reads
    # the text on the other side of neutral and a neutral-or-polar classifier trained on the
    # seeds gives the label's side less than one_step_below. Threshold: the dev part's best F1
    # for "any" flips (benchmarks/quality/README.md); "flag" sends them to review instead.
    one_step: Action = "reject"
    one_step_below: float = Field(default=0.1, ge=0, le=1)


class ReviewConfig(_Section):
    threshold: float = Field(default=0.6, ge=0, le=1)  # accepted samples scoring below go to review
    audit_share: float = Field(default=0.02, ge=0, le=1)  # plus this random share of the rest
    seed: int = 0


class QualityConfig(_Section):
    filters: FilterConfig = Field(default_factory=FilterConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    leakage: LeakageConfig = Field(default_factory=LeakageConfig)
    consistency: ConsistencyConfig = Field(default_factory=ConsistencyConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    # How much each check's sub-score counts in the sample's quality score (a weighted mean).
    weights: dict[str, float] = Field(
        default_factory=lambda: {
            "filters": 1.0,
            "exact_dup": 1.0,
            "near_dup": 1.0,
            "semantic_dup": 1.0,
            "leakage": 1.0,
            "seed_copy": 1.0,
            "consistency": 2.0,
        }
    )
    batch_size: int = Field(default=1000, ge=1)

    @classmethod
    def load(cls, path: str | Path | None) -> QualityConfig:
        """The config in a YAML or JSON file (missing keys take the defaults)."""
        if path is None:
            return cls()
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read quality config {p}: {exc}") from exc
        try:
            import yaml

            data: Any = yaml.safe_load(text) or {}
            return cls.model_validate(data)
        except (ValidationError, yaml.YAMLError) as exc:
            raise ConfigError(f"invalid quality config in {p}: {exc}") from exc
