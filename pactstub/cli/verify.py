"""``pactstub verify``: replay a pact's requests against a provider and check the responses.

Exit status: 0 when every interaction passed, 1 when one failed, 2 for bad
input (unreadable pact, bad option), 3 when the provider cannot be reached.
"""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

import click

from pactstub.cli.options import templates_option, with_user_errors
from pactstub.cli.progress import Progress
from pactstub.cli.sources import load_from_options, pact_options
from pactstub.sources import LoadedPact, SourceSpec

if TYPE_CHECKING:
    from pactstub.verification.publish import Publication

#: a header name as RFC 9110 allows it (a "token")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _parse_headers(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for text in values:
        name, equals, value = text.partition("=")
        name = name.strip()
        if not equals or not _TOKEN.match(name) or any(c in value for c in "\r\n"):
            raise click.BadParameter(f"{text!r} is not KEY=VALUE with a valid header name", ctx, param)
        headers.append((name, value.strip()))
    return headers


@click.command()
@pact_options
@click.option(
    "--provider-base-url",
    metavar="URL",
    envvar="PACTSTUB_PROVIDER_BASE_URL",
    help="Provider to verify, e.g. http://localhost:8080 [default: pactstub itself, in process].",
)
@templates_option
@click.option(
    "--provider-states-setup-url",
    metavar="URL",
    envvar="PACTSTUB_PROVIDER_STATES_SETUP_URL",
    help='POST {"consumer", "state", "states", "params", "action": "setup"|"teardown"} here '
    "around each interaction, once per provider state.",
)
@click.option("--filter-description", metavar="REGEX", help="Only interactions whose description matches.")
@click.option("--filter-state", metavar="REGEX", help="Only interactions with a provider state that matches.")
@click.option("--filter-no-state", is_flag=True, help="Only interactions without a provider state.")
@click.option(
    "--header",
    "headers",
    multiple=True,
    metavar="KEY=VALUE",
    callback=_parse_headers,
    help="Header added to every request, replacing the pact's (repeatable).",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for each response.",
)
@click.option(
    "--json", "json_report", type=click.Path(dir_okay=False), metavar="FILE", help="Write a JSON report."
)
@click.option(
    "--junit",
    "junit_report",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write a JUnit XML report.",
)
@click.option(
    "--publish",
    is_flag=True,
    help="Publish the results to each pact's broker (pacts from --broker-url or broker --pact-url).",
)
@click.option(
    "--provider-version",
    metavar="VERSION",
    envvar="PACTSTUB_PROVIDER_VERSION",
    help="Version of the provider verified (needed by --publish).",
)
@click.option(
    "--provider-branch",
    metavar="BRANCH",
    envvar="PACTSTUB_PROVIDER_BRANCH",
    help="Branch of the provider verified: recorded on publishing, and sent to the broker for selectors.",
)
@click.option(
    "--build-url",
    metavar="URL",
    envvar="PACTSTUB_BUILD_URL",
    help="CI build to link the published results to.",
)
@with_user_errors
def verify(
    sources: SourceSpec,
    provider_base_url: str | None,
    templates: str | None,
    provider_states_setup_url: str | None,
    filter_description: str | None,
    filter_state: str | None,
    filter_no_state: bool,
    headers: list[tuple[str, str]],
    request_timeout: float,
    json_report: str | None,
    junit_report: str | None,
    publish: bool,
    provider_version: str | None,
    provider_branch: str | None,
    build_url: str | None,
) -> None:
    """Check that a provider answers every interaction of the pacts as the contract says.

    Each interaction's request is replayed (its generators applied) and the
    response is checked against the expected one with its matching rules;
    extra keys in response bodies are allowed. Without --provider-base-url,
    pactstub itself is verified with the --templates folder and a fresh
    in-memory store, which shows that templates and state stay within the
    contract.
    """
    from pactstub.verification import InteractionResult
    from pactstub.verification import verify as run
    from pactstub.verification.report import ASCII_MARKS, PASS_MARKS, interaction_lines, summary_line

    if filter_state is not None and filter_no_state:
        raise click.UsageError("--filter-state and --filter-no-state exclude each other")
    filtered = filter_description is not None or filter_state is not None or filter_no_state
    publication = _publication(
        publish, provider_version, provider_branch, build_url, provider_base_url, filtered
    )
    loaded = _load(sources, provider_branch, publication)
    pacts = [item.pact for item in loaded]
    marks = PASS_MARKS if _can_print("".join(PASS_MARKS)) else ASCII_MARKS
    current: list[str] = []
    progress = Progress("verifying")
    failed = 0

    def show(result: InteractionResult) -> None:
        nonlocal failed
        if current != [result.source]:
            current[:] = [result.source]
            progress.echo(f"{result.pact}:")
        progress.echo("\n".join(interaction_lines(result, marks)))
        failed += not result.passed
        progress.advance(note=f"({failed} failed)" if failed else None)

    with progress:
        result = run(
            pacts,
            provider_base_url,
            templates=templates if provider_base_url is None else None,
            provider_states_setup_url=provider_states_setup_url,
            filter_description=filter_description,
            filter_state=filter_state,
            filter_no_state=filter_no_state,
            headers=headers,
            request_timeout=request_timeout,
            on_result=show,
            on_start=lambda total: progress.update(0, total),
        )
    click.echo(summary_line(result))
    if json_report:
        from pactstub.verification.report import write_json

        write_json(json_report, result)
    if junit_report:
        from pactstub.verification.report import write_junit

        write_junit(junit_report, result)
    if publication is not None:
        from pactstub.verification.publish import publish as send

        for url in send(result, loaded, publication, sources.credentials):
            click.echo(f"published the results to {url}")
    sys.exit(0 if result.passed else 1)


def _load(sources: SourceSpec, branch: str | None, publication: Publication | None) -> list[LoadedPact]:
    """The pacts, asked of the broker for this provider branch; all publishable when publishing."""
    if branch and sources.broker is not None:
        sources = replace(sources, broker=replace(sources.broker, provider_branch=branch))
    loaded = load_from_options(sources)
    if publication is not None:
        from pactstub.verification.publish import check_publishable

        check_publishable(loaded)
    return loaded


def _publication(
    publish: bool,
    version: str | None,
    branch: str | None,
    build_url: str | None,
    provider_base_url: str | None,
    filtered: bool,
) -> Publication | None:
    """What --publish says about the provider, refusing what would publish a wrong result."""
    from pactstub.verification.publish import Publication

    if not publish:
        return None
    if not version:
        raise click.UsageError("--publish needs --provider-version VERSION")
    if provider_base_url is None:
        raise click.UsageError(
            "--publish needs --provider-base-url: results of pactstub itself are not published"
        )
    if filtered:
        raise click.UsageError("--publish cannot be used with --filter-*: part of a pact is not the pact")
    return Publication(version, branch or None, build_url or None)


def _can_print(text: str) -> bool:
    try:
        text.encode(getattr(sys.stdout, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
