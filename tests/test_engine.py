import pytest

from sentiforge.app.jobs import create_job, resume_job
from sentiforge.backends import ChatRequest
from sentiforge.engine import Engine
from sentiforge.errors import PermanentBackendError
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.testing import FakeBackend


@pytest.fixture
def store(tmp_path) -> Store:  # type: ignore[no-untyped-def]
    return Store(f"sqlite:///{tmp_path}/e.db")


def recipe(count: int) -> Recipe:
    return Recipe(backend=BackendSpec(kind="fake"), steps=[StepSpec(params={"count": count})])


class Dies(FakeBackend):
    """Fails permanently after ``n`` requests, like a revoked key mid-job."""

    def __init__(self, n: int) -> None:
        super().__init__(max_concurrency=1)
        self.n = n

    async def complete(self, request: ChatRequest):  # type: ignore[no-untyped-def]
        if self.requests >= self.n:
            raise PermanentBackendError("401: key revoked")
        return await super().complete(request)


async def test_failed_job_keeps_its_samples_and_resumes_without_repaying(store: Store) -> None:
    job = create_job(store, recipe(20), "d")
    first = await Engine(store, Dies(8), flush_every=1).run(job)
    assert first.status == "failed" and "key revoked" in (first.error or "")
    assert first.done == 8 and store.job(job).done == 8
    healthy = FakeBackend()
    second = await resume_job(store, job, backend=healthy)
    assert second.status == "completed" and second.done == 20
    assert len(healthy.history) == 12  # only the missing slots were asked for
    ds = store.job(job).dataset_id
    texts = [s.text for s in store.samples(ds)]
    assert len(texts) == len(set(texts)) == 20
    # a second resume of a completed job sends nothing
    again = FakeBackend()
    assert (await resume_job(store, job, backend=again)).done == 20 and again.requests == 0


async def test_rerun_of_same_recipe_is_served_from_cache(store: Store) -> None:
    from sentiforge.app.jobs import run_recipe

    fake = FakeBackend()
    await run_recipe(recipe(10), store, "a", backend=fake)
    res = await run_recipe(recipe(10), store, "b", backend=fake)
    assert len(fake.history) == 10 and res.cache_hits == 10 and res.requests == 0


async def test_two_steps_and_progress_callback(store: Store) -> None:
    seen: list[tuple[int, int, int]] = []
    r = Recipe(
        backend=BackendSpec(kind="fake"),
        steps=[StepSpec(params={"count": 4}), StepSpec(params={"count": 6, "lengths": ["medium"]})],
    )
    job = create_job(store, r, "d")
    res = await Engine(store, FakeBackend(), progress=lambda u: seen.append((u.done, u.total, u.rejected))).run(job)
    assert res.per_step == [4, 6] and res.done == 10 and store.job(job).target == 10
    assert seen[-1] == (10, 10, 0)
    lengths = store.count(res.dataset_id, by="label")
    assert sum(lengths.values()) == 10


def test_cli_resume_with_a_larger_budget(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from sentiforge.cli import app

    db = f"sqlite:///{tmp_path}/cli.db"
    runner = CliRunner()
    args = ["generate", "-d", "d", "-n", "30", "--backend", "fake", "--db", db]
    first = runner.invoke(app, [*args, "--max-cost", "0.03", "--input-price", "10", "--output-price", "10"])
    assert first.exit_code == 1
    store = Store(db)
    job = store.list_jobs()[0]
    assert job.status == "budget_stopped" and 0 < job.done < 30
    again = runner.invoke(app, ["resume", str(job.id), "--max-cost", "1.0", "--db", db])
    assert again.exit_code == 0, again.output
    assert store.job(job.id).status == "completed" and store.job(job.id).done == 30


async def test_buffer_stays_bounded_when_the_backend_never_suspends(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the fake answers without yielding to the event loop: without backpressure the loop never
    # saw a write finish, and the writer's buffer held the whole job until its end
    from sentiforge.store.cache import JobWriter

    largest = 0
    real_add = JobWriter.add

    def add(self: JobWriter, *args: object) -> None:
        nonlocal largest
        real_add(self, *args)  # type: ignore[arg-type]
        largest = max(largest, len(self))

    monkeypatch.setattr(JobWriter, "add", add)
    job_id = create_job(store, recipe(1200), "bounded")
    result = await Engine(store, FakeBackend(), flush_every=20).run(job_id)
    assert result.done == 1200
    assert largest < 10 * 20  # a few flushes behind at most, not the 1,200 of the whole job
