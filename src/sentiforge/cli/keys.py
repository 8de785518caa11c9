"""``sentiforge keys create / list / revoke``: API keys for the HTTP service."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from sentiforge.cli._common import DbOption, console, open_store, out

keys_app = typer.Typer(help="API keys for the HTTP service (`sentiforge serve`).", no_args_is_help=True)


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Who uses the key (a person's name is their reviewer name).")],
    scope: Annotated[list[str], typer.Option("--scope", help="read, write, review, predict or admin (repeatable).")],
    db: DbOption = None,
) -> None:
    """Make a key; its token is printed once (only a hash is stored)."""
    with open_store(db) as store:
        key, token = store.create_key(name, scope)
    console.print(f"key {key.id} ({key.key_id}) for '{key.name}', scopes {', '.join(key.scopes)}")
    console.print("the token is shown only now; send it as 'Authorization: Bearer TOKEN' or 'X-API-Key: TOKEN':")
    typer.echo(token)


@keys_app.command("list")
def list_keys(db: DbOption = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every key with its scopes and state (never a secret)."""
    from rich.table import Table

    with open_store(db) as store:
        keys = store.list_keys()
    if as_json:
        out.print_json(json.dumps([k.model_dump(mode="json") for k in keys]))
        return
    table = Table("id", "key id", "name", "scopes", "created", "revoked")
    for k in keys:
        revoked = k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else ""
        table.add_row(
            str(k.id), k.key_id, k.name, ",".join(k.scopes), k.created_at.isoformat(timespec="seconds"), revoked
        )
    out.print(table)


@keys_app.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="The key's number, key id, or the name of the active key.")],
    db: DbOption = None,
) -> None:
    """Revoke a key: the service refuses it within seconds (keys are cached for at most 5 s)."""
    with open_store(db) as store:
        done = store.revoke_key(key)
    console.print(f"key {done.id} ({done.key_id}, '{done.name}') revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
