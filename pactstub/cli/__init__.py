"""The ``pactstub`` command: a click group; each command lives in its own module."""

from __future__ import annotations

import click

from pactstub import __version__
from pactstub.cli.db import db
from pactstub.cli.list_interactions import list_interactions
from pactstub.cli.serve import serve
from pactstub.cli.state import state
from pactstub.cli.verify import verify


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="pactstub")
def main() -> None:
    """Serve Pact contracts as a working HTTP provider, and verify providers against them."""


main.add_command(serve)
main.add_command(list_interactions)
main.add_command(verify)
main.add_command(db)
main.add_command(state)

__all__ = ["main"]
