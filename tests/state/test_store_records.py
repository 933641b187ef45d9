"""Records: ids, get, find, update, delete, count, sessions, reset, export and import.

On a SQLite file and on PostgreSQL (``PACTSTUB_TEST_POSTGRES_URL``).
"""

from __future__ import annotations

import copy
import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from pactstub.errors import StoreError
from pactstub.state.documents import MAX_FIELDS, MAX_ID, MAX_RECORD_BYTES, RecordTooLarge
from pactstub.state.store import StateDocumentError, Store

# ---------------------------------------------------------------------------------- ids


def test_save_returns_the_record_as_read_back(store: Store) -> None:
    before = datetime.now(UTC)
    record = store.save("jobs", {"id": 123, "tags": ("a", "b"), "nested": {"x": None}})
    assert (record.collection, record.id, record.session) == ("jobs", 123, "default")
    assert record.data == {"id": 123, "tags": ["a", "b"], "nested": {"x": None}}
    assert record.created_at.tzinfo is UTC
    assert before - timedelta(seconds=1) <= record.created_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert record.updated_at == record.created_at
    assert store.find("jobs") == [record]
    assert store.get("jobs", 123) == record


def test_records_without_an_id_get_the_next_one_of_their_collection(store: Store) -> None:
    assert store.save("jobs", {"n": 1}).data == {"n": 1, "id": 1}
    assert store.save("jobs", {"id": 10}).id == 10
    assert store.save("jobs", {"n": 2}).id == 11  # after the largest id taken
    assert store.save("runs", {"n": 3}).id == 1  # each collection counts for itself
    assert store.save("jobs", {"id": "abc"}).data == {"id": "abc"}  # not an id: kept as data
    assert [r.id for r in store.find("jobs")] == [1, 10, 11, 12]


def test_an_id_is_never_given_twice(store: Store) -> None:
    store.save("jobs", {"id": 5})
    with pytest.raises(StoreError, match="already has a record with id 5"):
        store.save("jobs", {"id": 5})
    store.save("jobs", {"n": 1})
    assert store.delete("jobs", 6)
    assert store.save("jobs", {"n": 2}).id == 7  # not 6 again, after a delete
    assert store.count("jobs") == 2


@pytest.mark.parametrize("bad", [0, -1, MAX_ID + 1, True, 1.5])
def test_ids_out_of_range_are_data_not_ids(store: Store, bad: Any) -> None:
    record = store.save("jobs", {"id": bad})
    assert record.id == 1
    assert record.data == {"id": bad}


# ---------------------------------------------------------------------------------- find


def test_find_returns_id_order_and_the_matches(store: Store) -> None:
    saved = [store.save("jobs", {"n": n, "kind": "odd" if n % 2 else "even"}) for n in range(6)]
    store.save("runs", {"n": 1})
    assert store.find("jobs") == saved
    assert [r.data["n"] for r in store.find("jobs", {"kind": "odd"})] == [1, 3, 5]
    assert store.find("nothing") == []


def test_find_compares_json_values_exactly(store: Store) -> None:
    store.save("c", {"v": 1, "name": "one"})
    store.save("c", {"v": "1"})
    store.save("c", {"v": True})
    store.save("c", {"v": 1.0, "meta": {"a": [1, 2]}})
    store.save("c", {"v": None})
    store.save("c", {"other": 1})
    assert [r.data["name"] for r in store.find("c", {"v": 1}) if "name" in r.data] == ["one"]
    assert len(store.find("c", {"v": 1})) == 2
    assert [r.data["v"] for r in store.find("c", {"v": "1"})] == ["1"]
    assert [r.data["v"] for r in store.find("c", {"v": True})] == [True]
    assert [r.data["v"] for r in store.find("c", {"v": None})] == [None]  # a missing field is not null
    assert [r.data["v"] for r in store.find("c", {"meta": {"a": [1.0, 2]}})] == [1.0]
    assert store.find("c", {"v": 1, "name": "two"}) == []


@pytest.mark.parametrize(
    "name", ["collection", "order_by", "limit", "", "é", "a.b", "\u0000", "x" * 300, "#x"]
)
def test_any_field_name_can_be_found(store: Store, name: str) -> None:
    store.save("c", {name: "x", "n": 1})
    store.save("c", {name: "y", "n": 2})
    store.save("c", {"other": {name: "x"}, "n": 3})
    assert [r.data["n"] for r in store.find("c", {name: "x"})] == [1]
    assert store.count("c", {name: "y"}) == 1


