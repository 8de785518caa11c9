"""Score the synthetic sets made by generate.py: TRTR, TSTR and mixed, per classifier.

Reads a *copy* of the benchmark store (the generator may still be writing to it), takes the
real set's stored train/holdout splits and the accepted synthetic samples, and runs the
full evaluation (report included). Because the synthetic set may be smaller than the real
train split, TRTR is also measured on a real train subsample of the synthetic set's size
(stratified, seeded): the fair comparison when generation time was the limit.

    .venv/bin/python benchmarks/tstr/run.py tweets --classifier tfidf --classifier embedding
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sentiforge.classifiers import factory
from sentiforge.evaluation.pipeline import evaluate
from sentiforge.evaluation.report import json_safe
from sentiforge.evaluation.tstr import TSTRConfig, run_tstr
from sentiforge.io.splits import dedupe, split_real
from sentiforge.labels import LabelScheme
from sentiforge.samples import Sample
from sentiforge.store import Store

HERE = Path(__file__).resolve().parent
DEFAULT_DB = Path.home() / ".sentiforge" / "bench" / "tstr.db"


def copy_db(path: Path, into: Path) -> str:
    """A consistent copy of a SQLite file that another process may be writing."""
    src, dst = sqlite3.connect(path), sqlite3.connect(into)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{into}"


def load(
    store: Store, name: str, synthetic: str, limit: int | None
) -> tuple[list[Sample], list[Sample], list[Sample], LabelScheme, dict[str, Any]]:
    real_id = store.dataset_id(f"real-{name}")
    synth_id = store.dataset_id(synthetic)
    scheme = store.scheme(real_id)
    train = list(store.iter_samples(real_id, split="train"))
    hold = list(store.iter_samples(real_id, split="holdout"))
    synth = dedupe(list(store.iter_samples(synth_id)))[:limit]
    jobs = [j for j in store.list_jobs() if j.dataset_id == synth_id]
    gen = {
        "accepted": store.count(synth_id),
        "rejected": store.count(synth_id, status="rejected"),
        "target": sum(j.target for j in jobs),
        "requests": sum(j.requests for j in jobs),
        "prompt_tokens": sum(j.prompt_tokens for j in jobs),
        "completion_tokens": sum(j.completion_tokens for j in jobs),
        "reject_reasons": dict(
            Counter((s.reason or "")[:60] for s in store.iter_samples(synth_id, status="rejected")).most_common(5)
        ),
    }
    return train, hold, synth, scheme, gen


def same_size(train: list[Sample], n: int, seed: int) -> list[Sample]:
    """A stratified, seeded subsample of the real train split with n items."""
    if n >= len(train):
        return train
    sub, _ = split_real(train, holdout=1 - n / len(train), seed=seed)
    return [s.model_copy(update={"split": "train"}) for s in sub]


def gate_filtered(train: list[Sample], synth: list[Sample], scheme: LabelScheme) -> dict[str, list[Sample]]:
    """The synthetic set after the quality gate's label-consistency check (seed classifier on the
    real *train* split, no LLM judge): 'gate' keeps what the default policy keeps; 'gate_strict'
    keeps only samples whose label is the seed classifier's top label."""
    from sentiforge.quality.config import ConsistencyConfig
    from sentiforge.quality.consistency import ConsistencyCheck, SeedClassifier

    seed_clf = SeedClassifier(scheme, lexicon=True).fit(train)
    results = ConsistencyCheck(scheme, ConsistencyConfig(judge=False), classifier=seed_clf).run(synth)
    return {
        "gate": [s for s, r in zip(synth, results, strict=True) if r.verdict != "reject"],
        "gate_strict": [s for s, r in zip(synth, results, strict=True) if r.verdict == "pass"],
    }


