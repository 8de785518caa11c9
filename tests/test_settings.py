"""Settings are read at the entry points (the CLI, the HTTP service, the workers) and handed
down: no module below them calls ``get_settings()``, and a value set in the environment of an
entry point reaches the layer that uses it."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import sentiforge
from sentiforge.cli import app as cli_app
from sentiforge.config import Runtime, Settings, get_settings

SRC = Path(sentiforge.__file__).resolve().parent
ENTRY_POINTS = ("cli/", "api/main.py", "worker/")  # what reads the settings (and config.py, which makes them)


def _reads_settings(path: Path) -> bool:
    """Does the module import ``get_settings`` from sentiforge.config (or call ``config.get_settings``)?"""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        imported = isinstance(node, ast.ImportFrom) and node.module == "sentiforge.config"
        if imported and any(alias.name == "get_settings" for alias in node.names):  # type: ignore[union-attr]
            return True
        called = isinstance(node, ast.Attribute) and node.attr == "get_settings"
        if called and isinstance(node.value, ast.Name) and node.value.id == "config":  # type: ignore[union-attr]
            return True
    return False


def test_only_the_entry_points_read_the_settings() -> None:
    readers = {str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if _reads_settings(p)}
    assert "cli/_common.py" in readers and "api/main.py" in readers  # the check sees real imports
    below = sorted(r for r in readers if not r.startswith(ENTRY_POINTS))
    assert below == [], f"these modules read the settings instead of being handed values: {below}"


def test_the_check_sees_a_low_layer_that_reads_the_settings(tmp_path: Path) -> None:
    module = tmp_path / "pulls.py"
    module.write_text("def url():\n    from sentiforge.config import get_settings\n\n    return get_settings().x\n")
    assert _reads_settings(module)
    module.write_text("from sentiforge.config import Runtime\n")
    assert not _reads_settings(module)


def test_settings_make_the_runtime_the_application_layer_is_handed(tmp_path: Path) -> None:
    given: dict[str, Any] = {
        "model_dir": tmp_path / "m",
        "db_pool_size": 7,
        "datasets": tmp_path,
        "drift_embedder": "fake",
    }
    settings = Settings(home=tmp_path, cache_url="redis://c", limits_url="redis://l", cache_ttl=9.0, **given)
    assert settings.runtime() == Runtime(cache_url="redis://c", limits_url="redis://l", cache_ttl=9.0, **given)
    assert Runtime().datasets is None and Runtime().drift_embedder == "none"  # nothing configured: packaged, n-grams


def test_the_templates_setting_reaches_the_prompt_library_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "mine"
    (folder / "fr").mkdir(parents=True)
    (folder / "generate.j2").write_text("edited {{ label_description }}\n")
    monkeypatch.setenv("SENTIFORGE_TEMPLATES_DIR", str(folder))
    get_settings.cache_clear()  # the settings are read once per process
    result = CliRunner().invoke(cli_app, ["templates", "list"])
    assert result.exit_code == 0, result.output
    compact = "".join(result.output.split())  # rich wraps long lines
    assert f"generate.j2{folder.resolve()}" in compact and "fr/generate.j2package" in compact


def test_the_datasets_setting_reaches_the_loaders_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data" / "uci-sentences").mkdir(parents=True)
    items = [{"text": f"{word} food number {i}.", "class": i % 2} for i, word in enumerate(["Great", "Cold"] * 10)]
    (tmp_path / "data" / "uci-sentences" / "yelp.json").write_text(json.dumps(items), encoding="utf-8")
    monkeypatch.setenv("SENTIFORGE_DATASETS", str(tmp_path / "data"))
    get_settings.cache_clear()  # the settings are read once per process
    out = tmp_path / "model"
    result = CliRunner().invoke(cli_app, ["train", "uci:yelp", "-o", str(out), "-c", "fake", "--no-evaluate"])
    assert result.exit_code == 0, result.output
    assert "on 20 samples" in result.output  # the copy the setting names, not the packaged 1,000


def test_the_database_setting_reaches_the_store_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "elsewhere.db"
    monkeypatch.setenv("SENTIFORGE_DATABASE_URL", f"sqlite:///{db}")
    get_settings.cache_clear()  # the settings are read once per process
    result = CliRunner().invoke(cli_app, ["generate", "-d", "g", "-n", "3", "--backend", "fake"])
    assert result.exit_code == 0, result.output
    assert db.is_file() and not (tmp_path / "home" / "sentiforge.db").exists()


def test_the_model_dir_setting_reaches_the_engine_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    monkeypatch.setenv("SENTIFORGE_MODEL_DIR", str(models))
    get_settings.cache_clear()
    args = ["generate", "-d", "g", "-n", "3", "--backend", "fake", "--check-label", "judge"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    assert [p.name.split("-")[0] for p in models.glob("*.json")] == ["judge"]  # the calibration is kept there


@pytest.mark.redis
def test_from_spec_shares_the_rate_limits_only_where_a_limits_url_is_handed_down() -> None:
    from sentiforge.backends import from_spec
    from sentiforge.backends.ratelimit import RateLimiter
    from sentiforge.backends.redis_limits import RedisLimiter
    from sentiforge.recipe import BackendSpec

    spec = BackendSpec(kind="openai", base_url="http://127.0.0.1:9/v1", model="m", requests_per_minute=60)
    shared = from_spec(spec, Runtime(limits_url="redis://127.0.0.1:6379/7"))
    alone = from_spec(spec)
    assert isinstance(shared.limiter, RedisLimiter) and isinstance(alone.limiter, RateLimiter)  # type: ignore[attr-defined]


def test_only_a_kind_that_loads_a_base_model_is_handed_the_model_folder(tmp_path: Path) -> None:
    from sentiforge.classifiers.registry import build_classifier
    from sentiforge.labels import get_scheme

    scheme = get_scheme("binary")
    reasoner = build_classifier("reasoner", scheme, base_model_dir=tmp_path)
    assert reasoner.base_model_dir == tmp_path  # type: ignore[attr-defined]
    assert "base_model_dir" not in reasoner.info.params  # a machine's folder is not saved with the model
    assert build_classifier("tfidf", scheme, base_model_dir=tmp_path) is not None  # others take no such option


def test_the_model_dir_setting_reaches_the_builds_classifiers_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reasoner candidate in a build joins its base model into SENTIFORGE_MODEL_DIR, as `train`
    does: every classifier the build makes is handed the folder (recorded here on the fake kind)."""
    import sentiforge.classifiers.selection as selection

    handed: list[Any] = []
    real = selection.build_classifier

    def recording(kind: str, scheme: Any, **kwargs: Any) -> Any:
        handed.append(kwargs.get("base_model_dir"))
        return real(kind, scheme, **kwargs)

    monkeypatch.setattr(selection, "build_classifier", recording)
    models = tmp_path / "models"
    monkeypatch.setenv("SENTIFORGE_MODEL_DIR", str(models))
    get_settings.cache_clear()
    seeds = tmp_path / "seeds.jsonl"
    rows = [{"text": f"{word} thing number {i}", "label": label} for i in range(6)
            for word, label in (("lovely", "positive"), ("awful", "negative"))]  # fmt: skip
    seeds.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    args = ["build", str(seeds), "--out", str(tmp_path / "m"), "--scheme", "binary", "-c", "fake", "--folds", "2"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    assert len(handed) >= 3 and set(handed) == {models}  # two folds and the winner's final fit
