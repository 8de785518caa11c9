"""The distilabel side of the orchestration benchmark. Runs inside its own venv
(distilabel==1.5.3, never installed into the project's .venv); run.py starts it.

Input: a JSONL file of the exact requests sentiforge's Generate strategy sends (system and
user message, max_tokens, response_format). distilabel gets them as TextGeneration rows with
the same system prompt, the same sampling options and the same JSON response_format, at the
same concurrency (input_batch_size = concurrency: each batch's requests run concurrently).
Prints one JSON line: {"seconds": pipeline time, "rows": rows generated, "failed": rows without text}.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

from distilabel.models import OpenAILLM
from distilabel.pipeline import Pipeline
from distilabel.steps import LoadDataFromDicts
from distilabel.steps.tasks import TextGeneration


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with open(args.requests, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    first = rows[0]
    generation = {
        "max_new_tokens": first["max_tokens"],
        "temperature": first["temperature"],
        "top_p": first["top_p"],
        "extra_body": {"response_format": first["response_format"]},
    }
    with tempfile.TemporaryDirectory() as cache:
        with Pipeline(name="sentiforge-bench", cache_dir=cache) as pipeline:
            load = LoadDataFromDicts(data=[{"instruction": r["user"]} for r in rows], batch_size=args.concurrency)
            generate = TextGeneration(
                llm=OpenAILLM(model="bench", base_url=args.base_url, api_key="unused", generation_kwargs=generation),
                system_prompt=first["system"],
                input_batch_size=args.concurrency,
            )
            load >> generate
        started = time.monotonic()
        distiset = pipeline.run(use_cache=False)
        seconds = time.monotonic() - started
    data = distiset["default"]["train"]
    failed = sum(1 for g in data["generation"] if not g)
    print(json.dumps({"seconds": seconds, "rows": len(data), "failed": failed}))


if __name__ == "__main__":
    main()
