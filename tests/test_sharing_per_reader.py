"""Sharing per reader: each owner chooses who reads what they share, and the agenda is built
for each reader (the coordinator, a professional of one organisation, the report)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.reports import DocumentFormat, render_agenda
from flows.conversation import ConversationRef
from flows.domain import Role
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.coord_seed import run_tick
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


ALEX_QUESTION = "Kan jag slippa prata om skolan?"


def _professional(
    sessions: sessionmaker[Session], case: FamilyCase, now: datetime, name: str, org: str | None
) -> int:
    """A professional of the case (of a new organisation when `org` is given, else BUP),
    reachable in a private chat named after them; returns their person id."""
    with UnitOfWork(sessions) as uow:
        if org is None:
            person = uow.session.scalars(
                select(m.Membership.person_id).where(
                    m.Membership.case_id == case.case_id, m.Membership.role == Role.PROFESSIONAL
                )
            ).first()
            assert person is not None
        else:
            person = uow.cases.add_person(name, "sv", now).id
            uow.cases.add_member(case.case_id, person, Role.PROFESSIONAL, now)
            uow.families.set_member_organisation(
                case.case_id, person, uow.families.add_organisation(org, "skola")
            )
        uow.cases.link_identity(person, ConversationRef(PLATFORM, name.lower(), name.lower()))
        uow.commit()
    return person


def _alex(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    everyone: bool,
) -> Chat:
    """Alex joins, answers the first-contact question about sharing, and writes a question."""
    alex = Chat(
        sessions, catalogue, clock, ConversationRef(PLATFORM, "alex", "alex"), auto_consent=False
    )
    alex.send(f"/start {case.youth_code}")
    alex.choose("Ja, det är okej")
    alex.send("15")
    alex.choose("Ja, alla får se" if everyone else "Nej, bara den som håller i mötet")
    alex.choose("Mina frågor")
    alex.send(ALEX_QUESTION)
    alex.send("/meny")
    alex.choose("Välj vad du delar")
    alex.choose("Kan jag slippa")
    return alex


def _read_by(sessions: sessionmaker[Session], case: FamilyCase, now: datetime, person: int) -> str:
    """What one member reads of the agenda: every shared text, joined."""
    with UnitOfWork(sessions) as uow:
        agenda = uow.agenda.agenda(case.case_id, now, person)
        visible = {i.text for i in uow.gate.visible_items(person, case.case_id, now)}
    texts = [q for c in agenda.contributions for q in c.questions]
    texts += [n.text for c in agenda.contributions for n in c.notes]
    assert set(q for c in agenda.contributions for q in c.questions) <= visible
    return "\n".join(texts)


def test_after_only_the_one_who_runs_the_meeting_no_professional_reads_it_and_the_agenda_marks_it(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    jonas = _professional(sessions, case, clock.now, "Jonas", None)
    _alex(sessions, catalogue, clock, case, everyone=False)
    # The professional reads nothing, neither in the gate nor on his agenda ...
    assert ALEX_QUESTION not in _read_by(sessions, case, clock.now, jonas)
    pro = Chat.for_user(sessions, catalogue, clock, user="jonas")
    pro.send("/dagordning")
    assert ALEX_QUESTION not in pro.text()
    assert "Ingen har delat något" in pro.text()
    # ... while the coordinator's agenda has it, marked as hers alone.
    with UnitOfWork(sessions) as uow:
        agenda = uow.agenda.agenda(case.case_id, clock.now)
    markdown = render_agenda(agenda, catalogue, "sv", DocumentFormat.MARKDOWN)
    assert f"- {ALEX_QUESTION} _(Bara den som håller i mötet läser detta)_" in markdown
    html = render_agenda(agenda, catalogue, "sv", DocumentFormat.HTML)
    assert 'class="readers coordinator-only"' in html
    assert "<strong>Bara den som håller i mötet läser detta</strong>" in html


def test_a_professional_of_one_organisation_cannot_read_what_is_shared_only_with_another(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    jonas = _professional(sessions, case, clock.now, "Jonas", None)  # BUP
    lina = _professional(sessions, case, clock.now, "Lina", "Skolan Storstad")
    alex = _alex(sessions, catalogue, clock, case, everyone=True)
    # Shared with everyone by her first-contact answer: both read it.
    assert ALEX_QUESTION in _read_by(sessions, case, clock.now, jonas)
    assert ALEX_QUESTION in _read_by(sessions, case, clock.now, lina)
    # She chooses BUP alone.
    alex.choose("Vem får läsa")
    alex.choose("Kan jag slippa")
    assert "Nu läser alla i mötet det." in alex.text()
    alex.choose("BUP Storstad")
    assert "Nu läser den som håller i mötet det, och: BUP Storstad." in alex.text()
    assert ALEX_QUESTION in _read_by(sessions, case, clock.now, jonas)
    assert ALEX_QUESTION not in _read_by(sessions, case, clock.now, lina)
    lina_chat = Chat.for_user(sessions, catalogue, clock, user="lina")
    lina_chat.send("/dagordning")
    assert ALEX_QUESTION not in lina_chat.text()
    jonas_chat = Chat.for_user(sessions, catalogue, clock, user="jonas")
    jonas_chat.send("/dagordning")
    assert ALEX_QUESTION in jonas_chat.text()
    # The report shows the item's readers.
    with UnitOfWork(sessions) as uow:
        agenda = uow.agenda.agenda(case.case_id, clock.now)
    markdown = render_agenda(agenda, catalogue, "sv", DocumentFormat.MARKDOWN)
    assert f"- {ALEX_QUESTION} _(Läses av: BUP Storstad)_" in markdown


def test_withdrawing_consent_for_one_organisation_takes_effect_at_once(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    jonas = _professional(sessions, case, clock.now, "Jonas", None)  # BUP
    lina = _professional(sessions, case, clock.now, "Lina", "Skolan Storstad")
    alex = _alex(sessions, catalogue, clock, case, everyone=True)
    alex.send("/samtycke")
    alex.choose("Vilka verksamheter")
    assert "✅ BUP Storstad" in alex.choices()
    alex.choose("BUP Storstad")
    assert "🚫 BUP Storstad" in alex.choices()
    assert ALEX_QUESTION not in _read_by(sessions, case, clock.now, jonas)
    assert ALEX_QUESTION in _read_by(sessions, case, clock.now, lina)
    # The coordinator is shown the family's consent per organisation with the agenda.
    sara = Chat.for_user(sessions, catalogue, clock, user="sara")
    sara.send("/dagordning")
    assert "Alex: BUP Storstad nej, Skolan Storstad ja" in sara.text()
    assert ALEX_QUESTION in sara.text()


def test_a_caregiver_shares_from_the_menu_in_one_step_with_chosen_readers(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    jonas = _professional(sessions, case, clock.now, "Jonas", None)
    kim = Chat.for_user(sessions, catalogue, clock, user="kim")
    kim.send(f"/start {case.caregiver_codes[0]}")
    kim.choose("Skriv något nytt")
    kim.choose("En önskan")
    kim.send("Att skolan ringer oss direkt")
    kim.choose("Till menyn")
    kim.choose("Dela med mötet")
    assert kim.choices()[0] == "🔒 Delas inte: Att skolan ringer oss direkt"
    kim.choose("Att skolan ringer")
    kim.choose("Bara den som håller i mötet")
    assert "Nu läser bara den som håller i mötet det." in kim.text()
    assert "Att skolan ringer" not in _read_by(sessions, case, clock.now, jonas)
    kim.choose("Klar")
    assert kim.choices()[0] == "✅ Delas: Att skolan ringer oss direkt"
    kim.choose("Till menyn")
    kim.choose("Ändra det jag skrivit")
    kim.choose("Att skolan ringer")
    # One thing said: shared with the meeting, not "only you" at the same time.
    assert "Bara du ser det" not in kim.text()
    assert "Det delas med mötet." in kim.text()
    with UnitOfWork(sessions) as uow:
        agenda = uow.agenda.agenda(case.case_id, clock.now)
    markdown = render_agenda(agenda, catalogue, "sv", DocumentFormat.MARKDOWN)
    assert "Att skolan ringer oss direkt _(Bara den som håller i mötet läser detta)_" in markdown


def test_the_caregivers_menu_explains_the_meeting_for_adults(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    kim = Chat.for_user(sessions, catalogue, clock, user="kim")
    kim.send(f"/start {case.caregiver_codes[0]}")
    kim.choose("Vad är ett samverkansmöte?")
    assert kim.ids() == ["caregiver.about"]
    assert "Ni bestämmer själva vad ni delar" in kim.text()
    kim.choose("Till menyn")
    assert kim.ids() == ["caregiver.menu"]


def test_before_the_meeting_each_professional_gets_the_agenda_as_they_may_read_it(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    _professional(sessions, case, clock.now, "Jonas", None)  # BUP
    _professional(sessions, case, clock.now, "Lina", "Skolan Storstad")
    alex = _alex(sessions, catalogue, clock, case, everyone=True)
    alex.choose("Vem får läsa")
    alex.choose("Kan jag slippa")
    alex.choose("BUP Storstad")
    jonas = Chat.for_user(sessions, catalogue, clock, user="jonas")
    lina = Chat.for_user(sessions, catalogue, clock, user="lina")
    clock.advance(days=5, hours=1)  # 47 hours before the meeting
    run_tick(sessions, clock)
    run_tick(sessions, clock)  # a second tick sends nothing again
    assert [s.message_id for s in jonas.receive()] == ["sharing.agenda_chat"]
    assert ALEX_QUESTION in jonas.text()
    assert [s.message_id for s in lina.receive()] == ["sharing.agenda_chat"]
    assert ALEX_QUESTION not in lina.text()
    assert "Ingen har delat något med dig än." in lina.text()
