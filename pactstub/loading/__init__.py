"""Pact files in, validated model out: discover -> read -> validate -> parse."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from pactstub.errors import PactLoadError, Problem
from pactstub.loading.parse import parse_pact
from pactstub.loading.validate import schema_problems
from pactstub.model import Pact

PactSource = str | PathLike[str] | Mapping[str, Any] | Pact

__all__ = ["PactSource", "discover", "load_pacts"]


def discover(
    files: Iterable[str | PathLike[str]] = (), dirs: Iterable[str | PathLike[str]] = ()
) -> list[Path]:
    """The pact files named, then the ``*.json`` files of each folder in name order."""
    found = [Path(f) for f in files]
    problems: list[Problem] = []
    for folder in map(Path, dirs):
        if not folder.is_dir():
            problems.append(Problem(str(folder), "$", "not a folder"))
            continue
        try:  # listed here, not by glob, which passes over a folder it may not read
            with os.scandir(folder) as entries:
                names = sorted(entry.name for entry in entries if entry.name.endswith(".json"))
        except OSError as error:
            problems.append(Problem(str(folder), "$", f"cannot read folder: {error.strerror}"))
            continue
        found.extend(folder / name for name in names)
    if problems:
        raise PactLoadError(problems)
    return found


def load_pacts(sources: Iterable[PactSource]) -> list[Pact]:
    """Load every source; raise one :class:`PactLoadError` listing all problems."""
    pacts: list[Pact] = []
    problems: list[Problem] = []
    for index, source in enumerate(sources):
        if isinstance(source, Pact):
            pacts.append(source)
            continue
        if isinstance(source, Mapping):
            label, name, document = f"<pact {index}>", f"pact-{index}", source
        else:
            path = Path(source)
            label, name = str(path), path.stem
            try:
                document = json.loads(path.read_text(encoding="utf-8-sig"))
            except FileNotFoundError:
                problems.append(Problem(label, "$", "file not found"))
                continue
            except (OSError, UnicodeDecodeError) as error:
                problems.append(Problem(label, "$", f"cannot read file: {error}"))
                continue
            except json.JSONDecodeError as error:
                problems.append(
                    Problem(
                        label, "$", f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
                    )
                )
                continue
        found = schema_problems(document, label)
        if found:
            problems.extend(found)
            continue
        pact, found = parse_pact(document, label, name)
        problems.extend(found)
        pacts.append(pact)
    if problems:
        raise PactLoadError(problems)
    return pacts
