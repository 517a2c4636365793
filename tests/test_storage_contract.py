"""Repositories keep their promises on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from flows.conversation import ConversationRef
from flows.domain import ItemKind, JoinOutcome, Participation, Role, ViewAspect
from flows.engine import FlowState, Notice
from flows.replies import say
from storage import models as m
from storage.invite_codes import hash_code, normalise
from storage.repositories import StaleConversation
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.seed import add_youth, seed_case

ALEX = ConversationRef("test", "alex", "alex")
SAM = ConversationRef("test", "sam", "sam")


def test_invite_codes_are_single_use_expiring_and_stored_hashed(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    case = seed_case(sessions, clock.now)
    with UnitOfWork(sessions) as uow:
        stored = uow.session.scalars(select(m.Invite.code_hash)).all()
        assert hash_code(case.youth_code) in stored
        assert all(case.youth_code not in h and normalise(case.youth_code) not in h for h in stored)
        # Codes may be typed in lower case and without dashes.
        typed = case.youth_code.lower().replace("-", "")
        joined = uow.members.redeem_invite(ALEX, typed, clock.now)
        assert joined.outcome is JoinOutcome.JOINED
        assert joined.actor is not None and joined.actor.role is Role.YOUTH
        assert (
            uow.members.redeem_invite(SAM, case.youth_code, clock.now).outcome is JoinOutcome.USED
        )
        again = uow.members.redeem_invite(ALEX, case.youth_code, clock.now)
        assert again.outcome is JoinOutcome.ALREADY_MEMBER
        later = clock.now + timedelta(days=15)
        expired = uow.members.redeem_invite(SAM, case.caregiver_code, later)
        assert expired.outcome is JoinOutcome.EXPIRED
        assert uow.members.redeem_invite(SAM, "NOPE", clock.now).outcome is JoinOutcome.UNKNOWN
        assert uow.members.actor_for(SAM) is None


def test_people_can_only_touch_their_own_items(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    case = seed_case(sessions, clock.now)
    alex = add_youth(sessions, case.case_id, ALEX, "Alex", clock.now)
    sam = add_youth(sessions, case.case_id, SAM, "Sam", clock.now)
    with UnitOfWork(sessions) as uow:
        qid = uow.preparation.add_question(case.case_id, alex, "Alex fråga", clock.now)
        assert uow.preparation.question(qid, sam) is None
        assert not uow.preparation.edit_question(qid, sam, "kapad", clock.now)
        assert not uow.preparation.set_shared(ItemKind.QUESTION, qid, sam, True, clock.now)
        assert not uow.preparation.delete_question(qid, sam)
        assert uow.preparation.preparation(case.case_id, sam).questions == ()
        assert uow.preparation.question(qid, alex) is not None
        uow.commit()


def test_rewriting_a_view_keeps_its_sharing_choice(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    case = seed_case(sessions, clock.now)
    alex = add_youth(sessions, case.case_id, ALEX, "Alex", clock.now)
    with UnitOfWork(sessions) as uow:
        uow.preparation.set_view(case.case_id, alex, ViewAspect.HARD, "Skolan", clock.now)
        view = uow.preparation.preparation(case.case_id, alex).views[0]
        assert uow.preparation.set_shared(ItemKind.VIEW, view.id, alex, True, clock.now)
        uow.preparation.set_view(case.case_id, alex, ViewAspect.HARD, "Sömnen", clock.now)
        again = uow.preparation.preparation(case.case_id, alex).views
        assert [(v.text, v.shared) for v in again] == [("Sömnen", True)]
        uow.commit()


def test_the_agenda_holds_only_shared_items_grouped_by_person(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    case = seed_case(sessions, clock.now)
    alex = add_youth(sessions, case.case_id, ALEX, "Alex", clock.now)
    sam = add_youth(sessions, case.case_id, SAM, "Sam", clock.now)
    with UnitOfWork(sessions) as uow:
        prep = uow.preparation
        shared_q = prep.add_question(case.case_id, alex, "Delad", clock.now)
        prep.add_question(case.case_id, alex, "Privat", clock.now)
        prep.set_shared(ItemKind.QUESTION, shared_q, alex, True, clock.now)
        prep.set_participation(case.case_id, alex, Participation.REMOTE, clock.now)
        pref = prep.preparation(case.case_id, alex).preference
        assert pref is not None
        prep.set_shared(ItemKind.PREFERENCE, pref.id, alex, True, clock.now)
        prep.add_question(case.case_id, sam, "Sams privata", clock.now)
        uow.commit()
    with UnitOfWork(sessions) as uow:
        agenda = uow.agenda.agenda(case.case_id, clock.now)
    assert agenda.meeting is not None
    assert [(c.display_name, c.questions, c.participation) for c in agenda.contributions] == [
        ("Alex", ("Delad",), Participation.REMOTE)
    ]


def test_conversation_state_survives_and_concurrent_writers_cannot_both_win(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    state = FlowState("youth_prep", "questions", {"question_id": 3}, ("add", "next"))
    with UnitOfWork(sessions) as uow:
        assert uow.conversations.load(ALEX) is None
        uow.conversations.save(ALEX, state, None, clock.now)
        uow.commit()
    with UnitOfWork(sessions) as uow:
        loaded = uow.conversations.load(ALEX)
        assert loaded == (state, 1)
        uow.conversations.save(ALEX, state, 1, clock.now)
        uow.commit()
    with UnitOfWork(sessions) as uow, pytest.raises(StaleConversation):
        # Someone who read version 1 must not overwrite version 2.
        uow.conversations.save(ALEX, state, 1, clock.now)


def test_an_update_seen_twice_is_recorded_once(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:
        assert uow.inbox.record("telegram", "1001", clock.now)
        assert not uow.inbox.record("telegram", "1001", clock.now)
        assert uow.inbox.record("matrix", "1001", clock.now)
        uow.commit()
    with UnitOfWork(sessions) as uow:
        assert not uow.inbox.record("telegram", "1001", clock.now)


def test_notices_reach_private_chats_once_per_dedup_key(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    case = seed_case(sessions, clock.now)
    alex = add_youth(sessions, case.case_id, ALEX, "Alex", clock.now)
    notice = Notice(say("common.paused"), person_id=alex, dedup_key="meeting:1:2h")
    with UnitOfWork(sessions) as uow:
        first = uow.outbox.enqueue_notice(notice, clock.now, "sv")
        again = uow.outbox.enqueue_notice(notice, clock.now, "sv")
        group = Notice(say("common.paused"), chat=ConversationRef("test", "-5", "-5"))
        to_group = uow.outbox.enqueue_notice(group, clock.now, "en")
        uow.commit()
    assert len(first) == 1 and again == [] and len(to_group) == 1
    with UnitOfWork(sessions) as uow:
        pending = uow.outbox.pending(clock.now)
    assert [(p.chat_id, p.locale) for p in pending] == [("alex", "sv"), ("-5", "en")]


def test_outbox_rows_keep_order_and_back_off_after_failures(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:
        ids = uow.outbox.enqueue("test", "c", (say("a"), say("b")), "sv", clock.now)
        uow.commit()
    with UnitOfWork(sessions) as uow:
        claimed = uow.outbox.claim("p1", clock.now, timedelta(minutes=2), ["test"])
        assert [c.id for c in claimed] == ids
        uow.outbox.retry_later(ids[0], "Timeout", clock.now + timedelta(seconds=30))
        uow.outbox.mark_sent(ids[1], clock.now)
        uow.commit()
    with UnitOfWork(sessions) as uow:
        assert uow.outbox.pending(clock.now) == []
        later = uow.outbox.pending(clock.now + timedelta(seconds=31))
        assert [(p.id, p.attempts, p.reply.message) for p in later] == [(ids[0], 1, "a")]
        uow.outbox.mark_failed(ids[0], "Blocked")
        uow.commit()
    with UnitOfWork(sessions) as uow:
        assert uow.outbox.pending(clock.now + timedelta(days=1)) == []
        row = uow.session.get_one(m.Outbox, ids[0])
        assert (row.status, row.last_error) == ("failed", "Blocked")
