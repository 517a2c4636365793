"""What one message costs the database: the statements of a step in a conversation under way.

Issue 26 (CPU per message near the durable floor): every statement the handler sends costs
SQLAlchemy's machinery around it, so the hot path sends only those it needs, without giving
up a guarantee (the access gate on every read, one transaction per event, a chat that writes
to us is reachable again).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.conversation import ConversationRef
from flows.domain import ConsentScope, Role
from flows.replies import say_to_anyone
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.seed import SeededCase, add_youth, seed_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")
PAUSED = say_to_anyone("common.paused")


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Records every statement sent to the database while the block runs, whitespace folded."""
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> SeededCase:
    """A case with a meeting next week."""
    return seed_case(sessions, clock.now)


@pytest.fixture
def alex(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> Chat:
    """Alex is a consenting young person of the case and sees the menu."""
    add_youth(sessions, case.case_id, ALEX, "Alex", clock.now)
    chat = Chat(sessions, catalogue, clock, ALEX)
    chat.send("/start")
    assert chat.said("youth.menu")
    return chat


def test_a_tap_in_a_conversation_under_way_deletes_no_unreachable_mark(
    alex: Chat, engine: Engine
) -> None:
    with statements(engine) as sent:
        alex.choose("Steg 1 av 4: Mina frågor")
    assert alex.said("youth.questions")
    # The chat was never marked unreachable, and the read of the conversation said so.
    assert not [s for s in sent if s.startswith("DELETE FROM unreachable_chat")]


def test_a_chat_marked_unreachable_mid_conversation_is_reachable_when_the_person_writes(
    alex: Chat, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:  # Alex blocked the bot; a send was refused for good
        assert uow.outbox.mark_unreachable(PLATFORM, "alex", "Forbidden", clock.now)
        uow.commit()

    alex.choose("Steg 1 av 4: Mina frågor")  # and unblocked it, and taps

    assert alex.said("youth.questions")  # the answer arrives at once
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalars(select(m.UnreachableChat)).all() == []


def test_the_gate_reads_membership_and_consent_in_one_statement(
    alex: Chat, sessions: sessionmaker[Session], engine: Engine, case: SeededCase
) -> None:
    with UnitOfWork(sessions) as uow:
        actor = uow.members.actor_for(ALEX)
        assert actor is not None
        with statements(engine) as sent:
            viewer = uow.gate.require(actor.person_id, case.case_id)
            assert uow.gate.consent(actor.person_id, case.case_id).effective
    assert viewer.roles == frozenset({Role.YOUTH})
    assert len([s for s in sent if s.startswith("SELECT")]) == 1


def test_one_read_still_sees_a_withdrawn_consent_and_an_ended_membership(
    alex: Chat, sessions: sessionmaker[Session], clock: FakeClock, case: SeededCase
) -> None:
    with UnitOfWork(sessions) as uow:
        actor = uow.members.actor_for(ALEX)
        assert actor is not None
        person = actor.person_id
        assert uow.gate.admitted(person, case.case_id)
        uow.privacy.record_consent(person, case.case_id, ConsentScope.BOT, False, "v", clock.now)
        assert not uow.gate.admitted(person, case.case_id)  # the same session, after a write
        uow.commit()
    with UnitOfWork(sessions) as uow:
        assert uow.gate.roles(person, case.case_id) == frozenset({Role.YOUTH})
        assert not uow.gate.consent(person, case.case_id).effective
        assert not uow.gate.admitted(person, case.case_id)


def test_a_reply_to_a_free_chat_is_written_claimed_in_one_statement(
    alex: Chat, engine: Engine
) -> None:
    with statements(engine) as sent:
        alex.tap("questions")  # Steg 1 av 4: Mina frågor
    assert alex.said("youth.questions")
    # The look at the chat (is an older message on its way? is it unreachable?) is part of
    # the INSERT of the first reply: no SELECT of the chat's outbox beforehand.
    inserts = [n for n, s in enumerate(sent) if s.startswith("INSERT INTO outbox")]
    assert len(inserts) == len(alex.turn)
    before = sent[: inserts[0]]
    assert [s for s in before if s.startswith("SELECT") and "FROM outbox" in s] == []


def test_a_reply_waits_behind_an_older_message_its_chat_is_still_sent(
    alex: Chat, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:  # another process is sending Alex an older message
        (older,) = uow.outbox.enqueue(PLATFORM, "alex", (PAUSED,), "sv", clock.now)
        uow.outbox.claim("other", clock.now, timedelta(minutes=2), [PLATFORM], [older])
        uow.commit()

    assert alex.choose("Steg 1 av 4: Mina frågor") == []  # the answer does not overtake it

    with UnitOfWork(sessions) as uow:
        waiting = uow.outbox.pending(clock.now)
    assert [p.reply.message for p in waiting if p.chat_id == "alex"] == ["youth.questions"]


def test_an_audit_row_waiting_to_be_written_does_not_make_the_gate_ask_again(
    alex: Chat, sessions: sessionmaker[Session], engine: Engine, case: SeededCase, clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:
        actor = uow.members.actor_for(ALEX)
        assert actor is not None
        uow.gate.require(actor.person_id, case.case_id)
        with statements(engine) as sent:
            # An audited read leaves an audit row pending: it changes no one's admission.
            uow.gate.require(actor.person_id, case.case_id, clock.now, "read_items")
            viewer = uow.gate.require(actor.person_id, case.case_id)
    assert viewer.roles == frozenset({Role.YOUTH})
    assert [s for s in sent if s.startswith("SELECT")] == []


def test_a_consent_waiting_to_be_written_makes_the_gate_ask_again(
    alex: Chat, sessions: sessionmaker[Session], case: SeededCase, clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:
        actor = uow.members.actor_for(ALEX)
        assert actor is not None
        assert uow.gate.admitted(actor.person_id, case.case_id)
        uow.session.add(
            m.Consent(
                person_id=actor.person_id,
                case_id=case.case_id,
                scope=ConsentScope.BOT.value,
                given=False,
                text_version="v",
                recorded_at=clock.now,
            )
        )
        assert not uow.gate.admitted(actor.person_id, case.case_id)
