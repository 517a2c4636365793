"""Notices enqueued in bulk: the same rows, keys and languages as one by one, in a few statements.

A tick may find thousands of reminders due; `OutboxRepository.enqueue_notices` adds them with
one multi-row INSERT per chunk that skips keys already there. These tests would notice a bulk
path that lost a row, added one twice, reordered a chat's rows or wrote in the wrong language.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from flows.conversation import ConversationRef
from flows.engine import Notice
from flows.replies import say, to_family
from storage import models as m
from storage.outbox_repository import _dedup_key, _outbox_values
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.seed import add_youth, seed_case

ALEX = ConversationRef("test", "alex", "alex")
KIM = ConversationRef("test", "kim", "kim")


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block (an executemany counts once)."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _rows(sessions: sessionmaker[Session]) -> list[tuple[str, str, str, str]]:
    """(chat, message, locale, key) of every outbox row, in id order."""
    with UnitOfWork(sessions) as uow:
        rows = uow.session.execute(
            select(
                m.Outbox.chat_id, m.Outbox.message_id, m.Outbox.locale, m.Outbox.idempotency_key
            ).order_by(m.Outbox.id)
        ).all()
    return [(c, msg, loc, key) for c, msg, loc, key in rows]


def _two_people(sessions: sessionmaker[Session], now: datetime) -> tuple[int, int]:
    """Alex (Swedish) and Kim (English), each with a private chat."""
    case = seed_case(sessions, now)
    alex = add_youth(sessions, case.case_id, ALEX, "Alex", now)
    kim = add_youth(sessions, case.case_id, KIM, "Kim", now)
    with UnitOfWork(sessions) as uow:
        uow.families.set_locale(kim, "en")
        uow.commit()
    return alex, kim


def test_a_batch_adds_each_key_once_in_the_notices_order(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    alex, kim = _two_people(sessions, clock.now)
    with UnitOfWork(sessions) as uow:
        before = uow.outbox.enqueue_notices(
            [Notice(say("old"), person_id=alex, dedup_key="k0")], clock.now, "sv"
        )
        uow.commit()
    notices = [
        Notice(say("first"), person_id=alex, dedup_key="k1"),
        Notice(say("already there"), person_id=alex, dedup_key="k0"),
        Notice(say("second"), person_id=kim, dedup_key="k2"),
        Notice(say("the same key again"), person_id=alex, dedup_key="k1"),
        Notice(say("no key"), person_id=alex),
        Notice(say("third"), person_id=alex, dedup_key="k3"),
    ]
    with UnitOfWork(sessions) as uow:
        ids = uow.outbox.enqueue_notices(notices, clock.now, "sv")
        uow.commit()
    rows = _rows(sessions)
    assert [(c, msg, loc) for c, msg, loc, _ in rows] == [
        ("alex", "old", "sv"),
        ("alex", "first", "sv"),
        ("kim", "second", "en"),
        ("alex", "no key", "sv"),
        ("alex", "third", "sv"),
    ]
    # The ids are the new rows', in the notices' order, and the order they were numbered in.
    with UnitOfWork(sessions) as uow:
        in_order = uow.session.scalars(select(m.Outbox.id).order_by(m.Outbox.id)).all()
    assert before + ids == list(in_order)
    keys = [key for _, _, _, key in rows]
    assert keys[1] == _dedup_key("k1", "test", "alex")
    assert keys[2] == _dedup_key("k2", "test", "kim")
    assert len(set(keys)) == len(keys)
    # Another tick finds every keyed notice enqueued: only the unkeyed one goes in again.
    with UnitOfWork(sessions) as uow:
        again = uow.outbox.enqueue_notices(notices, clock.now, "sv")
        uow.commit()
    assert len(again) == 1
    assert [msg for _, msg, _, _ in _rows(sessions)][-1] == "no key"


def test_a_key_another_transaction_added_meanwhile_is_skipped_without_an_error(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    alex, kim = _two_people(sessions, clock.now)
    notices = [
        Notice(say("raced"), person_id=alex, dedup_key="r1"),
        Notice(say("fresh"), person_id=kim, dedup_key="r2"),
    ]
    with UnitOfWork(sessions) as uow:
        real = uow.outbox._add_keyed

        def raced(rows: Any) -> list[int]:
            # After the look-up of existing keys, before the insert: another tick's row.
            values = _outbox_values("test", "alex", say("other tick"), "sv", clock.now)
            values["idempotency_key"] = _dedup_key("r1", "test", "alex")
            uow.session.execute(m.Outbox.__table__.insert(), values)
            return real(rows)

        uow.outbox._add_keyed = raced  # type: ignore[method-assign]
        ids = uow.outbox.enqueue_notices(notices, clock.now, "sv")
        uow.commit()
    assert len(ids) == 1
    assert [(c, msg) for c, msg, _, _ in _rows(sessions)] == [
        ("alex", "other tick"),
        ("kim", "fresh"),
    ]


def test_group_chat_notices_are_written_in_their_users_language_in_one_look_up(
    sessions: sessionmaker[Session], engine: Engine, clock: FakeClock
) -> None:
    _two_people(sessions, clock.now)

    def group(n: int, user: str, platform: str = "test") -> Notice:
        return Notice(
            to_family(say("group")),
            chat=ConversationRef(platform, f"-{n}", user),
            dedup_key=f"g{n}",
        )

    few = [group(1, "kim")]
    many = [
        group(2, "alex"),
        group(3, "kim"),
        group(4, "nobody we know"),
        group(5, "kim", platform="other"),
        *(group(n, "kim") for n in range(6, 16)),
    ]
    with UnitOfWork(sessions) as uow:
        uow.outbox.enqueue_notices([], clock.now, "sv")  # the gate's and session's first reads
        with statements(engine) as one:
            uow.outbox.enqueue_notices(few, clock.now, "fi")
        with statements(engine) as fourteen:
            uow.outbox.enqueue_notices(many, clock.now, "fi")
        uow.commit()
    assert [(c, loc) for c, _, loc, _ in _rows(sessions)][:5] == [
        ("-1", "en"),
        ("-2", "sv"),
        ("-3", "en"),
        ("-4", "fi"),  # a user we do not know: the default language
        ("-5", "fi"),  # Kim is known on "test", not on "other"
    ]
    reads = [s for s in fourteen if s.lstrip().upper().startswith("SELECT")]
    # One language look-up per platform, one key look-up, one insert: not one per notice.
    assert len(reads) == len([s for s in one if s.lstrip().upper().startswith("SELECT")]) + 1
    assert len(fourteen) <= len(one) + 1


def test_many_new_notices_go_in_with_one_insert_per_chunk(
    sessions: sessionmaker[Session], engine: Engine, clock: FakeClock
) -> None:
    alex, kim = _two_people(sessions, clock.now)
    notices = [
        Notice(say("many"), person_id=(alex, kim)[n % 2], dedup_key=f"n{n}") for n in range(600)
    ]
    with UnitOfWork(sessions) as uow, statements(engine) as sent:
        ids = uow.outbox.enqueue_notices(notices, clock.now, "sv")
        uow.commit()
    inserts = [s for s in sent if s.lstrip().upper().startswith("INSERT")]
    assert len(ids) == 600 and ids == sorted(ids)
    assert len(inserts) == 2  # 500 rows, then 100: no statement or savepoint per row
    assert not any("SAVEPOINT" in s.upper() for s in sent)
    rows = _rows(sessions)
    assert [c for c, _, _, _ in rows] == ["alex", "kim"] * 300
    assert [key for _, _, _, key in rows] == [
        _dedup_key(f"n{n}", "test", ("alex", "kim")[n % 2]) for n in range(600)
    ]
