"""Rationales for samples that have none, written by the generator model before a reasoner trains.

The label is known (it is the training label): the model is asked only why the text carries it,
in one sentence, in the text's language. A sample whose answer is empty or an error keeps no
rationale and trains on the label alone. The step receives its backend; it never builds one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sentiforge.backends.base import Backend, ChatRequest, Message
from sentiforge.errors import SentiforgeError
from sentiforge.samples import Sample

SYSTEM = "You explain the labels of sentiment training data. You answer with one short sentence only."
LONGEST = 300


def prompt(sample: Sample) -> ChatRequest:
    label = sample.target()
    user = (
        f"Text: {sample.text}\nLabel: {label}\n"
        f"In one sentence written in the text's language ({sample.language}), say why this text is {label}."
    )
    return ChatRequest(
        messages=(Message(role="system", content=SYSTEM), Message(role="user", content=user)),
        temperature=0.2,
        max_tokens=80,
    )


def clean(answer: str) -> str | None:
    """The first line, without quotes or a 'Rationale:' prefix, capped; None when nothing is left."""
    line = next((part.strip() for part in answer.strip().splitlines() if part.strip()), "")
    for prefix in ("Rationale:", "Explanation:", "Justification :", "Justification:"):
        line = line.removeprefix(prefix).strip()
    line = line.strip("\"'` ")
    return line[:LONGEST] or None


async def write_rationales(samples: Sequence[Sample], backend: Backend, *, concurrency: int = 4) -> list[Sample]:
    """Copies of the samples, each missing rationale written by the backend (others unchanged)."""
    gate = asyncio.Semaphore(max(1, min(concurrency, backend.max_concurrency)))

    async def one(sample: Sample) -> Sample:
        if sample.rationale and sample.rationale.strip():
            return sample
        async with gate:
            try:
                answer = (await backend.complete(prompt(sample))).text
            except SentiforgeError:
                return sample
        return sample.model_copy(update={"rationale": clean(answer)})

    return list(await asyncio.gather(*(one(s) for s in samples)))
