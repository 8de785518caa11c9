"""``sentiforge templates copy / list``: the prompt templates, to read and edit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sentiforge.cli._common import console, out, runtime

templates_app = typer.Typer(help="Prompt templates: copy the packaged ones to edit, list what is used.")


@templates_app.command("copy")
def copy(dest: Annotated[Path, typer.Argument(help="Folder to copy the packaged templates into.")]) -> None:
    """Copy the packaged templates into DEST (existing files are kept); then edit them and pass
    --templates DEST, or set SENTIFORGE_TEMPLATES_DIR=DEST."""
    from sentiforge.prompts import copy_templates

    written = copy_templates(dest)
    console.print(f"{len(written)} templates copied to {dest} (files already there were kept)")
    console.print(f"use them with: --templates {dest}   or   export SENTIFORGE_TEMPLATES_DIR={dest.resolve()}")


@templates_app.command("list")
def list_templates(
    templates: Annotated[Path | None, typer.Option(help="A folder of edited templates (default: the setting).")] = None,
) -> None:
    """Every template name and where it is read from (your folder or the package)."""
    from sentiforge.app.requests import templates_folder
    from sentiforge.prompts import PromptLibrary

    library = PromptLibrary(templates_folder(str(templates) if templates else None, runtime().templates_dir))
    for name, origin in library.listing():
        out.print(f"{name}\t{origin}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(templates_app, name="templates")
