"""How alike are the real and the synthetic texts?

Every distance comes with a real-vs-real baseline (two random halves of the real data), so
a number has a scale: synthetic data "as close as real data is to itself" scores a ratio
near 1. Counts that grow with corpus size (vocabulary, distinct n-grams) are computed on
equal-size samples of both sides.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sentiforge.errors import DataError
from sentiforge.samples import Sample

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_EMBED = 2000  # per side: distances are stable well before this, and it bounds the cost


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _subsample(items: Sequence[Any], n: int, rng: np.random.Generator) -> list[Any]:
    if len(items) <= n:
        return list(items)
    return [items[i] for i in np.sort(rng.choice(len(items), n, replace=False))]


# -- embedding-space distances ------------------------------------------------------------
def mmd_rbf(x: np.ndarray, y: np.ndarray, bandwidth: float) -> float:
    """Unbiased squared maximum mean discrepancy with a Gaussian kernel."""

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d2 = np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T, 0.0)
        return np.exp(-d2 / (2 * bandwidth**2))

    m, n = len(x), len(y)
    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    term_x = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    term_y = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(term_x + term_y - 2 * kxy.mean())


def median_bandwidth(z: np.ndarray, rng: np.random.Generator, n: int = 1000) -> float:
    """The median pairwise distance of a sample: the usual scale for an RBF kernel."""
    s = z[rng.choice(len(z), min(n, len(z)), replace=False)]
    d2 = np.maximum((s * s).sum(1)[:, None] + (s * s).sum(1)[None, :] - 2 * s @ s.T, 0.0)
    upper = d2[np.triu_indices(len(s), 1)]
    return float(np.sqrt(np.median(upper))) or 1.0


def frechet(x: np.ndarray, y: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two embedding clouds (as in FID)."""
    from scipy import linalg

    mu_x, mu_y = x.mean(0), y.mean(0)
    cov_x, cov_y = np.atleast_2d(np.cov(x, rowvar=False)), np.atleast_2d(np.cov(y, rowvar=False))
    with warnings.catch_warnings():  # near-singular covariances (few texts, many dims) are expected
        warnings.simplefilter("ignore")
        root = linalg.sqrtm(cov_x @ cov_y)
    root = np.real(root)
    return float(((mu_x - mu_y) ** 2).sum() + np.trace(cov_x + cov_y - 2 * root))


