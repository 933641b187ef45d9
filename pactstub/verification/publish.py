"""Verification results back to the broker, as the Pact verifier publishes them.

Each pact a broker serves links to ``pb:publish-verification-results``; the results
of that pact's interactions are POSTed there with the provider's version, whether
all passed, and one entry per interaction (``interactionId`` being the ``_id`` the
broker gave it) with its mismatches. With a provider branch, the provider version is
first put on that branch through the provider resource's ``pb:branch-version`` link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pactstub import __version__
from pactstub.errors import ConfigError, SourceError
from pactstub.matching.report import BODY_ROOT, Mismatch
from pactstub.sources import Credentials, HttpSettings, LoadedPact
from pactstub.verification import InteractionResult, VerificationResult

if TYPE_CHECKING:
    from pactstub.sources.http import HttpClient

PUBLISH = "pb:publish-verification-results"
PROVIDER = "pb:provider"
BRANCH_VERSION = "pb:branch-version"


@dataclass(frozen=True, slots=True)
class Publication:
    """What is said about the provider that was verified."""

    provider_version: str
    provider_branch: str | None = None
    build_url: str | None = None


def check_publishable(loaded: Sequence[LoadedPact]) -> None:
    """Refuse, before verifying anything, pacts that have nowhere to publish to."""
    lacking = [item.origin.label for item in loaded if PUBLISH not in item.origin.links]
    if lacking:
        raise ConfigError(
            f"--publish: no {PUBLISH} link in {', '.join(lacking)} "
            "(only pacts served by a Pact Broker can have results published)"
        )


def publish(
    result: VerificationResult,
    loaded: Sequence[LoadedPact],
    publication: Publication,
    credentials: Credentials,
    settings: HttpSettings | None = None,
) -> list[str]:
    """Publish each pact's results; returns the URLs posted to.

    Raises :class:`~pactstub.errors.SourceError` when the broker refuses or fails.
    """
    from pactstub.sources.http import HttpClient

    client = HttpClient(settings)
    posted: list[str] = []
    branched: set[str] = set()
    try:
        for item in loaded:
            client.authorise(item.origin.location, credentials)
            links = item.origin.links
            if publication.provider_branch and links.get(PROVIDER) not in branched:
                _put_on_branch(client, links, publication)
                branched.add(links.get(PROVIDER, ""))
            mine = [r for r in result.interactions if r.source == item.pact.source]
            client.send("POST", links[PUBLISH], results_document(mine, item, publication), repeatable=False)
            posted.append(links[PUBLISH])
    finally:
        client.close()
    return posted


def _put_on_branch(client: HttpClient, links: Mapping[str, str], publication: Publication) -> None:
    provider_url = links.get(PROVIDER)
    if provider_url is None:
        raise SourceError(links[PUBLISH], f"the pact has no {PROVIDER} link to record the provider branch")
    provider = client.get_json(provider_url)
    link = provider.get("_links", {}).get(BRANCH_VERSION) if isinstance(provider, Mapping) else None
    href = link.get("href") if isinstance(link, Mapping) else None
    if not isinstance(href, str):
        raise SourceError(provider_url, f"has no {BRANCH_VERSION} link (a Pact Broker older than 2.86?)")
    url = href.replace("{branch}", quote(publication.provider_branch or "", safe="")).replace(
        "{version}", quote(publication.provider_version, safe="")
    )
    client.send("PUT", url, {})


def results_document(
    results: Sequence[InteractionResult], item: LoadedPact, publication: Publication
) -> dict[str, Any]:
    """The body the broker takes: overall success, the version, and per-interaction results."""
    document: dict[str, Any] = {
        "success": all(r.passed for r in results),
        "providerApplicationVersion": publication.provider_version,
        "verifiedBy": {"implementation": "pactstub", "version": __version__},
        "testResults": [_test_result(r, item.origin.interaction_ids) for r in results],
    }
    if publication.build_url:
        document["buildUrl"] = publication.build_url
    return document


def _test_result(result: InteractionResult, ids: Sequence[str | None]) -> dict[str, Any]:
    entry: dict[str, Any] = {"interactionDescription": result.description, "success": result.passed}
    if result.index < len(ids) and ids[result.index] is not None:
        entry["interactionId"] = ids[result.index]
    if result.mismatches:
        entry["mismatches"] = [_mismatch(m) for m in result.mismatches]
    if result.error is not None:
        entry["exceptions"] = [{"message": result.error}]
    return entry


def _mismatch(mismatch: Mismatch) -> dict[str, Any]:
    """``{"attribute", "identifier", "description"}``, as the broker shows a mismatch."""
    attribute = "body" if mismatch.kind.startswith("body") else mismatch.kind
    entry: dict[str, Any] = {"attribute": attribute, "description": mismatch.message}
    location = mismatch.location
    if attribute == "body" and location.startswith(BODY_ROOT):
        entry["identifier"] = "$" + location[len(BODY_ROOT) :]
    elif attribute in ("header", "query") and location.startswith(attribute + " "):
        entry["identifier"] = location[len(attribute) + 1 :]
    return entry
