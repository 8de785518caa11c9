"""Train the same baseline (TF-IDF + logistic regression, ``sentiforge.classifiers``) on the
seeds alone and on seeds + each augmentation, and score all on the same 800 real held-out
sentences. Also: the share of attempts each check rejected, and accepted samples per minute.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sentiforge.classifiers.registry import build_classifier
from sentiforge.errors import StoreError
from sentiforge.labels import get_scheme
from sentiforge.mixing import select_synthetic
from sentiforge.samples import Sample
from sentiforge.store import Store

HERE = Path(__file__).resolve().parent
BOOTSTRAP = 1000


CLASSIFIERS = {
    "tfidf": "sentiforge tfidf (word 1-2 grams, logistic regression C=4)",
    "embedding": "sentiforge embedding (MiniLM-L6 sentence embeddings, logistic regression)",
}


def _fit_predict(train: list[Sample], test: list[Sample], kind: str = "tfidf") -> np.ndarray:
    scheme = get_scheme("binary")
    clf = build_classifier(kind, scheme, **({"seed": 0} if kind == "tfidf" else {}))
    clf.fit([s.text for s in train], [s.label for s in train])  # type: ignore[misc]
    return np.array([scheme.labels.index(p) for p in clf.predict([s.text for s in test])])  # type: ignore[arg-type]


def _scores(y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return float(f1_score(y, pred, average="macro")), float(accuracy_score(y, pred))


def _delta_ci(y: np.ndarray, base: np.ndarray, other: np.ndarray, seed: int = 0) -> list[float]:
    """95% paired-bootstrap interval of macro-F1(other) - macro-F1(base) over the test set."""
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(seed)
    deltas = []
    for _ in range(BOOTSTRAP):
        idx = rng.integers(0, len(y), len(y))
        deltas.append(f1_score(y[idx], other[idx], average="macro") - f1_score(y[idx], base[idx], average="macro"))
    lo, hi = np.percentile(deltas, [2.5, 97.5])
    return [round(float(lo) * 100, 2), round(float(hi) * 100, 2)]


def _rejections(store: Store, dataset_id: int) -> dict[str, Any]:
    checks: Counter[str] = Counter()
    accepted = 0
    for s in store.iter_samples(dataset_id, status=None):
        if s.status == "accepted":
            accepted += 1
        else:
            checks[s.attributes.get("check") or ("duplicate" if "duplicate" in (s.reason or "") else "other")] += 1
    attempts = accepted + sum(checks.values())
    return {
        "attempts": attempts,
        "accepted": accepted,
        "rejected_share_by_check": {k: round(v / attempts, 3) for k, v in checks.most_common()} if attempts else {},
    }


def _store_runs(store_id: str) -> list[dict[str, Any]]:
    """The runs logged in runs.jsonl that filled this store (other stores, other machines and
    the other split paid for their own calls)."""
    path = HERE / "runs.jsonl"
    runs = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [r for r in runs if r.get("store") == store_id]


def _speed(runs: list[dict[str, Any]], dataset: str) -> dict[str, Any]:
    # A tranche answers the earlier seeds from the cache, so its cost is every run of the
    # same strategy up to it (calls shared with another strategy are counted where they ran).
    this = [r for r in runs if r["dataset"] == dataset]
    if not this:
        return {"seconds": None, "samples_per_minute": None, "mean_load": None}
    n, strategy, per_seed = this[-1].get("n_seeds", 200), this[-1]["strategy"], this[-1]["per_seed"]
    mine = [r for r in runs if r["strategy"] == strategy and r["per_seed"] == per_seed and r.get("n_seeds", 200) <= n]
    seconds = sum(r["seconds"] for r in mine)
    done = max(r["done"] for r in this)
    return {
        "seconds": round(seconds),
        "samples_per_minute": round(done / (seconds / 60), 2) if seconds else None,
        "mean_load": round(sum(r["load"] for r in mine) / len(mine), 1) if mine else None,
    }


def _subset_scores(
    store: Store, n: int, synthetic: list[Sample], test: list[Sample], y: np.ndarray, max_share: float
) -> dict[str, Any]:
    """Seeds-only vs seeds + augmented when the training set is just the n offered seeds."""
    subset = store.samples(store.dataset_id(f"yelp-seeds-{n}"))
    texts = {s.text for s in subset}
    synthetic = [s for s in synthetic if s.provenance.parent_id is not None]
    base = _fit_predict(subset, test)
    (f1_b, acc_b) = _scores(y, base)
    out: dict[str, Any] = {
        "seeds": len(subset),
        "seeds_only_f1": round(f1_b * 100, 2),
        "seeds_only_acc": round(acc_b * 100, 2),
        "seed_texts": len(texts),
    }
    return out | _with_synthetic(subset, synthetic, test, y, base, max_share)


def _with_synthetic(
    real: list[Sample],
    synthetic: list[Sample],
    test: list[Sample],
    y: np.ndarray,
    base: np.ndarray,
    max_share: float,
    kind: str = "tfidf",
) -> dict[str, Any]:
    """Scores of real + all synthetic and of real + the capped selection, against ``base``
    (the predictions of the model trained on ``real`` alone)."""
    f1_base, _ = _scores(y, base)
    out: dict[str, Any] = {}
    for variant, syn in (("all", synthetic), ("capped", select_synthetic(real, synthetic, max_share))):
        pred = _fit_predict(real + syn, test, kind)
        f1_v, acc_v = _scores(y, pred)
        out[variant] = {
            "synthetic": len(syn),
            "macro_f1": round(f1_v * 100, 2),
            "accuracy": round(acc_v * 100, 2),
            "delta_f1": round((f1_v - f1_base) * 100, 2),
            "delta_f1_ci95": _delta_ci(y, base, pred),
        }
    return out


def _with_synthetic_both(
    real: list[Sample],
    synthetic: list[Sample],
    test: list[Sample],
    y: np.ndarray,
    bases: dict[str, np.ndarray],
    max_share: float,
) -> dict[str, Any]:
    """:func:`_with_synthetic` for the TF-IDF baseline, with the embedding classifier's under "embedding"."""
    out = _with_synthetic(real, synthetic, test, y, bases["tfidf"], max_share)
    out["embedding"] = _with_synthetic(real, synthetic, test, y, bases["embedding"], max_share, "embedding")
    return out


