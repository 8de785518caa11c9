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
import warnings
from collections import Counter
from collections.abc import Iterable

AUTO = "auto"
DEFAULT = "en"
# The languages the identifier chooses among (also the filters' default list).
COMMON_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl")
SAMPLE = 200  # texts looked at
MIN_WORDS = 3
MIN_CONFIDENCE = 0.5


class LanguageWarning(UserWarning):
    """The language could not be detected; the default was used."""


def detect_language(
    texts: Iterable[str], *, candidates: Iterable[str] = COMMON_LANGUAGES, default: str = DEFAULT
) -> str:
    """The most common confidently identified language among (up to 200 of) the texts."""
    sample = list(itertools.islice((t for t in texts if len(t.split()) >= MIN_WORDS), SAMPLE))
    if not sample:
        return default
    try:
        from sentiforge.quality.filters import LanguageIdentifier

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
