"""Lifecycle definitions from the templates folder: ``<pact stem>/_lifecycles.yaml`` (or ``.json``).

A file maps collection names to lifecycles (see :mod:`pactstub.state.lifecycle`)::

    runs:
      field: status
      states:
        QUEUED:  {reads: 1, set: {podPhase: Pending}}
        RUNNING: {reads: 1, set: {podPhase: Running}, fail: {rate: 0.1, to: ERROR}}
        DONE:    {set: {podPhase: Succeeded}}
        ERROR:   {set: {podPhase: Failed}}

YAML, because people write these by hand and YAML (a superset of JSON) remembers where
each value stands: every mistake stops start-up with the file, the line and what is
wrong. The shape is checked with a JSON Schema, the meaning (a ``next`` that names no
state) here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from pactstub.errors import TemplateError
from pactstub.state.lifecycle import Lifecycle, Stage

__all__ = ["FILE_NAMES", "load_lifecycles"]

#: The names a lifecycle file may have in a pact's templates folder.
FILE_NAMES = ("_lifecycles.yaml", "_lifecycles.yml", "_lifecycles.json")


@cache
def _validator() -> Draft202012Validator:
    text = files("pactstub.render").joinpath("schemas/lifecycles.schema.json").read_text("utf-8")
    return Draft202012Validator(json.loads(text))


def load_lifecycles(folder: Path | None, pact_names: Sequence[str]) -> dict[str, Lifecycle]:
    """Every lifecycle defined for the pacts served, by collection.

    Raises :class:`TemplateError` (file and line) for a file that is not YAML, does not
    fit the schema, names a state that does not exist, or defines a collection that
    another file already defines.
    """
    found: dict[str, Lifecycle] = {}
    if folder is None:
        return found
    for pact in dict.fromkeys(pact_names):
        for name in FILE_NAMES:
            path = Path(folder) / pact / name
            if not path.is_file():
                continue
            for lifecycle in _read(path):
                if lifecycle.collection in found:
                    other = found[lifecycle.collection].source
                    raise TemplateError(
                        str(path), f"collection {lifecycle.collection!r} already has a lifecycle in {other}"
                    )
                found[lifecycle.collection] = lifecycle
    return found


def _read(path: Path) -> list[Lifecycle]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateError(str(path), f"cannot read the lifecycles: {error}") from error
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise TemplateError(str(path), f"not valid YAML: {problem}", line) from error
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        first = errors[0]
        where = _json_path(first.absolute_path)
        raise TemplateError(str(path), f"{where}: {first.message}", _line(node, first.absolute_path))
    lifecycles = []
    for collection, definition in (document or {}).items():
        lifecycles.append(_lifecycle(path, node, collection, definition))
    return lifecycles


def _lifecycle(
    path: Path, node: yaml.Node | None, collection: str, definition: Mapping[str, Any]
) -> Lifecycle:
    states: Mapping[str, Any] = definition["states"]
    names = list(states)
    stages: dict[str, Stage] = {}
    for position, (name, given) in enumerate(states.items()):
        raw = given or {}
        following = names[position + 1] if position + 1 < len(names) else None
        moves = "reads" in raw or "seconds" in raw
        target = raw.get("next", following) if moves else None
        fail = raw.get("fail") or {}
        for key, value in (("next", target), ("fail.to", fail.get("to"))):
            if value is not None and value not in states:
                at = (collection, "states", name, *key.split("."))
                raise TemplateError(
                    str(path),
                    f"{_json_path(at)}: {value!r} is not a state of {collection!r} "
                    f"(states: {', '.join(names)})",
                    _line(node, at),
                )
        if moves and target is None:
            at = (collection, "states", name)
            raise TemplateError(
                str(path),
                f"{_json_path(at)}: the last state lasts some reads or seconds but has no 'next' state",
                _line(node, at),
            )
        stages[name] = Stage(
            name=name,
            reads=raw.get("reads"),
            seconds=raw.get("seconds"),
            next=target,
            fail_rate=float(fail.get("rate", 0.0)),
            fail_to=fail.get("to"),
            set=dict(raw.get("set") or {}),
        )
    return Lifecycle(collection, definition["field"], stages, source=str(path))


def _json_path(steps: Sequence[Any]) -> str:
    return "$" + "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in steps)


def _line(node: yaml.Node | None, steps: Sequence[Any]) -> int | None:
    """The 1-based line of the value at ``steps`` (as far as the path reaches), for messages."""
    line = node.start_mark.line + 1 if node is not None else None
    for step in steps:
        if isinstance(node, yaml.MappingNode):
            match = next((value for key, value in node.value if key.value == str(step)), None)
            key_node = next((key for key, value in node.value if key.value == str(step)), None)
            if match is None or key_node is None:
                return line
            node, line = match, key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line
