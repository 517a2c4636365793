"""A message that keeps failing is parked after a bounded time, so its chat's later messages
go on; a message that cannot be rendered fails at once; a chat's messages never overtake one
another — on SQLite and PostgreSQL (issue 20)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedMessage, TextFormat
from bot.cli import EXIT_NOT_FOUND, main
from bot.config import load_config
from bot.delivery import DeliveryPolicy
from flows.replies import Attachment, Reply, say
from storage import models as m
from storage.db import make_engine, session_factory
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.test_config import EXAMPLE
from tests.test_durable_delivery import (
    PLATFORM,
    Platform,
    ServerError,
    alex_writes,
    deliverer,
    enqueue,
    open_statuses,
)


@dataclass
class RefusesOneDocument(Platform):
    """A server that keeps answering one message (a document) with a 5xx, and takes the rest."""

    refused_text: str = ""
    tries: int = 0
    tried_at: list[object] = field(default_factory=list)

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Fails the refused message every time, delivers the others."""
        if message.text == self.refused_text:
            self.tries += 1
            raise ServerError("500")
        self.received.append((chat_id, idempotency_key, message.text))


def sent_order(sessions: sessionmaker[Session], platform: Platform) -> list[int]:
    """The outbox ids of what the platform received, in the order it received them."""
    with UnitOfWork(sessions) as uow:
        return [
            uow.session.scalar(select(m.Outbox.id).where(m.Outbox.idempotency_key == key)) or -1
            for _, key, _ in platform.received
        ]


def text(catalogue: Catalogue, message_id: str) -> str:
    """A parameterless message as the plain-text test platform shows it."""
    return catalogue.render(message_id, {}, "sv", TextFormat.PLAIN)


