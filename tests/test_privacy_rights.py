"""A person's rights, at the edges of a case (issue 19, findings 4, 6 and 7).

- Erasure is immediate: after /glommig no message anywhere quotes the person, queued or sent.
- Rights last as long as the data: after a case is closed or a member removed, /minadata,
  /glommig and /samtycke still work.
- "Nej" means no: no reminders, nothing typed is stored, and the meeting explanation, /mote,
  /meny and /samtycke (to change one's mind) still work.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.family_reminders import MeetingReminders
from bot.followup_report import file_makers
from bot.scheduler import tick
from flows.conversation import ConversationRef
from flows.coordinator_reminders import Agendas
from storage import models as m
from storage.codec import decode_params
from storage.db import make_engine, session_factory
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.family_seed import SARA, FamilyCase, publish, seed_family_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")
KIM = ConversationRef(PLATFORM, "kim", "kim")
COMMENT = "Canary-kommentar-QX7 om skolan"
REASON = "Canary-anledning-ZW4 om hemmet"
QUESTION = "Canary-fråga-KV2 om läxor?"


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with coordinator Sara and a meeting in seven days."""
    return seed_family_case(sessions, clock.now)


def outbox_texts(sessions: sessionmaker[Session]) -> list[str]:
    """Every outbox row's decrypted parameters, whatever its status, as text."""
    with UnitOfWork(sessions) as uow:
        return [repr(decode_params(p)) for p in uow.session.scalars(select(m.Outbox.params))]


# --- finding 4: erasure is immediate --------------------------------------------------------


