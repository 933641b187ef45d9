"""One description per served interaction, for ``list-interactions`` and ``/_pactstub/interactions``.

Both show the same stable rows, so a CI job can diff the ``--json`` output
and a person can read the table.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

from pactstub.model import Interaction, Query
from pactstub.routing import RouteIndex


class HasTemplates(Protocol):
    def path_for(self, interaction: Interaction) -> str | None: ...


def describe(index: RouteIndex, templates: HasTemplates | None = None) -> list[dict[str, Any]]:
    """Rows in serving order: index, pact, method, path, query, description, states, status..."""
    ambiguous = index.ambiguous()
    rows: list[dict[str, Any]] = []
    for route in index.routes:
        interaction = route.interaction
        request = interaction.request
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
                "ambiguous": route.order in ambiguous,
                "ambiguous_with": ambiguous.get(route.order, []),
                "template": templates.path_for(interaction) if templates is not None else None,
            }
        )
    return rows


def format_query(query: Query | None) -> str:
    """A query map as a query string, for display."""
    if not query:
        return ""
    parts = []
    for name, values in query.items():
        for value in values:
            parts.append(quote(name) if value is None else f"{quote(name)}={quote(value, safe='')}")
    return "&".join(parts)
