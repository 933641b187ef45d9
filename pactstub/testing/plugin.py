"""The pytest plugin: the ``pactstub`` fixture, a stub server checked after every test.

Loaded through the ``pytest11`` entry point in every pytest run where pactstub
is installed, so importing it does nothing but define hooks and fixtures; the
server code is imported by the first test that asks for the fixture.

Which pacts are served, most specific first:

1. ``@pytest.mark.pactstub(pacts=[...], templates=..., **create_app_options)``
   on the test, its class or its module (relative paths from the rootdir);
2. ``--pactstub-pact PATH`` (repeatable; relative to the current directory);
3. the ``pactstub_pacts`` ini option (one path a line, relative to the rootdir).

Each distinct configuration gets one server per session (per xdist worker), on
a free port with an in-memory store; before each test its journal, counters and
records are reset, after it every request that matched no interaction fails
the test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pactstub.loading import PactSource
    from pactstub.testing.server import StubServer

MARKER = "pactstub"
#: the server a test's ``pactstub`` fixture handed out
_SERVER = pytest.StashKey["StubServer"]()
#: the sequence number of the last request already checked for that test
_CHECKED = pytest.StashKey[int]()

_NO_PACTS = (
    "pactstub: no pacts to serve. Name them with @pytest.mark.pactstub(pacts=[...]), "
    "--pactstub-pact PATH, or the pactstub_pacts ini option."
)


# ------------------------------------------------------------------ configuration


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pactstub", "pactstub: a stub server for the pacts of the API under test")
    group.addoption(
        "--pactstub-pact",
        action="append",
        default=[],
        metavar="PATH",
        dest="pactstub_pact",
        help="a pact file for the pactstub fixture to serve (repeatable; overrides the pactstub_pacts ini)",
    )
    group.addoption(
        "--pactstub-templates",
        default=None,
        metavar="DIR",
        dest="pactstub_templates",
        help="a folder of response templates for the pactstub fixture",
    )
    parser.addini(
        "pactstub_pacts",
        type="linelist",
        default=[],
        help="pact files for the pactstub fixture to serve, one a line, relative to the rootdir",
    )
    parser.addini(
        "pactstub_templates",
        type="string",
        default="",
        help="a folder of response templates for the pactstub fixture, relative to the rootdir",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(pacts=[...], templates=None, check=True, **options): the pacts (and templates) the "
        "pactstub fixture serves for this test; options are pactstub.create_app's; check=False lets "
        "requests that match no interaction pass",
    )


# ----------------------------------------------------------------------- fixtures


@pytest.fixture
def pactstub_pacts(pytestconfig: pytest.Config) -> list[PactSource]:
    """The pacts from ``--pactstub-pact`` or else the ``pactstub_pacts`` ini option."""
    from_command_line: list[str] = pytestconfig.getoption("pactstub_pact") or []
    if from_command_line:
        return [pytestconfig.invocation_params.dir / path for path in from_command_line]
    from_ini: list[str] = pytestconfig.getini("pactstub_pacts")
    return [pytestconfig.rootpath / path for path in from_ini]


@pytest.fixture
def pactstub_templates(pytestconfig: pytest.Config) -> Path | None:
    """The templates folder from ``--pactstub-templates`` or the ``pactstub_templates`` ini option."""
    from_command_line: str | None = pytestconfig.getoption("pactstub_templates")
    if from_command_line:
        return pytestconfig.invocation_params.dir / from_command_line
    from_ini: str = pytestconfig.getini("pactstub_templates")
    return pytestconfig.rootpath / from_ini if from_ini else None


@pytest.fixture
def pactstub_host() -> str:
    """The address the stub listens on."""
    return "127.0.0.1"


@pytest.fixture
def pactstub_database_url() -> str:
    """The store's database; in memory, so parallel workers never share one."""
    return "sqlite://"


@pytest.fixture(scope="session")
def _pactstub_servers() -> Iterator[_Servers]:
    servers = _Servers()
    yield servers
    servers.stop()


