"""A verification result as text for people, JSON for tools, and JUnit XML for CI."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from pactstub.errors import ConfigError
from pactstub.verification import InteractionResult, VerificationResult

#: how much of an expected or actual value a text line shows
VALUE_WIDTH = 160
PASS_MARKS = ("✓", "✗")
ASCII_MARKS = ("PASS", "FAIL")
#: characters XML 1.0 cannot hold, even escaped
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def interaction_lines(result: InteractionResult, marks: tuple[str, str] = PASS_MARKS) -> list[str]:
    """``✓ description``, and under a failure every mismatch with its expected and actual values."""
    given = f" (given {', '.join(repr(s) for s in result.states)})" if result.states else ""
    lines = [f"  {marks[0] if result.passed else marks[1]} {result.description}{given}"]
    if result.error is not None:
        lines.append(f"      error: {result.error}")
    for mismatch in result.mismatches:
        plain = mismatch.to_json()
        lines.append(f"      {mismatch}")
        lines.append(f"          expected: {_short(plain['expected'])}")
        lines.append(f"          actual:   {_short(plain['actual'])}")
    return lines


def summary_line(result: VerificationResult) -> str:
    skipped = sum(len(run.skipped) for run in result.pacts)
    note = f" ({skipped} message interaction(s) not verified)" if skipped else ""
    if not result.interactions:
        note += " - no interaction was selected"
    return f"{result.summary}{note}"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 3] + "..."


# --------------------------------------------------------------------------- JSON


def to_json(result: VerificationResult) -> dict[str, Any]:
    """A stable JSON document: the verdict, counts, pacts, and every interaction."""
    return {
        "passed": result.passed,
        "summary": {
            "passed": result.passed_count,
            "failed": result.failed_count,
            "total": len(result.interactions),
        },
        "provider_base_url": result.provider_base_url,
        "duration": result.duration,
        "pacts": [
            {
                "name": run.name,
                "consumer": run.consumer,
                "provider": run.provider,
                "source": run.source,
                "skipped": list(run.skipped),
            }
            for run in result.pacts
        ],
        "interactions": [
            {
                "pact": item.pact,
                "index": item.index,
                "description": item.description,
                "provider_states": list(item.states),
                "passed": item.passed,
                "error": item.error,
                "mismatches": [m.to_json() for m in item.mismatches],
                "duration": item.duration,
            }
            for item in result.interactions
        ],
    }


def write_json(path: str | Path, result: VerificationResult) -> None:
    _write(path, json.dumps(to_json(result), indent=2, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------- JUnit


def to_junit(result: VerificationResult) -> ET.Element:
    """``<testsuites>`` with one ``<testsuite>`` per pact and one ``<testcase>`` per interaction."""
    root = ET.Element(
        "testsuites",
        name="pactstub verify",
        tests=str(len(result.interactions)),
        failures=str(sum(1 for i in result.interactions if not i.passed and i.error is None)),
        errors=str(sum(1 for i in result.interactions if i.error is not None)),
        time=f"{result.duration:.3f}",
    )
    for run in result.pacts:
        cases = [i for i in result.interactions if i.pact == run.name]
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_xml(f"{run.consumer} -> {run.provider} ({run.name})"),
            tests=str(len(cases)),
            failures=str(sum(1 for i in cases if not i.passed and i.error is None)),
            errors=str(sum(1 for i in cases if i.error is not None)),
            skipped=str(len(run.skipped)),
            time=f"{sum(i.duration for i in cases):.3f}",
        )
        for item in cases:
            _testcase(suite, run.consumer, run.provider, item)
        for description in run.skipped:
            classname = _xml(f"{run.consumer}.{run.provider}")
            case = ET.SubElement(suite, "testcase", classname=classname, name=_xml(description))
            ET.SubElement(case, "skipped", message="message interactions are not verified over HTTP")
    return root


def _testcase(suite: ET.Element, consumer: str, provider: str, item: InteractionResult) -> None:
    given = f" (given {', '.join(item.states)})" if item.states else ""
    case = ET.SubElement(
        suite,
        "testcase",
        classname=_xml(f"{consumer}.{provider}"),
        name=_xml(f"{item.description}{given}"),
        time=f"{item.duration:.3f}",
    )
    if item.error is not None:
        error = ET.SubElement(case, "error", message=_xml(item.error), type="error")
        error.text = _xml(item.error)
    if item.mismatches:
        count = len(item.mismatches)
        failure = ET.SubElement(
            case, "failure", message=f"{count} mismatch{'es' if count != 1 else ''}", type="mismatch"
        )
        failure.text = _xml("\n".join(line.strip() for line in interaction_lines(item)[1:]))


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def write_junit(path: str | Path, result: VerificationResult) -> None:
    root = to_junit(result)
    ET.indent(root)
    _write(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")


def _write(path: str | Path, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot write report {path}: {error.strerror or error}") from error
