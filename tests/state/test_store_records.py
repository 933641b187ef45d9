"""Records, reset, snapshot, export and import on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from pactstub.errors import StoreError
from pactstub.state.store import StateDocumentError, Store


def test_save_returns_the_record_as_read_back(store: Store) -> None:
    before = datetime.now(UTC)
    record = store.save("jobs", {"id": 123, "tags": ("a", "b"), "nested": {"x": None}})
    assert record.collection == "jobs"
    assert record.data == {"id": 123, "tags": ["a", "b"], "nested": {"x": None}}
    assert record.created_at.tzinfo is UTC
    assert before - timedelta(seconds=1) <= record.created_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert store.find("jobs") == [record]


def test_find_returns_insertion_order(store: Store) -> None:
    saved = [store.save("jobs", {"n": n, "kind": "odd" if n % 2 else "even"}) for n in range(6)]
    store.save("runs", {"n": 1})
    assert store.find("jobs") == saved
    assert [r.data["n"] for r in store.find("jobs", kind="odd")] == [1, 3, 5]
    assert [r.id for r in store.find("jobs")] == sorted(r.id for r in saved)
    assert store.find("nothing") == []


def test_find_compares_json_values_exactly(store: Store) -> None:
    store.save("c", {"v": 1, "name": "one"})
    store.save("c", {"v": "1"})
    store.save("c", {"v": True})
    store.save("c", {"v": 1.0, "meta": {"a": [1, 2]}})
    store.save("c", {"v": None})
    store.save("c", {"other": 1})
    assert [r.data for r in store.find("c", v=1)] == [
        {"v": 1, "name": "one"},
        {"v": 1.0, "meta": {"a": [1, 2]}},
    ]
    assert [r.data for r in store.find("c", v="1")] == [{"v": "1"}]
    assert [r.data for r in store.find("c", v=True)] == [{"v": True}]
    assert [r.data for r in store.find("c", v=None)] == [{"v": None}]  # a missing field is not null
    assert [r.data["v"] for r in store.find("c", meta={"a": [1, 2]})] == [1.0]
    assert store.find("c", v=1, name="two") == []


@pytest.mark.parametrize("data", [[1, 2], {"x": {1, 2}}, {"x": float("nan")}])
def test_save_refuses_what_json_cannot_hold(store: Store, data: Any) -> None:
    with pytest.raises(StoreError):
        store.save("jobs", data)
    assert store.find("jobs") == []


def test_reset_one_collection_and_its_counter(store: Store) -> None:
    store.save("jobs", {"a": 1})
    store.save("runs", {"b": 2})
    store.next_value("jobs", 123)
    store.next_value("runs", 978)
    store.reset("jobs")
    assert store.find("jobs") == []
    assert len(store.find("runs")) == 1
    assert store.next_value("jobs", 123) == 123
    assert store.next_value("runs", 978) == 979


def test_reset_everything(store: Store) -> None:
    store.save("jobs", {"a": 1})
    store.next_value("runs", 978)
    store.reset()
    assert store.snapshot() == {"counters": {}, "collections": {}}
    assert store.next_value("runs", 978) == 978
    # ids are never reused, so new records still sort after anything exported before
    assert store.save("jobs", {"a": 2}).id > 1


def test_snapshot(store: Store) -> None:
    store.next_value("runs", 978)
    store.next_value("jobs", 123)
    store.next_value("jobs", 123)
    for _ in range(3):
        store.save("jobs", {})
    store.save("files", {})
    assert store.snapshot() == {
        "counters": {"jobs": 124, "runs": 978},
        "collections": {"files": 1, "jobs": 3},
    }


def test_export_import_roundtrip(database_url: str, sqlite_url: str) -> None:
    with Store(database_url) as source:
        source.next_value("jobs", 123)
        source.save("jobs", {"id": 123, "status": "queued"})
        source.save("runs", {"id": 978, "job": 123})
        source.save("jobs", {"id": 124, "status": "done"})
        exported = source.export()
        source.import_(exported)
        assert source.export() == exported
    assert exported["version"] == 1
    assert exported["counters"] == {"jobs": 123}
    assert [r["collection"] for r in exported["records"]] == ["jobs", "runs", "jobs"]
    assert datetime.fromisoformat(exported["records"][0]["created_at"]).tzinfo is not None
    # into another database (a fresh SQLite file when the source was PostgreSQL)
    target_url = sqlite_url if database_url != sqlite_url else sqlite_url + "-copy"
    with Store(target_url) as target:
        target.save("old", {"gone": True})
        target.import_(exported)
        assert target.export() == exported
        assert [r.data["id"] for r in target.find("jobs")] == [123, 124]
        assert target.next_value("jobs", 1) == 124
        assert target.save("jobs", {"id": 125}).id > max(r["id"] for r in exported["records"])


def test_import_fills_in_missing_ids_and_times(store: Store) -> None:
    store.import_(
        {
            "records": [
                {"collection": "jobs", "data": {"n": 1}},
                {"collection": "jobs", "id": 10, "data": {"n": 2}, "created_at": "2024-01-02T03:04:05"},
                {"collection": "jobs", "data": {"n": 3}},
            ]
        }
    )
    found = store.find("jobs")
    assert [(r.id, r.data["n"]) for r in found] == [(10, 2), (11, 1), (12, 3)]
    assert found[0].created_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


BAD_DOCUMENTS: list[tuple[Any, str]] = [
    ([], r"\$: must be a JSON object"),
    ({"counters": {}, "extra": 1}, r"unknown keys \['extra'\]"),
    ({"version": 2}, "version: 2 is not supported"),
    ({"counters": []}, "counters: must be an object"),
    ({"counters": {"jobs": "1"}}, r"counters\[.jobs.\]: must be a 64-bit integer"),
    ({"counters": {"jobs": True}}, r"counters\[.jobs.\]: must be a 64-bit integer"),
    ({"counters": {"": 1}}, "counter name must be a non-empty string"),
    ({"records": {}}, "records: must be a list"),
    ({"records": [1]}, r"records\[0\]: must be an object"),
    ({"records": [{"data": {}}]}, r"records\[0\]\.collection: must be a non-empty string"),
    ({"records": [{"collection": "a", "data": [1]}]}, r"records\[0\]\.data: data must be a JSON object"),
    (
        {"records": [{"collection": "a", "data": {}, "id": 0}]},
        r"records\[0\]\.id: must be a positive 64-bit integer",
    ),
    (
        {"records": [{"collection": "a", "data": {}, "id": 2}, {"collection": "a", "data": {}, "id": 2}]},
        r"records\[1\]\.id: 2 appears twice",
    ),
    ({"records": [{"collection": "a", "data": {}, "created_at": "soon"}]}, "is not an ISO 8601 date-time"),
    ({"records": [{"collection": "a", "data": {}, "colour": 1}]}, r"unknown keys \['colour'\]"),
]


@pytest.mark.parametrize(("document", "message"), BAD_DOCUMENTS)
def test_a_bad_import_changes_nothing(store: Store, document: Any, message: str) -> None:
    store.next_value("jobs", 123)
    store.save("jobs", {"id": 123})
    before = store.export()
    pristine = copy.deepcopy(document)
    with pytest.raises(StateDocumentError, match=message):
        store.import_(document)
    assert store.export() == before
    assert document == pristine


def _refuse_collection(url: str, name: str) -> None:
    """Make the database itself refuse records of one collection (a real refusal, no mock)."""
    if not url.startswith("sqlite"):
        url = sa.make_url(url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(
                f"CREATE TRIGGER refuse BEFORE INSERT ON pactstub_records WHEN NEW.collection = '{name}' "
                "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
            )
        else:
            connection.exec_driver_sql(
                f"ALTER TABLE pactstub_records ADD CONSTRAINT refuse CHECK (collection <> '{name}')"
            )
    engine.dispose()


def test_import_is_one_transaction(database_url: str) -> None:
    """The database refuses the last record: the deletes before it are rolled back too."""
    with Store(database_url) as store:
        store.next_value("jobs", 123)
        store.save("jobs", {"id": 123})
        before = store.export()
        _refuse_collection(database_url, "forbidden")
        document: dict[str, Any] = {"counters": {"x": 1}, "records": [{"collection": "ok", "data": {}}] * 3}
        document["records"].append({"collection": "forbidden", "data": {}})
        with pytest.raises(StoreError, match=r"^database "):
            store.import_(document)
        assert store.export() == before


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1])
def test_counter_values_must_fit_64_bits(store: Store, value: int) -> None:
    with pytest.raises(StateDocumentError, match="64-bit integer"):
        store.import_({"counters": {"jobs": value}})
    with pytest.raises(StoreError, match="64-bit integer"):
        store.next_value("jobs", value)
