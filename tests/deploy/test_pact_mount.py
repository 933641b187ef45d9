"""A pact folder mounted where the service's user cannot read it: a deploy mistake, told in one line.

The container test shows it in the image; this one shows it wherever the tests run, as an
unprivileged user (``setpriv`` drops root's right to read every folder).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EPX_PACT

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def as_unprivileged_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to run pactstub as a user without root's rights")
    probe = subprocess.run([*NOBODY, sys.executable, "-c", "pass"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"this Python cannot run as an unprivileged user: {probe.stderr.decode().strip()}")
    return [*NOBODY, *command]


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A temporary folder any user may enter (pytest's own are its owner's only)."""
    folder = Path(tempfile.mkdtemp(prefix="pactstub-mount-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def test_an_unreadable_pact_folder_stops_serve_with_one_line_naming_it(open_folder: Path) -> None:
    pacts = open_folder / "pacts"
    pacts.mkdir()
    shutil.copy(EPX_PACT, pacts)
    pacts.chmod(0o700 if os.geteuid() == 0 else 0o000)  # root's own; or closed even to its owner
    serve = [sys.executable, "-m", "pactstub", "serve", "--pact-dir", str(pacts), "--port", "0"]
    command = as_unprivileged_user([*serve, "--database-url", "sqlite://"])
    try:
        result = subprocess.run(
            command, cwd=open_folder, capture_output=True, text=True, timeout=60, check=False
        )
    finally:
        pacts.chmod(0o700)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"pactstub: error: invalid pact: {pacts}: $: cannot read folder: Permission denied"
    ]