def discriminator(x: np.ndarray, y: np.ndarray, seed: int = 0, folds: int = 5) -> dict[str, float]:
    """Cross-validated accuracy of a logistic regression telling real (x) from synthetic (y).

    Both sides are cut to the same size, so 0.5 means indistinguishable and 1.0 trivially apart.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    rng = np.random.default_rng(seed)
    n = min(len(x), len(y))
    if n < folds * 2:
        return {"accuracy": float("nan"), "auc": float("nan"), "n_per_side": n}
    a, b = x[rng.choice(len(x), n, replace=False)], y[rng.choice(len(y), n, replace=False)]
    features, labels = np.vstack([a, b]), np.r_[np.zeros(n), np.ones(n)]
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    proba = cross_val_predict(LogisticRegression(max_iter=2000, C=1.0), features, labels, cv=cv, method="predict_proba")
    from sentiforge.evaluation.metrics import auc_binary

    return {
        "accuracy": float(((proba[:, 1] >= 0.5) == labels).mean()),
        "auc": auc_binary(labels, proba[:, 1]),
        "n_per_side": n,
    }


def embedding_distances(real: np.ndarray, synth: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """MMD and Frechet distance of real vs synthetic, each beside its real-vs-real baseline."""
    rng = np.random.default_rng(seed)
    if len(real) < 20 or len(synth) < 10:
        raise DataError(f"need at least 20 real and 10 synthetic texts to compare, got {len(real)} and {len(synth)}")
    order = rng.permutation(len(real))
    half_a, half_b = real[order[: len(real) // 2]], real[order[len(real) // 2 :]]
    synth_n = synth[rng.choice(len(synth), min(len(synth), len(half_b)), replace=False)]
    bandwidth = median_bandwidth(np.vstack([real, synth]), rng)
    out: dict[str, Any] = {"bandwidth": bandwidth}
    mmd_rr, mmd_rs = mmd_rbf(half_a, half_b, bandwidth), mmd_rbf(half_a, synth_n, bandwidth)
    out["mmd"] = {"real_vs_synthetic": mmd_rs, "real_vs_real": mmd_rr, "ratio": _ratio(mmd_rs, mmd_rr)}
    if min(len(half_a), len(synth_n)) > 2:
        fd_rr, fd_rs = frechet(half_a, half_b), frechet(half_a, synth_n)
        out["frechet"] = {"real_vs_synthetic": fd_rs, "real_vs_real": fd_rr, "ratio": _ratio(fd_rs, fd_rr)}
    out["discriminator"] = discriminator(real, synth, seed)
    out["discriminator_real_vs_real"] = discriminator(half_a, half_b, seed)
    return out


def _ratio(a: float, b: float) -> float:
    """a in units of the baseline b; NaN when the baseline is zero or negative (unbiased MMD can be)."""
    return a / b if b > 1e-12 else float("nan")


def projection(real: np.ndarray, synth: np.ndarray, seed: int = 0, per_side: int = 800) -> dict[str, Any]:
    """2-D PCA of both clouds together (fitted on both), for the scatter plot."""
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(seed)
    r = real[rng.choice(len(real), min(per_side, len(real)), replace=False)]
    s = synth[rng.choice(len(synth), min(per_side, len(synth)), replace=False)]
    pca = PCA(n_components=2, random_state=seed).fit(np.vstack([real, synth]))
    return {
        "method": "pca",
        "explained_variance": [float(v) for v in pca.explained_variance_ratio_],
        "real": np.round(pca.transform(r), 4).tolist(),
        "synthetic": np.round(pca.transform(s), 4).tolist(),
    }


# -- surface statistics ---------------------------------------------------------------------
def length_stats(texts: Sequence[str]) -> dict[str, Any]:
    words = np.array([len(tokens(t)) for t in texts], dtype=float)
    chars = np.array([len(t) for t in texts], dtype=float)
    if not len(words):
        return {"n": 0}
    return {
        "n": len(texts),
        "words": {k: float(f(words)) for k, f in _SUMMARY.items()},
        "chars": {k: float(f(chars)) for k, f in _SUMMARY.items()},
    }


_SUMMARY: dict[str, Callable[[np.ndarray], Any]] = {
    "mean": np.mean,
    "std": np.std,
    "median": np.median,
    "p10": lambda a: np.quantile(a, 0.1),
    "p90": lambda a: np.quantile(a, 0.9),
}


def ks_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs."""
    if not len(a) or not len(b):
        return 1.0
    xs, ys = np.sort(np.asarray(a, dtype=float)), np.sort(np.asarray(b, dtype=float))
    grid = np.union1d(xs, ys)
    cdf_a = np.searchsorted(xs, grid, side="right") / len(xs)
    cdf_b = np.searchsorted(ys, grid, side="right") / len(ys)
    return float(np.abs(cdf_a - cdf_b).max())


