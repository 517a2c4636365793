"""Delivery from the outbox: sent rows are marked, failures retried later, files made at send."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import storage.db
from bot.catalogue import Catalogue, RenderedFile, RenderedMessage
from bot.connector import PLAIN_TEXT, Capabilities
from bot.delivery import Deliverer, PermanentSendError, RetryAfter
from flows.replies import Attachment, Params, Reply
from storage import models as m
from storage.db import make_engine, session_factory
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.support.loop_turns import counting_loop_turns


@dataclass
class FlakyTransport:
    """Fails the first sends in a given way, then succeeds."""

    failures: list[Exception]
    platform: str = "test"
    capabilities: Capabilities = PLAIN_TEXT
    sent: list[RenderedMessage] = field(default_factory=list)

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)


class NoteMaker:
    """A file maker for tests: a text file named after its parameter."""

    kind = "note"

    def make(
        self, uow: UnitOfWork, params: Params, locale: str, catalogue: Catalogue
    ) -> RenderedFile:
        return RenderedFile(f"{params['name']}.txt", "text/plain", b"hej")


def enqueue(sessions: sessionmaker[Session], clock: FakeClock, reply: Reply) -> int:
    with UnitOfWork(sessions) as uow:
        (row,) = uow.outbox.enqueue("test", "c1", (reply,), "sv", clock.now)
        uow.commit()
    return row


def status(sessions: sessionmaker[Session], row: int) -> tuple[str, int]:
    with UnitOfWork(sessions) as uow:
        outbox = uow.session.get_one(m.Outbox, row)
        return outbox.status, outbox.attempts


def test_a_transient_failure_is_retried_later_not_lost(
    sqlite_engine: object, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    transport = FlakyTransport([TimeoutError()])
    deliverer = Deliverer(sessions, catalogue, {"test": transport}, clock=clock)
    row = enqueue(sessions, clock, Reply("common.cancel"))
    assert asyncio.run(deliverer.deliver([row])) == 0
    assert status(sessions, row) == ("pending", 1)
    assert asyncio.run(deliverer.deliver()) == 0, "not again before the backoff"
    clock.advance(seconds=6)
    assert asyncio.run(deliverer.deliver()) == 1
    assert status(sessions, row) == ("sent", 2)
    assert [s.text for s in transport.sent] == ["Avbryt"]


def test_a_rate_limit_waits_as_long_as_the_platform_says(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    transport = FlakyTransport([RetryAfter(40)])
    deliverer = Deliverer(sessions, catalogue, {"test": transport}, clock=clock)
    row = enqueue(sessions, clock, Reply("common.cancel"))
    asyncio.run(deliverer.deliver())
    clock.advance(seconds=39)
    assert asyncio.run(deliverer.deliver()) == 0
    clock.advance(seconds=2)
    assert asyncio.run(deliverer.deliver()) == 1
    # A rate limit is a wait, not a failed attempt: it does not bring giving up closer.
    assert status(sessions, row) == ("sent", 1)


def test_a_permanent_failure_is_not_retried(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    transport = FlakyTransport([PermanentSendError("blocked")])
    deliverer = Deliverer(sessions, catalogue, {"test": transport}, clock=clock)
    row = enqueue(sessions, clock, Reply("common.cancel"))
    asyncio.run(deliverer.deliver())
    clock.advance(days=1)
    assert asyncio.run(deliverer.deliver()) == 0
    assert status(sessions, row) == ("failed", 1)


def test_attachments_are_made_at_send_time(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    transport = FlakyTransport([])
    makers = {"note": NoteMaker()}
    deliverer = Deliverer(sessions, catalogue, {"test": transport}, clock=clock, file_makers=makers)
    enqueue(sessions, clock, Reply("common.cancel", attachment=Attachment("note", {"name": "x"})))
    assert asyncio.run(deliverer.deliver()) == 1
    assert transport.sent[0].file == RenderedFile("x.txt", "text/plain", b"hej")


def test_an_unknown_file_kind_fails_the_row_instead_of_looping(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    deliverer = Deliverer(sessions, catalogue, {"test": FlakyTransport([])}, clock=clock)
    row = enqueue(sessions, clock, Reply("common.cancel", attachment=Attachment("nope")))
    asyncio.run(deliverer.deliver())
    assert status(sessions, row) == ("failed", 1)


def test_rows_for_other_platforms_are_left_for_their_adapters(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    deliverer = Deliverer(sessions, catalogue, {"other": FlakyTransport([], "other")}, clock=clock)
    row = enqueue(sessions, clock, Reply("common.cancel"))
    assert asyncio.run(deliverer.deliver()) == 0
    assert status(sessions, row) == ("pending", 0)


class ThreadNotingMaker:
    """A file maker that notes which thread made the file (a chart takes a while to draw)."""

    kind = "note"

    def __init__(self) -> None:
        self.threads: list[int] = []

    def make(
        self, uow: UnitOfWork, params: Params, locale: str, catalogue: Catalogue
    ) -> RenderedFile:
        self.threads.append(threading.get_ident())
        return RenderedFile("chart.png", "image/png", b"\x89PNG")


def test_a_file_is_made_off_the_event_loop_so_other_chats_go_on(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maker = ThreadNotingMaker()
    transport = FlakyTransport([])
    deliverer = Deliverer(
        sessions, catalogue, {"test": transport}, clock=clock, file_makers={"note": maker}
    )
    row = enqueue(sessions, clock, Reply("common.cancel", attachment=Attachment("note")))

    async def send() -> int:
        loop_thread = threading.get_ident()
        sent = await deliverer.deliver([row])
        assert maker.threads and maker.threads[0] != loop_thread, "drawn on the event loop"
        return sent

    assert asyncio.run(send()) == 1
    assert transport.sent[0].file is not None


@dataclass
class LockingTransport:
    """Sends, and then another writer takes SQLite's write lock for `hold` seconds (a
    handler's or a catch-up's transaction, as under load)."""

    engine: Engine
    hold: float
    platform: str = "test"
    capabilities: Capabilities = PLAIN_TEXT
    sent: list[RenderedMessage] = field(default_factory=list)
    locked: threading.Event = field(default_factory=threading.Event)

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        self.sent.append(message)
        threading.Thread(target=self._hold_the_lock).start()
        self.locked.wait(5)

    def _hold_the_lock(self) -> None:
        with self.engine.connect() as connection:  # BEGIN IMMEDIATE
            connection.exec_driver_sql("SELECT 1")
            self.locked.set()
            time.sleep(self.hold)
            connection.rollback()


def test_a_sent_message_is_marked_sent_even_when_the_database_is_busy_longer_than_its_timeout(
    tmp_path: Path, catalogue: Catalogue, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under the catch-up's load (bench/memory.py) the mark waited on the event loop until
    # SQLite's busy timeout, failed, and the row stayed "sending": every chat stood still for
    # 5 s, and the message would have been sent again once its claim ran out.
    monkeypatch.setattr(storage.db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    engine = make_engine(f"sqlite:///{tmp_path / 'busy.sqlite3'}")
    upgrade(engine)
    sessions = session_factory(engine)
    transport = LockingTransport(engine, hold=0.5)
    deliverer = Deliverer(sessions, catalogue, {"test": transport}, clock=clock)
    row = enqueue(sessions, clock, Reply("common.cancel"))

    async def send() -> tuple[int, int]:
        async with counting_loop_turns() as other_chats:
            sent = await deliverer.deliver([row])
        return sent, other_chats.count

    sent, turns = asyncio.run(send())
    engine.dispose()
    assert sent == 1 and len(transport.sent) == 1
    assert status(sessions, row) == ("sent", 1)
    assert turns >= 10  # the event loop went on while the mark waited (about 0.5 s)
