"""XML body matching with the standard library's ElementTree.

Paths follow the Pact specification cases: an element is reached by its
name (``$.animals.alligator``), an attribute by ``@name``
(``$.animals.alligator['@phoneNumber']``) and an element's text by ``#text``.
Some pacts instead address children by position, as if the parent were an
array of its children (``$.animals[*].alligator``, ``$.animals.0``), so every
location is also spelled that way and a rule may fit either spelling.
Children are grouped by name: siblings with different names may come in any
order, repeated children with one name compare in order, or all against the
first example when a type rule covers them. Namespaces compare by URI, never
by prefix.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import NamedTuple

from pactstub.matching import rules as r
from pactstub.matching.actual import ActualBody
from pactstub.matching.ruletable import either
from pactstub.matching.walk import Location, Walk
from pactstub.model import ChosenRule, Matcher, RuleState


class At(NamedTuple):
    """One location in two spellings (by names, and with sibling positions), with the rules at each."""

    names: Location
    indexed: Location
    by_names: RuleState
    by_index: RuleState

    def chosen(self) -> ChosenRule | None:
        return either(self.by_names, self.by_index)

    def typed(self) -> bool:
        return self.by_names.typed or self.by_index.typed


def _name(tag: str) -> str:
    """``{urn:x}alligator`` -> ``urn:x:alligator``; un-namespaced names stay as they are."""
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return f"{uri}:{local}"
    return tag


def compare_xml(walk: Walk, expected: ET.Element, source: str, actual: ActualBody) -> None:
    """Compare an XML body with the pact's (``source``, parsed at load into ``expected``).

    A received document that does not parse is reported, not raised.
    """
    got = actual.xml()
    if isinstance(got, str):
        walk.add((), source, actual.text(), f"Failed to parse the actual body: '{got}'")
        return
    name = _name(expected.tag)
    state = walk.root.child(name)
    _element(walk, At((name,), (name,), state, state), expected, got)


def _join(at: At, step: str, position: int | None = None) -> At:
    names, indexed, by_names, by_index = at
    if position is None:
        return At((*names, step), (*indexed, step), by_names.child(step), by_index.child(step))
    indexed_state = by_index.child(position).child(step)
    return At((*names, step), (*indexed, position, step), by_names.child(step), indexed_state)


def _element(walk: Walk, at: At, expected: ET.Element, actual: ET.Element) -> None:
    chosen = at.chosen()
    if chosen is not None:
        messages = r.apply(chosen.rules, _check_element, expected, actual, chosen.cascaded)
    elif expected.tag != actual.tag:
        messages = [f"Expected '{_name(actual.tag)}' to be equal to '{_name(expected.tag)}'"]
    else:
        messages = []
    for message in messages:
        walk.add(at[0], _name(expected.tag), _name(actual.tag), message)
    if not messages:
        _attributes(walk, at, expected, actual)
        _children(walk, at, expected, actual)
        _value(walk, _join(at, "#text"), _own_text(expected), _own_text(actual))


def _check_element(matcher: Matcher, expected: ET.Element, actual: ET.Element, cascaded: bool) -> str | None:
    """Structural rules look at the element's name and children; value rules at its text."""
    kind = matcher.kind
    if kind in ("type", "equality", "min", "max", "minmax"):
        if expected.tag != actual.tag:
            return f"Expected '{_name(actual.tag)}' to be the same type as '{_name(expected.tag)}'"
        if kind == "equality" or cascaded:
            return None
        return r.size_problem(
            matcher, len(actual), f"<{_name(actual.tag)}> with {len(actual)} child element(s)"
        )
    if kind == "notEmpty":
        empty = len(actual) == 0 and not _own_text(actual)
        return f"Expected '{_name(actual.tag)}' to have at least one child" if empty else None
    return r.check_text(matcher, _own_text(expected), _own_text(actual), cascaded)


def _attributes(walk: Walk, at: At, expected: ET.Element, actual: ET.Element) -> None:
    wanted = {_name(k): v for k, v in expected.attrib.items()}
    got = {_name(k): v for k, v in actual.attrib.items()}
    if not wanted and got and walk.strict:
        walk.add(at[0], wanted, got, f"Did not expect any attributes but received {got}")
        return
    if not walk.strict and len(wanted) > len(got):
        message = f"Expected at least {len(wanted)} attribute(s) but received {len(got)} attribute(s)"
        walk.add(at[0], wanted, got, message)
    elif walk.strict and len(wanted) != len(got):
        message = f"Expected {len(wanted)} attribute(s) but received {len(got)} attribute(s)"
        walk.add(at[0], wanted, got, message)
    for key, value in wanted.items():
        where = _join(at, "@" + key)
        if key in got:
            _value(walk, where, value, got[key])
        else:
            walk.add(where[0], value, None, f"Expected attribute '{key}'='{value}' but was missing")


def _value(walk: Walk, at: At, expected: str, actual: str) -> None:
    chosen = at.chosen()
    if chosen is not None:
        messages = r.apply(chosen.rules, r.check_text, expected, actual, chosen.cascaded)
    else:
        messages = [] if expected == actual else [f"Expected '{actual}' to be equal to '{expected}'"]
    for message in messages:
        walk.add(at[0], expected, actual, message)


def _group(element: ET.Element) -> dict[str, list[tuple[int, ET.Element]]]:
    groups: dict[str, list[tuple[int, ET.Element]]] = {}
    for position, child in enumerate(c for c in element if isinstance(c.tag, str)):
        groups.setdefault(_name(child.tag), []).append((position, child))
    return groups


def _children(walk: Walk, at: At, expected: ET.Element, actual: ET.Element) -> None:
    wanted, got = _group(expected), _group(actual)
    if not wanted and got and walk.strict:
        walk.add(at[0], [], list(got), f"Expected no children but received [{', '.join(got)}]")
        return
    for name, group in got.items():
        examples = [child for _, child in wanted.pop(name, [])]
        by_name = _join(at, name)
        if not examples:
            if walk.strict or by_name.typed():
                walk.add(at[0], None, name, f"Unexpected child <{name}/>")
        elif by_name.typed():
            for position, child in group:
                _element(walk, _join(at, name, position), examples[0], child)
        else:
            _pairs(walk, at, name, examples, group)
    for name in wanted:
        walk.add(at[0], name, None, f"Expected child <{name}/> but was missing")


def _pairs(
    walk: Walk, at: At, name: str, examples: list[ET.Element], group: list[tuple[int, ET.Element]]
) -> None:
    for index in range(max(len(examples), len(group))):
        if index >= len(examples):
            if walk.strict:
                walk.add(_join(at, name)[0], None, name, f"Unexpected child <{name}/>")
        elif index >= len(group):
            walk.add(_join(at, name)[0], name, None, f"Expected child <{name}/> but was missing")
        else:
            position, child = group[index]
            _element(walk, _join(at, name, position), examples[index], child)


def _own_text(element: ET.Element) -> str:
    """The element's own text (children excluded), each piece trimmed, as Pact compares it."""
    pieces = [(element.text or "").strip()]
    pieces.extend((child.tail or "").strip() for child in element)
    return "".join(pieces)
