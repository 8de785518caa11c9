"""Grounding on unlabelled text: read, chunk, embed, cluster, name the clusters.

Users hold far more unlabelled in-domain text (ticket dumps, tweets, reviews) than labelled
seeds, and it is the best guide to what real data looks like. This module turns such a pool
into samples without labels, each with the cluster it belongs to and the cluster's topic
words; the ``grounded`` generation strategy then shows a few texts of one cluster per prompt
(topic and style) while the label comes from the quota. Clusters also give topic attribute
values the user did not have to write.

Clustering is spherical k-means on L2-normalised sentence embeddings (a product is a cosine),
k-means++ seeded, in numpy: deterministic for a seed and fast for pools of tens of thousands.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentiforge.errors import DataError
from sentiforge.samples import Sample

CHUNK_WORDS = 80  # a longer document is cut into chunks of at most this many words, at sentence ends
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"(?<![\w'’])[^\W\d_]{4,}(?![\w'’])", re.UNICODE)  # whole words; not "doesn" of "doesn't"
STOPWORDS = frozenset(
    [
        "this",
        "that",
        "with",
        "have",
        "from",
        "they",
        "were",
        "been",
        "what",
        "when",
        "your",
        "their",
        "there",
        "about",
        "would",
        "will",
        "just",
        "very",
        "than",
        "then",
        "them",
        "also",
        "only",
        "into",
        "more",
        "some",
        "such",
        "like",
        "dont",
        "cant",
        "isnt",
        "wasnt",
    ]
)


def read_texts(path: str | Path, *, text_column: str = "text") -> list[str]:
    """The texts of a .jsonl / .csv / .tsv / .parquet file (one column; read by the importers'
    one reader, streamed) or a .txt file (one per paragraph, or per line: see
    :func:`_paragraphs`). An empty or null text is skipped; a text that is not a string, or holds
    a NUL, is an error naming its line."""
    from sentiforge.io.importers import SUFFIXES, read_rows

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".txt":
        texts = list(_paragraphs(p))
    elif suffix in SUFFIXES:
        texts = []
        for where, values in read_rows(p, [text_column]):
            text = values[text_column]
            if text is not None and not isinstance(text, str):
                raise DataError(f"{p}: {where}: column '{text_column}' is not text ({str(text)[:60]!r})")
            if text and "\x00" in text:
                raise DataError(f"{p}: {where}: column '{text_column}' holds a NUL character; remove it")
            texts.append(text or "")
    else:
        raise DataError(f"cannot read unlabelled texts from {p}: use .txt, .jsonl, .csv, .tsv or .parquet")
    found = [t.strip() for t in texts if t.strip()]
    if not found:
        raise DataError(f"{p} has no texts")
    return found


PARAGRAPH_LINES = 20  # paragraphs longer than this on average: the blank lines are strays


def _paragraphs(path: Path) -> Iterator[str]:
    """A text file's texts: its paragraphs (separated by blank lines), or its lines.

    Paragraphs when blank lines split the file into paragraphs of at most ``PARAGRAPH_LINES``
    lines on average (wrapped reviews, posts); otherwise a text per line (a pool of tweets or
    reviews written one per line, as ``predict --file`` reads them), so a stray blank line, a
    blank line at the end or none at all does not turn hundreds of texts into one or two."""
    from sentiforge.io.importers import decoded_lines

    groups: list[list[str]] = [[]]
    for number, line in enumerate(decoded_lines(path, "utf-8"), 1):
        if "\x00" in line:
            raise DataError(f"{path}: line {number} holds a NUL character; remove it")
        if line.strip():
            groups[-1].append(line)
        elif groups[-1]:
            groups.append([])
    groups = [g for g in groups if g]
    lines = sum(len(g) for g in groups)
    if len(groups) > 1 and lines / len(groups) <= PARAGRAPH_LINES:
        yield from ("".join(g) for g in groups)
    else:
        yield from (line for g in groups for line in g)


def chunk(text: str, max_words: int = CHUNK_WORDS) -> list[str]:
    """A text cut at sentence ends into pieces of at most ``max_words`` (a longer sentence is cut
    at that many words)."""
    pieces: list[str] = []
    current: list[str] = []
    for sentence in _SENTENCE.split(text.strip()):
        words = sentence.split()
        while len(words) > max_words:
            pieces.append(" ".join(words[:max_words]))
            words = words[max_words:]
        if current and len(current) + len(words) > max_words:
            pieces.append(" ".join(current))
            current = []
        current += words
    if current:
        pieces.append(" ".join(current))
    return pieces


def default_k(n: int) -> int:
    return max(2, min(50, round(math.sqrt(n / 4))))


def spherical_kmeans(vectors: np.ndarray, k: int, *, seed: int = 0, iterations: int = 30) -> np.ndarray:
    """Cluster of each (L2-normalised) row, by cosine to k centroids; k-means++ start."""
    n = len(vectors)
    k = max(1, min(k, n))
    rng = np.random.default_rng(seed)
    centres = [vectors[int(rng.integers(n))]]
    for _ in range(1, k):
        distance = np.clip(1 - np.max(vectors @ np.stack(centres).T, axis=1), 0, None) ** 2
        total = float(distance.sum())
        pick = int(rng.choice(n, p=distance / total)) if total > 0 else int(rng.integers(n))
        centres.append(vectors[pick])
    c = np.stack(centres)
    labels = np.full(n, -1)
    for _ in range(iterations):
        new = np.argmax(vectors @ c.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = vectors[labels == j]
            if len(members):
                mean = members.sum(axis=0)
                c[j] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return labels


def topic_words(texts: Sequence[str], labels: np.ndarray, words: int = 3) -> dict[int, str]:
    """Each cluster's most distinctive words (in-cluster share over overall share, smoothed)."""
    overall: Counter[str] = Counter()
    per: dict[int, Counter[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        tokens = {w for w in _WORD.findall(text.casefold()) if w not in STOPWORDS}
        overall.update(tokens)
        per.setdefault(int(label), Counter()).update(tokens)
    n = max(1, len(texts))
    out = {}
    for label, counts in per.items():
        size = max(1, int((labels == label).sum()))
        score = {w: (c / size) * math.log((c + 1) / (overall[w] * size / n + 1)) for w, c in counts.items() if c >= 2}
        out[label] = ", ".join(sorted(score, key=lambda w: (-score[w], w))[:words]) or f"cluster {label}"
    return out


def ground(
    texts: Sequence[str], embedder: Any, *, k: int | None = None, seed: int = 0, max_words: int = CHUNK_WORDS
) -> list[Sample]:
    """Unlabelled samples, one per chunk, with cluster, topic and source in their attributes."""
    chunks = [(doc, j, piece) for doc, text in enumerate(texts) for j, piece in enumerate(chunk(text, max_words))]
    if not chunks:
        raise DataError("no text to ground on")
    pieces = [c[2] for c in chunks]
    labels = spherical_kmeans(embedder.encode(pieces), k or default_k(len(pieces)), seed=seed)
    topics = topic_words(pieces, labels)
    return [
        Sample(
            text=piece,
            attributes={"cluster": int(label), "topic": topics[int(label)], "document": doc, "chunk": j},
        )
        for (doc, j, piece), label in zip(chunks, labels, strict=True)
    ]


def purity(clusters: Sequence[int], truth: Sequence[str]) -> float:
    """Share of items whose cluster's most common true class is their own."""
    by: dict[int, Counter[str]] = {}
    for c, t in zip(clusters, truth, strict=True):
        by.setdefault(c, Counter())[t] += 1
    return sum(counts.most_common(1)[0][1] for counts in by.values()) / max(1, len(truth))
