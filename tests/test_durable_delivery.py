"""The deliverer: rows before sends, retries with backoff, permanent refusals, order per
chat, late and expired reminders, and the due-row index — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedMessage, TextFormat
from bot.connector import PLAIN_TEXT, Capabilities
from bot.delivery import (
    Deliverer,
    DeliveryPolicy,
    Outgoing,
    PermanentSendError,
    RetryAfter,
    backoff,
)
from bot.handler import EventHandler
from flows.conversation import ConversationRef, Inbound, TextMessage
from flows.domain import Role
from flows.engine import Notice
from flows.replies import say
from flows.wiring import default_engine
from storage import models as m
from storage.db import is_sqlite
from storage.outbox_repository import due_rows
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock

PLATFORM = "test"


@dataclass
class Platform:
    """A chat platform on the other side of the transport: what each chat received."""

    platform: str = PLATFORM
    capabilities: Capabilities = PLAIN_TEXT
    received: list[tuple[str, str, str]] = field(default_factory=list)  # chat, key, text
    refuse: set[str] = field(default_factory=set)  # chats that blocked the bot

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Takes a message, or refuses it for good."""
        if chat_id in self.refuse:
            raise PermanentSendError(chat_id)
        self.received.append((chat_id, idempotency_key, message.text))

    def texts(self, chat_id: str) -> list[str]:
        """What one chat received, in order."""
        return [t for c, _, t in self.received if c == chat_id]


class ServerError(Exception):
    """An HTTP 5xx from the platform."""


