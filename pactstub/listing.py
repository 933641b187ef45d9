"""One description per served interaction, for ``list-interactions`` and ``/_pactstub/interactions``.

Both show the same stable rows, so a CI job can diff the ``--json`` output
and a person can read the table. The shadowing report says which
interactions lose their own example request to another, and to which: :func:`shadowed` gives the
sentences the stub logs when it starts.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

from pactstub.model import Interaction, Query
from pactstub.routing import Reach, Route, RouteIndex


class HasTemplates(Protocol):
    def path_for(self, interaction: Interaction) -> str | None: ...


def describe(index: RouteIndex, templates: HasTemplates | None = None) -> list[dict[str, Any]]:
    """Rows in serving order: index, pact, method, path, query, description, states, status..."""
    rows: list[dict[str, Any]] = []
    for route in index.routes:
        interaction = route.interaction
        request = interaction.request
        reach = index.reach.get(route.order, Reach())
        winner = reach.shadowed_by
        rows.append(
            {
                "index": route.order,
                "pact": interaction.pact_name,
                "pact_index": interaction.index,
                "method": request.method.upper(),
                "path": request.path,
                "query": format_query(request.query),
                "description": interaction.description,
                "provider_states": [state.name for state in interaction.provider_states],
                "status": interaction.response.status,
                "shadowed_by": (
                    None
                    if winner is None
                    else {"index": winner.order, "description": winner.interaction.description}
                ),
                "distinguished_by": list(reach.distinguished_by),
                "template": templates.path_for(interaction) if templates is not None else None,
            }
        )
    return rows


def shadowed(index: RouteIndex) -> list[str]:
    """One sentence per shadowed interaction, naming the interaction that wins its example."""
    return [
        f"{_named(route)} is shadowed by {_named(reach.shadowed_by)}: "
        "its own example request is answered by that one"
        for route in index.routes
        if (reach := index.reach.get(route.order)) is not None and reach.shadowed_by is not None
    ]


def _named(route: Route) -> str:
    return f"#{route.order} {route.interaction.description!r}"


def format_query(query: Query | None) -> str:
    """A query map as a query string, for display."""
    if not query:
        return ""
    parts = []
    for name, values in query.items():
        for value in values:
            parts.append(quote(name) if value is None else f"{quote(name)}={quote(value, safe='')}")
    return "&".join(parts)
