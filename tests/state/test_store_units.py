"""Units of work, ``find`` over the field index, and what a failed template leaves behind.

On SQLite and PostgreSQL (``PACTSTUB_TEST_POSTGRES_URL``), like the other store tests.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.test import Client

from pactstub import create_app
from pactstub.errors import StoreError
from pactstub.state.store import Store, UnitOfWork

# ------------------------------------------------------------------ find, over the field index


def test_find_among_many_returns_only_the_matches_in_insertion_order(store: Store) -> None:
    """Ids sharing digits (1, 10, 11, 100), the same field nested, other collections:
    the answer is exactly the matches, in id order."""
    expected: list[int] = []
    with store.unit() as unit:
        for n in range(300):
            job_id = n % 12  # 0, 1, ..., 11, 0, 1, ...
            data = {"jobId": job_id, "request": {"jobId": 1}, "tag": f"t{n % 3}", "n": n}
            if n % 7 == 0:
                data["jobId"] = float(job_id)  # 1.0 equals 1
            if n % 11 == 0:
                data["jobId"] = str(job_id)  # "1" does not
            unit.save("runs", data)
            unit.save("other", {"jobId": 1, "n": n})
            if data["jobId"] == 1 and not isinstance(data["jobId"], str) and n % 3 == 2:
                expected.append(n)
    found = store.find("runs", {"jobId": 1, "tag": "t2"})
    assert [r.data["n"] for r in found] == expected
    assert [r.id for r in found] == sorted(r.id for r in found)
    assert all(r.collection == "runs" for r in found)
    assert len(store.find("runs", {"jobId": "1"})) == len(
        [n for n in range(300) if n % 11 == 0 and n % 12 == 1]
    )
    assert store.find("runs", {"jobId": 12}) == []
    assert len(store.find("runs")) == 300


@pytest.mark.parametrize(
    ("stored", "wanted", "equal"),
    [
        (0, -0.0, True),
        (-0.0, 0, True),
        (0.0, 0, True),
        (5.0, 5, True),
        (5, 5.0, True),
        (-7, -7.0, True),
        (0.1, 0.1, True),
        (0.1, 0.10000000000000002, False),
        (1e16, 10**16, True),
        (10**16 + 1, 1e16, False),
        (2**60, float(2**60), True),
        (10**30, 10**30, True),
        (2**53 - 1, 2**53 - 1, True),
        (12, 1, False),
        (1, 12, False),
        (True, 1, False),
        (1, True, False),
        (None, None, True),
        (None, False, False),
        ('a"b\\c\u00e9\u0000', 'a"b\\c\u00e9\u0000', True),
        ("ab", "a", False),
        ("1", 1, False),
        ({"b": [1, 2.0], "a": None}, {"a": None, "b": [1.0, 2]}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ([1, {"x": "y"}], [1.0, {"x": "y"}], True),
        ([], {}, False),
    ],
)
def test_find_keeps_json_equality(store: Store, stored: Any, wanted: Any, equal: bool) -> None:
    store.save("c", {"before": 1, "v": stored, "after": [stored]})
    store.save("c", {"v": stored})  # the field last: followed by "}"
    store.save("c", {"nested": {"v": wanted}})
    assert len(store.find("c", {"v": wanted})) == (2 if equal else 0)


@pytest.mark.parametrize("key", ["é", 'say "hi"', "a.b", "$", "", "\\", "tab\t"])
def test_find_by_keys_json_escapes(store: Store, key: str) -> None:
    store.save("c", {key: "x", "n": 1})
    store.save("c", {key: "y", "n": 2})
    store.save("c", {"other": {key: "x"}, "n": 3})
    assert [r.data["n"] for r in store.find("c", {key: "x"})] == [1]


# ------------------------------------------------------------------ units of work


def test_a_unit_commits_its_writes_together(store: Store) -> None:
    with store.unit() as unit:
        assert unit.find("jobs") == []
        first = unit.next_value("jobs", 10)
        unit.save("jobs", {"id": first})
        assert [r.data for r in unit.find("jobs", {"id": first})] == [{"id": first}]  # its own writes
        assert unit.peek("jobs") == 10
    assert store.peek("jobs") == 10
    assert [r.data for r in store.find("jobs")] == [{"id": 10}]


def _fail_halfway(unit: UnitOfWork) -> None:
    with unit:
        unit.next_value("jobs")
        unit.next_value("runs", 5)
        unit.save("jobs", {"id": 11})
        raise RuntimeError("the template failed")


def test_a_unit_that_fails_leaves_nothing(store: Store) -> None:
    store.next_value("jobs", 10)
    unit = store.unit()
    with pytest.raises(RuntimeError):
        _fail_halfway(unit)
    assert store.snapshot() == {"session": "default", "counters": {"jobs": 10}, "collections": {}}
    assert store.next_value("jobs") == 11  # never handed out, so handed out now
    with pytest.raises(StoreError, match="already"):
        unit.peek("jobs")


def test_a_unit_without_statements_takes_no_connection(store: Store) -> None:
    checked_out: list[object] = []
    sa.event.listen(store.engine, "checkout", lambda *args: checked_out.append(args))
    with store.unit():
        pass
    store.unit().rollback()
    assert checked_out == []


def test_reads_take_no_write_lock_on_sqlite(sqlite_url: str) -> None:
    """While another process holds SQLite's write lock, lookups still answer at once."""
    with Store(sqlite_url) as store:
        store.next_value("jobs", 3)
        store.save("jobs", {"id": 3})
        other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            started = time.monotonic()
            assert store.peek("jobs") == 3
            assert [r.data for r in store.find("jobs", {"id": 3})] == [{"id": 3}]
            with store.unit() as unit:
                assert unit.peek("jobs") == 3
            assert time.monotonic() - started < 2
        finally:
            other.rollback()
            other.close()