@dataclass
class FlakyPlatform(Platform):
    """Fails a share of sends the way real platforms do: timeouts, 5xx, 429 with retry_after,
    and responses lost after the platform took the message. With `idempotent`, a key seen
    before is not delivered again (Matrix txnId); without, it is (Telegram)."""

    fault_rate: float = 0.3
    idempotent: bool = True
    rng: random.Random = field(default_factory=lambda: random.Random(3))
    calls: int = 0
    faults: Counter[str] = field(default_factory=Counter)

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Delivers, fails before delivering, or delivers and then fails to say so."""
        self.calls += 1
        if self.rng.random() < self.fault_rate:
            fault = self.rng.choice(["timeout", "5xx", "429", "lost reply"])
            self.faults[fault] += 1
            if fault == "timeout":
                raise TimeoutError
            if fault == "5xx":
                raise ServerError("502")
            if fault == "429":
                raise RetryAfter(self.rng.uniform(0.5, 30))
            self._deliver(chat_id, idempotency_key, message)
            raise TimeoutError  # the platform took it; we never heard
        self._deliver(chat_id, idempotency_key, message)

    def _deliver(self, chat_id: str, key: str, message: RenderedMessage) -> None:
        """Shows the message in the chat (once per key on an idempotent platform)."""
        if self.idempotent and any(k == key for _, k, _ in self.received):
            return
        self.received.append((chat_id, key, message.text))


def enqueue(sessions: sessionmaker[Session], now: datetime, chat: str, *ids: str) -> list[int]:
    """Committed outbox rows of messages to one chat."""
    with UnitOfWork(sessions) as uow:
        rows = uow.outbox.enqueue(PLATFORM, chat, tuple(say(i) for i in ids), "sv", now)
        uow.commit()
    return rows


def open_statuses(sessions: sessionmaker[Session]) -> Counter[str]:
    """How many rows have each status."""
    with UnitOfWork(sessions) as uow:
        return Counter(uow.session.scalars(select(m.Outbox.status)).all())


def deliverer(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    transport: Platform,
    clock: FakeClock,
    **policy: object,
) -> Deliverer:
    """A deliverer with a seeded jitter."""
    return Deliverer(
        sessions,
        catalogue,
        {PLATFORM: transport},
        clock=clock,
        policy=DeliveryPolicy(**policy),  # type: ignore[arg-type]
        rng=random.Random(1),
    )


async def run_until_settled(
    sessions: sessionmaker[Session], deliver: Deliverer, clock: FakeClock, rounds: int = 500
) -> None:
    """Sends, then moves the clock to the next retry, until nothing is open."""
    for _ in range(rounds):
        await deliver.drain()
        with UnitOfWork(sessions) as uow:
            if not uow.outbox.counts().pending + uow.outbox.counts().sending:
                return
            # The next retry; rows due but waiting behind an older one of their chat go
            # when that one does.
            next_at = uow.session.scalar(
                select(func.min(m.Outbox.next_attempt_at)).where(
                    m.Outbox.status.in_(("pending", "sending")),
                    m.Outbox.next_attempt_at > clock.now,
                )
            )
        assert next_at is not None, "open rows that nothing will ever send"
        clock.now = next_at
    raise AssertionError("delivery did not settle")


def test_a_reply_is_sent_only_once_its_row_is_committed_and_claimed(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    seen: list[tuple[str, str | None]] = []

    class Checking(Platform):
        async def send(self, chat_id: str, message: RenderedMessage, key: str) -> None:
            with UnitOfWork(sessions) as uow:  # another connection: only committed rows
                row = uow.session.scalar(select(m.Outbox).where(m.Outbox.idempotency_key == key))
                assert row is not None
                seen.append((row.status, row.claimed_by))

    ids = enqueue(sessions, clock.now, "alex", "common.paused")
    sent = asyncio.run(deliverer(sessions, catalogue, Checking(), clock).deliver(ids))
    assert sent == 1
    assert seen == [("sending", "local")]
    assert open_statuses(sessions) == {"sent": 1}


@pytest.mark.parametrize("idempotent", [True, False], ids=["matrix-like", "telegram-like"])
def test_transient_faults_in_a_fifth_of_sends_are_retried_until_all_are_delivered(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, idempotent: bool
) -> None:
    for n in range(10):
        enqueue(sessions, clock.now, f"chat-{n}", *(["common.paused"] * 10))
    platform = FlakyPlatform(idempotent=idempotent)
    asyncio.run(run_until_settled(sessions, deliverer(sessions, catalogue, platform, clock), clock))

    faults = sum(platform.faults.values())
    keys = Counter(key for _, key, _ in platform.received)
    twice = sum(n - 1 for n in keys.values())
    print(
        f"\ntransient faults ({'idempotent' if idempotent else 'no idempotency'}): "
        f"{platform.calls} sends, {faults} faults ({faults / platform.calls:.0%}: "
        f"{dict(platform.faults)}); delivered {len(keys)} of 100, {twice} twice"
    )
    assert faults / platform.calls >= 0.2
    assert open_statuses(sessions) == {"sent": 100}
    assert len(keys) == 100
    if idempotent:
        assert twice == 0
    else:
        assert twice <= platform.faults["lost reply"]  # only replies the platform lost


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    policy = DeliveryPolicy(base_backoff=timedelta(seconds=5), max_backoff=timedelta(minutes=30))
    rng = random.Random(0)
    for attempts in range(1, 15):
        step = min(5 * 2 ** (attempts - 1), 1800)
        waits = {backoff(attempts, policy, rng).total_seconds() for _ in range(50)}
        assert all(step / 2 <= w <= step for w in waits)
        assert len(waits) > 40  # jittered: not one fixed value


def test_after_the_last_attempt_a_message_is_failed_visible_and_can_be_retried(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    class Down(Platform):
        async def send(self, chat_id: str, message: RenderedMessage, key: str) -> None:
            raise ServerError("503")

    (row,) = enqueue(sessions, clock.now, "alex", "common.paused")
    asyncio.run(
        run_until_settled(
            sessions, deliverer(sessions, catalogue, Down(), clock, max_attempts=4), clock
        )
    )
    with UnitOfWork(sessions) as uow:
        (failed,) = uow.outbox.failed()
        assert (failed.id, failed.attempts, failed.last_error) == (row, 4, "ServerError")
        assert failed.message_id == "common.paused"  # the id only: never the text
        assert uow.outbox.counts().failed == 1
        assert uow.outbox.retry_failed(clock.now) == 1
        uow.commit()
    platform = Platform()
    asyncio.run(deliverer(sessions, catalogue, platform, clock).drain())
    assert platform.texts("alex") == [catalogue.render("common.paused", {}, "sv", TextFormat.PLAIN)]


def test_a_rate_limit_waits_as_asked_and_is_not_a_failed_attempt(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    class Limited(Platform):
        async def send(self, chat_id: str, message: RenderedMessage, key: str) -> None:
            raise RetryAfter(42)

    (row,) = enqueue(sessions, clock.now, "alex", "common.paused")
    limited = deliverer(sessions, catalogue, Limited(), clock, max_attempts=2)
    for _ in range(5):
        asyncio.run(limited.drain())
        clock.advance(seconds=42)
    with UnitOfWork(sessions) as uow:
        outbox = uow.session.get(m.Outbox, row)
        assert outbox is not None
        assert (outbox.status, outbox.attempts, outbox.last_error) == ("pending", 0, "RetryAfter")
        assert outbox.next_attempt_at == clock.now  # 42 s after the last try


@pytest.fixture
def case_with_coordinator(sessions: sessionmaker[Session], clock: FakeClock) -> dict[str, int]:
    """Case K-1: Alex (youth, chat "alex") and Sam (coordinator, chat "sam")."""
    with UnitOfWork(sessions) as uow:
        case = uow.cases.create_case(clock.now)
        people = {}
        for name, role in (("Alex", Role.YOUTH), ("Sam", Role.COORDINATOR)):
            person = uow.cases.add_person(name, "sv", clock.now)
            chat = name.lower()
            uow.cases.link_identity(person.id, ConversationRef(PLATFORM, chat, chat))
            uow.cases.add_member(case.id, person.id, role, clock.now)
            people[chat] = person.id
        uow.commit()
    return people


def test_a_blocked_bot_marks_the_chat_unreachable_and_tells_the_coordinator_once(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case_with_coordinator: dict[str, int],
) -> None:
    platform = Platform(refuse={"alex"})
    deliver = deliverer(sessions, catalogue, platform, clock)
    enqueue(sessions, clock.now, "alex", "common.paused", "common.paused")
    asyncio.run(deliver.drain())
    clock.advance(hours=1)
    enqueue(sessions, clock.now, "alex", "common.paused")
    asyncio.run(deliver.drain())

    assert platform.texts("alex") == []
    (told,) = platform.texts("sam")
    assert told.startswith("Jag kan inte längre nå Alex i ärende K-1.")
    with UnitOfWork(sessions) as uow:
        errors = [f.last_error for f in uow.outbox.failed()]
    assert errors == ["PermanentSendError", "RecipientUnreachable", "RecipientUnreachable"]

    # Alex unblocks the bot and writes: reachable again, and the answer arrives.
    platform.refuse.clear()
    handler = EventHandler(sessions, default_engine(), clock=clock)
    ids = handler.handle(Inbound(ConversationRef(PLATFORM, "alex", "alex"), TextMessage("hej")))
    assert asyncio.run(deliver.deliver(ids)) == len(ids) > 0


def test_one_chats_messages_keep_their_order_across_two_dispatchers(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    first, second, third = enqueue(
        sessions, clock.now, "alex", "join.used", "join.expired", "join.unknown"
    )
    (other,) = enqueue(sessions, clock.now, "kim", "common.paused")
    # Dispatcher A has claimed Alex's first message and is still sending it.
    with UnitOfWork(sessions) as uow:
        claimed = uow.outbox.claim("A", clock.now, timedelta(minutes=2), [PLATFORM], [first])
        uow.commit()
    assert [c.id for c in claimed] == [first]

    platform = Platform()
    b = Deliverer(sessions, catalogue, {PLATFORM: platform}, clock=clock, process_id="B")
    assert asyncio.run(b.drain()) == 1
    assert [c for c, _, _ in platform.received] == ["kim"]  # Alex's later ones wait

    with UnitOfWork(sessions) as uow:
        uow.outbox.mark_sent(first, clock.now)
        uow.commit()
    assert asyncio.run(b.drain()) == 2
    keys = [k for c, k, _ in platform.received if c == "alex"]
    with UnitOfWork(sessions) as uow:
        order = [
            uow.session.scalar(select(m.Outbox.id).where(m.Outbox.idempotency_key == k))
            for k in keys
        ]
    assert order == [second, third]
    assert other


def test_a_claim_that_ran_out_is_taken_over_by_another_dispatcher(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    (row,) = enqueue(sessions, clock.now, "alex", "common.paused")
    with UnitOfWork(sessions) as uow:
        assert uow.outbox.claim("dead", clock.now, timedelta(minutes=2), [PLATFORM])
        uow.commit()
    platform = Platform()
    b = Deliverer(sessions, catalogue, {PLATFORM: platform}, clock=clock, process_id="B")
    assert asyncio.run(b.drain()) == 0  # still claimed
    clock.advance(minutes=2)
    assert asyncio.run(b.drain()) == 1
    assert len(platform.received) == 1 and row


def reminder(due_at: datetime, ends_at: datetime, key: str) -> Notice:
    """A meeting reminder to Alex's chat, as a due-source makes it."""
    return Notice(
        say(
            "member.home",
            name="Alex",
            case="K-1",
            meeting_at=ends_at,
            due_at=due_at,
            expires_at=ends_at,
        ),
        chat=ConversationRef(PLATFORM, "alex", "alex"),
        dedup_key=key,
    )


