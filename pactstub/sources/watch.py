"""Noticing that the pacts or templates a stub loaded have changed.

Files are compared by what ``stat`` says of every file loading would read (its
modification time, size and inode), taken before they are read and again every
moment after. ``stat`` follows symbolic links as reading does, so a file an editor
replaces by renaming a new one over it is seen, and so is a mounted folder whose
link is swapped for a new version (a Kubernetes ConfigMap), which change
notifications on the folder would not report, nor would they on many network and
container mounts. The cost is a few system calls a check.

Pacts at URLs and in a broker cannot tell anyone that they changed: they are fetched
again and compared by content.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from pactstub.sources import Fetched, SourceSpec, fetch_sources

__all__ = ["Snapshot", "Stamp", "changed", "digest", "fetch_remote", "has_remote", "snapshot"]

#: what ``stat`` says of one file (modification time, size, inode), ``None`` when it cannot be read
Stamp = tuple[int, int, int] | None
#: each file loading would read (as named), with its stamp
Snapshot = Mapping[str, Stamp]


def snapshot(spec: SourceSpec, templates: Path | None) -> dict[str, Stamp]:
    """The stamp of each pact file, each folder and its ``*.json`` files, and the templates folder's files.

    A folder's stamp says only whether it is there (and which it is): its modification
    time changes whenever any file in it comes or goes, an editor's swap file too.
    """
    folders = [*map(Path, spec.dirs), *([templates] if templates is not None else [])]
    stamps = {str(folder): _folder_stamp(folder) for folder in folders}
    files = [Path(name) for name in spec.files]
    for folder in map(Path, spec.dirs):
        files.extend(_pact_files(folder))
    if templates is not None:
        files.extend(_template_files(templates))
    stamps.update((str(path), _stamp(path)) for path in files)
    return stamps


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """The files whose stamp differs, or that appeared or went away."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def has_remote(spec: SourceSpec) -> bool:
    return bool(spec.urls or spec.broker)


def fetch_remote(spec: SourceSpec) -> list[Fetched]:
    """The pacts at ``spec``'s URLs and broker, fetched now (:class:`SourceError` if one fails)."""
    if not has_remote(spec):
        return []
    found = fetch_sources(replace(spec, files=(), dirs=()))
    return [item for item in found if isinstance(item, Fetched)]


def digest(fetched: Sequence[Fetched]) -> str:
    """A fingerprint of the documents and where each came from."""
    content = [[item.origin.location, item.document] for item in fetched]
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _stamp(path: Path) -> Stamp:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size, status.st_ino


def _folder_stamp(path: Path) -> Stamp:
    try:
        status = path.stat()
    except OSError:
        return None
    return 0, 0, status.st_ino


def _pact_files(folder: Path) -> Iterable[Path]:
    """The files :func:`~pactstub.sources.files.discover` would read in ``folder``."""
    try:
        with os.scandir(folder) as entries:
            return [folder / entry.name for entry in entries if entry.name.endswith(".json")]
    except OSError:
        return []  # the folder's own stamp says it is gone


def _template_files(root: Path) -> Iterable[Path]:
    """Every file under ``root`` but hidden ones (editors' swap files), which templates skip too."""
    try:
        return [
            path
            for path in root.rglob("*")
            if not any(part.startswith(".") for part in path.relative_to(root).parts) and not path.is_dir()
        ]
    except OSError:
        return []
