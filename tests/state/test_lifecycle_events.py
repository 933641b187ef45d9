"""Each time a record enters a lifecycle state the stub logs it, once its unit of work commits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pactstub.logs import LIFECYCLE_FIELD
from pactstub.state.lifecycle import Lifecycle, Stage
from pactstub.state.store import Store

RUNS = Lifecycle(
    "runs",
    "status",
    {
        "QUEUED": Stage("QUEUED", reads=1, next="RUNNING"),
        "RUNNING": Stage("RUNNING", reads=1, next="DONE"),
        "DONE": Stage("DONE"),
        "ERROR": Stage("ERROR"),
    },
)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with Store(database_url, lifecycles={"runs": RUNS}) as opened:
        yield opened


def events(caplog: pytest.LogCaptureFixture) -> list[tuple[str, dict[str, object]]]:
    return [
        (record.getMessage(), getattr(record, LIFECYCLE_FIELD))
        for record in caplog.records
        if hasattr(record, LIFECYCLE_FIELD)
    ]


def test_saving_reading_and_updating_log_each_state_entered(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="pactstub")
    run = store.save("runs", {"id": 978})
    with store.unit() as unit:
        unit.get("runs", run.id, advance=True)  # seen QUEUED, moves on
        unit.get("runs", run.id, advance=True)  # seen RUNNING, moves on
    store.update("runs", run.id, {"status": "ERROR"})
    assert [message for message, _ in events(caplog)] == [
        "runs 978: (new) -> QUEUED",
        "runs 978: QUEUED -> RUNNING",
        "runs 978: RUNNING -> DONE",
        "runs 978: DONE -> ERROR",
    ]
    assert events(caplog)[1][1] == {
        "collection": "runs",
        "id": 978,
        "session": "default",
        "from": "QUEUED",
        "to": "RUNNING",
    }


def test_a_read_that_changes_nothing_logs_nothing(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    run = store.save("runs", {"status": "DONE"})
    caplog.set_level("INFO", logger="pactstub")
    with store.unit() as unit:
        unit.get("runs", run.id, advance=True)
        unit.update("runs", run.id, {"note": "no state change"})
    assert events(caplog) == []


def test_a_unit_rolled_back_logs_nothing(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="pactstub")
    unit = store.unit("s1")
    unit.save("runs", {"id": 5})
    unit.rollback()  # as when the template fails
    assert events(caplog) == []
    assert store.get("runs", 5, session="s1") is None
    store.save("runs", {"id": 5}, session="s1")
    assert [message for message, _ in events(caplog)] == ["runs 5 (session s1): (new) -> QUEUED"]
