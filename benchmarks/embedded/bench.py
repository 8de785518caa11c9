"""Throughput of the embedded backend through sentiforge vs raw llama-cpp-python calls.

Both sides run the *same* requests (captured from a warm-up sentiforge run) on the *same*
loaded ``llama_cpp.Llama`` object with the same thread count, alternating sides each
round so machine load hits both alike. The sentiforge side is the whole path: create_job,
Engine.run with the Generate strategy, LLMClient, EmbeddedBackend, a fresh SQLite store
(cold response cache). The raw side is a loop of ``create_chat_completion`` calls.

    .venv/bin/python benchmarks/embedded/bench.py --model qwen2.5-1.5b --count 20 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sentiforge.app.jobs import create_job
from sentiforge.backends.base import ChatRequest, Completion
from sentiforge.backends.embedded import EmbeddedBackend
from sentiforge.engine import Engine
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store

HERE = Path(__file__).parent


class Timed:
    """Wraps llama.create_chat_completion on both sides to sum the time spent inside it:
    wall time minus that is what sentiforge adds, a figure machine load barely moves."""

    def __init__(self, llama: Any) -> None:
        self.inner = llama.create_chat_completion
        self.seconds = 0.0
        llama.create_chat_completion = self

    def __call__(self, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner(**kwargs)
        finally:
            self.seconds += time.perf_counter() - started


class Recorder:
    """Wraps a backend and keeps every request it forwards (only for the warm-up run)."""

    def __init__(self, inner: EmbeddedBackend) -> None:
        self.inner = inner
        self.name, self.model, self.max_concurrency = inner.name, inner.model, inner.max_concurrency
        self.requests: list[ChatRequest] = []
        self.texts: list[str] = []

    @property
    def key(self) -> str:
        return self.inner.key

    async def complete(self, request: ChatRequest) -> Completion:
        self.requests.append(request)
        completion = await self.inner.complete(request)
        self.texts.append(completion.text)
        return completion

    async def aclose(self) -> None:
        return None


def recipe(model: str, count: int, threads: int) -> Recipe:
    params = {
        "count": count,
        "few_shot": 0,
        "lengths": ["short"],
        "attributes": {"domain": ["bank", "online shop", "telecom"], "tone": ["calm", "frustrated", "enthusiastic"]},
    }
    return Recipe(
        scheme="three_class",
        seed=11,
        backend=BackendSpec(kind="embedded", model=model, n_threads=threads),
        steps=[StepSpec(strategy="generate", params=params)],
        max_attempts=3,
    )


def sentiforge_run(backend: Any, rec: Recipe, workdir: Path, tag: str, timed: Timed) -> dict[str, Any]:
    store = Store(f"sqlite:///{workdir / f'{tag}.db'}")  # migrations run here, outside the timing
    inside = timed.seconds
    started = time.perf_counter()
    job_id = create_job(store, rec, tag)
    result = asyncio.run(Engine(store, backend).run(job_id))
    seconds = time.perf_counter() - started
    store.close()
    return {
        "seconds": seconds,
        "llama_seconds": timed.seconds - inside,
        "samples": result.done,
        "rejected": result.rejected,
        "requests": result.requests,
        "completion_tokens": result.completion_tokens,
    }


def raw_kwargs(request: ChatRequest) -> dict[str, Any]:
    """The same call written by hand, as a user of llama-cpp-python would."""
    kwargs: dict[str, Any] = {
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "stop": list(request.stop),
    }
    if request.json_schema is not None:
        kwargs["response_format"] = {"type": "json_object", "schema": request.json_schema}
    return kwargs


def raw_run(llama: Any, requests: list[dict[str, Any]], timed: Timed) -> dict[str, Any]:
    inside = timed.seconds
    started = time.perf_counter()
    outs = [llama.create_chat_completion(**kw) for kw in requests]
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "llama_seconds": timed.seconds - inside,
        "requests": len(outs),
        "completion_tokens": sum(o["usage"]["completion_tokens"] for o in outs),
        "texts": [o["choices"][0]["message"]["content"] for o in outs],
    }


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="qwen2.5-1.5b")
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    args = ap.parse_args()

    rec = recipe(args.model, args.count, args.threads)
    backend = EmbeddedBackend(args.model, n_ctx=rec.backend.n_ctx, n_threads=args.threads)
    llama = backend.load()
    timed = Timed(llama)
    rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        recorder = Recorder(backend)
        warm = sentiforge_run(recorder, rec, workdir, "warmup", timed)
        requests = [raw_kwargs(r) for r in recorder.requests]
        print(f"warm-up: {warm['samples']} samples from {len(requests)} requests in {warm['seconds']:.1f} s")
        for i in range(args.rounds):
            order = ["sentiforge", "raw"] if i % 2 == 0 else ["raw", "sentiforge"]
            row: dict[str, Any] = {"round": i, "order": order, "load_before": loadavg()}
            for side in order:
                if side == "raw":
                    row["raw"] = raw_run(llama, requests, timed)
                else:
                    row["sentiforge"] = sentiforge_run(backend, rec, workdir, f"round{i}", timed)
            row["load_after"] = loadavg()
            sf, raw = row["sentiforge"], row["raw"]
            # same work on both sides: the raw answers match the warm-up's, and sentiforge
            # made as many requests and generated as many tokens as the raw loop
            row["same_work"] = (
                raw["texts"] == recorder.texts
                and sf["requests"] == raw["requests"]
                and sf["completion_tokens"] == raw["completion_tokens"]
            )
            row["overhead"] = sf["seconds"] / raw["seconds"] - 1
            row["outside_llama_seconds"] = {
                k: row[k]["seconds"] - row[k]["llama_seconds"] for k in ("sentiforge", "raw")
            }
            print(
                f"round {i} ({'/'.join(order)}): sentiforge {sf['seconds']:.1f} s for {sf['samples']} samples "
                f"({sf['requests']} requests, {sf['completion_tokens']} tokens); raw {raw['seconds']:.1f} s for "
                f"{raw['requests']} requests ({raw['completion_tokens']} tokens); overhead {row['overhead']:+.1%}; "
                f"outside llama: sentiforge {row['outside_llama_seconds']['sentiforge']:.3f} s, "
                f"raw {row['outside_llama_seconds']['raw']:.3f} s; "
                f"load {row['load_before']} -> {row['load_after']}"
            )
            rounds.append(row)
    summary = summarise(args, rounds, len(requests))
    print(json.dumps(summary, indent=2))
    for row in rounds:
        row["raw"].pop("texts")
    args.out.write_text(json.dumps({"summary": summary, "rounds": rounds}, indent=2) + "\n")


def summarise(args: argparse.Namespace, rounds: list[dict[str, Any]], n_requests: int) -> dict[str, Any]:
    sf = [r["sentiforge"]["seconds"] for r in rounds]
    raw = [r["raw"]["seconds"] for r in rounds]
    samples = rounds[0]["sentiforge"]["samples"]
    return {
        "model": args.model,
        "threads": args.threads,
        "samples": samples,
        "requests": n_requests,
        "rounds": len(rounds),
        "sentiforge_seconds_median": statistics.median(sf),
        "raw_seconds_median": statistics.median(raw),
        "sentiforge_samples_per_s": samples / statistics.median(sf),
        "raw_requests_per_s": n_requests / statistics.median(raw),
        "overhead_of_medians": statistics.median(sf) / statistics.median(raw) - 1,
        "overhead_per_round": [round(r["overhead"], 4) for r in rounds],
        "sentiforge_outside_llama_seconds_median": statistics.median(
            r["outside_llama_seconds"]["sentiforge"] for r in rounds
        ),
        "sentiforge_outside_llama_share_median": statistics.median(
            r["outside_llama_seconds"]["sentiforge"] / r["sentiforge"]["llama_seconds"] for r in rounds
        ),
        "same_work_every_round": all(r["same_work"] for r in rounds),
        "cpu_cores": os.cpu_count(),
    }


if __name__ == "__main__":
    main()