def test_a_message_that_keeps_failing_is_parked_within_minutes_and_the_chat_goes_on(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    document, later, latest = enqueue(
        sessions, clock.now, "alex", "common.paused", "join.used", "join.expired"
    )
    platform = RefusesOneDocument(refused_text=text(catalogue, "common.paused"))
    deliver = deliverer(sessions, catalogue, platform, clock)  # the default policy
    started = clock.now
    park_after = DeliveryPolicy().park_after
    assert timedelta(minutes=1) <= park_after <= timedelta(minutes=15)  # minutes, not hours

    # Until it is parked, the chat's later messages wait behind it, in order.
    asyncio.run(deliver.drain())
    while open_statuses(sessions).get("failed", 0) == 0:
        assert platform.received == [], "a later message overtook the one waiting for a retry"
        with UnitOfWork(sessions) as uow:
            next_at = uow.session.scalar(
                select(m.Outbox.next_attempt_at).where(m.Outbox.id == document)
            )
        assert next_at is not None
        clock.now = max(next_at, clock.now)
        asyncio.run(deliver.drain())
        assert clock.now - started <= park_after, "not parked in time"

    # Parked: failed with its error class, listed for the operator; the chat went on.
    with UnitOfWork(sessions) as uow:
        (parked,) = uow.outbox.failed()
    assert (parked.id, parked.last_error) == (document, "ServerError")
    assert platform.tries > 1  # it was retried meanwhile, not given up at the first error
    assert sent_order(sessions, platform) == [later, latest]
    assert open_statuses(sessions) == {"failed": 1, "sent": 2}


def test_the_park_time_is_the_policys(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    document, later = enqueue(sessions, clock.now, "alex", "common.paused", "join.used")
    platform = RefusesOneDocument(refused_text=text(catalogue, "common.paused"))
    deliver = deliverer(sessions, catalogue, platform, clock, park_after=timedelta(seconds=40))
    asyncio.run(deliver.drain())
    clock.advance(seconds=39)
    asyncio.run(deliver.drain())
    assert platform.received == []  # still retrying: the later one waits
    clock.advance(seconds=1)
    asyncio.run(deliver.drain())
    assert sent_order(sessions, platform) == [later]
    with UnitOfWork(sessions) as uow:
        assert [f.id for f in uow.outbox.failed()] == [document]


class BrokenMaker:
    """A file maker whose error will not change on a retry (a bug, bad data)."""

    calls = 0

    def make(self, uow: object, params: object, locale: str, catalogue: object) -> object:
        """Fails as a template or chart error would."""
        BrokenMaker.calls += 1
        raise ValueError("cannot draw this")


def test_a_message_that_cannot_be_rendered_fails_at_once_and_the_chat_goes_on(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    broken = (
        # A template error: the catalogue's text needs parameters this row does not have.
        Reply("delivery.unreachable"),
        # A file no maker makes, and a file whose maker fails.
        Reply("common.paused", attachment=Attachment("no-such-kind", {})),
        Reply("common.paused", attachment=Attachment("chart", {})),
    )
    with UnitOfWork(sessions) as uow:
        ids = uow.outbox.enqueue(PLATFORM, "alex", (*broken, say("join.used")), "sv", clock.now)
        uow.commit()
    platform = Platform()
    deliver = deliverer(sessions, catalogue, platform, clock)
    deliver._file_makers["chart"] = BrokenMaker()  # type: ignore[assignment]
    BrokenMaker.calls = 0

    assert asyncio.run(deliver.drain()) == 1
    assert sent_order(sessions, platform) == [ids[-1]]  # the chat was not held up
    with UnitOfWork(sessions) as uow:
        failed = uow.outbox.failed()
    assert [(f.id, f.attempts) for f in failed] == [(i, 1) for i in ids[:3]]  # no retries
    assert [f.last_error for f in failed] == ["UndefinedError", "UnknownFileKind", "ValueError"]
    assert BrokenMaker.calls == 1
    clock.advance(hours=3)
    assert asyncio.run(deliver.drain()) == 0  # and never tried again
    assert BrokenMaker.calls == 1


def test_a_reply_does_not_overtake_an_older_message_whose_retry_is_due_but_not_yet_taken(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    (older,) = enqueue(sessions, clock.now, "alex", "common.paused")
    with UnitOfWork(sessions) as uow:  # it was tried and waits 30 s for its retry
        uow.outbox.claim("P", clock.now, timedelta(minutes=2), [PLATFORM], [older])
        uow.outbox.retry_later(older, "TimeoutError", clock.now + timedelta(seconds=30))
        uow.commit()
    clock.advance(seconds=30)  # the retry is due; no dispatcher has taken it yet

    platform = Platform()
    deliver = deliverer(sessions, catalogue, platform, clock)
    asyncio.run(deliver.deliver(alex_writes(sessions, clock)))  # Alex writes meanwhile
    asyncio.run(deliver.drain())  # …and then the sweep comes

    order = sent_order(sessions, platform)
    assert len(order) > 1
    assert order[0] == older and order == sorted(order)


def test_a_reply_takes_a_due_older_message_of_its_chat_along_without_waiting_for_a_sweep(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    (older,) = enqueue(sessions, clock.now, "alex", "common.paused")
    platform = Platform()
    deliver = deliverer(sessions, catalogue, platform, clock)
    # Alex writes while a notice waits for the dispatcher: no sweep runs here at all.
    asyncio.run(deliver.deliver(alex_writes(sessions, clock)))
    order = sent_order(sessions, platform)
    assert len(order) > 1
    assert order[0] == older and order == sorted(order)


def test_a_notice_sent_by_id_does_not_overtake_an_older_due_message_of_its_chat(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    older, newer = enqueue(sessions, clock.now, "alex", "common.paused", "join.used")
    platform = Platform()
    deliver = deliverer(sessions, catalogue, platform, clock)
    asyncio.run(deliver.deliver([newer]))  # the notice in hand, as an adapter sends it
    asyncio.run(deliver.drain())
    assert sent_order(sessions, platform) == [older, newer]


def test_the_park_time_is_set_in_the_delivery_section(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[delivery]\npark_after_seconds = 120\n")
    assert load_config(path, environ={}).delivery.policy().park_after == timedelta(minutes=2)
    example = load_config(EXAMPLE, environ={}).delivery.policy()
    assert example.park_after == DeliveryPolicy().park_after == timedelta(minutes=5)


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A migrated SQLite file, as the operator's commands open it."""
    path = tmp_path / "bot.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return str(path)


def test_the_operator_lists_waiting_messages_without_content_and_drops_one(
    database: str, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    sessions = session_factory(engine)
    with UnitOfWork(sessions) as uow:
        stuck, later = uow.outbox.enqueue(
            "telegram", "42", (say("common.paused"), say("join.used", name="Kim")), "sv", clock.now
        )
        uow.outbox.claim("P", clock.now, timedelta(minutes=2), ["telegram"], [stuck])
        uow.outbox.retry_later(
            stuck, "BadRequest", clock.now + timedelta(seconds=40), failed_at=clock.now
        )
        (sent,) = uow.outbox.enqueue("matrix", "!room", (say("join.expired"),), "sv", clock.now)
        uow.outbox.mark_sent(sent, clock.now)
        uow.commit()

    assert main(["outbox", "list", "--pending", "--db", url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{stuck}  2026-11-23 10:00 UTC  telegram:42  common.paused  pending  attempts 1"
        "  BadRequest  next 10:00:40 UTC",
        f"{later}  2026-11-23 10:00 UTC  telegram:42  join.used  pending  attempts 0"
        "  -  next 10:00:00 UTC",
    ]  # ids, times and the error class: no text, no parameter ("Kim")

    assert main(["outbox", "drop", "--id", str(stuck), "--db", url]) == 0
    assert f"message {stuck} dropped" in capsys.readouterr().out
    assert main(["outbox", "list", "--pending", "--db", url]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{later}  ")
    with UnitOfWork(sessions) as uow:  # the chat goes on: its later message is free to go
        # (claimed for long: the command reads the real clock)
        claimed = uow.outbox.claim("Q", clock.now, timedelta(days=36500), ["telegram"])
        assert [p.id for p in claimed] == [later]
        uow.commit()

    assert main(["outbox", "drop", "--id", "999", "--db", url]) == EXIT_NOT_FOUND
    assert "no message 999 in the outbox" in capsys.readouterr().err
    assert main(["outbox", "drop", "--id", str(sent), "--db", url]) == EXIT_NOT_FOUND
    assert "already sent or dropped" in capsys.readouterr().err
    assert main(["outbox", "drop", "--id", str(later), "--db", url]) == EXIT_NOT_FOUND
    assert "being sent right now" in capsys.readouterr().err
    engine.dispose()
