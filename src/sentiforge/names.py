"""What callers may type: the one rule for the names people give things (datasets, API keys,
saved models, recipes), and no NUL character in any text (no database column stores one:
PostgreSQL refuses it).

A name is 1 to 100 ASCII letters, digits, ``.``, ``_`` or ``-``, starting with a letter or a
digit. So a name is safe as a folder or file name (no ``..``, no separator, no NUL), in a URL
path, a log line or a zip, and the same everywhere: the CLI, the HTTP API and the store.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from sentiforge.errors import ConfigError

NAME_MAX = 100
NAME_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9._-]{{0,{NAME_MAX - 1}}}$"
NO_NUL = r"^[^\x00]*$"  # a string pattern (OpenAPI, pydantic) for any text: no NUL character
_NAME = re.compile(NAME_PATTERN.removesuffix("$") + r"\Z")


def check_name(name: str, what: str = "name") -> str:
    """The name, if it follows the rule; else a ConfigError saying what a name may hold."""
    if not isinstance(name, str) or not _NAME.match(name):
        shown = repr(name[:40] + "...") if isinstance(name, str) and len(name) > 40 else repr(name)
        raise ConfigError(
            f"{what} {shown} is not a valid name: use 1 to {NAME_MAX} ASCII letters, digits, '.', '_' or '-', "
            "starting with a letter or a digit"
        )
    return name


# a pydantic field (and, in the OpenAPI schema, a string pattern) holding a name
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]


def find_nul(value: Any, where: str = "") -> str | None:
    """Where in a JSON-like value (keys included) a string holds a NUL character: a dotted path
    such as ``recipe.steps[0].params`` (``""`` for the value itself), or None when none does."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}.{str(key)[:40]}" if where else str(key)[:40]
            found = find_nul(key, here) if isinstance(key, str) else None
            found = found if found is not None else find_nul(item, here)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = find_nul(item, f"{where}[{i}]")
            if found is not None:
                return found
    return None


class CallerInput(BaseModel):
    """A body a caller sends (a request of the application layer, a JSON body of the API):
    unknown fields refused, types strict (``"5"`` or ``true`` is no number), no infinity or NaN,
    and no NUL anywhere."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        where = find_nul(data)
        if where is not None:
            raise ValueError(f"{where or 'the body'} holds a NUL character (\\u0000); remove it")
        return data
