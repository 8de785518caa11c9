"""A quick probe of batched decoding: 4 generate-like requests (one long shared system prompt,
40 tokens each, temperature 0.9), one at a time vs batched, with and without the JSON-schema
grammar, and two KV cache sizes. Prints one line per configuration; ~2 minutes on the 0.5B.

    flock /tmp/sentiforge-model.lock .venv/bin/python benchmarks/embedded/batched_probe.py qwen2.5-0.5b
"""

from __future__ import annotations

import asyncio
import sys
import time

from sentiforge.backends.base import ChatRequest, Message
from sentiforge.backends.embedded import EmbeddedBackend

SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
SYSTEM = "You write synthetic customer support messages for training a sentiment classifier. " * 8


def request(i: int, schema: bool) -> ChatRequest:
    user = f"Write customer message number {i} about a late parcel, as JSON."
    return ChatRequest(
        messages=(Message(role="system", content=SYSTEM), Message(role="user", content=user)),
        max_tokens=40,
        temperature=0.9,
        seed=i,
        json_schema=SCHEMA if schema else None,
    )


async def probe(model: str, n_ctx: int, schema: bool, size: int) -> None:
    backend = EmbeddedBackend(model, batch_size=size, n_ctx=n_ctx, n_threads=2)
    await backend.complete(request(99, False).model_copy(update={"max_tokens": 1}))  # load outside the timing
    started = time.perf_counter()
    if size == 1:
        out = [await backend.complete(request(i, schema)) for i in range(4)]
    else:
        out = list(await asyncio.gather(*(backend.complete(request(i, schema)) for i in range(4))))
    seconds = time.perf_counter() - started
    tokens = sum(c.usage.completion_tokens for c in out)
    print(f"n_ctx={n_ctx} schema={schema} batch_size={size}: {seconds:.1f} s, {tokens} tokens", flush=True)


async def main(model: str) -> None:
    for n_ctx, schema, size in [(1024, True, 1), (1024, True, 4), (1024, False, 4), (4096, False, 4), (1024, False, 1)]:
        await probe(model, n_ctx, schema, size)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "qwen2.5-0.5b"))
