"""BackendSpec as one model per kind: each kind validates its own fields, specs stored in the
old flat format (job rows, recipe files: tests/legacy_specs, written by the code before the
split) still load and run, and no API key is ever held, stored or shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sentiforge.app import jobs
from sentiforge.recipe import BackendSpec, EmbeddedSpec, FakeSpec, OpenAISpec, Recipe
from sentiforge.store import Store
from sentiforge.testing import OpenAITestServer

LEGACY = Path(__file__).parent / "legacy_specs"
SECRET = "sk-test-0123456789abcdefSECRET"


def legacy(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((LEGACY / name).read_text())
    return data


def test_each_kind_builds_its_own_model_with_its_own_fields() -> None:
    assert type(BackendSpec()) is EmbeddedSpec and BackendSpec().kind == "embedded"  # the default kind
    fake = BackendSpec(kind="fake", fake_latency=0.5, concurrency=3)
    assert type(fake) is FakeSpec and (fake.fake_latency, fake.concurrency) == (0.5, 3)
    remote = BackendSpec.model_validate({"kind": "openai", "base_url": "http://h/v1", "batch_api": True})
    assert type(remote) is OpenAISpec and remote.batch_api and remote.base_url == "http://h/v1"
    assert set(EmbeddedSpec().model_dump()) == {"kind", "model", "input_per_mtok", "output_per_mtok", "n_ctx",
                                                "n_threads", "parallel", "json_mode"}  # fmt: skip
    assert "base_url" not in FakeSpec(kind="fake").model_dump() and "n_ctx" not in remote.model_dump()
    with pytest.raises(ValueError, match="greater than or equal to 64"):
        BackendSpec(kind="embedded", n_ctx=8)  # each kind's own bounds hold
    with pytest.raises(ValueError, match="json_mode\n  Input should be 'auto'"):
        BackendSpec(kind="openai", json_mode="yaml")


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ({"kind": "embedded", "base_url": "http://h/v1"}, "kind 'embedded' takes no extra field 'base_url': base_url "
                                                          "needs backend kind 'openai'"),
        ({"kind": "fake", "batch_api": True}, "batch_api needs backend kind 'openai'"),
        ({"kind": "openai", "n_ctx": 2048}, "kind 'openai' takes no extra field 'n_ctx': n_ctx needs backend kind "
                                            "'embedded'"),
        ({"kind": "embedded", "concurrency": 16}, "concurrency needs backend kind 'openai' or 'fake'"),
        ({"kind": "openai", "n_gpu": 1}, "kind 'openai' takes no extra field 'n_gpu' \\(its fields: model, "),
        ({"kind": "llama"}, "'llama' .*does not match any of the expected tags: 'embedded', 'openai', 'fake'"),
    ],
)
def test_a_field_the_kind_does_not_have_is_refused_naming_the_kind(spec: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        Recipe.model_validate({"backend": spec})
    with pytest.raises(ValueError, match="unknown backend kind 'llama'; choose one of embedded, openai, fake"):
        BackendSpec(kind="llama")


FILES = ["recipe_fake.json", "recipe_openai.json", "recipe_openai.yaml", "recipe_embedded.json"]


@pytest.mark.parametrize("name", FILES)
def test_recipes_stored_in_the_flat_format_load_into_their_kind(name: str) -> None:
    text = (LEGACY / name).read_text()
    assert '"fake_latency"' in text or "fake_latency:" in text  # the flat format: every field of every kind
    recipe = Recipe.load(LEGACY / name)
    backend = recipe.backend
    if isinstance(backend, FakeSpec):
        assert (backend.concurrency, backend.input_per_mtok, backend.output_per_mtok) == (4, 1.0, 2.0)
    elif isinstance(backend, OpenAISpec):
        kept = (backend.model, backend.base_url, backend.api_key_env, backend.requests_per_minute)
        assert kept == ("gpt-4o-mini", "http://127.0.0.1:9/v1", "SENTIFORGE_TEST_KEY", 600.0)
        batching = (backend.batch_api, backend.batch_fallback)
        assert (backend.concurrency, backend.timeout, *batching) == (16, 30, True, "stop")
    else:
        assert isinstance(backend, EmbeddedSpec)
        assert (backend.model, backend.n_ctx, backend.n_threads, backend.parallel, backend.json_mode) == (
            "qwen2.5-0.5b", 2048, 2, 4, "none")  # fmt: skip
    stored = recipe.dump()["backend"]
    assert set(stored) == set(type(backend).model_fields)  # stored again: only the kind's own fields
    assert Recipe.model_validate(recipe.dump()) == recipe


def test_a_flat_spec_with_a_value_its_kind_never_read_is_refused() -> None:
    old = legacy("recipe_embedded.json")
    old["backend"]["base_url"] = "http://127.0.0.1:8080/v1"  # the user meant kind openai
    with pytest.raises(ValueError, match="kind 'embedded' takes no extra field 'base_url'"):
        Recipe.model_validate(old)
    older = {"kind": "embedded", "model": "qwen2.5-0.5b", "copies": 2, "prefix_cache_mb": 512, "batch_size": 4}
    assert BackendSpec.model_validate(older) == EmbeddedSpec(model="qwen2.5-0.5b", parallel=4)


async def test_a_job_row_in_the_flat_format_runs_and_resumes(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    old = legacy("recipe_fake.json")  # as a job row held it: every field of every kind
    old["steps"][0]["params"]["count"] = 20
    old["max_cost"] = 0.0015  # priced at 1 / 2 USD per Mtok: stops part way
    scheme = Recipe.model_validate(old).label_scheme().model_dump(mode="json")
    job_id = store.create_job_in("synth", scheme, old, 20)
    assert store.job(job_id).recipe["backend"]["fake_latency"] == 0.0  # the row is the old format
    first = await jobs.run(store, job_id)  # the backend is built from the stored spec
    assert first.status == "budget_stopped" and 0 < first.done < 20
    jobs.set_budget(store, job_id, 1.0)  # rewrites the row's recipe: now in the kind's format
    assert store.job(job_id).recipe["backend"] == FakeSpec(kind="fake", concurrency=4, input_per_mtok=1.0,
                                                           output_per_mtok=2.0).model_dump()  # fmt: skip
    second = await jobs.resume_job(store, job_id)
    assert second.status == "completed" and second.done == 20
    assert len({s.text for s in store.samples(store.job(job_id).dataset_id)}) == 20
    store.close()


async def test_no_key_in_a_stored_spec_a_jobs_json_or_its_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTIFORGE_TEST_KEY", SECRET + "-wrong")  # the server echoes wrong keys back
    store = Store(f"sqlite:///{tmp_path / 'keys.db'}")
    with OpenAITestServer(api_key=SECRET) as server:
        spec = BackendSpec(kind="openai", model="m", base_url=server.base_url, api_key_env="SENTIFORGE_TEST_KEY")
        steps = [{"strategy": "generate", "params": {"count": 2, "few_shot": 0}}]
        recipe = Recipe.model_validate({"backend": spec.model_dump(), "max_attempts": 1, "steps": steps})
        result = await jobs.run_recipe(recipe, store, "keyed")
    assert result.status == "failed" and "HTTP 401" in (result.error or "")
    job = store.job(result.job_id)
    shown = [json.dumps(job.recipe), job.model_dump_json(), repr(result), result.error or ""]
    shown += [e.model_dump_json() for e in store.job_events(result.job_id)]
    assert job.recipe["backend"]["api_key_env"] == "SENTIFORGE_TEST_KEY"  # the variable's name, never its value
    for text in shown:
        assert SECRET not in text and SECRET[:12] not in text
    with pytest.raises(ValueError) as info:  # a key pasted into a recipe is refused, and not echoed
        Recipe.model_validate({"backend": {"kind": "openai", "api_key": SECRET}})
    assert "takes no extra field 'api_key'" in str(info.value) and SECRET not in str(info.value)
    store.close()


def test_cli_backend_options_build_the_kind_and_refuse_another_kinds_option(tmp_path: Path) -> None:
    from sentiforge.cli import app

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    done = runner.invoke(app, ["generate", "-d", "d", "-n", "3", "--backend", "fake", "--concurrency", "2", "--db", db])
    assert done.exit_code == 0, done.output
    assert Store(db).list_jobs()[0].recipe["backend"] == FakeSpec(kind="fake", concurrency=2).model_dump()
    refused = runner.invoke(app, ["generate", "-d", "e", "--backend", "fake", "--base-url", "http://h/v1", "--db", db])
    assert refused.exit_code != 0
    assert "backend kind 'fake' takes no extra field 'base_url'" in str(refused.exception)
