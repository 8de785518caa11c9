"""Heuristic filters: cheap, explainable reasons to drop or flag a text.

Length bounds, junk (binary or control characters), language identification (lingua, built
for a configured set of languages to keep memory and time small), refusals and meta-text
from the generator ("As an AI...", "Here is a review:"), template leftovers, and, only when
the user asks, profanity and PII flags. Each finding names itself in the reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import ClassVar

from sentiforge.language import LanguageIdentifier
from sentiforge.quality.base import PASS, CheckResult
from sentiforge.quality.config import Action, FilterConfig
from sentiforge.quality.voice import agent_voice, artefact
from sentiforge.samples import Sample

_CANT = r"(?:can(?:no|')t|am unable to|am not able to|won't|will not)"
_GENRE = r"(?:review|tweet|text|message|example|sentence|post|comment)s?"
REFUSAL = re.compile(
    r"\b(?:as an ai\b|as a(?:n ai)? language model|i(?:'m| am) (?:sorry|afraid),? (?:but )?i " + _CANT + r"|"
    r"i " + _CANT + r" (?:help with|assist with|fulfil|fulfill|comply|create content|generate content|"
    r"write (?:a|an|that|this) " + _GENRE + r")|against (?:my|the) (?:content )?(?:guidelines|policy|policies)|"
    # French: the 1.5B model's refusals and assistant replies (benchmarks/embedded/README.md);
    # a bare "je ne peux pas" is left alone, real customers write it ("je ne peux pas me connecter")
    r"en tant qu(?:e |')(?:ia|intelligence artificielle|assistant|mod[eè]le de langage)|"
    r"d[ée]sol[ée]e?s?,? mais je ne (?:peux|suis) pas|"
    r"je ne (?:peux|suis) pas (?:en mesure (?:de|d')\s?)?(?:vous )?"
    r"(?:aider|assister|r[ée]pondre|[ée]crire|g[ée]n[ée]rer))",
    re.IGNORECASE,
)
META = re.compile(
    r"^\s*(?:(?:sure|certainly|of course|okay|ok)[,!.]?\s+here\b|"
    r"here(?:'s| is| are) (?:a|an|the|your|some) (?:[\w-]+ ){0,3}" + _GENRE + r"\b[^:\n]{0,40}:|"
    r"(?:review|text|tweet|message|sentence|label|sentiment|output|example)\s*:)|"
    r"\b(?:this (?:review|text|tweet|message) (?:is|expresses|conveys) (?:a )?(?:positive|negative|neutral)|"
    r"i hope this helps|let me know if you(?:'d| would)? (?:need|want|like) (?:any|more|another|further|me to))\b",
    re.IGNORECASE,
)
LEFTOVER = re.compile(
    r"\{\{|\}\}|\{%|%\}|<text>|</?s>|<\|im_(?:start|end)\|>|(?i:\[(?:product|label|aspect|name|company|brand|"
    r"insert[^\]]*|your [^\]]*)\]|lorem ipsum)|\b(?:TODO|PLACEHOLDER|TBD)\b",
)
PII = {
    "email": re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b"),
    "phone": re.compile(r"(?<!\w)(?:\+?\d[\d ().-]{7,}\d)(?!\w)"),
    "card number": re.compile(r"\b(?:\d[ -]?){13,16}\b"),
    "IBAN": re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}\b"),
}
_PROFANE = (
    "fuck fucking fucked fucker shit shitty bullshit bitch bastard asshole dick cunt motherfucker crap "
    "damn wanker twat prick slut whore merde putain connard salope"
)
PROFANITY = frozenset(_PROFANE.split())
_WORD = re.compile(r"\w+", re.UNICODE)


def junk_share(text: str) -> float:
    """Share of characters that no person types: controls (not whitespace), U+FFFD, private use."""
    if not text:
        return 0.0
    bad = sum(
        1
        for ch in text
        if ch == "\ufffd" or (unicodedata.category(ch) in {"Cc", "Cs", "Co", "Cn"} and ch not in "\n\r\t")
    )
    return bad / len(text)


def _long_enough(text: str, min_words: int) -> bool:
    """Enough text to identify its language: words, or characters for scripts without spaces."""
    return len(_WORD.findall(text)) >= min_words or len(text.strip()) >= 6 * min_words


class FilterCheck:
    """All heuristic filters in one pass; the first rejecting finding names the reason."""

    name: ClassVar[str] = "filters"

    def __init__(self, config: FilterConfig) -> None:
        self.config = config
        self.extra = [re.compile(p, re.IGNORECASE) for p in config.extra_patterns]
        use_langid = config.language != "off" or config.unknown_language != "off"
        self.langid = LanguageIdentifier(config.languages) if use_langid else None

    def run(self, samples: Sequence[Sample]) -> list[CheckResult]:
        findings = [self._text_findings(s.text) for s in samples]
        if self.langid is not None:
            self._language_findings(samples, findings)
        return [self._verdict(f) for f in findings]

    def _text_findings(self, text: str) -> list[tuple[Action, str]]:
        c = self.config
        stripped = text.strip()
        if not stripped:
            return [("reject", "empty text")]
        if len(text) > c.max_chars:
            return [("reject", f"too long ({len(text)} characters, limit {c.max_chars})")]
        share = junk_share(text)
        if share > c.max_junk_share:
            return [("reject", f"binary or control characters ({share:.0%} of the text)")]
        words = _WORD.findall(stripped)
        found: list[tuple[Action, str]] = []
        if len(words) < c.min_words:
            found.append(("reject", f"too short ({len(words)} words, minimum {c.min_words})"))
        rules = [
            (c.refusals, REFUSAL, "refusal"),
            (c.meta_text, META, "meta-text"),
            (c.template_leftovers, LEFTOVER, "template leftover"),
        ]
        for action, pattern, what in rules:
            hit = pattern.search(text) if action != "off" else None
            if hit:
                found.append((action, f"{what}: {hit.group(0).strip()!r}"))
        if c.artefacts != "off" and (problem := artefact(text)):
            found.append((c.artefacts, problem))
        if c.agent_voice != "off" and (problem := agent_voice(text)):
            found.append((c.agent_voice, problem))
        found.extend(("reject", f"matches pattern {p.pattern!r}") for p in self.extra if p.search(text))
        if c.pii != "off":
            found.extend((c.pii, f"possible PII ({kind})") for kind, p in PII.items() if p.search(text))
        if c.profanity != "off":
            bad = sorted({w.lower() for w in words} & PROFANITY)
            if bad:
                found.append((c.profanity, f"profanity ({', '.join(bad)})"))
        return found

    def _language_findings(self, samples: Sequence[Sample], findings: list[list[tuple[Action, str]]]) -> None:
        c = self.config
        todo = [
            i
            for i, s in enumerate(samples)
            if not any(a == "reject" for a, _ in findings[i]) and _long_enough(s.text, c.langid_min_words)
        ]
        if not todo or self.langid is None:
            return
        for i, (code, confidence) in zip(todo, self.langid.identify([samples[i].text for i in todo]), strict=True):
            expected = samples[i].language.split("-")[0].lower()
            if confidence < c.langid_unknown_below:
                if c.unknown_language != "off":
                    findings[i].append(
                        (c.unknown_language, f"language not identified (best guess {code}, {confidence:.2f})")
                    )
            elif code != expected and confidence >= c.langid_min_confidence and c.language != "off":
                findings[i].append((c.language, f"language is {code}, expected {expected} ({confidence:.2f})"))

    @staticmethod
    def _verdict(found: list[tuple[Action, str]]) -> CheckResult:
        if not found:
            return PASS
        rejects = [r for a, r in found if a == "reject"]
        flags = [r for a, r in found if a == "flag"]
        if rejects:
            return CheckResult("reject", 0.0, "; ".join(rejects + flags), {"findings": rejects + flags})
        return CheckResult("flag", max(0.0, 1.0 - 0.25 * len(flags)), "; ".join(flags), {"findings": flags})
