"""Samples/min and tokens/s of the README's main job on the embedded engine (llama-server).

The job is ``scripts/main_job.sh``'s generate step (3-class customer-support messages,
domain x persona x urgency, short and medium, seed 7), label check off by default (the
decoding speed alone), through the whole path: engine, Generate strategy, LLMClient, the
embedded backend and its llama-server child, a fresh SQLite store. llama-server's own
counters (``/metrics``: prompt tokens evaluated, tokens generated) give the tokens/s it
really processed, compared with llama.cpp's ``llama-batched-bench`` at the same number of
sequences (anchor.json, ``anchor.sh``). The baseline for samples/min is the one-request-at-a-
time llama-cpp-python path this engine replaced (batched_python.json, "batch_size": 1, run on
the same kind of machine before it was removed).

    flock /tmp/sentiforge-model.lock .venv/bin/python benchmarks/embedded/server.py --count 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from sentiforge.app.jobs import create_job
from sentiforge.app.requests import GenerateRequest
from sentiforge.backends.base import ChatRequest, Message
from sentiforge.backends.embedded import EmbeddedBackend
from sentiforge.engine import Engine
from sentiforge.recipe import Recipe
from sentiforge.store import Store

HERE = Path(__file__).parent


def main_job(model: str, count: int, threads: int, parallel: int, check_label: str = "off") -> Recipe:
    from sentiforge.recipe import BackendSpec

    return GenerateRequest(
        dataset="bench",
        count=count,
        kind_of_text="message a customer writes to a company's support team",
        attributes={
            "domain": ["telecom", "online banking", "e-commerce"],
            "persona": ["a busy parent", "a student", "a small-business owner"],
            "urgency": ["low", "high"],
        },
        lengths=["short", "medium"],
        seed=7,
        check_label=check_label,  # type: ignore[arg-type]
        backend=BackendSpec(kind="embedded", model=model, n_threads=threads, parallel=parallel),
    ).to_recipe()


def server_counters(backend: EmbeddedBackend) -> dict[str, float]:
    """llama-server's cumulative counters (its Prometheus text at /metrics)."""
    text = httpx.get(backend.server.url.removesuffix("/v1") + "/metrics", timeout=10).text
    out = {}
    for line in text.splitlines():
        if line.startswith("llamacpp:") and " " in line:
            name, value = line.split(" ", 1)
            out[name.removeprefix("llamacpp:")] = float(value)
    return out


def run(rec: Recipe, workdir: Path) -> dict[str, Any]:
    spec = rec.backend
    backend = EmbeddedBackend(spec.model, n_ctx=spec.n_ctx, n_threads=spec.n_threads, parallel=spec.parallel)
    warm = ChatRequest(messages=(Message(role="user", content="Hi"),), max_tokens=1, temperature=0.0)
    asyncio.run(backend.complete(warm))  # the server's start and the model's load are not timed
    before = server_counters(backend)
    store = Store(f"sqlite:///{workdir / 'bench.db'}")
    job = create_job(store, rec, "bench")
    load_before = Path("/proc/loadavg").read_text().split()[0]
    start = time.perf_counter()
    result = asyncio.run(Engine(store, backend, judge_dir=workdir).run(job))
    seconds = time.perf_counter() - start
    after = server_counters(backend)
    prompt = after.get("prompt_tokens_total", 0) - before.get("prompt_tokens_total", 0)
    generated = after.get("tokens_predicted_total", 0) - before.get("tokens_predicted_total", 0)
    texts = [s.text for s in store.samples(result.dataset_id)]
    store.close()
    return {
        "parallel": backend.config.parallel,
        "seconds": round(seconds, 1),
        "samples": result.done,
        "rejected": result.rejected,
        "requests": result.requests,
        "samples_per_min": round(result.done / seconds * 60, 2),
        "prompt_tokens_sent": result.prompt_tokens,
        "prompt_tokens_evaluated": int(prompt),
        "tokens_generated": int(generated),
        "processed_tokens_per_s": round((prompt + generated) / seconds, 2),
        "load_before": float(load_before),
        "load_after": float(Path("/proc/loadavg").read_text().split()[0]),
        "texts": texts,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="qwen2.5-1.5b")
    ap.add_argument("--count", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--check-label", default="off", choices=["off", "auto"])
    ap.add_argument("--out", type=Path, default=HERE / "server.json")
    args = ap.parse_args()
    anchor = json.loads((HERE / "anchor.json").read_text())
    baseline = next(r for r in json.loads((HERE / "batched_python.json").read_text())["runs"] if r["batch_size"] == 1)
    with tempfile.TemporaryDirectory() as tmp:
        row = run(main_job(args.model, args.count, args.threads, args.parallel, args.check_label), Path(tmp))
    summary = {
        "model": args.model,
        "threads": args.threads,
        "check_label": args.check_label,
        "samples_per_min": row["samples_per_min"],
        "baseline_batch_size_1_samples_per_min": baseline["samples_per_min"],
        "speedup_vs_batch_size_1": round(row["samples_per_min"] / baseline["samples_per_min"], 2),
        "processed_tokens_per_s": row["processed_tokens_per_s"],
        "anchor_tokens_per_s": anchor.get(str(args.parallel)),
    }
    if summary["anchor_tokens_per_s"]:
        summary["vs_anchor"] = round(row["processed_tokens_per_s"] / summary["anchor_tokens_per_s"], 2)
    print(json.dumps(summary, indent=2))
    args.out.write_text(json.dumps({"summary": summary, "run": row}, indent=2) + "\n")


if __name__ == "__main__":
    main()