def test_a_late_reminder_says_how_late_it_is(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:
        uow.outbox.enqueue_notice(
            reminder(clock.now - timedelta(hours=2), clock.now + timedelta(hours=1), "late"),
            clock.now,
            "sv",
        )
        uow.outbox.enqueue_notice(
            reminder(clock.now - timedelta(minutes=5), clock.now + timedelta(hours=1), "fine"),
            clock.now,
            "sv",
        )
        uow.commit()
    platform = Platform()
    asyncio.run(deliverer(sessions, catalogue, platform, clock).drain())
    late, in_time = platform.texts("alex")
    assert late.endswith(
        "Förlåt, det här kommer 2 timmar för sent. "
        "Det skulle ha kommit måndag 23 november kl. 09.00."
    )
    assert "för sent" not in in_time


def test_a_reminder_for_a_meeting_that_is_over_is_dropped_with_a_log_line(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with UnitOfWork(sessions) as uow:
        (row,) = uow.outbox.enqueue_notice(
            reminder(clock.now - timedelta(hours=3), clock.now - timedelta(minutes=1), "over"),
            clock.now,
            "sv",
        )
        uow.commit()
    platform = Platform()
    with caplog.at_level(logging.INFO, logger="bot.delivery"):
        asyncio.run(deliverer(sessions, catalogue, platform, clock).drain())
    assert platform.received == []
    assert open_statuses(sessions) == {"dropped": 1}
    assert f"outbox {row} dropped: no longer relevant" in caplog.text


def test_due_rows_are_found_through_the_index(engine: Engine, clock: FakeClock) -> None:
    rows = [
        {
            "platform": PLATFORM,
            "chat_id": f"c{n}",
            "message_id": "common.paused",
            "params": {},
            "choices": [],
            "locale": "sv",
            "status": "sent" if n % 1000 else "pending",
            "attempts": 1,
            "next_attempt_at": clock.now,
            "idempotency_key": f"k{n}",
            "created_at": clock.now,
        }
        for n in range(20_000)
    ]
    with engine.begin() as c:
        c.execute(insert(m.Outbox), rows)
        c.execute(text("ANALYZE"))
    query = due_rows(clock.now, [PLATFORM], 50).compile(
        engine, compile_kwargs={"literal_binds": True}
    )
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as c:
        plan = "\n".join(str(r[-1]) for r in c.execute(text(explain + str(query))))
    print(f"\n{engine.dialect.name} plan of the due-row query:\n{plan}")
    assert "ix_outbox_status_next" in plan


def test_a_message_whose_every_try_ended_its_process_is_given_up(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    (row,) = enqueue(sessions, clock.now, "alex", "common.paused")
    for n in range(3):  # three processes claimed it and died before recording anything
        with UnitOfWork(sessions) as uow:
            assert uow.outbox.claim(f"dead-{n}", clock.now, timedelta(minutes=2), [PLATFORM])
            uow.commit()
        clock.advance(minutes=2)
    platform = Platform()
    asyncio.run(deliverer(sessions, catalogue, platform, clock, max_attempts=2).drain())
    assert platform.received == []
    with UnitOfWork(sessions) as uow:
        (failed,) = uow.outbox.failed()
    assert (failed.id, failed.attempts, failed.last_error) == (row, 4, "TooManyAttempts")


def test_when_a_message_must_wait_the_younger_ones_of_its_chat_wait_with_it(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    class LimitedOnce(Platform):
        async def send(self, chat_id: str, message: RenderedMessage, key: str) -> None:
            if not self.refuse:
                self.refuse.add("done")  # (used here as "already limited once")
                raise RetryAfter(30)
            self.received.append((chat_id, key, message.text))

    ids = enqueue(sessions, clock.now, "alex", "join.used", "join.expired", "join.unknown")
    platform = LimitedOnce()
    deliver = deliverer(sessions, catalogue, platform, clock)
    assert asyncio.run(deliver.drain()) == 0  # the 2nd and 3rd do not overtake the 1st
    assert open_statuses(sessions) == {"pending": 3}
    clock.advance(seconds=30)
    assert asyncio.run(deliver.drain()) == 3
    with UnitOfWork(sessions) as uow:
        order = [
            uow.session.scalar(select(m.Outbox.id).where(m.Outbox.idempotency_key == key))
            for _, key, _ in platform.received
        ]
    assert order == ids


def alex_writes(
    sessions: sessionmaker[Session], clock: FakeClock, text: str = "hej", process: str = "P"
) -> Outgoing:
    """Alex (no case yet) writes to the bot; the handler's replies, as its adapter gets them."""
    handler = EventHandler(sessions, default_engine(), clock=clock, process_id=process)
    return handler.handle(Inbound(ConversationRef(PLATFORM, "alex", "alex"), TextMessage(text)))


def test_the_replies_are_claimed_in_the_handlers_transaction_and_sent_without_another(
    engine: Engine, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    outgoing = alex_writes(sessions, clock)
    assert outgoing.claimed and not outgoing.ids
    with UnitOfWork(sessions) as uow:  # committed with the step, already this process's
        rows = uow.session.execute(
            select(m.Outbox.id, m.Outbox.status, m.Outbox.claimed_by, m.Outbox.attempts)
            .add_columns(m.Outbox.next_attempt_at)
            .order_by(m.Outbox.id)
        ).all()
    assert [r.id for r in rows] == [c.id for c in outgoing.claimed]
    assert {(r.status, r.claimed_by, r.attempts) for r in rows} == {("sending", "P", 1)}
    assert {r.next_attempt_at for r in rows} == {clock.now + DeliveryPolicy().claim_for}

    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(" ".join(statement.split()))

    platform = Platform()
    event.listen(engine, "before_cursor_execute", record)
    try:
        sent = asyncio.run(deliverer(sessions, catalogue, platform, clock).deliver(outgoing))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert sent == len(rows) == len(platform.texts("alex"))
    # Nothing but one mark-sent per message: no claim reads or updates the rows again.
    writes = [s for s in statements if s.startswith(("SELECT", "UPDATE", "INSERT", "DELETE"))]
    assert writes == [s for s in writes if s.startswith("UPDATE outbox SET status")]
    assert len(writes) == sent
    if is_sqlite(engine):
        # Each mark is its own transaction without a BEGIN (storage.db.one_statement), and
        # the rows read as sent from another connection: each statement committed itself.
        assert statements == writes
    assert open_statuses(sessions) == {"sent": sent}


def test_replies_wait_behind_an_older_message_of_their_chat_that_waits_for_a_retry(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    (older,) = enqueue(sessions, clock.now, "alex", "common.paused")
    with UnitOfWork(sessions) as uow:  # it was tried and waits for its retry
        uow.outbox.claim("P", clock.now, timedelta(minutes=2), [PLATFORM], [older])
        uow.outbox.retry_later(older, "TimeoutError", clock.now + timedelta(seconds=30))
        uow.commit()

    outgoing = alex_writes(sessions, clock)
    assert len(outgoing) == 0  # nothing to send now: the answer must not overtake
    assert open_statuses(sessions)["pending"] > 1

    platform = Platform()
    deliver = deliverer(sessions, catalogue, platform, clock)
    assert asyncio.run(deliver.drain()) == 0
    clock.advance(seconds=30)
    assert asyncio.run(deliver.drain()) == open_statuses(sessions)["sent"] > 1
    with UnitOfWork(sessions) as uow:
        order = [
            uow.session.scalar(select(m.Outbox.id).where(m.Outbox.idempotency_key == key))
            for _, key, _ in platform.received
        ]
    assert order[0] == older and order == sorted(order)


def test_replies_claimed_by_a_process_that_died_before_sending_are_sent_when_the_claim_ends(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    outgoing = alex_writes(sessions, clock, process="dead")  # …and the process dies here
    platform = Platform()
    other = deliverer(sessions, catalogue, platform, clock)
    assert asyncio.run(other.drain()) == 0  # still claimed
    clock.advance(seconds=DeliveryPolicy().claim_for.total_seconds())
    assert asyncio.run(other.drain()) == len(outgoing) == len(platform.texts("alex")) > 0
    assert open_statuses(sessions) == {"sent": len(outgoing)}


def test_a_deliverer_without_the_platform_gives_claimed_replies_back_at_once(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    outgoing = alex_writes(sessions, clock)
    elsewhere = Deliverer(sessions, catalogue, {"other": Platform("other")}, clock=clock)
    assert asyncio.run(elsewhere.deliver(outgoing)) == 0
    platform = Platform()
    assert asyncio.run(deliverer(sessions, catalogue, platform, clock).drain()) == len(outgoing)
    with UnitOfWork(sessions) as uow:
        assert set(uow.session.scalars(select(m.Outbox.attempts))) == {1}  # not counted twice