def variant_scores(
    kinds: list[str],
    ev: Any,
    train: list[Sample],
    hold: list[Sample],
    synth: list[Sample],
    scheme: LabelScheme,
    bootstrap: int,
) -> dict[str, Any]:
    """TSTR of the raw and gate-filtered synthetic sets, each also against TRTR on a real
    train subsample of the same size."""
    variants = {"raw": synth, **gate_filtered(train, synth, scheme)}
    out: dict[str, Any] = {}
    for name, data in variants.items():
        small = same_size(train, len(data), seed=0)
        for kind in kinds:
            make = factory(kind, scheme, **ev.tstr[kind].config["params"])
            cfg = TSTRConfig(classifier=kind, bootstrap=bootstrap, cv_folds=0)
            full = run_tstr(train, hold, data, scheme, make, cfg)
            fair = run_tstr(small, hold, data, scheme, make, cfg)
            out.setdefault(kind, {})[name] = {
                "synthetic": len(data),
                "tstr": full.settings["tstr"].scores["macro_f1"],
                "tstr_ci": full.settings["tstr"].ci.get("macro_f1"),
                "ratio": full.ratio,
                "ratio_ci": full.ratio_ci,
                "mix": full.settings["mix"].scores["macro_f1"],
                "trtr_same_size": fair.settings["trtr"].scores["macro_f1"],
                "ratio_same_size": fair.ratio,
                "ratio_same_size_ci": fair.ratio_ci,
                "mix_same_size": fair.settings["mix"].scores["macro_f1"],
                "tstr_per_class_f1": {k: v["f1"] for k, v in full.settings["tstr"].scores["per_class"].items()},
                "tstr_confusion": full.settings["tstr"].scores.get("confusion"),
            }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("set")
    parser.add_argument("--classifier", action="append", default=None)
    parser.add_argument("--synthetic", default=None, help="synthetic dataset (default synth-SET-qwen2.5-1.5b)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N synthetic samples")
    parser.add_argument("--name", default=None, help="results folder name (default: the set)")
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--cv", type=int, default=5)
    args = parser.parse_args(argv)
    kinds = args.classifier or ["tfidf", "embedding"]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(copy_db(args.db, Path(tmp) / "copy.db"))
        synthetic = args.synthetic or f"synth-{args.set}-qwen2.5-1.5b"
        train, hold, synth, scheme, gen = load(store, args.set, synthetic, args.limit)
        store.close()
    started = time.perf_counter()
    ev = evaluate(
        [*train, *hold],
        synth,
        scheme,
        classifiers=kinds,
        bootstrap=args.bootstrap,
        cv_folds=args.cv,
        progress=lambda m: print(m, flush=True),
        sources={"real": f"VADER {args.set} (real-{args.set})", "synthetic": f"{synthetic}, {len(synth)} texts"},
    )
    out_dir = args.out / (args.name or args.set)
    ev.write(out_dir)
    fair = variant_scores(kinds, ev, train, hold, synth, scheme, args.bootstrap)
    summary = summarise(ev, fair, gen, time.perf_counter() - started)
    (out_dir / "summary.json").write_text(json.dumps(json_safe(summary), indent=2))
    print(json.dumps(json_safe(summary), indent=2))
    return 0


def summarise(ev: Any, fair: dict[str, Any], gen: dict[str, Any], seconds: float) -> dict[str, Any]:
    sim = ev.similarity or {}
    out: dict[str, Any] = {
        "sizes": ev.meta["sizes"],
        "generation": gen,
        "seconds": round(seconds, 1),
        "load": os.getloadavg(),
        "classifiers": {},
    }
    for kind, r in ev.tstr.items():
        s = r.settings
        out["classifiers"][kind] = {
            "trtr": s["trtr"].scores["macro_f1"],
            "trtr_ci": s["trtr"].ci.get("macro_f1"),
            "tstr": s["tstr"].scores["macro_f1"],
            "tstr_ci": s["tstr"].ci.get("macro_f1"),
            "mix": s["mix"].scores["macro_f1"],
            "mix_ci": s["mix"].ci.get("macro_f1"),
            "ratio": r.ratio,
            "ratio_ci": r.ratio_ci,
            "accuracy": {k: v.scores["accuracy"] for k, v in s.items()},
            "per_class_f1": {k: {lab: c["f1"] for lab, c in v.scores["per_class"].items()} for k, v in s.items()},
            "cv": {k: v.get("macro_f1") for k, v in r.cv.items()},
            "variants": fair[kind],
        }
    if sim:
        emb = sim.get("embedding", {})
        out["similarity"] = {
            "mmd": emb.get("mmd"),
            "frechet": emb.get("frechet"),
            "discriminator_accuracy": emb.get("discriminator", {}).get("accuracy"),
            "words_mean": {k: sim["length"][k]["words"]["mean"] for k in ("real", "synthetic")},
            "distinct_2": sim["diversity"]["distinct_2"],
            "self_bleu": sim["diversity"]["self_bleu"],
            "label_tv": sim["labels"]["total_variation"],
            "overused_words": [w["word"] for w in sim["vocabulary"]["top_synthetic_words_rare_in_real"]],
        }
    out["leakage"] = ev.primary.leakage
    out["bias_flags"] = {k: [f.message for f in a.flags] for k, a in ev.bias.items()}
    return out


if __name__ == "__main__":
    sys.exit(main())