def test_reads_do_not_wait_for_a_writers_row_lock_on_postgres(postgres_url: str) -> None:
    with Store(postgres_url) as store:
        store.next_value("jobs", 3)
        writer = store.unit()
        try:
            assert writer.next_value("jobs") == 4  # holds the counter's row lock
            done = threading.Event()

            def read() -> None:
                assert store.peek("jobs") == 3  # the committed value, without waiting
                done.set()

            thread = threading.Thread(target=read)
            thread.start()
            thread.join(timeout=10)
            assert done.is_set()
        finally:
            writer.rollback()
        assert store.next_value("jobs") == 4


def test_threads_with_units_never_share_a_value(database_url: str) -> None:
    with Store(database_url) as store:
        taken: list[int] = []
        lock = threading.Lock()

        def work() -> None:
            for _ in range(20):
                with store.unit() as unit:
                    unit.find("jobs", {"id": 1})
                    value = unit.next_value("jobs", 1)
                    unit.save("jobs", {"id": value})
                with lock:
                    taken.append(value)

        threads = [threading.Thread(target=work) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(taken) == list(range(1, 121))
        assert [r.data["id"] for r in store.find("jobs")] == sorted(taken)


def _take_then_die(url: str, sender: Any) -> None:
    with Store(url) as store:
        sender.send([store.next_value("jobs", 1) for _ in range(30)])  # written before it returns
        os.kill(os.getpid(), signal.SIGKILL)  # no close, no clean shutdown


def test_values_survive_a_killed_process(database_url: str) -> None:
    """synchronous=NORMAL: a commit is in the WAL once it returns, even if the process dies."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_take_then_die, args=(database_url, sender))
    process.start()
    try:
        assert receiver.poll(120)
        taken = receiver.recv()
    finally:
        process.join(timeout=60)
    assert process.exitcode == -signal.SIGKILL
    assert taken == list(range(1, 31))
    with Store(database_url) as store:
        assert store.next_value("jobs", 1) == 31


def test_sqlite_runs_in_wal_with_normal_sync(sqlite_url: str) -> None:
    with Store(sqlite_url) as store, store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


# ------------------------------------------------------------------ one render, one unit

PACT = {
    "consumer": {"name": "tests"},
    "provider": {"name": "jobs"},
    "interactions": [
        {
            "description": "a registration",
            "request": {"method": "POST", "path": "/register"},
            "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": {"id": 1}},
        },
    ],
    "metadata": {"pactSpecification": {"version": "2.0.0"}},
}


@pytest.mark.parametrize(
    "failing",
    [
        '{% set job = save("jobs", {"id": next_id("jobs", 100)}) %}{"id": {{ job.id }}, "x": {{ nope }}}',
        '{% set job = save("jobs", {"id": next_id("jobs", 100)}) %}{"id": {{ job.id }}, "x": {{ 1 / 0 }}}',
        '{% set job = save("jobs", {"id": next_id("jobs", 100)}) %}{"id": {{ job.id }},',  # not JSON
        '{% set a = next_id("runs", 7) %}{% set job = save("jobs", {"id": next_id("jobs", "x")}) %}{}',
    ],
)
def test_a_failing_template_leaves_no_record_and_no_counter_change(
    tmp_path: Path, database_url: str, failing: str
) -> None:
    pact = tmp_path / "jobs-pact.json"
    pact.write_text(json.dumps(PACT), encoding="utf-8")
    folder = tmp_path / "templates"
    (folder / "jobs-pact").mkdir(parents=True)
    template = folder / "jobs-pact" / "a-registration.json.j2"
    good = '{% set job = save("jobs", {"id": next_id("jobs", 100)}) %}{"id": {{ job.id }}}'
    template.write_text(good, encoding="utf-8")
    app = create_app([pact], templates=folder, database_url=database_url)
    try:
        assert Client(app).post("/register").get_json() == {"id": 100}
    finally:
        app.close()

    template.write_text(failing, encoding="utf-8")
    app = create_app([pact], templates=folder, database_url=database_url)
    try:
        response = Client(app).post("/register")
        assert response.status_code == 500
        assert response.get_json()["error"] == "template failed"
        assert app.store.snapshot() == {
            "session": "default",
            "counters": {"jobs": 100},
            "collections": {"jobs": 1},
        }
    finally:
        app.close()

    template.write_text(good, encoding="utf-8")
    app = create_app([pact], templates=folder, database_url=database_url)
    try:
        assert Client(app).post("/register").get_json() == {"id": 101}  # no gap, no repeat
        assert [r.data["id"] for r in app.store.find("jobs")] == [100, 101]
    finally:
        app.close()


def _drop_connection(store: Store) -> None:
    """Terminate, from outside, the server session of the store's one pooled connection."""
    with store.engine.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        connection.rollback()
    admin = sa.create_engine(store.engine.url, poolclass=sa.NullPool)
    try:
        with admin.connect() as connection:
            assert connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
            for _ in range(50):  # until the server has ended it
                alive = connection.execute(
                    sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                ).scalar()
                if not alive:
                    break
                time.sleep(0.05)
    finally:
        admin.dispose()


def test_a_connection_dropped_by_the_server_is_replaced(postgres_url: str) -> None:
    """A restarted sandbox database: no request fails for the pooled connections it dropped.

    The pool's pre-ping finds each dead connection on checkout and opens a new one.
    """
    with Store(postgres_url) as store:
        store.next_value("jobs", 1)
        for operation in (
            lambda: store.find("jobs"),
            lambda: store.next_value("jobs"),
            lambda: store.save("jobs", {"id": 3}),
            lambda: store.reset("nothing"),
            store.export,
        ):
            _drop_connection(store)
            operation()
        assert store.peek("jobs") == 2
        assert [r.data for r in store.find("jobs")] == [{"id": 3}]


def test_postgres_transactions_are_read_committed_whatever_the_server_default(postgres_url: str) -> None:
    url = sa.make_url(postgres_url)
    options = f"{url.query['options']} -cdefault_transaction_isolation=serializable"
    with Store(url.update_query_dict({"options": options}).render_as_string(hide_password=False)) as store:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"
        with store.unit() as unit:
            assert unit.next_value("jobs") == 1
        assert store.export()["counters"] == [{"session": "default", "name": "jobs", "value": 1}]
