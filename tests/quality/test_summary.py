"""Job summaries and quality across jobs: each finished job keeps counts, reject reasons,
label balance, diversity and distance to its seeds; a job whose label mix and style shift is
flagged against the job before, in its dataset and across its recipe, and a steady one is not."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.quality.test_gate import _stored

from sentiforge.app.jobs import create_job, run
from sentiforge.backends import ChatRequest
from sentiforge.io.datasets import load_vader
from sentiforge.labels import get_scheme
from sentiforge.quality.config import QualityConfig
from sentiforge.quality.history import job_history, quality_history
from sentiforge.quality.runner import run_quality
from sentiforge.quality.summary import text_measures
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.samples import Sample
from sentiforge.store import Store
from sentiforge.testing import FakeBackend
from sentiforge.testing.embedder import FakeEmbedder

TWEETS = [s.text for s in load_vader("tweets", "three_class")[:400]]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'q.db'}") as s:
        yield s


SAMEY = [f"Great product, great price, great deal number {i}." for i in range(200)]


@pytest.mark.parametrize("embedder", [None, FakeEmbedder()], ids=["ngram", "fake-embedder"])
def test_diversity_and_seed_distance_tell_varied_from_samey_text(embedder: FakeEmbedder | None) -> None:
    varied = text_measures(TWEETS[200:], TWEETS[:200], embedder)
    samey = text_measures(SAMEY, TWEETS[:200], embedder)
    assert varied["method"] == ("fake" if embedder else "ngram") and varied["texts_measured"] == 200
    assert varied["distinct_2"] > samey["distinct_2"] + 0.3
    assert varied["self_similarity"] < samey["self_similarity"] - 0.2
    assert samey["seed_distance"] > varied["seed_distance"] + 0.05
    assert text_measures(TWEETS, None, embedder)["seed_distance"] is None  # no seeds, no distance


def _samey(backend: FakeBackend):  # type: ignore[no-untyped-def]
    """Answers in one shouty advert style (each text unique, so none is a duplicate)."""

    def respond(request: ChatRequest) -> str:
        data = json.loads(backend.default_answer(request))
        n = int(hashlib.sha256(request.model_dump_json().encode()).hexdigest()[:6], 16)
        data["text"] = f"BUY NOW best deal ever best price ever number {n}"
        return json.dumps(data)

    return respond


async def _job(store: Store, dataset: str, labels: list[str] | None, *, samey: bool = False) -> int:
    step = StepSpec(params={"count": 60, **({"labels": labels} if labels else {})})
    recipe = Recipe(name="reviews", backend=BackendSpec(kind="fake"), steps=[step], seeds="real")
    job_id = create_job(store, recipe, dataset)
    backend = FakeBackend(seed=job_id)
    if samey:
        backend.responder = _samey(backend)
    await run(store, job_id, backend=backend)
    return job_id


def _real(store: Store) -> None:
    real = store.create_dataset("real", get_scheme("three_class"))
    store.add_samples(real, [Sample(text=t, label="neutral", split="train") for t in TWEETS[:300]])


async def test_each_job_keeps_a_summary_and_a_shifted_one_is_flagged(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        _real(store)
        first = await _job(store, "synth", None)
        second = await _job(store, "synth", None)
        summary = store.job(first).result["summary"]  # type: ignore[index]
        assert summary["accepted"] == 60 and summary["reject_rate"] == 0 and summary["status"] == "completed"
        assert summary["labels"] == {"negative": 20, "neutral": 20, "positive": 20}
        assert summary["recipe"]["name"] == "reviews" and len(summary["recipe"]["hash"]) == 16
        assert summary["method"] == "ngram" and 0 < summary["seed_distance"] <= 1 and summary["distinct_2"] > 0.5
        assert summary["judge_agreement"] is None  # no step asked the judge
        steady = job_history(store, dataset="synth")
        assert [r["job_id"] for r in steady] == [first, second]
        assert steady[1]["flagged"] == [] and steady[1]["change"]["label_balance"] == 0, steady[1]
        shifted = await _job(store, "synth", ["positive"], samey=True)  # label mix and style move
        runs = job_history(store, dataset="synth", threshold=0.1)
        assert runs[-1]["job_id"] == shifted
        assert {"label_balance", "distinct_2", "self_similarity", "seed_distance"} <= set(runs[-1]["flagged"]), runs
        other = await _job(store, "synth-2", ["positive"], samey=True)  # same recipe, another dataset
        by_recipe = job_history(store, recipe="reviews")
        assert [r["job_id"] for r in by_recipe] == [first, second, shifted, other]
        assert by_recipe[-1]["flagged"] == []  # as the job before it
        assert job_history(store, recipe=summary["recipe"]["hash"])[0]["job_id"] == first


async def test_rejects_are_counted_by_reason(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'r.db'}") as store:
        recipe = Recipe(name="dups", backend=BackendSpec(kind="fake"), steps=[StepSpec(params={"count": 10})])
        job_id = create_job(store, recipe, "dups")
        backend = FakeBackend()
        backend.responder = lambda r: json.dumps(
            {**json.loads(backend.default_answer(r)), "text": "the same text, said once again"}
        )
        await run(store, job_id, backend=backend)
        summary = store.job(job_id).result["summary"]  # type: ignore[index]
        assert summary["accepted"] == 1 and summary["rejected"] >= 9
        assert summary["rejects_by_reason"] == {"exact duplicate of an accepted sample": summary["rejected"]}
        assert summary["reject_rate"] == round(summary["rejected"] / (summary["rejected"] + 1), 4)


def test_a_quality_run_keeps_diversity_and_distance_to_its_seeds(
    store: Store, tweets: list[Sample], fast_config: QualityConfig
) -> None:
    _stored(store, tweets)
    run_quality(store, "syn", fast_config, seeds="real-seeds")
    run_quality(store, "syn", fast_config)  # no seeds: no distance
    with_seeds, without = quality_history(store, "syn")
    assert with_seeds["method"] == "ngram" and 250 <= with_seeds["texts_measured"] <= 300
    assert 0.5 < with_seeds["distinct_2"] <= 1 and 0 < with_seeds["self_similarity"] < 0.1
    assert 0 < with_seeds["seed_distance"] < 0.5  # tweets against tweets
    assert without["seed_distance"] is None and "seed_distance" not in without["change"]
    assert without["change"]["distinct_2"] < 0.05 and without["flagged"] == []


async def test_judge_agreement_where_the_judge_read_labels(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'j.db'}") as store:
        step = StepSpec(params={"count": 30, "check_label": "judge"})
        job_id = create_job(store, Recipe(name="judged", backend=BackendSpec(kind="fake"), steps=[step]), "judged")
        await run(store, job_id, backend=FakeBackend())  # a judge answering at random
        summary = store.job(job_id).result["summary"]  # type: ignore[index]
        disagreed = summary["rejects_by_reason"].get("label not held", 0)
        assert disagreed > 0 and summary["accepted"] == 30
        assert summary["judge_agreement"] == round(30 / (30 + disagreed), 4) < 1
