"""Context for benchmarks/build: each sentence body's embedding classifier on the full real train
split, and what the built models close of the gap measured with the body they chose.

The issue's gap runs from MiniLM on the seeds to MiniLM on the full train split. Since build
now tries E5 and both bodies side by side, a built model can pass MiniLM's ceiling (gap closed >
1); this script says how far it is from the same body's ceiling, so the figure is not read as
more than it is:

    flock /tmp/sentiforge-model.lock nice env PYTHONPATH=src .venv/bin/python benchmarks/build/ceiling.py

Reads ``draws/*.json`` (version 3), writes ``ceiling.json``.
"""

from __future__ import annotations

import json
from typing import Any

from run import HERE, VERSION, real_split, reference, t_interval  # benchmarks/build/run.py

BODIES = {
    "embedding": "minilm",
    "embedding(multilingual)": "multilingual",
    "embedding(minilm+multilingual)": "minilm+multilingual",
}


def arm_of(candidate: str) -> str:
    return candidate.split("+seeds")[0]


def main() -> None:
    draws = [json.loads(p.read_text()) for p in sorted((HERE / "draws").glob("*.json"))]
    draws = [d for d in draws if d.get("version") == VERSION]
    out: dict[str, Any] = {"full_train": {}, "draws": []}
    for name in sorted({d["dataset"] for d in draws}):
        scheme, train, test = real_split(name)
        out["full_train"][name] = {
            arm: reference("embedding", scheme, train, test, embedder=body) for arm, body in BODIES.items()
        }
    for d in draws:
        arm = arm_of(d["chosen"])
        tested = {c["candidate"]: c["test_macro_f1"] for c in d["candidates"]}
        low, high = tested.get(f"{arm}+seeds"), out["full_train"][d["dataset"]].get(arm)
        same_body = (d["chosen_test"] - low) / (high - low) if low is not None and high and high > low else None
        out["draws"].append({"dataset": d["dataset"], "draw": d["draw"], "arm": arm, "chosen_test": d["chosen_test"],
                             "arm_seeds_test": low, "arm_full_train_test": high,
                             "gap_closed_same_body": None if same_body is None else round(same_body, 4)})  # fmt: skip
    out["gap_closed_same_body"] = {
        name: t_interval([r["gap_closed_same_body"] for r in out["draws"] if r["dataset"] == name])
        for name in out["full_train"]
    }
    out["gap_closed_same_body"]["all"] = t_interval([r["gap_closed_same_body"] for r in out["draws"]])
    (HERE / "ceiling.json").write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(json.dumps({k: out[k] for k in ("full_train", "gap_closed_same_body")}, indent=1))


if __name__ == "__main__":
    main()
