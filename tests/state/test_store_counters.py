"""Counters: start at the caller's value, never repeat, also across processes and restarts."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pactstub.errors import StoreError
from pactstub.state.store import Store

PROCESSES = 4
CALLS = 50


def test_first_value_is_start_then_increases(store: Store) -> None:
    assert [store.next_value("jobs", 123) for _ in range(3)] == [123, 124, 125]
    assert store.next_value("runs", 978) == 978
    assert store.next_value("plain") == 1


def test_start_only_matters_for_a_new_counter(store: Store) -> None:
    store.next_value("jobs", 123)
    assert store.next_value("jobs", 5) == 124


def test_peek_is_the_last_value_handed_out(store: Store) -> None:
    assert store.peek("jobs") is None
    store.next_value("jobs", 123)
    assert store.peek("jobs") == 123
    assert store.peek("jobs") == 123
    assert store.next_value("jobs", 123) == 124


def test_a_new_store_on_the_same_database_continues(database_url: str) -> None:
    with Store(database_url) as first:
        assert first.next_value("jobs", 123) == 123
        assert first.next_value("jobs", 123) == 124
    with Store(database_url) as restarted:
        assert restarted.next_value("jobs", 123) == 125
        assert restarted.snapshot()["counters"] == {"jobs": 125}


def test_values_beyond_32_bits(store: Store) -> None:
    assert store.next_value("big", 2**40) == 2**40
    assert store.next_value("big", 2**40) == 2**40 + 1


@pytest.mark.parametrize("name", ["", "x" * 256, 7])
def test_bad_counter_names_are_refused(store: Store, name: Any) -> None:
    with pytest.raises(StoreError, match="counter name"):
        store.next_value(name, 1)


def test_start_must_be_an_integer(store: Store) -> None:
    with pytest.raises(StoreError, match="start must be a 64-bit integer"):
        store.next_value("jobs", True)


def test_threads_share_one_store_without_repeats(database_url: str) -> None:
    with Store(database_url) as store, ThreadPoolExecutor(8) as pool:
        values = list(pool.map(lambda _: store.next_value("jobs", 123), range(200)))
    assert sorted(values) == list(range(123, 323))


def test_in_memory_store_is_one_database_for_all_threads() -> None:
    with Store("sqlite://") as store:

        def take() -> None:
            for _ in range(25):
                store.next_value("n")

        threads = [threading.Thread(target=take) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.peek("n") == 100
        store.save("c", {"a": 1})
        assert store.snapshot() == {"session": "default", "counters": {"n": 100}, "collections": {"c": 1}}


def _take_values(url: str, start: int, barrier: Any, results: Any) -> None:
    """One worker process: open (and migrate) its own store, then take CALLS values."""
    barrier.wait()
    with Store(url) as store:
        values = [store.next_value("jobs", start) for _ in range(CALLS)]
    results.put(values)


def test_processes_never_get_the_same_value(database_url: str) -> None:
    """4 processes start together on a fresh database: they migrate it at the same
    time (the lock makes that safe) and then race for 200 values."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(target=_take_values, args=(database_url, 123, barrier, results))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    try:
        taken = [results.get(timeout=120) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=60)
        results.close()
        results.join_thread()
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES
    values = [value for chunk in taken for value in chunk]
    assert len(values) == len(set(values)) == PROCESSES * CALLS
    assert sorted(values) == list(range(123, 123 + PROCESSES * CALLS))
    for chunk in taken:  # each process sees its own values strictly increasing
        assert chunk == sorted(chunk)
        assert len(set(chunk)) == len(chunk)