def test_order_limit_and_offset(store: Store) -> None:
    values: list[Any] = [3, "b", 1.5, None, -2, "a", True, 10, {"k": 1}]
    for n, value in enumerate(values):
        store.save("c", {"n": n, "v": value})
    store.save("c", {"n": 9})  # no "v": after every record that has it
    store.save("c", {"n": 10})
    by_v = [r.data["n"] for r in store.find("c", order_by="v")]
    # null, booleans, numbers by value, strings by code point, then arrays and objects; missing last
    assert by_v == [3, 6, 4, 2, 0, 7, 5, 1, 8, 9, 10]
    assert [r.data["n"] for r in store.find("c", order_by="-v")] == [8, 1, 5, 7, 0, 2, 4, 6, 3, 10, 9]
    assert [r.data["n"] for r in store.find("c", order_by="v", limit=3, offset=2)] == [4, 2, 0]
    assert [r.data["n"] for r in store.find("c", order_by="v", limit=3, offset=8)] == [8, 9, 10]
    assert [r.data["n"] for r in store.find("c", order_by="v", limit=2, offset=9)] == [9, 10]
    assert [r.data["n"] for r in store.find("c", order_by="v", offset=10)] == [10]
    assert [r.id for r in store.find("c", order_by="-id", limit=2)] == [11, 10]
    assert [r.id for r in store.find("c", limit=2, offset=1)] == [2, 3]


def test_order_by_the_records_own_times(store: Store) -> None:
    store.move_clock(freeze=True)
    for record_id in (5, 2, 9):  # saved in this order, a second apart, not in id order
        store.save("c", {"id": record_id, "kind": "tool"})
        store.move_clock(advance=1)
    store.update("c", 5, {"oiled": True})

    def ids(order_by: str, limit: int | None = None, offset: int = 0) -> list[int]:
        found = store.find("c", {"kind": "tool"}, order_by=order_by, limit=limit, offset=offset)
        return [r.id for r in found]

    assert ids("created_at") == [5, 2, 9]
    assert ids("-created_at") == [9, 2, 5]
    assert ids("updated_at") == [2, 9, 5]
    assert ids("-updated_at", limit=2, offset=1) == [9, 2]


