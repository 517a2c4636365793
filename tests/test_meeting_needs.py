"""Interpreter and needs: the young person and a caregiver say whether they need an interpreter
(and in which language) and what else they need; the coordinator reads it on the agenda, in
the chat and in `samverkan report agenda`. And the young person can change how she takes part
up to the meeting's start, not after."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.reports import DocumentFormat, render_agenda
from flows.conversation import ConversationRef
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.coord_seed import chat
from tests.family_seed import FamilyCase, seed_family_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with a meeting in a week; Sara coordinates."""
    return seed_family_case(sessions, clock.now)


@pytest.fixture
def alex(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> Chat:
    """Alex has joined the case and sees her menu."""
    alex = Chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    assert alex.ids()[-1] == "youth.menu"
    return alex


@pytest.fixture
def kim(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> Chat:
    """Kim, a caregiver, has joined and sees the adults' menu."""
    kim = Chat.for_user(sessions, catalogue, clock, user="kim")
    kim.send(f"/start {case.caregiver_codes[0]}")
    assert kim.ids()[-1] == "caregiver.menu"
    return kim


def report_agenda(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> tuple[str, str]:
    """What `samverkan report agenda` prints, in Markdown and in HTML."""
    with UnitOfWork(sessions) as uow:
        agenda = uow.agenda.agenda(case.case_id, clock.now)
    return (
        render_agenda(agenda, catalogue, "sv", DocumentFormat.MARKDOWN),
        render_agenda(agenda, catalogue, "sv", DocumentFormat.HTML),
    )


def test_interpreter_and_needs_reach_the_coordinators_agenda(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    alex: Chat,
    kim: Chat,
) -> None:
    kim.choose("Tolk och annat du behöver")
    assert kim.ids() == ["needs.interpreter_ask"]
    assert "Samordnaren ser ditt svar" in kim.text()
    kim.choose("Ja, jag vill ha tolk")
    kim.send("Somaliska")
    assert kim.ids() == ["needs.other_ask"]
    kim.choose("Inget mer")
    assert kim.ids() == ["needs.saved", "caregiver.menu"]

    alex.choose("Tolk och annat du behöver")
    alex.choose("Nej")
    alex.send("Jag behöver pauser och att sitta nära dörren")
    assert alex.ids() == ["needs.saved", "youth.menu"]
    # What she said is shown when she comes back.
    alex.choose("Tolk och annat du behöver")
    assert "Du har sagt: ingen tolk. Annat: Jag behöver pauser" in alex.text()
    alex.choose("Tillbaka")

    sara = chat(sessions, catalogue, clock, "sara")
    sara.send("/meny")
    sara.choose("Dagordning")
    assert "needs.agenda" in sara.ids()
    text = sara.text()
    assert "Tolk och andra behov" in text
    assert "• Kim (vårdnadshavare): tolk på Somaliska" in text
    assert "• Alex (ung person). Annat: Jag behöver pauser och att sitta nära dörren" in text

    markdown, html = report_agenda(sessions, catalogue, clock, case)
    assert "## Tolk och andra behov" in markdown
    assert "- Kim (vårdnadshavare): tolk på Somaliska." in markdown
    assert "Alex (ung person): Annat: Jag behöver pauser och att sitta nära dörren" in markdown
    assert "<h2>Tolk och andra behov</h2>" in html
    assert "<li>Kim (vårdnadshavare): tolk på Somaliska.</li>" in html


def test_nothing_needed_adds_no_section(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    kim: Chat,
) -> None:
    kim.choose("Tolk och annat du behöver")
    kim.choose("Nej")
    kim.choose("Inget mer")
    markdown, _ = report_agenda(sessions, catalogue, clock, case)
    assert "Tolk och andra behov" not in markdown


def test_the_young_person_changes_how_she_takes_part_until_the_meeting_starts(
    sessions: sessionmaker[Session], clock: FakeClock, case: FamilyCase, alex: Chat
) -> None:
    alex.choose("Hur jag vill vara med")
    alex.choose("Hela mötet")
    # The day before, she changes her mind from her menu.
    clock.advance(days=6)
    alex.send("/meny")
    alex.choose("Hur jag vill vara med")
    assert "Nu har du valt: Hela mötet." in alex.text()
    alex.choose("På länk")
    assert alex.said("youth.participation.saved")

    # The meeting has begun: too late, and the choice stays.
    clock.advance(days=1, minutes=5)
    alex.send("/meny")
    alex.choose("Hur jag vill vara med")
    assert alex.ids() == ["needs.participation_too_late", "youth.menu"]
    assert "Ditt val står kvar: På länk." in alex.text()
    with UnitOfWork(sessions) as uow:
        prep = uow.preparation.preparation(case.case_id, alex_id(sessions))
    assert prep.preference is not None and prep.preference.participation.value == "remote"


def test_a_choice_tapped_after_the_start_is_not_saved(
    sessions: sessionmaker[Session], clock: FakeClock, case: FamilyCase, alex: Chat
) -> None:
    alex.choose("Hur jag vill vara med")
    alex.choose("Hela mötet")
    alex.send("/meny")
    alex.choose("Hur jag vill vara med")
    # She leaves the question open; the meeting starts; then she taps.
    clock.advance(days=7, minutes=1)
    alex.choose("Inte alls")
    assert alex.ids() == ["needs.participation_too_late", "youth.menu"]
    with UnitOfWork(sessions) as uow:
        prep = uow.preparation.preparation(case.case_id, alex_id(sessions))
    assert prep.preference is not None and prep.preference.participation.value == "whole"


def test_staff_are_told_the_family_answers_it(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    sara = chat(sessions, catalogue, clock, "sara")
    sara.tap("needs:open")
    assert sara.ids()[0] == "needs.not_here.coordinator"


def alex_id(sessions: sessionmaker[Session]) -> int:
    """Alex's person id."""
    with UnitOfWork(sessions) as uow:
        actor = uow.members.actor_for(ALEX)
        assert actor is not None
        return actor.person_id
