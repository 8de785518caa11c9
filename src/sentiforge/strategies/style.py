"""Style matching: the real texts' lengths and surface habits, measured and asked for.

Synthetic tweets came out longer than real ones (21.9 vs 14.4 words) and without their
habits (mentions, hashtags, lower case, "lol"). With ``match_style`` a generation slot draws a
target length from the real pool's own word counts and each habit with the share of real
texts that show it, so the synthetic set matches the real distribution in aggregate; the
prompt asks for them, and a text whose length misses its target by more than the tolerance
is rejected (the habits are asked for, not enforced: a model that ignores one is not wrong
about the label). The draws use the slot's seed, so plans stay deterministic.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

# name: (pattern found in a real text, instruction in English, in French)
HABITS: dict[str, tuple[re.Pattern[str], str, str]] = {
    "mention": (re.compile(r"(?<!\w)@\w+"), "mention someone with an @handle", "mentionne quelqu'un avec un @pseudo"),
    "hashtag": (re.compile(r"(?<!\w)#\w+"), "use a #hashtag", "utilise un #hashtag"),
    "url": (re.compile(r"https?://\S+|www\.\S+"), "include a link", "inclus un lien"),
    "emoji": (
        re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF]|[:;]-?[()DPp]"),
        "use an emoji or emoticon",
        "utilise un emoji ou une émoticône",
    ),
    "lowercase": (
        re.compile(r"^[^A-Z]*[a-z][^A-Z]*$", re.S),
        "write all in lower case",
        "écris tout en minuscules",
    ),
    "shouting": (re.compile(r"\b[A-Z]{3,}\b"), "write one word in CAPITALS", "écris un mot en MAJUSCULES"),
    "exclamations": (re.compile(r"!!|\?!|!\?"), "use '!!' or '?!'", "utilise « !! » ou « ?! »"),
    "abbreviation": (
        re.compile(r"\b(lol|omg|u|ur|pls|plz|thx|idk|imo|btw|gonna|wanna|rt|lmao|tbh)\b", re.I),
        "use an abbreviation such as lol, omg, u, pls or idk",
        "utilise une abréviation comme mdr, stp, jsp ou pk",
    ),
}
MIN_SHARE = 0.05  # a habit rarer than this in the real texts is never asked for
TOLERANCE = 0.5  # a text may differ from its target length by this share of it ...
SLACK = 3  # ... plus this many words
MIN_WORDS = 3  # what the generation output check accepts (strategies/output.py)


def word_count(text: str) -> int:
    return len(text.split())


@dataclass(frozen=True)
class StyleProfile:
    """The real texts' word counts and the share of them showing each habit."""

    lengths: tuple[int, ...]
    habits: dict[str, float]

    @classmethod
    def measure(cls, texts: Sequence[str]) -> StyleProfile:
        texts = [t for t in texts if t.strip()]
        if not texts:
            return cls((), {})
        shares = {name: sum(bool(p.search(t)) for t in texts) / len(texts) for name, (p, _, _) in HABITS.items()}
        return cls(tuple(word_count(t) for t in texts), {k: round(v, 4) for k, v in shares.items() if v >= MIN_SHARE})

    def draw(self, rng: random.Random) -> tuple[int, list[str]]:
        """A target length and the habits to ask for in one slot."""
        words = max(MIN_WORDS, rng.choice(self.lengths)) if self.lengths else 15
        return words, [name for name, share in sorted(self.habits.items()) if rng.random() < share]


def habit_instructions(habits: Sequence[str], language: str) -> list[str]:
    column = 2 if language == "fr" else 1
    return [str(HABITS[name][column]) for name in habits if name in HABITS]


def length_instruction(words: int, language: str) -> str:
    low, high = length_bounds(words)
    if language == "fr":
        return f"d'environ {words} mots (entre {low} et {high})"
    return f"{words}-word (between {low} and {high} words)"


def length_bounds(words: int) -> tuple[int, int]:
    return max(1, round(words * (1 - TOLERANCE)) - SLACK), round(words * (1 + TOLERANCE)) + SLACK


def length_problem(text: str, words: int) -> str | None:
    """Why ``text`` misses its target length, or None."""
    low, high = length_bounds(words)
    n = word_count(text)
    if low <= n <= high:
        return None
    return f"length off target: {n} words, asked for about {words} ({low}-{high})"
