"""``sentiforge augment`` and ``sentiforge mix`` end to end (the fake backend is a scripted dry run)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sentiforge.cli import app
from sentiforge.store import Store
from sentiforge.testing.augmenter import seed_dataset

runner = CliRunner()


def run(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args))
    assert (result.exit_code == 0) == ok, result.output + repr(result.exception)
    return result.output + ("" if result.exception is None else str(result.exception))


def test_augment_then_mix_then_export(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(db)
    seed_dataset(store)
    run(
        "augment",
        "--seeds",
        "seeds",
        "-d",
        "aug",
        "--strategy",
        "cda",
        "--strategy",
        "cada",
        "--per-seed",
        "2",
        "--rationale",
        "--backend",
        "fake",
        "--save-recipe",
        str(tmp_path / "recipe.json"),
        "--db",
        db,
    )
    assert store.count(store.dataset_id("aug"), by="strategy") == {"cda": 8, "cada": 8}
    recipe = json.loads((tmp_path / "recipe.json").read_text())
    assert [s["params"]["per_seed"] for s in recipe["steps"]] == [2, 2] and recipe["seeds"] == "seeds"

    output = run(
        "mix",
        "--real",
        "seeds",
        "--synthetic",
        "aug",
        "--out",
        "mixed",
        "--max-synthetic-share",
        "0.5",
        "--export",
        str(tmp_path / "export"),
        "--db",
        db,
    )
    report = json.loads(output[output.index("{") :])
    assert report["real"] == 4 and report["synthetic"] == 4 and report["synthetic_share"] == 0.5
    meta = json.loads((tmp_path / "export" / "metadata.json").read_text())
    assert meta["extra"]["mix"]["synthetic_share"] == 0.5 and meta["extra"]["mix"]["max_synthetic_share"] == 0.5


def test_clear_errors_for_bad_arguments(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    seed_dataset(Store(db))
    out = run(
        "augment", "--seeds", "seeds", "-d", "x", "--strategy", "telepathy", "--backend", "fake", "--db", db, ok=False
    )
    assert "unknown augmentation strategy 'telepathy'" in out
    out = run(
        "augment", "--seeds", "seeds", "-d", "x", "--strategy", "translate", "--backend", "fake", "--db", db, ok=False
    )
    assert "needs --target" in out
    out = run("augment", "--seeds", "nope", "-d", "x", "--backend", "fake", "--db", db, ok=False)
    assert "no dataset 'nope'" in out
    out = run(
        "augment", "--seeds", "seeds", "-d", "x", "--seed-split", "test", "--backend", "fake", "--db", db, ok=False
    )
    assert "no accepted samples in split 'test'" in out


# the fake's own fields (a backend spec takes only its kind's fields: backend_spec.py)
BACKEND_OPTIONS = (
    "--backend", "fake", "--model", "m1", "--concurrency", "3", "--input-price", "0.5", "--output-price", "1.5",
)  # fmt: skip


def test_generate_and_augment_take_the_same_backend_options(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    seed_dataset(Store(db))
    gen, aug = tmp_path / "gen.json", tmp_path / "aug.json"
    run("generate", "-d", "g", "-n", "3", *BACKEND_OPTIONS, "--save-recipe", str(gen), "--db", db)
    run(
        "augment",
        "--seeds",
        "seeds",
        "-d",
        "a",
        "--strategy",
        "cda",
        *BACKEND_OPTIONS,
        "--save-recipe",
        str(aug),
        "--db",
        db,
    )
    backends = [json.loads(path.read_text())["backend"] for path in (gen, aug)]
    # the recipe names the fake that answers it, so a resume rebuilds the same one
    assert [b.pop("fake_responder") for b in backends] == ["schema", "augment"]
    assert backends[0] == backends[1]
    assert backends[0] | {"kind": "fake", "model": "m1"} == backends[0]
    wanted = {"concurrency": 3, "input_per_mtok": 0.5, "output_per_mtok": 1.5}
    assert {k: backends[0][k] for k in wanted} == wanted
    # and both refuse, alike, an option of another kind of backend, naming the kind it needs
    for command in (["generate", "-d", "g2", "-n", "3"], ["augment", "--seeds", "seeds", "-d", "a2"]):
        said = run(*command, *BACKEND_OPTIONS, "--rpm", "120", "--db", db, ok=False)
        assert "requests_per_minute needs backend kind 'openai'" in said
        said = run(*command, *BACKEND_OPTIONS, "--threads", "1", "--parallel", "2", "--db", db, ok=False)
        assert "needs backend kind 'embedded'" in said
    for command in (["generate", "-d", "x"], ["augment", "--seeds", "seeds", "-d", "y"]):
        out = run(*command, "--backend", "fake", "--json-mode", "xml", "--db", db, ok=False)
        assert "bad backend options" in out and "json_mode" in out