def latest_runs(store: Store) -> dict[str, int]:
    """Per strategy and per_seed, the finished run over the most seeds: dataset name -> seeds offered."""
    best: dict[tuple[str, str], tuple[int, str]] = {}
    finished = {j.dataset_id for j in store.list_jobs() if j.status in {"completed", "incomplete"}}
    for d in store.list_datasets():
        m = re.fullmatch(r"yelp-(\w+)-x(\d+)(?:-n(\d+))?", d.name)
        if m and d.id in finished:  # a tranche still running (or killed mid-run) is not scored
            n = int(m.group(3) or 200)
            key = (m.group(1), m.group(2))
            if key not in best or n > best[key][0]:
                best[key] = (n, d.name)
    return {name: n for n, name in sorted(best.values(), key=lambda t: t[1])}


def evaluate(store: Store, max_share: float, out: Path, split_seed: int, store_id: str) -> dict[str, Any]:
    seeds = store.samples(store.dataset_id("yelp-seeds"))
    test = store.samples(store.dataset_id("yelp-holdout"))
    scheme = get_scheme("binary")
    y = np.array([scheme.labels.index(s.label) for s in test])  # type: ignore[arg-type]
    bases = {kind: _fit_predict(seeds, test, kind) for kind in CLASSIFIERS}
    (f1, acc), (f1_e, acc_e) = _scores(y, bases["tfidf"]), _scores(y, bases["embedding"])
    results: dict[str, Any] = {
        "seeds_only": {
            "train": len(seeds),
            "macro_f1": round(f1 * 100, 2),
            "accuracy": round(acc * 100, 2),
            "embedding": {"macro_f1": round(f1_e * 100, 2), "accuracy": round(acc_e * 100, 2)},
        }
    }
    runs = _store_runs(store_id)
    # pooled: one variant per seed from each strategy run on every seed (an x2 run repeats its
    # x1 run's variant 0)
    full: dict[str, list[Sample]] = {}
    for name, n_seeds in latest_runs(store).items():
        dataset_id = store.dataset_id(name)
        synthetic = store.samples(dataset_id)
        if not synthetic:
            continue
        if n_seeds >= len(seeds) and name.endswith("-x1"):
            full[name] = synthetic
        entry: dict[str, Any] = {
            "seeds_offered": n_seeds,
            "accepted": len(synthetic),
            "seeds_covered": len({s.provenance.parent_id for s in synthetic}),
        }
        entry |= _with_synthetic_both(seeds, synthetic, test, y, bases, max_share)
        if n_seeds < len(seeds):  # the same question at the scale of the seeds actually offered
            entry["subset"] = _subset_scores(store, n_seeds, synthetic, test, y, max_share)
        entry |= _rejections(store, dataset_id) | _speed(runs, name)
        results[name] = entry
    if len(full) > 1:  # what a recipe with several strategies gives: their outputs pooled, then capped
        pooled = [s for samples in full.values() for s in samples]
        entry = {"seeds_offered": len(seeds), "accepted": len(pooled), "strategies": sorted(full)}
        entry["seeds_covered"] = len({s.provenance.parent_id for s in pooled})
        results["pooled"] = entry | _with_synthetic_both(seeds, pooled, test, y, bases, max_share)
    results["_meta"] = {
        "test_size": len(test),
        "seeds": len(seeds),
        "split_seed": split_seed,
        "max_synthetic_share": max_share,
        "classifier": CLASSIFIERS["tfidf"],
        "classifier_embedding": CLASSIFIERS["embedding"],
        "at": time.strftime("%F %T"),
        "bootstrap": BOOTSTRAP,
    }
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    return results


