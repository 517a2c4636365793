"""SQLite writers of one process take turns in the order they asked, so none starves."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

import storage.db
from storage.db import make_engine
from storage.writer_queue import WriterTurns

HOG_HOLDS_S = 0.1


def wait_until(condition: object, limit_s: float = 5.0) -> None:
    """Polls a condition (a callable) for a few seconds at most."""
    assert callable(condition)
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.001)


def test_turns_are_handed_over_in_the_order_they_were_asked_for() -> None:
    turns = WriterTurns()
    assert turns.acquire(1.0)
    order: list[int] = []

    def writer(number: int) -> None:
        assert turns.acquire(5.0)
        order.append(number)
        turns.release()

    threads = []
    for number in range(1, 4):
        thread = threading.Thread(target=writer, args=(number,))
        thread.start()
        wait_until(lambda n=number: turns.waiting == n)  # type: ignore[misc]
        threads.append(thread)
    turns.release()
    for thread in threads:
        thread.join(5)
    assert order == [1, 2, 3]
    assert turns.acquire(0.0)  # free again: nobody holds or waits


def test_a_writer_that_waits_too_long_leaves_the_queue() -> None:
    turns = WriterTurns()
    assert turns.acquire(1.0)
    assert not turns.acquire(0.02)
    assert turns.waiting == 0
    turns.release()
    assert turns.acquire(0.0)


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A SQLite database with one table, and a busy timeout of 1 s (a failure comes fast)."""
    monkeypatch.setattr(storage.db, "SQLITE_BUSY_TIMEOUT_MS", 1000)
    db = make_engine(f"sqlite:///{tmp_path / 'writers.sqlite3'}")
    with db.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    yield db
    db.dispose()


def test_a_writer_that_begins_again_at_once_does_not_starve_the_others(engine: Engine) -> None:
    # The tick queueing a catch-up commits a batch and begins the next at once. Through
    # SQLite's busy handler alone, every other writer waited the whole timeout and failed.
    stop = threading.Event()

    def hog() -> None:
        while not stop.is_set():
            with engine.begin() as connection:
                connection.exec_driver_sql("INSERT INTO t VALUES (1)")
                time.sleep(HOG_HOLDS_S)

    thread = threading.Thread(target=hog)
    thread.start()
    try:
        time.sleep(0.05)
        waits = []
        for _ in range(5):
            started = time.perf_counter()
            with engine.begin() as connection:
                connection.exec_driver_sql("INSERT INTO t VALUES (2)")
            waits.append(time.perf_counter() - started)
    finally:
        stop.set()
        thread.join(5)
    # Each waits for the transaction in hand, not for a gap SQLite's polling happens to see.
    assert max(waits) < 3 * HOG_HOLDS_S, waits


def test_a_transaction_that_fails_ends_its_turn(engine: Engine) -> None:
    with pytest.raises(ZeroDivisionError), engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO t VALUES (3)")
        raise ZeroDivisionError
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO t VALUES (4)")
    assert time.perf_counter() - started < 0.5  # not the 1 s wait for a turn never ended
