"""Pact files and folders of pact files on this machine."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from os import PathLike
from pathlib import Path

from pactstub.errors import PactLoadError, Problem
from pactstub.sources.origin import Fetched, Origin


def discover(
    files: Iterable[str | PathLike[str]] = (), dirs: Iterable[str | PathLike[str]] = ()
) -> list[Path]:
    """The pact files named, then the ``*.json`` files of each folder in name order.

    A file reached twice (named and in a folder given too, or through two spellings of
    one path) is loaded once, where it first appears: twice, its interactions would all
    be reported as shadowed by themselves.
    """
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
    seen: set[Path] = set()
    unique = []
    for path in found:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def read_file(path: Path) -> Fetched | Problem:
    """The file's JSON document, or the one problem that keeps it from being read."""
    label = str(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        return Problem(label, "$", "file not found")
    except (OSError, UnicodeDecodeError) as error:
        return Problem(label, "$", f"cannot read file: {error}")
    except json.JSONDecodeError as error:
        return Problem(label, "$", f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}")
    return Fetched(document, Origin("file", label, path.name), path.stem)
