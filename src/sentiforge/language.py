"""The language of a set of texts, when nothing says it.

Prompts, filters, the classifiers' lexicon features and the embedder (English MiniLM or the
multilingual one) all depend on the language; a file or dataset that does not name it used
to be taken as English, so a French file got the English embedder. Where the language is
``auto``, the texts decide: lingua (the ``quality`` extra's identifier) over a sample of
them, by majority of confident answers. Without that extra, or with too little text to
judge, the default stays English and a warning says so.
"""

from __future__ import annotations

import itertools
import threading
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from sentiforge.errors import ConfigError, require

AUTO = "auto"
DEFAULT = "en"
# The languages the identifier chooses among (also the filters' default list).
COMMON_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl")
SAMPLE = 200  # texts looked at
MIN_WORDS = 3
MIN_CONFIDENCE = 0.5


class LanguageWarning(UserWarning):
    """The language could not be detected; the default was used."""


class LanguageIdentifier:
    """lingua over a configured set of languages, loaded once per set."""

    _cache: ClassVar[dict[tuple[str, ...], Any]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, languages: Sequence[str]) -> None:
        lingua: Any = require("lingua", feature="language identification", extra="quality")
        codes = tuple(sorted({c.lower() for c in languages}))
        if len(codes) < 2:
            raise ConfigError("language identification needs at least two languages in filters.languages")
        with self._lock:
            if codes not in self._cache:
                try:
                    iso = [getattr(lingua.IsoCode639_1, c.upper()) for c in codes]
                except AttributeError as exc:
                    raise ConfigError(f"unknown ISO 639-1 language code in filters.languages {list(codes)}") from exc
                self._cache[codes] = lingua.LanguageDetectorBuilder.from_iso_codes_639_1(*iso).build()
        self.detector = self._cache[codes]

    def identify(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """(ISO code, confidence) per text; confidence is lingua's for its top language."""
        out = []
        for values in self.detector.compute_language_confidence_values_in_parallel(list(texts)):
            top = values[0]
            out.append((top.language.iso_code_639_1.name.lower(), float(top.value)))
        return out


def detect_language(
    texts: Iterable[str], *, candidates: Iterable[str] = COMMON_LANGUAGES, default: str = DEFAULT
) -> str:
    """The most common confidently identified language among (up to 200 of) the texts."""
    sample = list(itertools.islice((t for t in texts if len(t.split()) >= MIN_WORDS), SAMPLE))
    if not sample:
        return default
    try:
        identifier = LanguageIdentifier(list(candidates))
    except ImportError:  # MissingExtraError is an ImportError too
        warnings.warn(
            f"cannot detect the language without the quality extra (pip install 'sentiforge[quality]'); "
            f"taking '{default}', pass --language to say it",
            LanguageWarning,
            stacklevel=2,
        )
        return default
    votes = Counter(code for code, confidence in identifier.identify(sample) if confidence >= MIN_CONFIDENCE)
    if not votes:
        return default
    return votes.most_common(1)[0][0]


def resolve_language(language: str | None, texts: Iterable[str]) -> str:
    """``language`` itself, unless it is ``auto`` (or None): then the texts' own."""
    if language and language != AUTO:
        return language
    return detect_language(texts)