def length_histogram(real: Sequence[str], synth: Sequence[str], bins: int = 30) -> dict[str, Any]:
    r = [len(tokens(t)) for t in real]
    s = [len(tokens(t)) for t in synth]
    top = max(np.quantile(r + s, 0.99), 1)
    edges = np.linspace(0, top, bins + 1)
    return {
        "edges": edges.round(2).tolist(),
        "real": np.histogram(np.clip(r, 0, top), edges)[0].tolist(),
        "synthetic": np.histogram(np.clip(s, 0, top), edges)[0].tolist(),
    }


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Unique n-grams over all n-grams: 1.0 = no n-gram repeats anywhere."""
    grams: Counter[tuple[str, ...]] = Counter()
    for t in texts:
        toks = tokens(t)
        grams.update(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


def _ngrams(toks: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


def self_bleu(texts: Sequence[str], seed: int = 0, hypotheses: int = 200, references: int = 500) -> float:
    """Mean BLEU-4 of sampled texts against other texts of the same corpus (higher = more alike).

    Hypotheses and references are disjoint random samples; smoothing adds one to each n-gram
    count (Lin and Och's method), so short texts do not score zero.
    """
    rng = np.random.default_rng(seed)
    if len(texts) < 4:
        return float("nan")
    order = rng.permutation(len(texts))
    k = min(hypotheses, len(texts) // 2)
    hyp_idx, ref_idx = order[:k], order[k : k + references]
    ref_max: list[dict[tuple[str, ...], int]] = [{} for _ in range(4)]
    ref_lengths = []
    for i in ref_idx:
        toks = tokens(texts[i])
        ref_lengths.append(len(toks))
        for n in range(4):
            for gram, count in _ngrams(toks, n + 1).items():
                if count > ref_max[n].get(gram, 0):
                    ref_max[n][gram] = count
    lengths = np.array(sorted(ref_lengths))
    scores = []
    for i in hyp_idx:
        toks = tokens(texts[i])
        if not toks:
            continue
        log_p = 0.0
        for n in range(4):
            grams = _ngrams(toks, n + 1)
            matched = sum(min(c, ref_max[n].get(g, 0)) for g, c in grams.items())
            total = sum(grams.values())
            log_p += math.log((matched + 1) / (total + 1)) / 4
        closest = int(lengths[np.argmin(np.abs(lengths - len(toks)))])
        bp = 1.0 if len(toks) > closest else math.exp(1 - closest / len(toks))
        scores.append(bp * math.exp(log_p))
    return float(np.mean(scores)) if scores else float("nan")


def vocabulary(real: Sequence[str], synth: Sequence[str], rng: np.random.Generator) -> dict[str, Any]:
    """Vocabulary size, type-token ratio, overlap and novelty on equal-size samples."""
    n = min(len(real), len(synth))
    r_toks = [tok for t in _subsample(real, n, rng) for tok in tokens(t)]
    s_toks = [tok for t in _subsample(synth, n, rng) for tok in tokens(t)]
    budget = min(len(r_toks), len(s_toks))
    rv, sv = set(r_toks), set(s_toks)
    return {
        "texts_per_side": n,
        "vocab_real": len(rv),
        "vocab_synthetic": len(sv),
        "ttr_real": len(set(r_toks[:budget])) / budget if budget else 0.0,
        "ttr_synthetic": len(set(s_toks[:budget])) / budget if budget else 0.0,
        "jaccard": len(rv & sv) / len(rv | sv) if rv | sv else 0.0,
        "synthetic_tokens_outside_real_vocab": sum(t not in rv for t in s_toks) / len(s_toks) if s_toks else 0.0,
        "top_synthetic_words_rare_in_real": _overused(r_toks, s_toks),
    }


def _overused(r_toks: list[str], s_toks: list[str], k: int = 15) -> list[dict[str, Any]]:
    """Words the generator over-uses: highest synthetic/real frequency ratio (add-one smoothed)."""
    rc, sc = Counter(r_toks), Counter(s_toks)
    nr, ns = max(1, len(r_toks)), max(1, len(s_toks))
    ranked = sorted(sc, key=lambda w: -((sc[w] + 1) / ns) / ((rc[w] + 1) / nr))
    return [{"word": w, "synthetic": sc[w], "real": rc[w]} for w in ranked[:k] if sc[w] >= 5]


def diversity(real: Sequence[str], synth: Sequence[str], rng: np.random.Generator, seed: int) -> dict[str, Any]:
    n = min(len(real), len(synth), 1000)
    r, s = _subsample(real, n, rng), _subsample(synth, n, rng)
    return {
        "texts_per_side": n,
        **{f"distinct_{k}": {"real": distinct_n(r, k), "synthetic": distinct_n(s, k)} for k in (1, 2, 3)},
        "self_bleu": {"real": self_bleu(r, seed), "synthetic": self_bleu(s, seed)},
    }


def label_balance(real: Sequence[Sample], synth: Sequence[Sample]) -> dict[str, Any]:
    rc, sc = Counter(x.target() for x in real), Counter(x.target() for x in synth)
    labels = sorted(set(rc) | set(sc))
    rp = {k: rc[k] / max(1, len(real)) for k in labels}
    sp = {k: sc[k] / max(1, len(synth)) for k in labels}
    tv = 0.5 * sum(abs(rp[k] - sp[k]) for k in labels)
    return {"labels": labels, "real": dict(rc), "synthetic": dict(sc), "total_variation": tv}


def compare(
    real: Sequence[Sample], synth: Sequence[Sample], *, embedder: str | None = "minilm", seed: int = 0
) -> dict[str, Any]:
    """Every similarity figure; ``embedder=None`` skips the embedding-space part."""
    if not real or not synth:
        raise DataError(f"need real and synthetic samples to compare, got {len(real)} and {len(synth)}")
    rng = np.random.default_rng(seed)
    rt, st = [x.text for x in real], [x.text for x in synth]
    out: dict[str, Any] = {
        "sizes": {"real": len(real), "synthetic": len(synth)},
        "length": {
            "real": length_stats(rt),
            "synthetic": length_stats(st),
            "ks_words": ks_distance([len(tokens(t)) for t in rt], [len(tokens(t)) for t in st]),
        },
        "length_histogram": length_histogram(rt, st),
        "vocabulary": vocabulary(rt, st, rng),
        "diversity": diversity(rt, st, rng, seed),
        "labels": label_balance(real, synth),
    }
    if embedder:
        from sentiforge.classifiers.embedding import encode

        r_emb = encode(embedder, _subsample(rt, MAX_EMBED, rng))
        s_emb = encode(embedder, _subsample(st, MAX_EMBED, rng))
        out["embedder"] = embedder
        out["embedding"] = embedding_distances(r_emb, s_emb, seed)
        out["projection"] = projection(r_emb, s_emb, seed)
    return out
