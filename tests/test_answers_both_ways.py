"""Answers both ways: a professional's "Hinder" reaches the coordinator at once, and the
coordinator answers a "Stämmer inte" comment so that it reaches the person privately."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.conversation import ConversationRef
from flows.picture_loop import OPEN_CHOICE
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code
from tests.family_seed import SARA, publish, received, seed_family_case


@pytest.fixture
def maria(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """Maria, the coordinator of K-1."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    return maria


def test_hinder_with_a_reason_reaches_the_coordinator_at_once(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, maria: Chat
) -> None:
    code = case_with_plan(maria, "Alex", "BUP: Skicka remiss — 1 dec")
    sara = chat(sessions, catalogue, clock, "sara")
    sara.send(f"/start {code}")
    sara.send("/meny")
    sara.choose("Skicka remiss")
    sara.choose("Hinder")
    sara.send("Väntar på samtycke")
    sara.choose("Ingen kommentar")
    assert sara.ids()[0] == "status.saved"
    # Maria hears it now, not at the next follow-up report: which action, who, and why.
    maria.receive()
    assert maria.ids() == ["alert.blocked"]
    told = maria.text()
    assert "Skicka remiss" in told and "Sara" in told and "Väntar på samtycke" in told
    assert "K-1" in told


ALEX = ConversationRef(PLATFORM, "alex", "alex")
FAMILY = ConversationRef(PLATFORM, "family", "robin")
COMMENT = "Jag bråkar inte. Det är andra som bråkar med mig."
ANSWER = "Tack, vi skriver om det i version 2."


def test_the_coordinator_answers_a_stammer_inte_comment_and_it_reaches_the_person_privately(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case = seed_family_case(sessions, clock.now)
    alex = Chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    Chat.for_user(sessions, catalogue, clock, user="robin").send(
        f"/start {case.caregiver_codes[1]}"
    )
    Chat(sessions, catalogue, clock, FAMILY).send("/meny")  # Robin writes in the family group
    sara = Chat(sessions, catalogue, clock, SARA)
    sara.send("/meny")
    publish(sessions, case, "Alex bråkar i skolan.", clock.now)
    alex.receive()
    alex.tap(OPEN_CHOICE)
    alex.choose("Stämmer inte")
    alex.send(COMMENT)

    sara.receive()
    assert sara.ids() == ["alert.picture"]
    (button,) = sara.turn[0].reply.choices
    assert sara.choices() == ["Svara på kommentaren"]
    sara.tap(button.id)
    assert sara.ids() == ["coord.comment_answer.ask"]
    assert COMMENT in sara.text() and "bara till Alex" in sara.text()
    sara.send(ANSWER)
    assert sara.ids()[0] == "coord.comment_answer.sent"

    alex.receive()
    assert alex.ids() == ["picture.answered"]
    assert ANSWER in alex.text() and "Sara" in alex.text()
    # Only Alex reads it: nothing of it in the family group chat.
    group = received(sessions, catalogue, FAMILY)
    assert all(ANSWER not in r.text for r in group)
    assert all(r.reply.message != "picture.answered" for r in group)
    # The answer is stored, encrypted at rest like every free text.
    with UnitOfWork(sessions) as uow:
        raw = uow.session.execute(text("SELECT text FROM comment_answer")).scalars().all()
    assert len(raw) == 1 and ANSWER not in str(raw[0])
