"""Requests as data: the CLI and a direct call build the same recipe; edited templates and
user-defined attributes reach the prompt; a recipe rebuilds exactly the backend it names."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sentiforge.app import jobs
from sentiforge.app.jobs import UnusedAttributeWarning
from sentiforge.app.requests import AugmentRequest, GenerateRequest, QualityRequest
from sentiforge.backends import from_spec
from sentiforge.cli import app as cli_app
from sentiforge.config import get_settings
from sentiforge.errors import ConfigError
from sentiforge.recipe import BackendSpec
from sentiforge.store import Store
from sentiforge.testing import FakeBackend
from sentiforge.testing.augmenter import ScriptedAugmenter, seed_dataset

FAKE = BackendSpec(kind="fake")


def cli(*args: str) -> str:
    result = CliRunner().invoke(cli_app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def prompts(backend: FakeBackend) -> list[str]:
    return [r.messages[-1].content for r in backend.history]


def run(store: Store, request: GenerateRequest, backend: FakeBackend) -> None:
    """Submit and run as an entry point does: the settings handed down as a Runtime."""
    job_id = jobs.submit(store, request, runtime=get_settings().runtime())
    result = asyncio.run(jobs.run(store, job_id, backend=backend))
    assert result.status == "completed", result.error


def test_the_cli_and_the_application_layer_build_identical_recipes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    saved = tmp_path / "cli.json"
    cli(
        *("generate", "-d", "g", "-n", "4", "--backend", "fake", "--attr", "domain=bank|telecom"),
        *("--attr", "topic=refunds", "--length", "short", "--length", "long", "--rationale", "--seed", "7"),
        *("--max-cost", "1.5", "--concurrency", "3", "--save-recipe", str(saved), "--db", db),
    )
    direct = GenerateRequest(
        dataset="g",
        count=4,
        attributes={"domain": ["bank", "telecom"], "topic": ["refunds"]},
        lengths=["short", "long"],
        rationale=True,
        seed=7,
        max_cost=1.5,
        backend=BackendSpec(kind="fake", concurrency=3),
    ).to_recipe()
    assert json.loads(saved.read_text()) == direct.dump()
    # augment: the same, through the store's seeds
    store = Store(db)
    seed_dataset(store)
    saved_aug = tmp_path / "aug.json"
    cli(
        *("augment", "--seeds", "seeds", "-d", "a", "--strategy", "cda", "--strategy", "ada", "--per-seed", "1"),
        *("--backend", "fake", "--save-recipe", str(saved_aug), "--db", db),
    )
    request = AugmentRequest(seeds="seeds", dataset="a", strategies=["cda", "ada"], per_seed=1, backend=FAKE)
    assert json.loads(saved_aug.read_text()) == request.to_recipe(store).dump()


def test_a_recipe_rebuilds_the_fake_it_was_made_with(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    seed_dataset(store)
    recipe = AugmentRequest(seeds="seeds", dataset="a", strategies=["cda"], backend=FAKE).to_recipe(store)
    assert recipe.backend.fake_responder == "augment"
    backend = from_spec(recipe.backend)
    assert isinstance(backend, FakeBackend) and isinstance(backend.responder, ScriptedAugmenter)
    # a caller who names the plain fake gets it
    plain = AugmentRequest(
        seeds="seeds", dataset="b", strategies=["cda"], backend=BackendSpec(kind="fake", fake_responder="schema")
    )
    assert from_spec(plain.to_recipe(store).backend).responder is None  # type: ignore[attr-defined]


def test_an_edited_template_in_the_templates_setting_changes_the_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "my-templates"
    cli("templates", "copy", str(folder))
    edited = folder / "generate.j2"
    assert edited.is_file() and (folder / "fr" / "generate.j2").is_file()
    edited.write_text("MARKER-7f3 please write a {{ label_description }} message.\n" + edited.read_text())
    monkeypatch.setenv("SENTIFORGE_TEMPLATES_DIR", str(folder))
    get_settings.cache_clear()
    store = Store(f"sqlite:///{tmp_path / 't.db'}")
    backend = FakeBackend()
    run(store, GenerateRequest(dataset="t", count=3, backend=FAKE), backend)
    assert len(backend.history) == 3 and all(p.startswith("MARKER-7f3") for p in prompts(backend))
    sample = store.samples(1)[0]
    assert sample.provenance.template_hash == hashlib.sha256(edited.read_bytes()).hexdigest()[:16]
    assert store.job(1).recipe["templates"] == str(folder.resolve())
    # the option wins over the setting; without either the packaged template is used
    monkeypatch.delenv("SENTIFORGE_TEMPLATES_DIR")
    get_settings.cache_clear()
    packaged = FakeBackend()
    run(store, GenerateRequest(dataset="u", count=3, backend=FAKE), packaged)
    assert not any("MARKER-7f3" in p for p in prompts(packaged))
    chosen = FakeBackend()
    run(store, GenerateRequest(dataset="v", count=3, templates=str(folder), backend=FAKE), chosen)
    assert all(p.startswith("MARKER-7f3") for p in prompts(chosen))


def test_a_missing_templates_folder_is_a_clear_error(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 't.db'}")
    with pytest.raises(ConfigError, match=r"templates folder .* does not exist; `sentiforge templates copy DIR`"):
        jobs.submit(store, GenerateRequest(dataset="t", templates=str(tmp_path / "nope"), backend=FAKE))


def test_a_user_attribute_reaches_the_packaged_and_an_edited_template(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    backend = FakeBackend()
    attributes = {"topic": ["late refunds"], "customer_tier": ["gold"]}
    run(store, GenerateRequest(dataset="a", count=2, attributes=attributes, backend=FAKE), backend)
    assert all("Topic: late refunds." in p and "Customer tier: gold." in p for p in prompts(backend))
    assert all(s.attributes["topic"] == "late refunds" for s in store.samples(1))
    folder = tmp_path / "tpl"
    folder.mkdir()
    template = "Write about {{ attributes.topic }} as a {{ attributes.customer_tier }} client."
    (folder / "generate.j2").write_text(template)
    edited = FakeBackend()
    request = GenerateRequest(dataset="b", count=2, attributes=attributes, templates=str(folder), backend=FAKE)
    run(store, request, edited)
    assert prompts(edited)[0] == "Write about late refunds as a gold client."


def test_an_attribute_no_template_uses_or_a_misspelt_one_is_a_warning(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "generate.j2").write_text("Write a {{ label }} message about {{ attributes.domain }}.")
    request = GenerateRequest(
        dataset="w", attributes={"domain": ["bank"], "topic": ["fees"]}, templates=str(folder), backend=FAKE
    )
    with pytest.warns(UnusedAttributeWarning, match="'topic' is not used by the template generate.j2") as seen:
        jobs.submit(store, request)
    assert len(seen) == 1
    typo = GenerateRequest(dataset="x", attributes={"domian": ["bank"]}, backend=FAKE)
    with pytest.warns(UnusedAttributeWarning, match="did you mean 'domain'"):
        jobs.submit(store, typo)
    # the CLI shows the warning on stderr and goes on
    result = CliRunner().invoke(
        cli_app,
        ["generate", "-d", "y", "-n", "1", "--backend", "fake", "--attr", "domian=bank", "--db", store.url],
    )
    assert result.exit_code == 0 and "did you mean 'domain'" in " ".join(result.output.split())


def test_bad_requests_name_the_field_and_its_option() -> None:
    with pytest.raises(ConfigError, match=r"count \(--count\): Input should be greater than or equal to 1"):
        GenerateRequest.build(dataset="d", count=0)
    with pytest.raises(ConfigError, match="colour"):
        QualityRequest.build(dataset="d", colour="red")
    with pytest.raises(ConfigError, match="--attr takes NAME=VALUE1"):
        CliRunner().invoke(cli_app, ["generate", "-d", "d", "--attr", "no value"], catch_exceptions=False)