def test_filtered_records_are_ordered_by_a_field_too(store: Store) -> None:
    for n, (kind, rank) in enumerate([("a", 3), ("b", 1), ("a", None), ("a", 1), ("a", "x"), ("b", 0)]):
        data: dict[str, Any] = {"n": n, "kind": kind}
        if rank is not None:
            data["rank"] = rank
        store.save("c", data)
    by_rank = store.find("c", {"kind": "a"}, order_by="rank")
    assert [r.data["n"] for r in by_rank] == [3, 0, 4, 2]  # numbers, then strings, missing last
    assert [r.data["n"] for r in store.find("c", {"kind": "a"}, order_by="-rank")] == [4, 0, 3, 2]
    assert [r.data["n"] for r in store.find("c", {"kind": "a"}, order_by="rank", limit=2, offset=1)] == [0, 4]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": -1}, "limit must be a whole number"),
        ({"offset": "2"}, "offset must be a whole number"),
        ({"order_by": ""}, "order_by must be a field name"),
        ({"where": {"v": float("nan")}}, "not JSON"),
        ({"where": [1]}, "must be a mapping"),
    ],
)
def test_bad_queries_are_clear_errors(store: Store, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(StoreError, match=message):
        store.find("c", **kwargs)


# ---------------------------------------------------------------------------------- changes


def test_update_merges_and_keeps_the_index_right(store: Store) -> None:
    store.save("runs", {"id": 978, "jobId": 123, "status": "QUEUED", "extra": 1})
    updated = store.update("runs", 978, {"status": "DONE", "extra": None, "new": [1]})
    assert updated is not None
    assert updated.data == {"id": 978, "jobId": 123, "status": "DONE", "extra": None, "new": [1]}
    assert updated.updated_at >= updated.created_at
    assert store.find("runs", {"status": "QUEUED"}) == []
    assert [r.id for r in store.find("runs", {"status": "DONE"})] == [978]
    assert [r.id for r in store.find("runs", {"extra": None})] == [978]
    assert store.find("runs", {"extra": 1}) == []
    assert [r.id for r in store.find("runs", {"new": [1.0]})] == [978]
    replaced = store.update("runs", 978, {"only": True}, replace=True)
    assert replaced is not None
    assert replaced.data == {"only": True}
    assert store.find("runs", {"jobId": 123}) == []
    assert store.update("runs", 1, {"a": 1}) is None
    assert store.update("nothing", 978, {"a": 1}) is None


def test_delete_forgets_the_record_and_its_index_entries(store: Store) -> None:
    store.save("jobs", {"id": 1, "user": 7})
    store.save("jobs", {"id": 2, "user": 7})
    assert store.delete("jobs", 1) is True
    assert store.delete("jobs", 1) is False
    assert store.get("jobs", 1) is None
    assert [r.id for r in store.find("jobs", {"user": 7})] == [2]
    assert store.count("jobs") == store.count("jobs", {"user": 7}) == 1


def test_the_index_agrees_with_the_records_after_many_changes(store: Store) -> None:
    """Random saves, updates and deletes; every query answers what a scan of the data would."""
    rng = random.Random(8)
    values = [0, 1, 1.0, "1", True, None, "a", [1], {"k": "v"}]
    alive: dict[int, dict[str, Any]] = {}
    for step in range(300):
        action = rng.random()
        if action < 0.5 or not alive:
            data = {rng.choice("xyz"): rng.choice(values) for _ in range(rng.randrange(1, 4))}
            record = store.save("c", data)
            alive[record.id] = record.data
        elif action < 0.8:
            record_id = rng.choice(list(alive))
            changes = {rng.choice("xyz"): rng.choice(values)}
            updated = store.update("c", record_id, changes)
            assert updated is not None
            alive[record_id] = updated.data
        else:
            record_id = rng.choice(list(alive))
            assert store.delete("c", record_id)
            del alive[record_id]
        if step % 50 == 49:
            for name in "xyz":
                for value in values:
                    expected = [
                        i for i, d in sorted(alive.items()) if name in d and _json_equal(d[name], value)
                    ]
                    assert [r.id for r in store.find("c", {name: value})] == expected, (name, value)
                    assert store.count("c", {name: value}) == len(expected)
    assert store.count("c") == len(alive)


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_json_equal, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def test_concurrent_writers_keep_the_index_right(database_url: str) -> None:
    with Store(database_url) as store:
        errors: list[BaseException] = []

        def work(worker: int) -> None:
            try:
                for n in range(25):
                    record = store.save("c", {"worker": worker, "n": n, "state": "new"})
                    if n % 2:
                        store.update("c", record.id, {"state": "odd"})
                    if n % 5 == 0:
                        store.delete("c", record.id)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        records = store.find("c")
        assert len(records) == store.count("c") == 6 * 20
        assert len({r.id for r in records}) == len(records)
        for state in ("new", "odd"):
            expected = [r.id for r in records if r.data["state"] == state]
            assert [r.id for r in store.find("c", {"state": state})] == expected
        for worker in range(6):
            assert store.count("c", {"worker": worker}) == 20


def test_records_over_the_limits_are_refused(store: Store) -> None:
    with pytest.raises(RecordTooLarge, match="at most"):
        store.save("big", {"blob": "x" * MAX_RECORD_BYTES})
    with pytest.raises(RecordTooLarge, match=f"at most {MAX_FIELDS}"):
        store.save("big", {f"f{n}": n for n in range(MAX_FIELDS + 1)})
    with pytest.raises(RecordTooLarge):
        store.update("big", 1, {"blob": "x" * MAX_RECORD_BYTES})
    assert store.count("big") == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "must be a JSON object"),
        ({"x": {1, 2}}, r"\$\.x: a set is not JSON"),
        ({"x": float("nan")}, r"\$\.x: nan is not a JSON number"),
        ({"x": ["ok", "\ud800"]}, r"\$\.x\[1\]: a string with a lone surrogate"),
    ],
)
def test_save_refuses_what_json_cannot_hold(store: Store, data: Any, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        store.save("jobs", data)
    assert store.find("jobs") == []


def test_a_valid_surrogate_pair_is_stored(store: Store) -> None:
    record = store.save("c", {"emoji": "\U0001f600", "escaped": "\\ud800"})
    assert store.find("c", {"emoji": "\U0001f600"}) == [record]


# ---------------------------------------------------------------------------------- sessions


def test_sessions_do_not_see_each_other(store: Store) -> None:
    store.save("jobs", {"id": 1, "who": "a"}, session="a")
    store.save("jobs", {"id": 1, "who": "b"}, session="b")  # the same id, another session
    assert store.next_value("jobs", 123, session="a") == 123
    assert store.next_value("jobs", 123, session="b") == 123
    assert [r.data["who"] for r in store.find("jobs", session="a")] == ["a"]
    assert store.get("jobs", 1, session="b") is not None
    assert store.find("jobs") == []
    assert store.sessions() == ["a", "b"]
    store.reset(session="a")
    assert store.find("jobs", session="a") == []
    assert store.next_value("jobs", 123, session="a") == 123
    assert len(store.find("jobs", session="b")) == 1
    assert store.next_value("jobs", 123, session="b") == 124


@pytest.mark.parametrize("name", ["", "x" * 129, "with space", "é", "a\nb"])
def test_bad_session_names_are_refused(store: Store, name: str) -> None:
    with pytest.raises(StoreError, match="session name"):
        store.save("jobs", {}, session=name)


# ---------------------------------------------------------------------------------- whole state


def test_reset_one_collection_and_its_counter(store: Store) -> None:
    store.save("jobs", {"a": 1})
    store.save("runs", {"b": 2})
    store.next_value("jobs", 123)
    store.next_value("runs", 978)
    store.reset("jobs")
    assert store.find("jobs") == []
    assert store.find("jobs", {"a": 1}) == []
    assert len(store.find("runs")) == 1
    assert store.next_value("jobs", 123) == 123
    assert store.next_value("runs", 978) == 979
    assert store.save("jobs", {"a": 2}).id == 1  # the collection starts again


def test_reset_everything(store: Store) -> None:
    store.save("jobs", {"a": 1})
    store.next_value("runs", 978)
    store.save("jobs", {"a": 1}, session="other")
    store.reset()
    assert store.snapshot() == {"session": "default", "counters": {}, "collections": {}}
    assert store.sessions() == []
    assert store.next_value("runs", 978) == 978


@pytest.mark.parametrize("name", ["", "\u0000", "x" * 256])
def test_reset_refuses_bad_names(store: Store, name: str) -> None:
    with pytest.raises(StoreError, match="collection name"):
        store.reset(name)


def test_snapshot(store: Store) -> None:
    store.next_value("runs", 978)
    store.next_value("jobs", 123)
    store.next_value("jobs", 123)
    for _ in range(3):
        store.save("jobs", {})
    store.save("files", {})
    store.delete("files", 1)
    assert store.snapshot() == {
        "session": "default",
        "counters": {"jobs": 124, "runs": 978},
        "collections": {"jobs": 3},
    }


def test_export_import_roundtrip(database_url: str, sqlite_url: str) -> None:
    with Store(database_url) as source:
        source.next_value("jobs", 123)
        source.save("jobs", {"id": 123, "status": "queued"})
        source.save("runs", {"id": 978, "job": 123})
        source.save("jobs", {"id": 124, "status": "done"})
        source.save("jobs", {"id": 1, "status": "other"}, session="s2")
        exported = source.export()
        assert source.import_(exported) == 4
        assert source.export() == exported
    assert exported["version"] == 2
    assert exported["counters"] == [{"session": "default", "name": "jobs", "value": 123}]
    assert [(r["session"], r["collection"], r["id"]) for r in exported["records"]] == [
        ("default", "jobs", 123),
        ("default", "jobs", 124),
        ("default", "runs", 978),
        ("s2", "jobs", 1),
    ]
    assert datetime.fromisoformat(exported["records"][0]["created_at"]).tzinfo is not None
    target_url = sqlite_url if database_url != sqlite_url else sqlite_url + "-copy"
    with Store(target_url) as target:
        target.save("old", {"gone": True})
        target.import_(exported)
        assert target.export() == exported
        assert [r.id for r in target.find("jobs", {"status": "done"})] == [124]
        assert target.next_value("jobs", 1) == 124
        assert target.save("jobs", {"n": 1}).id == 125  # after the imported ids


def test_a_version_1_document_is_imported_into_the_default_session(store: Store) -> None:
    store.import_(
        {
            "version": 1,
            "counters": {"jobs": 124},
            "records": [
                {"collection": "jobs", "data": {"n": 1}},
                {"collection": "jobs", "id": 10, "data": {"n": 2}, "created_at": "2024-01-02T03:04:05"},
                {"collection": "jobs", "data": {"n": 3}},
            ],
        }
    )
    found = store.find("jobs")
    assert [(r.id, r.data["n"]) for r in found] == [(10, 2), (11, 1), (12, 3)]
    assert found[0].created_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert store.peek("jobs") == 124
    assert [r.id for r in store.find("jobs", {"n": 3})] == [12]


def test_a_hand_written_record_is_found_by_its_own_id_as_if_saved(store: Store) -> None:
    store.import_(
        {
            "records": [
                {"collection": "jobs", "data": {"id": 123, "n": 1}},
                {"collection": "jobs", "data": {"n": 2}},
            ]
        }
    )
    first, second = store.get("jobs", 123), store.get("jobs", 124)
    assert first is not None
    assert first.data == {"id": 123, "n": 1}
    assert second is not None
    assert second.data == {"n": 2, "id": 124}, "the id it was given, written in"
    assert store.save("jobs", {"n": 3}).data["id"] == 125
    store.import_({"records": [{"collection": "jobs", "data": {"id": "seven"}}]})
    (kept,) = store.find("jobs")
    assert (kept.id, kept.data) == (1, {"id": "seven"}), "an id that is no record id stays data"


BAD_DOCUMENTS: list[tuple[Any, str]] = [
    ([], r"\$: must be a JSON object"),
    ({"counters": {}, "extra": 1}, r"unknown keys \['extra'\]"),
    ({"version": 3}, "version: 3 is not supported"),
    ({"counters": 1}, "counters: must be a list"),
    ({"counters": {"jobs": "1"}}, r"counters\[0\]\.value: must be an integer"),
    ({"counters": {"jobs": True}}, r"counters\[0\]\.value: must be an integer"),
    ({"counters": {"jobs": 2**63 - 1}}, r"counters\[0\]\.value: must be an integer from"),
    ({"counters": {"": 1}}, "counter name must be a non-empty string"),
    ({"counters": [{"name": "a", "value": 1, "session": "bad session"}]}, r"counters\[0\]\.session"),
    ({"records": {}}, "records: must be a list"),
    ({"records": [1]}, r"records\[0\]: must be an object"),
    ({"records": [{"data": {}}]}, r"records\[0\]\.collection: must be a non-empty string"),
    ({"records": [{"collection": "a", "data": [1]}]}, r"records\[0\]\.data: .*must be a JSON object"),
    (
        {"records": [{"collection": "a", "data": {"s": "\ud800"}}]},
        r"records\[0\]\.data.*\$\.s: a string with a lone",
    ),
    (
        {"records": [{"collection": "a", "data": {}, "id": 0}]},
        r"records\[0\]\.id: record id must be an integer",
    ),
    ({"records": [{"collection": "a", "data": {}, "id": 2**63 - 1}]}, r"records\[0\]\.id: record id must be"),
    (
        {"records": [{"collection": "a", "data": {}, "id": 2}, {"collection": "a", "data": {}, "id": 2}]},
        r"records\[1\]\.id: 2 appears twice",
    ),
    ({"records": [{"collection": "a", "data": {}, "created_at": "soon"}]}, "is not an ISO 8601 date-time"),
    ({"records": [{"collection": "a", "data": {}, "colour": 1}]}, r"unknown keys \['colour'\]"),
    ({"records": [{"collection": "a\u0000", "data": {}}]}, r"records\[0\]\.collection: must be printable"),
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


def test_a_collection_is_known_from_its_first_save_to_its_reset(store: Store) -> None:
    assert not store.has_collection("c")
    record = store.save("c", {})
    store.delete("c", record.id)
    assert store.has_collection("c")
    assert not store.has_collection("c", session="other")
    store.reset("c")
    assert not store.has_collection("c")
