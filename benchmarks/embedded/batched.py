"""Samples/min of the README's main job: today's path (one request at a time, prefix cache)
vs batched decoding, same model, prompts and machine, one run each, side by side.

The job is ``scripts/main_job.sh``'s generate step (3-class customer-support messages,
domain x persona x urgency, short and medium, seed 7). Both sides share one loaded model;
each runs the whole path (engine, Generate strategy, LLMClient, a fresh SQLite store).
For the batched side the decoder counts the tokens that really went through llama_decode
(prompt tokens after prefix sharing, plus generated tokens): their rate is compared with
llama.cpp's own ``llama-batched-bench`` at the same batch size (MODELS.md's table, or
``--anchor`` pointing at a JSON written by a fresh run of it).

    flock /tmp/sentiforge-model.lock .venv/bin/python benchmarks/embedded/batched.py --count 12
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from sentiforge.app.jobs import create_job
from sentiforge.app.requests import GenerateRequest
from sentiforge.backends.base import ChatRequest, Message
from sentiforge.backends.embedded import EmbeddedBackend
from sentiforge.engine import Engine
from sentiforge.recipe import BackendSpec, Recipe
from sentiforge.store import Store

HERE = Path(__file__).parent
# llama-batched-bench, 1.5B Q4_K_M, 2 threads, 256 prompt + 48 generated tokens a sequence,
# prompts not shared (MODELS.md, measured 2026-11-30): all tokens / seconds for all
ANCHOR = {"1": (256 + 48) / 12.6, "4": (4 * 256 + 4 * 48) / 35.9, "8": (8 * 256 + 8 * 48) / 82.4}


def main_job(model: str, count: int, threads: int, batch_size: int, check_label: str = "off") -> Recipe:
    return GenerateRequest(
        dataset="bench",
        count=count,
        kind_of_text="customer support message",
        attributes={
            "domain": ["telecom", "online banking", "e-commerce"],
            "persona": ["a busy parent", "a student", "a small-business owner"],
            "urgency": ["low", "high"],
        },
        lengths=["short", "medium"],
        seed=7,
        check_label=check_label,  # type: ignore[arg-type]
        backend=BackendSpec(kind="embedded", model=model, n_threads=threads, batch_size=batch_size),
    ).to_recipe()


def run_side(rec: Recipe, workdir: Path, tag: str) -> dict[str, Any]:
    spec = rec.backend
    backend = EmbeddedBackend(spec.model, n_ctx=spec.n_ctx, n_threads=spec.n_threads, batch_size=spec.batch_size)
    warm = ChatRequest(messages=(Message(role="user", content="Hi"),), max_tokens=1, temperature=0.0)
    asyncio.run(backend.complete(warm))  # loads the model (and makes the decoder) outside the timing
    decoder = backend._loaded().decoders.get((backend.batch_size, backend.n_ctx, backend.n_threads))
    before = (decoder.prompt_tokens_evaluated, decoder.decodes) if decoder else (0, 0)
    store = Store(f"sqlite:///{workdir / f'{tag}.db'}")
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    result = asyncio.run(Engine(store, backend).run(create_job(store, rec, tag)))
    seconds = time.perf_counter() - started
    store.close()
    row: dict[str, Any] = {
        "batch_size": backend.batch_size,
        "seconds": round(seconds, 1),
        "samples": result.done,
        "rejected": result.rejected,
        "requests": result.requests,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "samples_per_min": round(result.done / seconds * 60, 2),
        "completion_tokens_per_s": round(result.completion_tokens / seconds, 2),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    if decoder is not None:
        evaluated = decoder.prompt_tokens_evaluated - before[0]
        row["prompt_tokens_evaluated"] = evaluated
        row["llama_decode_calls"] = decoder.decodes - before[1]
        row["decoded_tokens_per_s"] = round((evaluated + result.completion_tokens) / seconds, 2)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="qwen2.5-1.5b")
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--anchor", type=Path, help="JSON {batch size: tokens/s} from llama-batched-bench")
    ap.add_argument("--out", type=Path, default=HERE / "batched.json")
    ap.add_argument(
        "--check-label",
        default="off",
        choices=["off", "auto"],
        help="off (default): decoding speed alone; auto: the main job's inline judge too (many more requests)",
    )
    args = ap.parse_args()
    anchor = json.loads(args.anchor.read_text()) if args.anchor else ANCHOR
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for tag, size in (("today", 1), ("batched", args.batch_size)):
            row = run_side(main_job(args.model, args.count, args.threads, size, args.check_label), Path(tmp), tag)
            print(tag, json.dumps(row), flush=True)
            rows.append(row)
    today, batched = rows
    summary = {
        "model": args.model,
        "threads": args.threads,
        "count": args.count,
        "check_label": args.check_label,
        "speedup_samples_per_min": round(batched["samples_per_min"] / today["samples_per_min"], 2),
        "anchor_tokens_per_s": anchor.get(str(args.batch_size)),
    }
    if summary["anchor_tokens_per_s"] and "decoded_tokens_per_s" in batched:
        summary["decoded_vs_anchor"] = round(batched["decoded_tokens_per_s"] / summary["anchor_tokens_per_s"], 2)
    print(json.dumps(summary, indent=2))
    args.out.write_text(json.dumps({"summary": summary, "runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
