"""Evaluate the cached generation arms of gen_arms.py beside the pseudo-labels, over seed draws.

Per dataset: the real split of run.py (30% test, seed 0). The generated sets were made once,
from draw 0's seeds and pool, and are reused in every draw (only the seeds, the pool's
pseudo-labels and the mixes change with the draw). Per draw d: seeds alone; each source
alone (TSTR); seeds + each source, the source capped at 60% of the mix as mixing.py does
(``select_synthetic``, label quotas from the seeds, ``fill`` so spare quota is used); and
the full real train split (TRTR). Sources: today, grounded, evolved (grounded + evolution),
pseudo (draw d's pseudo-labels of its pool), pseudo+synthetic (pseudo + grounded + evolved).
Beside the classifiers: per source, the MiniLM real-vs-synthetic discriminator accuracy
(evaluation/similarity.discriminator, 5-fold, equal sizes), word-length KS distance and
distinct-2 against the real train split, time per accepted sample (from the job).
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import numpy as np
from draws import real_split, stratified
from gen_arms import out_dir, read_jsonl
from run import realism, score

import sentiforge.testing  # noqa: F401  (registers the fakes: the pipeline check names them)
from sentiforge.evaluation.metrics import mean_spread
from sentiforge.evaluation.similarity import discriminator
from sentiforge.labels import LabelScheme
from sentiforge.mixing import DEFAULT_MAX_SYNTHETIC_SHARE, select_synthetic
from sentiforge.quality.pseudo_labels import pseudo_label
from sentiforge.samples import Sample

SYNTHETIC = ("today", "grounded", "evolved")
T_975 = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776}  # Student t, 97.5%, by number of draws


def interval(values: list[float]) -> dict[str, Any]:
    """Mean, spread and a 95% t-interval over draws."""
    out = mean_spread(values)
    n = len(values)
    half = T_975.get(n, 1.96) * statistics.stdev(values) / math.sqrt(n) if n > 1 else float("nan")
    return {**out, "ci95": [round(out["mean"] - half, 4), round(out["mean"] + half, 4)]}


def sources_for(synthetic: dict[str, list[Sample]], pseudo: list[Sample]) -> dict[str, list[Sample]]:
    out = dict(synthetic)
    out["pseudo"] = pseudo
    extra = synthetic.get("evolved", []) + synthetic.get("grounded", [])
    seen: set[str] = set()
    unique = [s for s in extra if not (s.text in seen or seen.add(s.text))]  # type: ignore[func-returns-value]
    if unique:
        out["pseudo+synthetic"] = pseudo + unique
    return out


def one_draw(
    name: str,
    scheme: LabelScheme,
    train: list[Sample],
    test: list[Sample],
    d: int,
    kinds: list[str],
    synthetic: dict[str, list[Sample]],
    fixed: dict[str, dict[str, float]],
) -> dict[str, Any]:
    seeds, pool = stratified(train, 200, d)
    hidden = [s.model_copy(update={"label": None}) for s in pool]
    pseudo = pseudo_label(hidden, seeds, scheme, target_precision=0.9, lexicon=name == "tweets", seed=d).samples
    sources = sources_for(synthetic, pseudo)
    out: dict[str, Any] = {"pseudo_kept": len(pseudo), "mixed_in": {}, "macro_f1": {}}
    sets: dict[str, list[Sample]] = {"seeds": seeds}
    for source, samples in sources.items():
        chosen = select_synthetic(seeds, samples, DEFAULT_MAX_SYNTHETIC_SHARE, seed=d, fill=True)
        out["mixed_in"][source] = len(chosen)
        sets[f"seeds+{source}"] = seeds + chosen
        if source not in SYNTHETIC:
            sets[source] = samples
    for kind in kinds:
        scores = {arm: score(kind, scheme, data, test, d) for arm, data in sets.items()}
        out["macro_f1"][kind] = {**fixed[kind], **scores}
        print(json.dumps({name: d, kind: out["macro_f1"][kind]}), flush=True)
    return out


def describe(train: list[Sample], samples: list[Sample], x_real: np.ndarray, embed: Any) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for s in samples:
        counts[str(s.label)] = counts.get(str(s.label), 0) + 1
    disc = discriminator(x_real, embed([s.text for s in samples]), seed=0)
    return {
        "n": len(samples),
        "labels": counts,
        **realism(train, samples),
        "discriminator_accuracy": round(disc["accuracy"], 4),
        "discriminator_auc": round(disc["auc"], 4),
        "discriminator_n_per_side": disc["n_per_side"],
    }


def summarise(draws: list[dict[str, Any]], kinds: list[str]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for kind in kinds:
        arms = draws[0]["macro_f1"][kind]
        full = draws[0]["macro_f1"][kind]["full_train"]
        block: dict[str, Any] = {arm: interval([d["macro_f1"][kind][arm] for d in draws]) for arm in arms}
        for arm in arms:
            if arm.startswith("seeds+"):
                gains = [d["macro_f1"][kind][arm] - d["macro_f1"][kind]["seeds"] for d in draws]
                block[f"gain_{arm}_over_seeds"] = interval(gains)
            elif arm not in ("seeds", "full_train"):
                block[f"{arm}_over_full_train"] = round(block[arm]["mean"] / full, 4)
        summary[kind] = block
    return summary


def dataset_report(name: str, args: Any, kinds: list[str]) -> dict[str, Any]:
    folder = out_dir(name, args.fake)
    if not (folder / "meta.json").exists():
        return {"not_run": f"no generated sets in {folder}"}
    from sentiforge.embeddings import get_embedder

    meta = json.loads((folder / "meta.json").read_text())
    scheme, train, test = real_split(name)
    synthetic = {arm: read_jsonl(folder / f"{arm}.jsonl") for arm in SYNTHETIC if (folder / f"{arm}.jsonl").exists()}
    embedder = get_embedder("fake" if args.fake else "minilm")
    rng = np.random.default_rng(0)
    real_texts = [train[i].text for i in rng.choice(len(train), min(1000, len(train)), replace=False)]
    x_real = embedder.encode(real_texts)
    seeds0, pool0 = stratified(train, 200, 0)
    pseudo0 = pseudo_label(
        [s.model_copy(update={"label": None}) for s in pool0],
        seeds0,
        scheme,
        target_precision=0.9,
        lexicon=name == "tweets",
        seed=0,
    ).samples
    realism_by_source = {
        source: describe(train, samples, x_real, embedder.encode)
        for source, samples in sources_for(synthetic, pseudo0).items()
    }
    realism_by_source["seeds (real, draw 0)"] = describe(train, seeds0, x_real, embedder.encode)
    fixed = {kind: {"full_train": score(kind, scheme, train, test, 0)} for kind in kinds}
    for kind in kinds:  # synthetic sets alone do not change with the draw
        fixed[kind].update({arm: score(kind, scheme, data, test, 0) for arm, data in synthetic.items()})
    draws = [one_draw(name, scheme, train, test, d, kinds, synthetic, fixed) for d in range(args.draws)]
    return {
        "train": len(train),
        "test": len(test),
        "generation": meta,
        "realism": realism_by_source,
        "summary": summarise(draws, kinds),
        "draws": draws,
    }


def evaluate(args: Any) -> None:
    kinds = args.classifiers.split(",")
    report: dict[str, Any] = {"draws": args.draws, "classifiers": kinds, "fake": bool(args.fake)}
    for name in args.datasets.split(","):
        report[name] = dataset_report(name, args, kinds)
        print(json.dumps({name: report[name].get("summary", report[name])}, indent=1), flush=True)
    Path(args.out).write_text(json.dumps(report, indent=1))


def fmt(block: dict[str, Any], scale: float = 1.0) -> str:
    return (
        f"{block['mean'] * scale:.3f} +- {block['std'] * scale:.3f}"
        if scale == 1.0
        else (f"{block['mean'] * scale:+.1f} [{block['ci95'][0] * scale:+.1f}, {block['ci95'][1] * scale:+.1f}]")
    )


def tables(path: str) -> str:
    """The README's tables from a results file."""
    report = json.loads(Path(path).read_text())
    lines: list[str] = []
    for name in ("tweets", "uci"):
        data = report.get(name, {})
        if "summary" not in data:
            continue
        arms = data["generation"]["arms"]
        lines += [
            f"### {name}",
            "",
            "| source | n | labels | seconds per accepted | KS words | distinct-2 (real) | discriminator acc. |",
            "|---|---|---|---|---|---|---|",
        ]
        for source, r in data["realism"].items():
            job = arms.get("evolutions" if source == "evolved" else source, {})
            sec = job.get("seconds_per_accepted", "")
            lines.append(
                f"| {source} | {r['n']} | {r['labels']} | {sec} | {r['ks_words']} | "
                f"{r['distinct_2_other']} ({r['distinct_2_real']}) | {r['discriminator_accuracy']} |"
            )
        for kind, block in data["summary"].items():
            lines += [
                "",
                f"{name}, {kind}: macro-F1 on the real test split (mean +- std over draws; gain in "
                "points, 95% t-interval)",
                "",
                "| source | alone | / full train | seeds + source | gain over seeds |",
                "|---|---|---|---|---|",
            ]
            lines.append(f"| seeds alone | {fmt(block['seeds'])} | | | |")
            lines.append(f"| full real train | {fmt(block['full_train'])} | 1 | | |")
            for source in data["realism"]:
                if f"seeds+{source}" not in block:
                    continue
                alone = fmt(block[source]) if source in block else ""
                ratio = block.get(f"{source}_over_full_train", "")
                gain = fmt(block[f"gain_seeds+{source}_over_seeds"], 100)
                lines.append(f"| {source} | {alone} | {ratio} | {fmt(block[f'seeds+{source}'])} | {gain} |")
        lines.append("")
    return "\n".join(lines)
