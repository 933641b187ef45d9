"""A Pact Broker for the tests, built from the broker's published HAL API.

No real broker can run here (it is a Ruby service), so this one answers the resources
pactstub uses, shaped as the broker documents them: the index and its templated links,
``POST .../for-verification`` with ``consumerVersionSelectors`` answering
``_embedded.pacts``, ``.../latest`` answering ``_links.pacts``, pact resources with
``_links`` (``pb:publish-verification-results``, ``pb:provider``) and interaction
``_id``\\s, the provider's ``pb:branch-version``, and basic or bearer authentication.
It records every request so tests can check what was sent.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

HAL = "application/hal+json;charset=utf-8"


@dataclass
class Published:
    """One consumer version's pact, as a broker stores it."""

    consumer: str
    provider: str
    version: str
    branch: str
    deployed: bool
    document: dict[str, Any]

    @property
    def sha(self) -> str:
        return hashlib.sha1(json.dumps(self.document, sort_keys=True).encode()).hexdigest()


@dataclass
class Recorded:
    method: str
    path: str
    authorization: str | None
    body: Any


@dataclass
class FakeBroker:
    """The broker's state and its WSGI app; ``url`` is set once it listens."""

    #: ("basic", user, password), ("bearer", token) or None for an open broker
    auth: tuple[str, ...] | None = None
    #: False plays a broker older than ``pb:provider-pacts-for-verification``
    for_verification: bool = True
    main_branch: str = "main"
    pacts: list[Published] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    #: verification results posted, as (pact sha, document)
    results: list[tuple[str, Any]] = field(default_factory=list)
    #: (pacticipant, branch, version) recorded through pb:branch-version
    branch_versions: list[tuple[str, str, str]] = field(default_factory=list)
    #: plain documents served at ``/files/<name>``, for pact URLs that are not broker resources
    files: dict[str, str] = field(default_factory=dict)
    url: str = ""

    def publish(
        self, document: dict[str, Any], version: str = "1.0.0", branch: str = "main", deployed: bool = False
    ) -> Published:
        stored = copy.deepcopy(document)
        for position, interaction in enumerate(stored.get("interactions", [])):
            interaction.setdefault("_id", f"id-{version}-{position}")
        published = Published(
            stored["consumer"]["name"], stored["provider"]["name"], version, branch, deployed, stored
        )
        self.pacts.append(published)
        return published

    def href(self, path: str) -> str:
        return self.url.rstrip("/") + path

    # ------------------------------------------------------------------ WSGI

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_json(silent=True) if request.data else None
        self.requests.append(
            Recorded(request.method, request.path, request.headers.get("Authorization"), body)
        )
        if not self._authorised(request.headers.get("Authorization")):
            answer = _json({"error": "unauthorised"}, 401)
            answer.headers["WWW-Authenticate"] = 'Basic realm="broker"'
            return answer(environ, start_response)
        adapter = _ROUTES.bind_to_environ(environ)
        try:
            endpoint, values = adapter.match()
        except HTTPException as error:
            return _json({"error": error.name}, error.code or 404)(environ, start_response)
        handler = getattr(self, f"_{endpoint}")
        return handler(request, body, **values)(environ, start_response)

    def _authorised(self, header: str | None) -> bool:
        if self.auth is None:
            return True
        if self.auth[0] == "bearer":
            return header == f"Bearer {self.auth[1]}"
        expected = base64.b64encode(f"{self.auth[1]}:{self.auth[2]}".encode()).decode()
        return header == f"Basic {expected}"

    def _index(self, request: Request, body: Any) -> Response:
        links: dict[str, Any] = {
            "self": {"href": self.href("/")},
            "pb:latest-provider-pacts": {
                "href": self.href("/pacts/provider/{provider}/latest"),
                "title": "Latest pacts by provider",
                "templated": True,
            },
        }
        if self.for_verification:
            links["pb:provider-pacts-for-verification"] = {
                "href": self.href("/pacts/provider/{provider}/for-verification"),
                "title": "Pact versions to be verified for the specified provider",
                "templated": True,
            }
        return _json({"_links": links})

    def _for_verification(self, request: Request, body: Any, provider: str) -> Response:
        if request.method == "GET":
            return _json({"_links": {"self": {"href": self.href(request.path)}}})
        if not self.for_verification:
            return _json({"error": "not found"}, 404)
        mine = [p for p in self.pacts if p.provider == provider]
        if not mine:
            return _json({"error": f"No provider with name '{provider}' found"}, 404)
        selectors = (body or {}).get("consumerVersionSelectors") or [{"mainBranch": True}]
        chosen: dict[str, tuple[Published, list[str]]] = {}
        for selector in selectors:
            for pact, why in _select(mine, selector, self.main_branch):
                chosen.setdefault(pact.sha, (pact, []))[1].append(why)
        pacts = [
            {
                "shortDescription": ", ".join(reasons),
                "verificationProperties": {"notices": [{"when": "before_verification", "text": "..."}]},
                "_links": {"self": {"href": self._pact_href(pact), "name": _title(pact)}},
            }
            for pact, reasons in chosen.values()
        ]
        return _json({"_embedded": {"pacts": pacts}, "_links": {"self": {"href": self.href(request.path)}}})

    def _latest(self, request: Request, body: Any, provider: str) -> Response:
        mine = [p for p in self.pacts if p.provider == provider]
        if not mine:
            return _json({"error": f"No provider with name '{provider}' found"}, 404)
        latest: dict[str, Published] = {}
        for pact in mine:
            latest[pact.consumer] = pact
        links = [
            {"href": self._pact_href(pact), "title": _title(pact), "name": pact.consumer}
            for pact in latest.values()
        ]
        return _json({"_links": {"self": {"href": self.href(request.path)}, "pacts": links}})

    def _pact(self, request: Request, body: Any, provider: str, consumer: str, sha: str) -> Response:
        pact = self._find(sha)
        if pact is None:
            return _json({"error": "no such pact"}, 404)
        document = copy.deepcopy(pact.document)
        document["_links"] = {
            "self": {"href": self._pact_href(pact), "title": "Pact"},
            "pb:provider": {"href": self.href(f"/pacticipants/{_q(pact.provider)}"), "name": pact.provider},
            "pb:consumer": {"href": self.href(f"/pacticipants/{_q(pact.consumer)}"), "name": pact.consumer},
            "pb:publish-verification-results": {
                "href": self._pact_href(pact) + "/verification-results",
                "title": "Publish verification results",
            },
        }
        return _json(document)

    def _results(self, request: Request, body: Any, provider: str, consumer: str, sha: str) -> Response:
        if self._find(sha) is None:
            return _json({"error": "no such pact"}, 404)
        self.results.append((sha, body))
        return _json({**(body or {}), "_links": {"self": {"href": self.href(request.path + "/1")}}}, 201)

    def _pacticipant(self, request: Request, body: Any, name: str) -> Response:
        if not any(name in (p.provider, p.consumer) for p in self.pacts):
            return _json({"error": "no such pacticipant"}, 404)
        base = f"/pacticipants/{_q(name)}"
        return _json(
            {
                "name": name,
                "_links": {
                    "self": {"href": self.href(base)},
                    "pb:branch-version": {
                        "href": self.href(base + "/branches/{branch}/versions/{version}"),
                        "templated": True,
                    },
                },
            }
        )

    def _branch_version(self, request: Request, body: Any, name: str, branch: str, version: str) -> Response:
        self.branch_versions.append((name, branch, version))
        return _json({"number": version, "_links": {"self": {"href": self.href(request.path)}}})

    def _file(self, request: Request, body: Any, name: str) -> Response:
        if name not in self.files:
            return _json({"error": "no such file"}, 404)
        return Response(self.files[name], content_type="application/json")

    def _find(self, sha: str) -> Published | None:
        return next((p for p in self.pacts if p.sha == sha), None)

    def _pact_href(self, pact: Published) -> str:
        return self.href(
            f"/pacts/provider/{_q(pact.provider)}/consumer/{_q(pact.consumer)}/pact-version/{pact.sha}"
        )


