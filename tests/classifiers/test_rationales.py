"""Rationales written by the generator model for samples that have none (the reasoner's option)."""

from __future__ import annotations

import asyncio

from sentiforge.classifiers.rationales import clean, write_rationales
from sentiforge.errors import BackendError
from sentiforge.samples import Sample
from sentiforge.testing.backend import FakeBackend


def test_only_missing_rationales_are_written_in_the_texts_language_and_errors_leave_none() -> None:
    backend = FakeBackend()
    backend.enqueue(['Rationale: "Le retard agace le voyageur."\nextra line', BackendError("down")])
    samples = [
        Sample(text="Encore en retard, ce bus !", label="negative", language="fr"),
        Sample(text="Great ride", label="positive", rationale="it praises the ride"),
        Sample(text="Meh", label="neutral"),
    ]
    out = asyncio.run(write_rationales(samples, backend, concurrency=1))
    assert [s.rationale for s in out] == ["Le retard agace le voyageur.", "it praises the ride", None]
    assert backend.requests == 2
    first = backend.history[0].messages[-1].content
    assert "(fr)" in first and "negative" in first and "Encore en retard" in first


def test_clean_keeps_one_sentence_line() -> None:
    assert clean("\n  'It is upbeat.'  \nmore") == "It is upbeat."
    assert clean("   ") is None
