"""Embedded backend on a small CPU: one copy with all threads vs copies with one thread each,
prefix cache on and off.

The workload is the augmentation strategies' real mix: for each of 8 review sentences, the
aspect-extraction, replacement-candidates and polarity-judge prompts (rendered from the
packaged templates, system prompt included), interleaved as CADA sends them, all submitted
at once (asyncio.gather; the backend queues them on its copies). Every configuration runs in
a fresh process on the same 24 requests (temperature 0, no grammar).

    .venv/bin/python benchmarks/embedded/parallel.py            # all configurations
    .venv/bin/python benchmarks/embedded/parallel.py --one 2 1 512   # copies threads prefix_mb
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
TEXTS = [
    "The pizza was cold and the waiter ignored us.",
    "Great sushi, friendly staff, fair prices.",
    "The burger was overcooked and the fries were soggy.",
    "I loved the tiramisu, best dessert in town.",
    "Service was slow but the pasta was fine.",
    "The room was tiny and the bed squeaked all night.",
    "Battery life is amazing, lasts two full days.",
    "The screen cracked after a week, very disappointed.",
]
CONFIGS = [(1, 2, 0), (1, 2, 512), (2, 1, 0), (2, 1, 512), (1, 1, 512)]


def requests() -> list:  # type: ignore[type-arg]
    from sentiforge.backends.base import ChatRequest, Message
    from sentiforge.prompts import PromptLibrary

    prompts = PromptLibrary()
    system = prompts.render("system.j2").text
    labels = [("positive", "positive"), ("negative", "negative")]
    out = []
    for i, text in enumerate(TEXTS):
        for name, ctx in (
            ("extract_aspects.j2", {"text": text, "polarities": ["positive", "negative"], "max_aspects": 3}),
            ("ada_candidates.j2", {"text": text, "term": "it", "category": None, "n": 4, "language_name": "English"}),
            ("polarity_check.j2", {"text": text, "term": None, "labels": labels}),
        ):
            user = prompts.render(name, **ctx).text
            messages = (Message(role="system", content=system), Message(role="user", content=user))
            out.append(ChatRequest(messages=messages, temperature=0.0, max_tokens=48, seed=i))
    return out


def one(copies: int, threads: int, prefix_mb: int) -> dict[str, float | int]:
    from sentiforge.backends.embedded import EmbeddedBackend

    backend = EmbeddedBackend(
        "qwen2.5-1.5b", n_threads=threads, copies=copies, prefix_cache_mb=prefix_mb, json_mode="none"
    )
    for copy in range(copies):
        backend.load(copy)
    batch = requests()

    async def go() -> list:  # type: ignore[type-arg]
        return await asyncio.gather(*(backend.complete(r) for r in batch))

    started = time.perf_counter()
    done = asyncio.run(go())
    seconds = time.perf_counter() - started
    return {
        "copies": copies,
        "threads": threads,
        "prefix_cache_mb": prefix_mb,
        "requests": len(done),
        "seconds": round(seconds, 1),
        "prompt_tokens": sum(c.usage.prompt_tokens for c in done),
        "completion_tokens": sum(c.usage.completion_tokens for c in done),
        "load_before": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", nargs=3, type=int, metavar=("COPIES", "THREADS", "PREFIX_MB"))
    ap.add_argument("--out", type=Path, default=HERE / "parallel.json")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(*args.one)))
        return
    rows = []
    for config in CONFIGS:
        cmd = [sys.executable, __file__, "--one", *map(str, config)]
        line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        rows.append(json.loads(line))
        print(line, flush=True)
    base = rows[0]["seconds"]
    for row in rows:
        row["speedup_vs_1x2_no_cache"] = round(base / row["seconds"], 2)
    args.out.write_text(json.dumps({"at": time.strftime("%F %T"), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
