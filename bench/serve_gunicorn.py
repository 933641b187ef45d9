"""pactstub's app under gunicorn with ONE worker, for comparison with ``pactstub serve``.

``pactstub serve --workers 1`` runs werkzeug's development server, which closes
the connection after every response and starts a thread per connection;
``--workers N>1`` runs gunicorn (gthread, keep-alive). This launcher serves the
same app the same way as ``--workers 2`` but with one worker, so it can be pinned
to one CPU and set against ``pactstub serve`` on identical work: the difference
is the HTTP server, not pactstub. It uses pactstub's own ``serve_with_gunicorn``.

Usage (the benchmark starts it itself, as server ``gunicorn1``)::

    python -m bench.serve_gunicorn PACT DATABASE_URL [TEMPLATES]
"""

from __future__ import annotations

import sys
from pathlib import Path

from pactstub.app import StubApp
from pactstub.config import Settings
from pactstub.loading import load_pacts
from pactstub.server import serve_with_gunicorn
from pactstub.state.migrate import upgrade


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    pact, database_url = argv[0], argv[1]
    options: dict[str, object] = {"database_url": database_url}
    if len(argv) == 3:
        options["templates"] = Path(argv[2])
    settings = Settings.from_options(options)
    upgrade(settings.database_url)
    pacts = load_pacts([pact])
    serve_with_gunicorn(lambda: StubApp(pacts, settings), "127.0.0.1", 0, 1, _announce, "error")
    return 0


def _announce(url: str) -> None:
    """The same first line as ``pactstub serve``, which the harness waits for."""
    print(f"pactstub (gunicorn, 1 worker) serving {url}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
