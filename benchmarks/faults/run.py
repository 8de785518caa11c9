"""Fault tolerance: a generation job against a server that fails half of the time must still
end with exactly the requested number of valid samples, none of them duplicated.

Faults (server in its own process, seeded): 30% 429 (Retry-After 0.2 s), 10% 500, 5% timeouts
(the server hangs past the client's timeout), 5% malformed (2% truncated body, 2% HTML
instead of JSON, 1% JSON without choices), 2% empty completions.

    .venv/bin/python benchmarks/faults/run.py [--count 1000 --concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections import Counter
from typing import Any

from sentiforge.app.jobs import run_recipe
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.samples import text_hash
from sentiforge.store import Store
from sentiforge.testing import ServerProcess

FAULTS = {
    "rate_limit": 0.30,
    "server_error": 0.10,
    "timeout": 0.05,
    "truncated": 0.02,
    "not_json": 0.02,
    "no_choices": 0.01,
    "empty": 0.02,
}


def check_store(store: Store) -> dict[str, Any]:
    dataset = store.dataset_id("faults")
    accepted = list(store.iter_samples(dataset))
    hashes = Counter(text_hash(s.text) for s in accepted)
    slots_ok = store.count(dataset, status="accepted")
    return {
        "accepted": len(accepted),
        "distinct_texts": len(hashes),
        "duplicates": sum(n - 1 for n in hashes.values() if n > 1),
        "rejected_kept": store.count(dataset, status="rejected"),
        "rejection_reasons": _reasons(store, dataset),
        "count_query": slots_ok,
    }


def _reasons(store: Store, dataset: int) -> dict[str, int]:
    reasons: Counter[str] = Counter()
    for sample in store.iter_samples(dataset, status="rejected"):
        reasons[(sample.reason or "")[:48]] += 1
    return dict(reasons.most_common(6))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--timeout", type=float, default=2.0, help="the client's timeout; the server hangs 30 s")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "count": args.count,
        "concurrency": args.concurrency,
        "faults": FAULTS,
        "load_before": os.getloadavg()[:2],
        "cpus": os.cpu_count(),
    }
    extra = ["--retry-after", "0.2", "--hang", "30", "--seed", "11"]
    with (
        ServerProcess(latency=args.latency, faults=FAULTS, extra_args=extra) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        store = Store(f"sqlite:///{tmp}/faults.db")
        recipe = Recipe(
            name="faults-bench",
            backend=BackendSpec(
                kind="openai",
                model="bench",
                base_url=server.base_url,
                concurrency=args.concurrency,
                timeout=args.timeout,
            ),
            steps=[StepSpec(strategy="generate", params={"count": args.count, "few_shot": 0})],
        )
        started = time.monotonic()
        result = asyncio.run(run_recipe(recipe, store, "faults"))
        report["seconds"] = time.monotonic() - started
        report["job"] = {
            "status": result.status,
            "done": result.done,
            "rejected": result.rejected,
            "requests_paid": result.requests,
            "error": result.error,
        }
        report["store"] = check_store(store)
        stats = server.stats()
        report["server"] = {
            "requests": stats["requests"],
            "outcomes": stats["outcomes"],
            "answered_twice": stats["answered_twice"],
            "max_in_flight": stats["max_in_flight"],
        }
        store.close()
    s = report["store"]
    report["target_met"] = (
        result.status == "completed"
        and s["accepted"] == args.count == s["distinct_texts"]
        and s["duplicates"] == 0
        and report["server"]["answered_twice"] == 0
    )
    report["load_after"] = os.getloadavg()[:2]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