@pytest.fixture
def pactstub(
    request: pytest.FixtureRequest,
    _pactstub_servers: _Servers,
    pactstub_pacts: list[PactSource],
    pactstub_templates: Path | None,
    pactstub_host: str,
    pactstub_database_url: str,
) -> Iterator[StubServer]:
    """A running stub server for this test, reset before it and checked after it.

    ``pactstub.url`` / ``pactstub.url_for(path)`` to call it; ``pactstub.requests``,
    ``pactstub.unmatched`` and ``pactstub.assert_called(description, times=N)`` to
    look at what it received.
    """
    config = request.config
    options: dict[str, Any] = {"database_url": pactstub_database_url}
    check = True
    pacts: Sequence[PactSource] = pactstub_pacts
    templates = pactstub_templates
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        arguments = dict(marker.kwargs)
        if marker.args and "pacts" in arguments:
            raise pytest.UsageError(
                f"@pytest.mark.{MARKER}: give the pacts as arguments or as pacts=, not both"
            )
        marked = list(marker.args) or arguments.pop("pacts", None)
        if marked is not None:
            pacts = [_from_rootdir(config, pact) for pact in _as_list(marked)]
        if "templates" in arguments:
            chosen = arguments.pop("templates")
            templates = None if chosen is None else _from_rootdir(config, chosen)
        check = bool(arguments.pop("check", True))
        options.update(arguments)
    if not pacts:
        pytest.fail(_NO_PACTS, pytrace=False)
    if templates is not None:
        options["templates"] = templates
    server = _pactstub_servers.get(pacts, pactstub_host, options)
    server.reset()
    if check:
        request.node.stash[_SERVER] = server
    yield server
    if not check:
        return
    # Requests made after the test's body (by the teardown of other fixtures).
    late = [entry for entry in server.unmatched if entry.sequence > request.node.stash.get(_CHECKED, 0)]
    if late:
        from pactstub.testing.server import describe_unmatched

        pytest.fail(describe_unmatched(late), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a test whose requests matched no interaction, or explain them if it failed anyway."""
    try:
        result = yield
    except Exception as error:
        problems = _problems(item)
        if problems:
            error.add_note(f"\n{problems}")
        raise
    problems = _problems(item)
    if problems:
        pytest.fail(problems, pytrace=False)
    return result


def _problems(item: pytest.Item) -> str:
    server = item.stash.get(_SERVER, None)
    if server is None:
        return ""
    requests = server.requests
    item.stash[_CHECKED] = max((entry.sequence for entry in requests), default=0)
    try:
        server.check()
    except AssertionError as failure:
        return str(failure)
    return ""


# ------------------------------------------------------------------------ servers


class _Servers:
    """One running server per configuration, for the whole session."""

    def __init__(self) -> None:
        self._running: dict[str, StubServer] = {}

    def get(self, pacts: Sequence[PactSource], host: str, options: Mapping[str, Any]) -> StubServer:
        key = json.dumps(
            {"pacts": [_identity(p) for p in pacts], "host": host, "options": options},
            sort_keys=True,
            default=str,
        )
        server = self._running.get(key)
        if server is None:
            from pactstub.errors import PactstubError
            from pactstub.testing.server import StubServer

            try:
                server = StubServer(pacts, host=host, check_on_exit=False, **options)
            except PactstubError as error:
                pytest.fail(f"pactstub: cannot serve {', '.join(map(str, pacts))}: {error}", pytrace=False)
            server.start()
            self._running[key] = server
        return server

    def stop(self) -> None:
        servers, self._running = list(self._running.values()), {}
        for server in servers:
            server.stop()


def _identity(pact: PactSource) -> Any:
    if isinstance(pact, Mapping):
        return pact
    if isinstance(pact, str | Path):
        return str(pact)
    # A loaded Pact: the same object is the same configuration.
    return f"{type(pact).__name__}@{id(pact)}"


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str | Path | Mapping):
        return [value]
    return list(value)


def _from_rootdir(config: pytest.Config, pact: Any) -> Any:
    if isinstance(pact, str | Path):
        return config.rootpath / pact
    return pact