_ROUTES = Map(
    [
        Rule("/", endpoint="index", methods=["GET"]),
        Rule("/pacts/provider/<provider>/for-verification", endpoint="for_verification"),
        Rule("/pacts/provider/<provider>/latest", endpoint="latest", methods=["GET"]),
        Rule(
            "/pacts/provider/<provider>/consumer/<consumer>/pact-version/<sha>",
            endpoint="pact",
            methods=["GET"],
        ),
        Rule(
            "/pacts/provider/<provider>/consumer/<consumer>/pact-version/<sha>/verification-results",
            endpoint="results",
            methods=["POST"],
        ),
        Rule("/pacticipants/<name>", endpoint="pacticipant", methods=["GET"]),
        Rule("/files/<name>", endpoint="file", methods=["GET"]),
        Rule(
            "/pacticipants/<name>/branches/<branch>/versions/<version>",
            endpoint="branch_version",
            methods=["PUT"],
        ),
    ]
)


def _select(
    pacts: list[Published], selector: dict[str, Any], main_branch: str
) -> Iterator[tuple[Published, str]]:
    """The pacts one selector picks, with the broker-style reason."""
    candidates = [p for p in pacts if selector.get("consumer") in (None, p.consumer)]
    if selector.get("deployedOrReleased") or selector.get("deployed"):
        yield from ((p, "currently deployed") for p in candidates if p.deployed)
        return
    branch = main_branch if selector.get("mainBranch") else selector.get("branch")
    if branch is None:
        return
    latest: dict[str, Published] = {}
    for pact in candidates:
        if pact.branch == branch:
            latest[pact.consumer] = pact
    label = "latest from main branch" if selector.get("mainBranch") else f"latest from branch {branch}"
    yield from ((pact, label) for pact in latest.values())


def _title(pact: Published) -> str:
    return f"Pact between {pact.consumer} (v{pact.version}) and {pact.provider}"


def _q(name: str) -> str:
    return quote(name, safe="")


def _json(document: Any, status: int = 200) -> Response:
    return Response(json.dumps(document), status=status, content_type=HAL)


@contextmanager
def running(broker: FakeBroker) -> Iterator[FakeBroker]:
    """Serve ``broker`` on a free port of 127.0.0.1 until the block ends."""
    server = make_server("127.0.0.1", 0, broker, threaded=True)
    broker.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield broker
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
