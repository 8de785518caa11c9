"""Planted near-duplicates built from real sentences (shared by the benchmarks).

Each planted copy is one lexical edit of a real sentence, of a known kind; the base set is
real sentences with exact copies and natural near-copies removed first, so that every
duplicate in the benchmark is one we planted.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

from sentiforge.io.datasets import load_uci, load_vader
from sentiforge.samples import normalize_text

FILLERS = ["really", "so", "very", "just", "totally", "honestly", "actually", "quite"]
TAILS = [" lol", " !!!", " #fail", " :)", " ...", " - so true", " haha"]
HEADS = ["RT: ", "OMG ", "Well, ", "Wow. ", "lol "]


def real_sentences(min_words: int = 5) -> list[str]:
    """Every real sentence of the shared sets (VADER x4, UCI x3), first occurrence only."""
    texts = [s.text for name in ("tweets", "movies", "amazon", "nyt") for s in load_vader(name)]
    texts += [s.text for name in ("imdb", "yelp", "amazon") for s in load_uci(name)]
    seen: set[str] = set()
    out = []
    for t in texts:
        key = normalize_text(t)
        if len(key.split()) >= min_words and key not in seen:
            seen.add(key)
            out.append(t)
    return out


def _typo(words: list[str], rng: random.Random) -> list[str]:
    for _ in range(rng.randint(1, 2)):
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) < 3:
            continue
        j = rng.randrange(len(w) - 1)
        op = rng.choice(["swap", "drop", "add"])
        if op == "swap":
            w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        elif op == "drop":
            w = w[:j] + w[j + 1 :]
        else:
            w = w[:j] + rng.choice(string.ascii_lowercase) + w[j:]
        words[i] = w
    return words


def _drop(words: list[str], rng: random.Random) -> list[str]:
    del words[rng.randrange(len(words))]
    return words


def _insert(words: list[str], rng: random.Random) -> list[str]:
    words.insert(rng.randrange(len(words) + 1), rng.choice(FILLERS))
    return words


def _substitute(words: list[str], rng: random.Random) -> list[str]:
    words[rng.randrange(len(words))] = rng.choice(FILLERS)
    return words


def _two_edits(words: list[str], rng: random.Random) -> list[str]:
    return _substitute(_drop(words, rng), rng)


def _affix(words: list[str], rng: random.Random) -> list[str]:
    text = " ".join(words)
    text = rng.choice(HEADS) + text if rng.random() < 0.5 else text + rng.choice(TAILS)
    return text.split(" ")


def _truncate(words: list[str], rng: random.Random) -> list[str]:
    cut = max(1, round(len(words) * rng.uniform(0.08, 0.15)))
    return words[:-cut]


def _swap(words: list[str], rng: random.Random) -> list[str]:
    i = rng.randrange(len(words) - 1)
    words[i], words[i + 1] = words[i + 1], words[i]
    return words


def _case_punct(words: list[str], rng: random.Random) -> list[str]:
    text = " ".join(words)
    text = text.upper() if rng.random() < 0.5 else text.lower()
    return (text.rstrip(".!?") + rng.choice(["!!", "?", "...", ""])).split(" ")


EDITS: dict[str, Callable[[list[str], random.Random], list[str]]] = {
    "typo": _typo,
    "drop_word": _drop,
    "insert_word": _insert,
    "substitute_word": _substitute,
    "two_edits": _two_edits,
    "prefix_or_suffix": _affix,
    "truncate": _truncate,
    "swap_adjacent": _swap,
    "case_and_punctuation": _case_punct,
}


def near_copy(text: str, kind: str, rng: random.Random) -> str:
    return " ".join(EDITS[kind](text.split(), rng))