def test_glom_mig_removes_queued_and_sent_notices_that_quote_the_person(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    alex = Chat(sessions, catalogue, clock, ALEX)
    kim = Chat(sessions, catalogue, clock, KIM)
    sara = Chat(sessions, catalogue, clock, SARA)
    alex.send(f"/start {case.youth_code}")
    kim.send(f"/start {case.caregiver_codes[0]}")
    publish(sessions, case, "Alex trivs i skolan.", clock.now)

    alex.send("/bild")
    alex.choose("Stämmer delvis")
    alex.send(COMMENT)
    sara.receive()  # Sara read the alert: the row is sent, and kept for outbox_days
    assert sara.ids() == ["alert.picture"] and COMMENT in sara.text()
    alex.send("/nyttmote")
    alex.send(REASON)  # this alert is still queued for Sara
    assert any(REASON in t for t in outbox_texts(sessions))

    alex.send("/glommig")
    alex.choose("Ja, glöm mig")
    assert alex.ids() == ["privacy.forgotten"]

    sara.receive()
    assert sara.turn == []  # nothing quoting Alex is delivered after "everything is erased"
    for text in outbox_texts(sessions):
        assert COMMENT not in text and REASON not in text and "Alex" not in text
    # The rest of the case keeps working: Kim answers the picture and Sara is told.
    kim.send("/bild")
    kim.choose("Stämmer inte")
    kim.send("Vi ser det på ett annat sätt.")
    sara.receive()
    assert sara.ids() == ["alert.picture"] and "Kim" in sara.text()


def test_a_queued_agenda_quoting_a_shared_question_is_made_again_without_it(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    alex = Chat(sessions, catalogue, clock, ALEX)
    sara = Chat(sessions, catalogue, clock, SARA, file_makers=file_makers(clock))
    alex.send(f"/start {case.youth_code}")
    alex.choose("Mina frågor")
    alex.send(QUESTION)
    alex.send("/meny")
    alex.choose("Välj vad du delar")
    alex.choose(QUESTION)
    clock.now += timedelta(days=6)  # the meeting is a day away: the agenda is due
    tick(sessions, [Agendas()], clock.now)
    assert any(QUESTION in t for t in outbox_texts(sessions))

    alex.send("/glommig")
    alex.choose("Ja, glöm mig")
    assert not any(QUESTION in t for t in outbox_texts(sessions))
    tick(sessions, [Agendas()], clock.now)
    sara.receive()
    assert sara.ids() == ["coord.agenda"]
    assert QUESTION not in sara.text() and "Alex" not in sara.text()


# --- finding 6: rights last as long as the data ---------------------------------------------


def close(sessions: sessionmaker[Session], case: FamilyCase, clock: FakeClock) -> None:
    """The coordinator closes the case; its data stays until retention."""
    with UnitOfWork(sessions) as uow:
        uow.coordination.close_case(case.case_id, case.coordinator_id, clock.now)
        uow.commit()


def test_after_the_case_is_closed_export_consent_and_erasure_still_work(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    alex = Chat(sessions, catalogue, clock, ALEX)
    alex.send(f"/start {case.youth_code}")
    alex.choose("Mina frågor")
    alex.send("Får jag byta lärare?")
    close(sessions, case, clock)

    alex.send("/minadata")
    assert alex.ids()[0] == "privacy.export"
    assert "• frågor: 1" in alex.text()
    alex.send("/samtycke")
    assert alex.ids() == ["consent.status"]
    for anything_else in ("/meny", "hej", "/mote"):  # what still works, not "you need a code"
        alex.send(anything_else)
        assert alex.ids() == ["privacy.rights_only"]
    assert "/minadata" in alex.text() and "/glommig" in alex.text()
    alex.send("/glommig")
    assert alex.ids() == ["privacy.forget.confirm"]
    alex.choose("Ja, glöm mig")
    assert alex.ids() == ["privacy.forgotten"]
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalar(select(func.count()).select_from(m.Question)) == 0
        assert uow.members.former_member(ALEX) is None
    alex.send("/minadata")
    assert alex.ids() == ["onboarding.need_code"]  # nothing is stored any more


def test_a_removed_member_can_still_take_back_consent_and_see_their_data(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    kim = Chat(sessions, catalogue, clock, KIM)
    kim.send(f"/start {case.caregiver_codes[0]}")
    with UnitOfWork(sessions) as uow:
        uow.session.execute(
            update(m.Membership)
            .where(m.Membership.case_id == case.case_id, m.Membership.role == "caregiver")
            .values(active=False, left_at=clock.now)
        )
        uow.commit()
    kim.send("/samtycke")
    assert kim.ids() == ["consent.status"]
    kim.choose("Ta tillbaka mitt ja")
    assert kim.ids() == ["consent.withdrawn", "consent.withdrawn.offer"]
    kim.choose("Nej, spara det")
    assert kim.ids() == ["privacy.rights_only"]
    kim.send("/minadata")
    assert kim.ids() == ["privacy.export"]
    kim.send("/meny")
    assert kim.ids() == ["privacy.rights_only"]


# --- finding 7: "Nej" ---------------------------------------------------------------------


def test_a_young_person_who_said_no_gets_no_reminders_but_can_read_and_change_their_mind(
    tmp_path: Path, catalogue: Catalogue, clock: FakeClock
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nej.sqlite3'}")
    upgrade(engine)
    sessions = session_factory(engine)
    case = seed_family_case(sessions, clock.now)
    alex = Chat(sessions, catalogue, clock, ALEX, auto_consent=False)
    alex.send(f"/start {case.youth_code}")
    alex.choose("Nej tack")
    assert alex.ids() == ["consent.declined"]
    assert alex.choices() == [
        "Vad är ett samverkansmöte?",
        "När är mötet?",
        "Jag har ändrat mig",
    ]

    alex.choose("Vad är ett samverkansmöte?")
    assert alex.ids() == ["youth.about"]
    alex.choose("Tillbaka")
    assert alex.ids() == ["consent.declined"]
    alex.send("/mote")
    assert alex.ids() == ["meeting.info"]
    alex.choose("Vem är vem?")
    assert alex.ids() == ["meeting.who"]
    alex.choose("Tillbaka")
    assert alex.ids() == ["consent.declined"]
    alex.send("/meny")
    assert alex.ids() == ["consent.declined"]
    alex.choose("När är mötet?")
    assert alex.ids() == ["meeting.info"]
    secret = "HemligtNejQP9"
    alex.send(f"Jag vill inte {secret}")
    assert alex.said("consent.declined")

    # The meeting comes closer: no reminder for someone who said no.
    clock.now = clock.now + timedelta(days=7) - timedelta(hours=1)
    tick(sessions, [MeetingReminders((timedelta(hours=2),))], clock.now)
    alex.receive()
    assert alex.turn == []

    alex.send("/samtycke")
    assert alex.ids() == ["consent.explain"]
    alex.choose("Ja, det är okej")
    assert alex.ids() == ["consent.thanks_ask_age", "consent.age"]
    engine.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert secret.encode() not in raw
