"""No spinning: a cell whose label the judge never confirms gives its quota to a cell that
works, or the job ends incomplete within its attempt bound, its unfilled slots listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sentiforge.app.jobs import create_job
from sentiforge.backends import ChatRequest
from sentiforge.engine import Engine
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.testing import FakeBackend


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path}/b.db")


def writer_and_judge(*, never: str, unless: str | None = None) -> FakeBackend:
    """Generates a text naming its prompt's urgency; as the judge it reads ``never`` as
    negative, unless the text names ``unless``. Every other label is confirmed."""
    counter = iter(range(10**6))

    def respond(request: ChatRequest) -> str | dict[str, float]:
        prompt = request.messages[-1].content
        if request.top_logprobs:  # the judge
            text = prompt.rsplit("Text: ", 1)[-1]
            label = text.split(":", 1)[0]
            if label == never and (unless is None or unless not in text):
                label = "negative"
            return {label: -0.1, **{o: -4.0 for o in ("negative", "neutral", "positive") if o != label}}
        label = prompt.split("must be clearly: ", 1)[1].split(" ", 1)[0].strip(".")
        urgency = "urgency-high" if "Urgency: high" in prompt else "urgency-low"
        return json.dumps({"text": f"{label}: message {next(counter)} about my plan, {urgency}."})

    return FakeBackend(responder=respond)


def recipe(count: int, max_attempts: int = 3) -> Recipe:
    params = {
        "count": count,
        "few_shot": 0,
        "check_label": "judge",
        "attributes": {"urgency": ["low", "high"]},
        "balance_attributes": True,
    }
    return Recipe(backend=BackendSpec(kind="fake"), steps=[StepSpec(params=params)], max_attempts=max_attempts)


async def test_a_cell_the_judge_never_confirms_gives_its_quota_to_one_that_works(
    store: Store, tmp_path: Path
) -> None:
    backend = writer_and_judge(never="neutral", unless="urgency-low")
    job = create_job(store, recipe(12), "moved")
    result = await Engine(store, backend, judge_dir=tmp_path).run(job)
    assert result.status == "completed" and result.done == 12, result.error
    samples = store.samples(result.dataset_id)
    neutral = [s for s in samples if s.label == "neutral"]
    assert len(neutral) == 4 and all(s.attributes["urgency"] == "low" for s in neutral)
    moved = [e.data for e in store.job_events(job) if e.kind == "quota_moved"]
    assert moved and all("urgency=high" in m["from"] and "urgency=low" in m["to"] for m in moved)
    # the dead cell cost its 2 failed slots of 3 attempts, and at most one more slot that was
    # already refilling it when the second failed (slots run concurrently)
    assert 2 * 3 <= result.rejected <= 3 * 3


async def test_a_label_no_cell_can_fill_ends_the_job_within_its_bound(store: Store, tmp_path: Path) -> None:
    backend = writer_and_judge(never="neutral")
    job = create_job(store, recipe(12), "hopeless")
    result = await Engine(store, backend, judge_dir=tmp_path).run(job)
    assert result.status == "incomplete" and result.done == 8
    labels = [s.label for s in store.samples(result.dataset_id)]
    assert labels.count("neutral") == 0 and labels.count("negative") == labels.count("positive") == 4
    error = result.error or ""
    assert "4 slot(s) left unfilled" in error and "label not held" in error
    assert "neutral / length=short, urgency=high" in error and "neutral / length=short, urgency=low" in error
    # each neutral cell fails 2 slots (plus refills already in flight when it died) of 3 attempts:
    # bounded by the cells' budget, not by a multiple of the job's size as before
    assert 12 <= result.rejected <= 24
    assert store.job(job).status == "incomplete"
