"""``pactstub state``: reset, export and import through the CLI on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pactstub.cli import main
from pactstub.state.store import Store


def run(*args: str, stdin: str | None = None) -> Result:
    env = {"PACTSTUB_DATABASE_URL": None, "DATABASE_URL": None}
    return CliRunner().invoke(main, list(args), input=stdin, env=env, catch_exceptions=False)


@pytest.fixture
def url(tmp_path: Path) -> str:
    with Store(f"sqlite:///{tmp_path / 'cli.sqlite3'}") as store:
        store.next_value("jobs", 123)
        store.next_value("runs", 978)
        store.save("jobs", {"id": 123})
        store.save("runs", {"id": 978})
        return store.settings.url


def snapshot(url: str) -> dict[str, Any]:
    with Store(url) as store:
        return store.snapshot()


def test_reset_one_collection(url: str) -> None:
    result = run("state", "reset", "--collection", "jobs", "--database-url", url)
    assert result.exit_code == 0, result.output
    assert "reset collection 'jobs'" in result.stdout
    assert snapshot(url) == {"session": "default", "counters": {"runs": 978}, "collections": {"runs": 1}}


def test_reset_all(url: str) -> None:
    assert run("state", "reset", "--database-url", url).exit_code == 0
    assert snapshot(url) == {"session": "default", "counters": {}, "collections": {}}


def test_export_to_stdout_and_file(url: str, tmp_path: Path) -> None:
    result = run("state", "export", "--database-url", url)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["counters"] == [
        {"session": "default", "name": "jobs", "value": 123},
        {"session": "default", "name": "runs", "value": 978},
    ]
    assert [r["data"] for r in document["records"]] == [{"id": 123}, {"id": 978}]

    target = tmp_path / "state.json"
    result = run("state", "export", str(target), "--database-url", url)
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text(encoding="utf-8")) == document
    assert f"to {target}" in result.stdout


def test_import_roundtrip(url: str, tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    run("state", "export", str(target), "--database-url", url)
    exported = json.loads(target.read_text(encoding="utf-8"))
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    result = run("state", "import", str(target), "--database-url", other)
    assert result.exit_code == 0, result.output
    assert json.loads(run("state", "export", "--database-url", other).stdout) == exported
    # and from standard input
    assert run("state", "reset", "--database-url", other).exit_code == 0
    assert run("state", "import", "-", "--database-url", other, stdin=json.dumps(exported)).exit_code == 0
    assert snapshot(other) == snapshot(url)


def test_import_of_bad_json_names_the_file(url: str, tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"counters": ', encoding="utf-8")
    before = snapshot(url)
    result = run("state", "import", str(bad), "--database-url", url)
    assert result.exit_code == 2
    assert f"{bad} is not JSON" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(url) == before


def test_import_of_a_wrong_document_changes_nothing(url: str, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"counters": {"jobs": "many"}}), encoding="utf-8")
    before = snapshot(url)
    result = run("state", "import", str(wrong), "--database-url", url)
    assert result.exit_code == 2
    assert "counters[0].value: must be an integer" in result.stderr
    assert snapshot(url) == before


def test_import_of_a_missing_file(url: str, tmp_path: Path) -> None:
    result = run("state", "import", str(tmp_path / "absent.json"), "--database-url", url)
    assert result.exit_code == 2
    assert "does not exist" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"counters": ' + "[" * 100_000 + "]" * 100_000 + "}", "$: nested deeper than 512 levels"),
        ('{"counters": [], "records": [{"data": {"x": NaN}}]}', "$.records[0].data.x: NaN is not a JSON"),
        ('{"counters": [{"name": "\\ud800"}]}', "$.counters[0].name: a string with a lone surrogate"),
    ],
    ids=["deep", "nan", "lone-surrogate"],
)
def test_import_of_json_nothing_may_store_exits_2_naming_the_path(
    url: str, tmp_path: Path, text: str, message: str
) -> None:
    odd = tmp_path / "odd.json"
    odd.write_text(text, encoding="utf-8")
    before = snapshot(url)
    result = run("state", "import", str(odd), "--database-url", url)
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"pactstub: error: {odd}: {message}")
    assert snapshot(url) == before
