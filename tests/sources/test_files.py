"""Pact files and folders: named files first, then each folder's ``*.json`` in name order."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tests.sources.test_broker import listing, served


def test_files_then_folders_in_name_order(cli: CliRunner, epx_pact: Path) -> None:
    rows = served(listing(cli, "-f", str(epx_pact), "-d", str(epx_pact.parent)))
    names = [name for name, _ in rows]
    assert names == ["epx-epistemix"] * 16 + ["epx-s3"] * (len(names) - 16)
    assert names[-1] == "epx-s3"


def test_a_missing_folder_is_named(cli: CliRunner, tmp_path: Path) -> None:
    result = listing(cli, "--pact-dir", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert f"{tmp_path / 'nowhere'}: $: not a folder" in result.stderr


def test_nothing_to_load_is_a_usage_error(cli: CliRunner) -> None:
    result = listing(cli)
    assert result.exit_code == 2
    assert "give at least one --pact FILE, --pact-dir DIR, --pact-url URL" in result.stderr
