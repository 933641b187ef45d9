"""``pactstub openapi``: the OpenAPI 3.1 document of what the stub would serve."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pactstub.cli.options import with_user_errors
from pactstub.cli.sources import load_from_options, pact_options
from pactstub.errors import ConfigError
from pactstub.sources import SourceSpec


@click.command()
@pact_options
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), metavar="FILE", help="Write here [default: stdout]."
)
@with_user_errors
def openapi(sources: SourceSpec, output: str | None) -> None:
    """Write an OpenAPI 3.1 document of the pacts' interactions.

    Paths, methods, parameters, bodies with schemas inferred from the examples and
    matching rules, an example per interaction, and the provider states.
    """
    from pactstub.openapi import openapi_document

    pacts = [item.pact for item in load_from_options(sources)]
    text = json.dumps(openapi_document(pacts), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot write {output}: {error.strerror or error}") from error
