from pathlib import Path

import pytest

from sentiforge.errors import TemplateError
from sentiforge.prompts import PromptLibrary, copy_templates


def test_packaged_template_renders_with_hash() -> None:
    lib = PromptLibrary()
    r = lib.render("system.j2")
    assert "synthetic training data" in r.text
    assert r.template == "system.j2" and len(r.template_hash) == 16


def test_language_folder_wins_and_falls_back(tmp_path: Path) -> None:
    lib = PromptLibrary()
    assert lib.render("system.j2", language="fr").template == "fr/system.j2"
    assert lib.render("system.j2", language="de").template == "system.j2"


def test_user_dir_overrides_and_changes_hash(tmp_path: Path) -> None:
    packaged = PromptLibrary().render("system.j2")
    (tmp_path / "system.j2").write_text("You are {{ who }}.")
    r = PromptLibrary(tmp_path).render("system.j2", who="a tester")
    assert r.text == "You are a tester."
    assert r.template_hash != packaged.template_hash


def test_broken_templates_give_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "undefined.j2").write_text("Hello {{ nobody }}")
    (tmp_path / "syntax.j2").write_text("Hello {% if %}")
    (tmp_path / "empty.j2").write_text("{# nothing #}")
    lib = PromptLibrary(tmp_path)
    with pytest.raises(TemplateError, match=r"does not render.*nobody"):
        lib.render("undefined.j2")
    with pytest.raises(TemplateError, match="syntax error at line 1"):
        lib.render("syntax.j2")
    with pytest.raises(TemplateError, match="empty prompt"):
        lib.render("empty.j2")
    with pytest.raises(TemplateError, match="not found"):
        lib.render("missing.j2")


def test_copy_templates_keeps_existing_files(tmp_path: Path) -> None:
    (tmp_path / "system.j2").write_text("mine")
    written = copy_templates(tmp_path)
    assert (tmp_path / "system.j2").read_text() == "mine"
    assert (tmp_path / "generate.j2").exists() and (tmp_path / "fr" / "generate.j2").exists()
    assert tmp_path / "system.j2" not in written
