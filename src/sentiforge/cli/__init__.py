"""The ``sentiforge`` command. Each module in this package adds one group of commands
through a ``register(app)`` function, so a command's code sits beside its domain."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import typer

# the command draws its own progress bars: Hugging Face's "Loading weights" bar on every model
# load is noise in them (set before transformers is imported; a user's own setting wins)
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from sentiforge.errors import SentiforgeError

app = typer.Typer(
    name="sentiforge",
    help="Labelled sentiment training data from LLMs, proven on real data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    try:
        app()
    except SentiforgeError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except OSError as exc:  # the file system refused (a full disk, a folder that vanished): one line
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
