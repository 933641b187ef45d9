"""``pactstub state``: the counters and records of a store, from the command line.

``reset``, ``export`` and ``import`` work on the whole state (or one session's);
export and import use the one JSON format of ``Store.export`` / ``Store.import_``, so
a state captured from a running stub can seed another (or a test) later.

``get``, ``find``, ``patch`` and ``delete`` work on records as the admin API does
(``/_pactstub/records``), and print JSON: a record is ``{"id", "data", "created_at",
"updated_at"}``. Exit codes follow :mod:`pactstub.errors`: 2 for what cannot be used,
and a record that is not there is one of those (an id that names no record cannot be
read, changed or deleted; running again changes nothing until it is fixed), so
``get``, ``patch`` and ``delete`` of a missing record exit 2, as the API answers 404;
1 stays "a check failed", which none of these commands is. ``find`` that matches
nothing prints no records and exits 0.

Every command brings the schema to head first, like ``pactstub serve``, so it also
works on a database that was never served.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from pactstub import jsontext
from pactstub.cli.db import database_url_option, settings_for
from pactstub.cli.options import templates_option, with_user_errors
from pactstub.cli.progress import Progress
from pactstub.errors import JsonLimitError, RecordNotFound, StoreError
from pactstub.state.documents import DEFAULT_SESSION
from pactstub.state.store import Store

session_option = click.option(
    "--session",
    default=DEFAULT_SESSION,
    show_default=True,
    envvar="PACTSTUB_SESSION",
    help="The session whose records these are.",
)
every_session_option = click.option(
    "--session", envvar="PACTSTUB_SESSION", help="Only this session [default: every session]."
)


@click.group()
def state() -> None:
    """Reset, export or import the counter and record store; read, find, change or delete records."""


@state.command()
@click.option("--collection", metavar="NAME", help="Only this collection (and its counter of the same name).")
@every_session_option
@database_url_option
@with_user_errors
def reset(collection: str | None, session: str | None, database_url: str) -> None:
    """Forget records and restart counters: all of them, or one collection's (of one session)."""
    with Store(settings_for(database_url)) as store:
        store.reset(collection, session=session)
    what = f"collection {collection!r}" if collection else "all counters and records"
    click.echo(f"reset {what}" + (f" of session {session!r}" if session else ""))


@state.command()
@click.argument("file", default="-", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@every_session_option
@database_url_option
@with_user_errors
def export(file: str, session: str | None, database_url: str) -> None:
    """Write the whole state (or one session's) as JSON to FILE (default: - for standard output)."""
    with Store(settings_for(database_url)) as store, Progress("exporting records") as progress:
        document = store.export(session, progress=progress.update)
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


#: An export nests records a few levels below the top; records came from requests.
_IMPORT_DEPTH = 2 * jsontext.MAX_DEPTH


def _read_json(file: str) -> Any:
    """The file's JSON; a file that is not JSON (or JSON nothing may store) is a user error
    naming the file and, for JSON refused, the JSON path."""
    try:
        if file == "-":
            raw = sys.stdin.read()
        else:
            with open(file, encoding="utf-8") as source:
                raw = source.read()
        return jsontext.loads(raw, max_depth=_IMPORT_DEPTH)
    except JsonLimitError as error:
        raise StoreError(f"{file}: {error}") from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise StoreError(f"{file} is not JSON: {error.msg} at {where}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise StoreError(f"cannot read {file}: {error}") from None


# ---------------------------------------------------------------------------- records


def _print(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _shown(record: Any) -> dict[str, Any]:
    from pactstub.admin.records import shown

    return shown(record)


@state.command()
@click.argument("collection")
@click.argument("record_id", metavar="ID", type=int)
@session_option
@database_url_option
@with_user_errors
def get(collection: str, record_id: int, session: str, database_url: str) -> None:
    """Print the record ID of COLLECTION (reading it here never moves its lifecycle)."""
    with Store(settings_for(database_url)) as store:
        record = store.get(collection, record_id, session=session)
    if record is None:
        raise RecordNotFound(collection, record_id, session)
    _print(_shown(record))


@state.command()
@click.argument("collection")
@click.argument("fields", metavar="[FIELD=VALUE]...", nargs=-1)
@click.option("--order-by", metavar="FIELD", help="A field, id, created_at or updated_at; -FIELD descending.")
@click.option("--limit", type=click.IntRange(min=0), help="At most this many records.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many records first.")
@session_option
@database_url_option
@with_user_errors
def find(
    collection: str,
    fields: Sequence[str],
    order_by: str | None,
    limit: int | None,
    offset: int,
    session: str,
    database_url: str,
) -> None:
    """Print the records of COLLECTION whose fields equal the values given, in id order (or --order-by).

    A VALUE that reads as JSON is that JSON value (123 a number, '"123"' a string, true,
    null); anything else is a string.
    """
    where = dict(_field(text) for text in fields)
    with Store(settings_for(database_url)) as store:
        found = store.find(collection, where, session=session, order_by=order_by, limit=limit, offset=offset)
    _print({"records": [_shown(record) for record in found]})


def _field(text: str) -> tuple[str, Any]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise click.BadParameter(f"{text!r} is not FIELD=VALUE", param_hint="FIELD=VALUE")
    try:
        return name, jsontext.loads(value)
    except JsonLimitError as error:
        raise click.BadParameter(f"{name}: {error}", param_hint="FIELD=VALUE") from None
    except ValueError:
        return name, value


@state.command()
@click.argument("collection")
@click.argument("record_id", metavar="ID", type=int)
@click.argument("changes", metavar="JSON")
@templates_option
@session_option
@database_url_option
@with_user_errors
def patch(
    collection: str, record_id: int, changes: str, templates: str | None, session: str, database_url: str
) -> None:
    """Merge the JSON object given into the record ID of COLLECTION and print it.

    A lifecycle's state field moves the record into that state, as the admin API's PATCH
    does: the lifecycles are read from the templates folder.
    """
    try:
        document = jsontext.loads(changes)
    except ValueError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="JSON") from None
    if not isinstance(document, dict):
        raise click.BadParameter(f"a JSON object, not {type(document).__name__}", param_hint="JSON")
    with Store(settings_for(database_url), lifecycles=_lifecycles(templates)) as store:
        record = store.update(collection, record_id, document, session=session)
    if record is None:
        raise RecordNotFound(collection, record_id, session)
    _print(_shown(record))


def _lifecycles(templates: str | None) -> Any:
    """Every lifecycle of the templates folder, whatever the pact (each folder in it is one)."""
    from pactstub.render.lifecycles import load_lifecycles

    if templates is None:
        return {}
    folder = Path(templates)
    return load_lifecycles(folder, sorted(path.name for path in folder.iterdir() if path.is_dir()))


@state.command()
@click.argument("collection")
@click.argument("record_id", metavar="ID", type=int)
@session_option
@database_url_option
@with_user_errors
def delete(collection: str, record_id: int, session: str, database_url: str) -> None:
    """Delete the record ID of COLLECTION."""
    with Store(settings_for(database_url)) as store:
        if not store.delete(collection, record_id, session=session):
            raise RecordNotFound(collection, record_id, session)
    _print({"deleted": True, "collection": collection, "id": record_id, "session": session})