def _augmented_rows(
    results: dict[str, Any], scores: Callable[[dict[str, Any]], dict[str, Any] | None], *, coverage: bool
) -> list[str]:
    """One row per augmented training set and variant, sorted by name; ``scores`` picks a
    classifier's figures out of an entry (None: the entry has none)."""
    rows = []
    for name, e in sorted(results.items()):
        if name.startswith("_") or name == "seeds_only" or scores(e) is None:
            continue
        for variant in ("all", "capped"):
            v = scores(e)[variant]  # type: ignore[index]
            lo, hi = v["delta_f1_ci95"]
            rows.append(
                f"| + {name} ({variant}) | {v['synthetic']} | {v['macro_f1']:.2f} | {v['accuracy']:.2f} "
                f"| {v['delta_f1']:+.2f} ({lo:+.2f}, {hi:+.2f}) |"
                + (f" {e['seeds_offered']} / {e['seeds_covered']} |" if coverage else "")
            )
    return rows


def table(results: dict[str, Any]) -> str:
    s = results["seeds_only"]
    lines = [
        "| training set | synthetic | macro-F1 | accuracy | delta F1 (95% CI) | seeds offered / covered |",
        "|---|---|---|---|---|---|",
        f"| seeds only | 0 | {s['macro_f1']:.2f} | {s['accuracy']:.2f} | - | - |",
    ]
    lines += _augmented_rows(results, lambda e: e, coverage=True)
    if "embedding" in s:
        e0 = s["embedding"]
        lines += [
            "",
            "| training set (embedding classifier) | synthetic | macro-F1 | accuracy | delta F1 (95% CI) |",
            "|---|---|---|---|---|",
            f"| seeds only | 0 | {e0['macro_f1']:.2f} | {e0['accuracy']:.2f} | - |",
        ]
        lines += _augmented_rows(results, lambda e: e.get("embedding"), coverage=False)
    subsets = [(name, e["subset"]) for name, e in results.items() if isinstance(e, dict) and "subset" in e]
    if subsets:
        lines += [
            "",
            "| trained on the offered seeds only | seeds | + synthetic | seeds-only F1 / acc "
            "| augmented F1 / acc | delta F1 (95% CI) |",
            "|---|---|---|---|---|---|",
        ]
        for name, v in sorted(subsets):
            for variant in ("all", "capped"):
                a = v[variant]
                lo, hi = a["delta_f1_ci95"]
                lines.append(
                    f"| {name} ({variant}) | {v['seeds']} | {a['synthetic']} | {v['seeds_only_f1']:.2f} / "
                    f"{v['seeds_only_acc']:.2f} | {a['macro_f1']:.2f} / {a['accuracy']:.2f} "
                    f"| {a['delta_f1']:+.2f} ({lo:+.2f}, {hi:+.2f}) |"
                )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(HERE))
    from run import DB, RESULTS, SPLIT_SEED, store_id  # type: ignore[import-not-found]

    try:
        evaluate(Store(DB), 0.6, RESULTS, SPLIT_SEED, store_id())
    except StoreError as exc:
        raise SystemExit(f"run `python benchmarks/augment/run.py prepare` first: {exc}") from exc
