"""``pactstub list-interactions``: the table and the stable JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from pactstub.cli import main
from tests.conftest import pact_document


def test_json_lists_every_interaction_with_what_tells_it_apart(cli: CliRunner, epx_pact: Path) -> None:
    result = cli.invoke(main, ["list-interactions", "--pact", str(epx_pact), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["method"], r["path"]) for r in rows] == [
        ("POST", "/jobs/register"),
        ("POST", "/jobs"),
        ("POST", "/jobs"),
        ("POST", "/jobs"),
        ("POST", "/runs"),
        ("GET", "/runs"),
        ("GET", "/runs"),
        ("GET", "/jobs/results"),
        ("POST", "/runs/retry"),
        ("PATCH", "/runs"),
        ("GET", "/jobs/me"),
        ("GET", "/jobs/me"),
        ("GET", "/jobs"),
        ("GET", "/jobs"),
        ("GET", "/jobs"),
        ("DELETE", "/jobs/123"),
        ("DELETE", "/jobs/123"),
    ]
    assert [r["shadowed_by"] for r in rows] == [None] * 17, "each interaction wins its own example"
    assert [r["distinguished_by"] for r in rows[:8]] == [
        [],
        ["body"],
        ["body"],
        ["body"],
        [],
        ["query"],
        ["query"],
        [],
    ]
    assert rows[5]["query"] == "job_id=123"
    assert set(rows[0]) >= {"index", "description", "provider_states", "status", "template"}


def test_table_has_one_row_per_interaction(cli: CliRunner, epx_pact: Path) -> None:
    result = cli.invoke(main, ["list-interactions", "--pact", str(epx_pact)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].split()[:3] == ["#", "METHOD", "PATH"]
    assert "SHADOWED BY  APART BY" in lines[0]
    assert len(lines) == 18
    assert "/runs?job_id=123" in lines[6]
    assert lines[2].split()[-3:] == ["-", "body", "yes"]
    assert "shadowed" not in result.output


def test_a_shadowed_interaction_is_named_with_the_one_that_wins(
    cli: CliRunner, write_pact: Callable[..., Path]
) -> None:
    def hello(description: str) -> dict[str, Any]:
        return {"description": description, "request": {"method": "GET", "path": "/hello"}, "response": {}}

    pact = write_pact(pact_document(hello("a greeting"), hello("the same greeting again")))
    listed = json.loads(cli.invoke(main, ["list-interactions", "--pact", str(pact), "--json"]).output)
    assert [row["shadowed_by"] for row in listed] == [None, {"index": 0, "description": "a greeting"}]
    assert [row["distinguished_by"] for row in listed] == [[], []], "nothing tells them apart"
    table = cli.invoke(main, ["list-interactions", "--pact", str(pact)]).output.splitlines()
    assert table[2].split()[-3:] == ["#0", "-", "-"]
    assert table[-1] == (
        "#1 'the same greeting again' is shadowed by #0 'a greeting': "
        "its own example request is answered by that one"
    )


def test_a_pact_dir_loads_every_json_file(cli: CliRunner, epx_pact: Path) -> None:
    result = cli.invoke(main, ["list-interactions", "--pact-dir", str(epx_pact.parent), "--json"])
    assert result.exit_code == 0, result.output
    assert {r["pact"] for r in json.loads(result.output)} == {"epx-epistemix", "epx-s3"}


def test_no_pact_given_is_a_usage_error(cli: CliRunner) -> None:
    result = cli.invoke(main, ["list-interactions"])
    assert result.exit_code == 2
    assert "--pact" in result.output


def test_message_interactions_of_a_v4_pact_are_reported_and_skipped(cli: CliRunner, tmp_path: Path) -> None:
    pact = tmp_path / "v4.json"
    document = {
        "interactions": [
            {
                "type": "Synchronous/HTTP",
                "description": "a call",
                "request": {"method": "GET", "path": "/"},
                "response": {},
            },
            {"type": "Asynchronous/Messages", "description": "an event", "contents": {"content": "x"}},
        ],
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }
    pact.write_text(json.dumps(document), encoding="utf-8")
    result = cli.invoke(main, ["list-interactions", "--pact", str(pact), "--json"])
    assert result.exit_code == 0
    assert [row["description"] for row in json.loads(result.stdout)] == ["a call"]
    assert "skipped a non-HTTP interaction: an event (Asynchronous/Messages)" in result.stderr
