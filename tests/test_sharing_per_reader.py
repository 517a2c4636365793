"""Sharing per reader: each owner chooses who reads what they share, and the agenda is built
for each reader (the coordinator, a professional of one organisation, the report)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.reports import DocumentFormat, render_agenda
from storage.unit_of_work import UnitOfWork
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.family_seed import FamilyCase, seed_family_case


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with BUP and socialtjänsten, and unused invites."""
    return seed_family_case(sessions, clock.now)


def test_what_a_caregiver_shares_with_the_meeting_reaches_the_agenda(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    kim = Chat.for_user(sessions, catalogue, clock, user="kim")
    kim.send(f"/start {case.caregiver_codes[0]}")
    kim.choose("Skriv något nytt")
    kim.choose("En fråga till mötet")
    kim.send("Hur får vi hjälp under loven?")
    kim.choose("Ändra det jag skrivit")
    kim.choose("Hur får vi hjälp")
    kim.choose("Dela med mötet")
    with UnitOfWork(sessions) as uow:
        agenda = uow.agenda.agenda(case.case_id, clock.now)
    text = render_agenda(agenda, catalogue, "sv", DocumentFormat.MARKDOWN)
    assert "Ingen har delat något än" not in text
    assert "## Kim (vårdnadshavare)" in text
    assert "### En fråga till mötet\nHur får vi hjälp under loven?" in text
