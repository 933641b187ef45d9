"""``pactstub list-interactions``: what a stub would serve, as a table or JSON."""

from __future__ import annotations

import json
from typing import Any

import click

from pactstub.cli.options import templates_option, with_user_errors
from pactstub.cli.sources import load_from_options, pact_options
from pactstub.config import Settings
from pactstub.listing import describe, shadowed
from pactstub.render.templates import TemplateSet
from pactstub.routing import RouteIndex
from pactstub.sources import SourceSpec


@click.command("list-interactions")
@pact_options
@templates_option
@click.option("--json", "as_json", is_flag=True, help="Print a stable machine-readable list.")
@with_user_errors
def list_interactions(sources: SourceSpec, templates: str | None, as_json: bool) -> None:
    """One row per interaction: index, method, path, description, states, status, shadowing.

    An interaction is shadowed when another one is chosen for its own example
    request; APART BY says what tells interactions on one method and path apart.
    """
    pacts = [item.pact for item in load_from_options(sources)]
    settings = Settings.from_options({"templates": templates})
    index = RouteIndex.build(i for pact in pacts for i in pact.interactions)
    rows = describe(index, TemplateSet.load(settings.templates, pacts))
    for pact in pacts:
        for skipped in pact.skipped:
            click.echo(f"{pact.source}: skipped a non-HTTP interaction: {skipped}", err=True)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    click.echo(_table(rows))
    for sentence in shadowed(index):
        click.echo(sentence)


def _table(rows: list[dict[str, Any]]) -> str:
    headings = ["#", "METHOD", "PATH", "DESCRIPTION", "STATES", "STATUS", "SHADOWED BY", "APART BY"]
    headings.append("TEMPLATE")
    cells = [
        [
            str(row["index"]),
            row["method"],
            row["path"] + (f"?{row['query']}" if row["query"] else ""),
            row["description"],
            "; ".join(row["provider_states"]) or "-",
            str(row["status"]),
            f"#{row['shadowed_by']['index']}" if row["shadowed_by"] else "-",
            ", ".join(row["distinguished_by"]) or "-",
            "yes" if row["template"] else "-",
        ]
        for row in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(headings)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headings, widths, strict=True)).rstrip()]
    lines.extend("  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)).rstrip() for cell in cells)
    return "\n".join(lines)
