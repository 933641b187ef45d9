"""Long commands show how far they have got on a terminal, and write nothing more when piped.

The commands run as a person runs them, with stderr on a pseudo-terminal (or on a pipe).
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from pactstub.state.store import Store
from tests.conftest import EPX_PACT, TEMPLATES

RECORDS = 5000
VERIFY = ["verify", "--pact", str(EPX_PACT), "--templates", str(TEMPLATES)]


def run(args: list[str], *, terminal: bool) -> tuple[str, str, int]:
    """``pactstub ARGS``: its stdout (a pipe), its stderr (a terminal or a pipe), its exit code."""
    command = [sys.executable, "-m", "pactstub", *args]
    env = {**os.environ, "COLUMNS": "200"}
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
        return done.stdout, done.stderr, done.returncode
    reader, writer = pty.openpty()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=writer, stdin=subprocess.DEVNULL, env=env
    )
    os.close(writer)
    seen = bytearray()
    try:
        while chunk := os.read(reader, 65536):
            seen += chunk
    except OSError:  # the terminal's last writer has gone
        pass
    finally:
        os.close(reader)
    assert process.stdout is not None
    stdout = process.stdout.read().decode()
    process.stdout.close()
    return stdout, seen.decode(), process.wait(timeout=120)


@pytest.fixture
def big_store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'big.sqlite3'}"
    document = {
        "version": 2,
        "counters": [],
        "records": [
            {"session": "default", "collection": "runs", "id": n, "data": {"id": n, "status": "DONE"}}
            for n in range(1, RECORDS + 1)
        ],
    }
    with Store(url) as store:
        store.import_(document)
    return url


def test_export_and_import_show_progress_on_a_terminal(big_store: str, tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    stdout, terminal, code = run(["state", "export", str(target), "--database-url", big_store], terminal=True)
    assert code == 0, terminal
    assert f"exporting records {RECORDS}/{RECORDS} 100%" in terminal
    assert terminal.endswith("\r\x1b[K"), "the progress line is gone at the end"
    assert f"{RECORDS} records to {target}" in stdout
    assert len(json.loads(target.read_text())["records"]) == RECORDS

    copy = f"sqlite:///{tmp_path / 'copy.sqlite3'}"
    stdout, terminal, code = run(["state", "import", str(target), "--database-url", copy], terminal=True)
    assert code == 0, terminal
    rows = 3 * RECORDS  # each record and its two index entries
    assert f"importing {target} {rows}/{rows} 100%" in terminal
    assert stdout == f"imported {target}\n"


def test_export_and_import_are_quiet_when_piped(big_store: str, tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    _, stderr, code = run(["state", "export", str(target), "--database-url", big_store], terminal=False)
    assert (code, stderr) == (0, "")
    copy = f"sqlite:///{tmp_path / 'copy.sqlite3'}"
    _, stderr, code = run(["state", "import", str(target), "--database-url", copy], terminal=False)
    assert (code, stderr) == (0, "")


def test_verify_shows_progress_above_its_results_on_a_terminal() -> None:
    stdout, terminal, code = run(
        ["verify", "--pact", str(EPX_PACT), "--templates", str(TEMPLATES)], terminal=True
    )
    interactions = len(json.loads(EPX_PACT.read_text())["interactions"])
    assert f"verifying {interactions}/{interactions} 100%" in terminal
    assert "verifying 1/" in terminal, "drawn as the interactions are verified"
    assert (code, stdout.splitlines()[-1]) == (0, f"{interactions} passed, 0 failed")
    assert len([line for line in stdout.splitlines() if line.startswith("  ")]) == interactions
    assert "\r" not in stdout, "the results themselves are plain lines"


def test_verify_is_quiet_when_piped() -> None:
    stdout, stderr, code = run(
        ["verify", "--pact", str(EPX_PACT), "--templates", str(TEMPLATES)], terminal=False
    )
    assert (code, stderr) == (0, "")
    assert stdout.splitlines()[-1].endswith(" passed, 0 failed")
