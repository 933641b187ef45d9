"""``pactstub list-interactions``: what a stub would serve, as a table or JSON."""

from __future__ import annotations

import json
from typing import Any

import click

from pactstub.cli.options import templates_option, with_user_errors
from pactstub.cli.sources import load_from_options, pact_options
from pactstub.config import Settings
from pactstub.listing import describe
from pactstub.render.templates import TemplateSet
from pactstub.routing import RouteIndex
from pactstub.sources import SourceSpec


@click.command("list-interactions")
@pact_options
@templates_option
@click.option("--json", "as_json", is_flag=True, help="Print a stable machine-readable list.")
@with_user_errors
def list_interactions(sources: SourceSpec, templates: str | None, as_json: bool) -> None:
    """One row per interaction: index, method, path, description, states, status, ambiguity."""
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


def _table(rows: list[dict[str, Any]]) -> str:
    headings = ["#", "METHOD", "PATH", "DESCRIPTION", "STATES", "STATUS", "AMBIGUOUS", "TEMPLATE"]
    cells = [
        [
            str(row["index"]),
            row["method"],
            row["path"] + (f"?{row['query']}" if row["query"] else ""),
            row["description"],
            "; ".join(row["provider_states"]) or "-",
            str(row["status"]),
            ("yes: #" + ", #".join(map(str, row["ambiguous_with"]))) if row["ambiguous"] else "no",
            "yes" if row["template"] else "-",
        ]
        for row in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(headings)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headings, widths, strict=True)).rstrip()]
    lines.extend("  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)).rstrip() for cell in cells)
    return "\n".join(lines)
