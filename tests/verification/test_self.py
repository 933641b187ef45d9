"""``pactstub verify`` without a provider URL: pactstub itself, with its templates, on a fresh store."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pactstub.cli import main
from pactstub.verification import verify
from tests.conftest import EPX_PACT, TEMPLATES
from tests.verification.conftest import product_interaction, v3_pact

WritePact = Callable[..., Path]


def tiny_pact() -> dict[str, Any]:
    interaction = product_interaction("a product")
    interaction["response"]["matchingRules"] = {"body": {"$.id": {"matchers": [{"match": "integer"}]}}}
    return v3_pact(interaction)


@pytest.mark.skipif(not any(TEMPLATES.glob("epx-epistemix/*.json.j2")), reason="templates not written yet")
def test_the_epistemix_contract_holds_for_the_shipped_templates(cli: CliRunner) -> None:
    result = cli.invoke(main, ["verify", "--pact", str(EPX_PACT), "--templates", str(TEMPLATES)])
    assert result.exit_code == 0, result.output
    assert "17 passed, 0 failed" in result.output
    assert "✓ a run submission request" in result.output


def test_the_epistemix_contract_holds_for_its_examples(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(main, ["verify", "--pact", str(EPX_PACT)])
    assert result.exit_code == 0, result.output
    assert "17 passed, 0 failed" in result.output


def test_a_pact_without_templates_passes_as_a_library_call() -> None:
    result = verify(tiny_pact())
    assert result.passed
    assert result.summary == "1 passed, 0 failed"
    assert result.provider_base_url is None
    [item] = result.interactions
    assert (item.description, item.pact, item.passed, item.mismatches, item.error) == (
        "a product",
        "pact-0",
        True,
        (),
        None,
    )


def write_templates(root: Path, pact_stem: str, bodies: dict[str, str]) -> Path:
    folder = root / "templates"
    (folder / pact_stem).mkdir(parents=True)
    for slug, body in bodies.items():
        (folder / pact_stem / f"{slug}.json.j2").write_text(body, encoding="utf-8")
    return folder


def test_a_template_that_breaks_the_contract_fails(
    cli: CliRunner, write_pact: WritePact, tmp_path: Path
) -> None:
    pact = write_pact(tiny_pact(), "tiny.json")
    templates = write_templates(tmp_path, "tiny", {"a-product": '{"id": "ten", "name": "pen", "price": 1.5}'})
    result = cli.invoke(main, ["verify", "--pact", str(pact), "--templates", str(templates)])
    assert result.exit_code == 1
    assert "✗ a product" in result.output
    assert "$.body.id -> Expected 'ten' (String) to be an integer" in result.output
    library = verify([pact], templates=templates)
    [mismatch] = library.interactions[0].mismatches
    assert (mismatch.kind, mismatch.location, mismatch.actual) == ("body", "$.body.id", "ten")


def test_templates_in_the_working_directory_are_used_by_default(
    cli: CliRunner, write_pact: WritePact, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pact = write_pact(tiny_pact(), "tiny.json")
    write_templates(tmp_path, "tiny", {"a-product": '{"id": 10, "price": 1.5}'})
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(main, ["verify", "--pact", str(pact)])
    assert result.exit_code == 1
    assert "missing the following keys: name" in result.output


def test_provider_states_pick_the_interaction_being_verified(write_pact: WritePact) -> None:
    """Two interactions with the same request differ by provider state; each is checked as itself."""
    found = product_interaction("found", providerStates=[{"name": "pen 10 exists"}])
    gone = product_interaction("gone", providerStates=[{"name": "pen 10 was deleted"}])
    gone["response"] = {"status": 404, "body": {"error": "gone"}}
    result = verify(write_pact(v3_pact(found, gone)))
    assert [(i.description, i.passed) for i in result.interactions] == [("found", True), ("gone", True)]


def test_json_report_of_a_self_check(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(main, ["verify", "--pact", str(EPX_PACT), "--json", "report.json"])
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert document["provider_base_url"] is None
    assert document["summary"]["total"] == 17
