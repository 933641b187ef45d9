"""Pact files and folders: named files first, then each folder's ``*.json`` in name order."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tests.conftest import S3_PACT, interactions_in
from tests.sources.test_broker import listing, served


def test_files_then_folders_in_name_order(cli: CliRunner, epx_pact: Path) -> None:
    rows = served(listing(cli, "-f", str(epx_pact), "-d", str(epx_pact.parent)))
    names = [name for name, _ in rows]
    epx, s3 = interactions_in(epx_pact), interactions_in(S3_PACT)
    # the named file, then the folder's other files in name order: the named one is not loaded again
    assert names == ["epx-epistemix"] * epx + ["epx-s3"] * s3


def test_a_missing_folder_is_named(cli: CliRunner, tmp_path: Path) -> None:
    result = listing(cli, "--pact-dir", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert f"{tmp_path / 'nowhere'}: $: not a folder" in result.stderr


def test_nothing_to_load_is_a_usage_error(cli: CliRunner) -> None:
    result = listing(cli)
    assert result.exit_code == 2
    assert "give at least one --pact FILE, --pact-dir DIR, --pact-url URL" in result.stderr
