"""Asking for a new meeting: the coordinator is told, and the request stays open until answered."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.conversation import ConversationRef
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.family_seed import SARA, FamilyCase, received, seed_family_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")
REASON = "Det har blivit värre i skolan sedan jullovet."


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with coordinator Sara."""
    return seed_family_case(sessions, clock.now)


@pytest.fixture
def alex(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> Chat:
    """Alex has joined the case."""
    chat = Chat(sessions, catalogue, clock, ALEX)
    chat.send(f"/start {case.youth_code}")
    return chat


def test_a_request_reaches_the_coordinator_and_is_tracked_until_answered(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    alex: Chat,
) -> None:
    alex.choose("Be om ett nytt möte")
    assert alex.ids() == ["request.ask"]
    alex.send(REASON)
    assert alex.ids() == ["request.sent", "youth.menu"]

    (alert,) = [
        r for r in received(sessions, catalogue, SARA) if r.reply.message == "alert.meeting_request"
    ]
    assert f"Alex (ung person) i ärende {case.reference} ber om ett nytt möte" in alert.text
    assert REASON in alert.text

    with UnitOfWork(sessions) as uow:
        ((open_request, asker),) = uow.families.open_requests(case.case_id, case.coordinator_id)
    assert open_request.reason == REASON and open_request.answered_at is None
    assert asker == "Alex"

    # Asking again while one is open shows the open one first.
    clock.advance(days=1)
    alex.send("/nyttmote")
    assert alex.ids() == ["request.waiting"]
    assert "Du bad om ett nytt möte måndag 23 november." in alex.text()

    with UnitOfWork(sessions) as uow:
        asked_by = uow.families.answer_request(
            open_request.id, case.coordinator_id, "Vi ses 5 december.", clock.now
        )
        uow.commit()
    assert asked_by is not None
    with UnitOfWork(sessions) as uow:
        assert uow.families.open_requests(case.case_id, case.coordinator_id) == ()
        # An answered request cannot be answered twice.
        assert (
            uow.families.answer_request(open_request.id, case.coordinator_id, "igen", clock.now)
            is None
        )
    alex.choose("Tillbaka")
    alex.choose("Be om ett nytt möte")
    assert alex.ids() == ["request.ask"]


def test_a_caregiver_can_ask_too_and_cancelling_sends_nothing(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
) -> None:
    kim = Chat.for_user(sessions, catalogue, clock, user="kim")
    kim.send(f"/start {case.caregiver_codes[0]}")
    kim.choose("Be om ett nytt möte")
    kim.choose("Avbryt")
    assert kim.ids() == ["request.cancelled", "caregiver.menu"]
    kim.choose("Be om ett nytt möte")
    kim.send("x" * 501)
    assert kim.ids() == ["text.too_long", "request.ask"]
    kim.send("Vi behöver prata om sommaren.")
    alerts = [
        r for r in received(sessions, catalogue, SARA) if r.reply.message == "alert.meeting_request"
    ]
    assert len(alerts) == 1 and "Kim (vårdnadshavare)" in alerts[0].text
