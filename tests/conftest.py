"""Fixtures shared by the whole suite: the repository's pacts and small pact builders."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
EPX_PACT = ROOT / "pacts" / "epx-epistemix.json"
S3_PACT = ROOT / "pacts" / "epx-s3.json"
TEMPLATES = ROOT / "templates"


@pytest.fixture
def epx_pact() -> Path:
    return EPX_PACT


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def pact_document(*interactions: dict[str, Any], version: str = "3.0.0") -> dict[str, Any]:
    """A pact with the given interactions (each gets a description if it has none)."""
    numbered = [{"description": f"interaction {i}", **it} for i, it in enumerate(interactions)]
    return {
        "consumer": {"name": "tests"},
        "provider": {"name": "provider"},
        "interactions": numbered,
        "metadata": {"pactSpecification": {"version": version}},
    }


@pytest.fixture
def write_pact(tmp_path: Path) -> Callable[..., Path]:
    """Write a pact document (or raw text) to a file in tmp_path and return its path."""

    def write(document: dict[str, Any] | str, name: str = "pact.json") -> Path:
        path = tmp_path / name
        path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
        return path

    return write


class ServeProcess:
    """``pactstub serve`` running as a subprocess on a real socket."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        import os
        import subprocess
        import sys

        self.process = subprocess.Popen(
            [sys.executable, "-m", "pactstub", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        assert self.process.stdout is not None
        self.banner = self.process.stdout.readline()
        if "serving" not in self.banner:
            self.stop()
            raise RuntimeError(f"pactstub serve did not start: {self.banner}{self.stderr}")
        self.url = self.banner.split("serving ", 1)[1].split()[0]
        self.stderr = ""

    def stop(self) -> int:
        import signal
        import subprocess

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        _, self.stderr = self.process.communicate()
        return self.process.returncode


@pytest.fixture
def serve() -> Any:
    """Start ``pactstub serve ARGS`` (remember to pass ``--port 0``); stopped after the test."""
    started: list[ServeProcess] = []

    def start(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> ServeProcess:
        process = ServeProcess(list(args), env, cwd)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
