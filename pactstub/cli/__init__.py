"""The ``pactstub`` command: a click group; each command lives in its own module.

Commands are imported when they run, not when the group loads, so
``pactstub verify`` (which CI may start hundreds of times) does not pay for
SQLAlchemy and Alembic, which only ``serve``, ``db`` and ``state`` need.
"""

from __future__ import annotations

import importlib

import click

from pactstub import __version__

#: command name -> "module:attribute" of its click command
COMMANDS = {
    "serve": "pactstub.cli.serve:serve",
    "list-interactions": "pactstub.cli.list_interactions:list_interactions",
    "verify": "pactstub.cli.verify:verify",
    "openapi": "pactstub.cli.openapi:openapi",
    "db": "pactstub.cli.db:db",
    "state": "pactstub.cli.state:state",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        _show_envvars(command)
        return command


def _show_envvar_of(params: list[click.Parameter]) -> None:
    for param in params:
        if isinstance(param, click.Option) and param.envvar:
            param.show_envvar = True


def _show_envvars(command: click.Command) -> None:
    """Every option's environment variables in ``--help``, subcommands of groups included:
    set here once rather than on each option, so a new option cannot forget it."""
    _show_envvar_of(command.params)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _show_envvars(sub)


@click.group(
    cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="pactstub")
def main() -> None:
    """Serve Pact contracts as a working HTTP provider, and verify providers against them."""


__all__ = ["main"]
