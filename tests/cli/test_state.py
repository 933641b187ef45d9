"""``pactstub state``: reset, export, import and the record verbs through the CLI on a real SQLite file."""

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


# ---------------------------------------------------------------------------- sessions


@pytest.fixture
def sessions(url: str) -> str:
    """The url's store, with a job of session "alice" besides the default session's."""
    with Store(url) as store:
        store.next_value("jobs", 500, session="alice")
        store.save("jobs", {"id": 500, "by": "alice"}, session="alice")
    return url


def test_reset_of_one_session(sessions: str) -> None:
    result = run("state", "reset", "--session", "alice", "--database-url", sessions)
    assert result.exit_code == 0, result.output
    assert result.stdout == "reset all counters and records of session 'alice'\n"
    with Store(sessions) as store:
        assert store.snapshot("alice") == {"session": "alice", "counters": {}, "collections": {}}
        assert store.snapshot()["collections"] == {"jobs": 1, "runs": 1}


def test_export_of_one_session(sessions: str) -> None:
    result = run("state", "export", "--session", "alice", "--database-url", sessions)
    document = json.loads(result.stdout)
    assert document["counters"] == [{"session": "alice", "name": "jobs", "value": 500}]
    assert [(r["session"], r["id"]) for r in document["records"]] == [("alice", 500)]


# ---------------------------------------------------------------------------- records


@pytest.fixture
def tools(tmp_path: Path) -> str:
    with Store(f"sqlite:///{tmp_path / 'tools.sqlite3'}") as store:
        tools: list[dict[str, Any]] = [
            {"name": "saw", "size": 3, "collection": "red"},
            {"name": "axe", "size": "3", "collection": "blue"},
            {"name": "awl", "size": 2, "collection": "red"},
        ]
        for tool in tools:
            store.save("tools", tool)
        store.save("tools", {"name": "drill"}, session="bob")
        return store.settings.url


def output(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def names(url: str, *args: str) -> list[str]:
    found = output(run("state", "find", "tools", *args, "--database-url", url))
    return [record["data"]["name"] for record in found["records"]]


def test_get_prints_the_record(tools: str) -> None:
    record = output(run("state", "get", "tools", "3", "--database-url", tools))
    assert (record["id"], record["data"]) == (3, {"name": "awl", "size": 2, "collection": "red", "id": 3})
    assert record["created_at"].endswith("Z")
    assert set(record) == {"id", "data", "created_at", "updated_at"}
    drill = output(run("state", "get", "tools", "1", "--session", "bob", "--database-url", tools))
    assert drill["data"]["name"] == "drill"


@pytest.mark.parametrize(
    ("args", "found"),
    [
        ((), ["saw", "axe", "awl"]),
        (("collection=red",), ["saw", "awl"]),
        (("size=3",), ["saw"]),
        (('size="3"',), ["axe"]),
        (("collection=red", "size=2"), ["awl"]),
        (("name=nothing",), []),
        (("--order-by", "-size", "--limit", "2"), ["axe", "saw"]),  # strings after numbers
        (("--order-by", "name", "--offset", "1"), ["axe", "saw"]),
        (("--session", "bob"), ["drill"]),
    ],
)
def test_find_by_fields_ordered_and_paged(tools: str, args: tuple[str, ...], found: list[str]) -> None:
    assert names(tools, *args) == found


def test_patch_merges_and_prints_the_record(tools: str) -> None:
    record = output(
        run("state", "patch", "tools", "1", '{"size": 4, "owner": "ann"}', "--database-url", tools)
    )
    assert record["data"] == {"name": "saw", "size": 4, "collection": "red", "id": 1, "owner": "ann"}
    assert names(tools, "size=4") == ["saw"]


def test_patch_moves_a_record_along_the_lifecycle_of_the_templates(tmp_path: Path, url: str) -> None:
    folder = tmp_path / "templates" / "some-pact"
    folder.mkdir(parents=True)
    (folder / "_lifecycles.yaml").write_text(
        "runs:\n  field: status\n  states:\n    QUEUED: {reads: 1}\n    ERROR: {set: {podPhase: Failed}}\n",
        encoding="utf-8",
    )
    command = ["state", "patch", "runs", "978", '{"status": "ERROR"}', "--database-url", url]
    record = output(run(*command, "--templates", str(tmp_path / "templates")))
    assert record["data"] == {"id": 978, "status": "ERROR", "podPhase": "Failed"}
    result = run("state", "patch", "runs", "978", '{"status": "EROR"}', "--database-url", url,
                 "--templates", str(tmp_path / "templates"))  # fmt: skip
    assert result.exit_code == 2
    assert "'EROR' is not a state of 'runs'" in result.stderr


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ("[1]", "a JSON object, not list"),
        ('"x"', "a JSON object, not str"),
        ("{size: 4}", "not JSON"),
        ('{"size": NaN}', "not JSON: $.size: NaN is not a JSON number"),
        ('{"a": ' + "[" * 5000 + "]" * 5000 + "}", "not JSON: $: nested deeper than 256 levels"),
    ],
)
def test_patch_with_anything_but_an_object_exits_2_and_changes_nothing(
    tools: str, changes: str, message: str
) -> None:
    before = output(run("state", "export", "--database-url", tools))
    result = run("state", "patch", "tools", "1", changes, "--database-url", tools)
    assert result.exit_code == 2
    assert f"Error: Invalid value for JSON: {message}" in result.stderr
    assert output(run("state", "export", "--database-url", tools)) == before


def test_find_refuses_a_value_nothing_may_store(tools: str) -> None:
    result = run("state", "find", "tools", "size=" + "[" * 5000 + "]" * 5000, "--database-url", tools)
    assert result.exit_code == 2
    assert "size: $: nested deeper than 256 levels" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("get", "tools", "9"),
        ("get", "nothing", "1"),
        ("patch", "tools", "9", "{}"),
        ("delete", "tools", "9"),
        ("delete", "tools", "1", "--session", "alice"),
    ],
)
def test_a_record_that_is_not_there_exits_2_naming_it(tools: str, args: tuple[str, ...]) -> None:
    before = output(run("state", "export", "--database-url", tools))
    result = run("state", *args, "--database-url", tools)
    assert result.exit_code == 2
    session = "alice" if "alice" in args else "default"
    assert (
        result.stderr
        == f"pactstub: error: no record {args[2]} in collection {args[1]!r} of session {session!r}\n"
    )
    assert output(run("state", "export", "--database-url", tools)) == before


def test_delete_prints_what_it_deleted(tools: str) -> None:
    deleted = output(run("state", "delete", "tools", "2", "--database-url", tools))
    assert deleted == {"deleted": True, "collection": "tools", "id": 2, "session": "default"}
    assert names(tools) == ["saw", "awl"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("find", "tools", "collection"), "'collection' is not FIELD=VALUE"),
        (("find", "tools", "--order-by", "-"), "order_by must be a field name"),
        (("find", "tools", "--limit", "-1"), "-1 is not in the range x>=0"),
        (("get", "tools", "one"), "'one' is not a valid integer"),
        (("get", "tools", "1", "--session", "a b"), "session name 'a b' must be"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(tools: str, args: tuple[str, ...], message: str) -> None:
    result = run("state", *args, "--database-url", tools)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
