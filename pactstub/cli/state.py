"""``pactstub state``: reset, export and import the counters and records.

Export and import use the one JSON format of ``Store.export`` /``Store.import_``, so
a state captured from a running stub can seed another (or a test) later. Every
command brings the schema to head first, like ``pactstub serve``, so it also works
on a database that was never served.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from pactstub.cli.db import database_url_option, settings_for
from pactstub.cli.options import with_user_errors
from pactstub.cli.progress import Progress
from pactstub.errors import StoreError
from pactstub.state.store import Store


@click.group()
def state() -> None:
    """Reset, export or import the counter and record store."""


@state.command()
@click.option("--collection", metavar="NAME", help="Only this collection (and its counter of the same name).")
@database_url_option
@with_user_errors
def reset(collection: str | None, database_url: str) -> None:
    """Forget records and restart counters: all of them, or one collection's."""
    with Store(settings_for(database_url)) as store:
        store.reset(collection)
    click.echo(f"reset collection {collection!r}" if collection else "reset all counters and records")


@state.command()
@click.argument("file", default="-", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@database_url_option
@with_user_errors
def export(file: str, database_url: str) -> None:
    """Write the whole state as JSON to FILE (default: - for standard output)."""
    with Store(settings_for(database_url)) as store, Progress("exporting records") as progress:
        document = store.export(progress=progress.update)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if file == "-":
        click.echo(text, nl=False)
        return
    try:
        with open(file, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as error:
        raise StoreError(f"cannot write {file}: {error.strerror or error}") from error
    click.echo(f"exported {len(document['counters'])} counters, {len(document['records'])} records to {file}")


@state.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, allow_dash=True))
@database_url_option
@with_user_errors
def import_(file: str, database_url: str) -> None:
    """Replace the whole state by the JSON of FILE (as written by export; - reads stdin)."""
    with Progress(f"importing {file}") as progress:  # rows written, once the file is read and checked
        document = _read_json(file)
        with Store(settings_for(database_url)) as store:
            store.import_(document, progress=progress.update)
    click.echo(f"imported {file}")


def _read_json(file: str) -> Any:
    """The file's JSON; a file that is not JSON is a user error naming the file."""
    try:
        if file == "-":
            raw = sys.stdin.read()
        else:
            with open(file, encoding="utf-8") as source:
                raw = source.read()
        return json.loads(raw)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise StoreError(f"{file} is not JSON: {error.msg} at {where}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise StoreError(f"cannot read {file}: {error}") from None
