"""The whole cycle after a meeting, walked as the people of one case do, on SQLite and PostgreSQL.

Alex prepares and shares two questions; the meeting on Tuesday 24 November takes place; Maria
writes the notes and marks one question answered and one to follow up; the family reads the
summary and the plan; Kim marks the family's action done; Sara's "Hinder" reaches Maria at once;
the day after, Alex and Kim say how the meeting was; before the follow-up meeting on 15 December
Maria gets the follow-up report and the family its own; and the next agenda carries the question
that was not answered. Time moves by the test's clock, and every reminder comes from the same
list of reminder kinds `samverkan run` ticks (bot/reminder_kinds.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.config import Config
from bot.reminder_kinds import reminder_kinds
from bot.scheduler import tick
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code
from tests.notes_seed import book, invite, tap_button

PLAN = "BUP: Boka utredning — 10 dec\nFamiljen: Ansök om bostadsbidrag — 14 dec"
ANSWERED = "Varför måste jag byta skola?"
OPEN = "Kan jag få hjälp med läxorna?"
NOTES = "Vi bestämde att BUP gör en utredning.\nNästa möte är den 15 december."


def run_tick(sessions: sessionmaker[Session], clock: FakeClock) -> None:
    """One scheduler run over every reminder kind the running bot ticks."""
    tick(sessions, reminder_kinds(Config()), clock.now)


def ids(person: Chat) -> list[str]:
    """The message ids of what reached this person since last asked."""
    return [sent.message_id for sent in person.receive()]


def test_the_whole_cycle_from_preparation_to_the_next_agenda(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday 23 November
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    sara_code = case_with_plan(maria, "Alex", PLAN)
    book(maria, "24 nov 13.00")
    book(maria, "15 dec 13.00")
    sara = chat(sessions, catalogue, clock, "sara")
    sara.send(f"/start {sara_code}")
    kim = chat(sessions, catalogue, clock, "kim")
    kim.send(f"/start {invite(maria, 'Vårdnadshavare', 'Kim')}")
    alex = Chat.for_user(sessions, catalogue, clock, "alex")
    alex.send(f"/start {invite(maria, 'Den unga personen', 'Alex')}")

    # Preparation: Alex writes two questions and shares them with the meeting.
    alex.send("/meny")
    alex.choose("Mina frågor")
    alex.send(ANSWERED)
    alex.send(OPEN)
    for question in (ANSWERED, OPEN):
        alex.send("/meny")
        alex.choose("Välj vad du delar")
        alex.choose(question)
    for person in (maria, sara, kim, alex):
        person.receive()

    # Tuesday 24 November, 14.00 UTC: the meeting is over. Maria is asked for the notes.
    clock.now = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    run_tick(sessions, clock)
    assert "coord.notes.due" in ids(maria)
    tap_button(maria, "Skriv anteckningar")
    maria.send(NOTES)
    maria.choose("Samma text till alla")
    assert maria.ids() == ["coord.notes.question"]
    maria.choose("Besvarad")
    maria.choose("Följs upp")
    assert maria.ids() == ["coord.notes.sent", "coord.home"]

    # The family reads the summary with the plan and the next meeting; Alex sees her questions.
    for person in (kim, alex):
        assert ids(person) == ["notes.ready"]
        tap_button(person, "Läs")
        text = person.text()
        assert "Vi bestämde att BUP gör en utredning." in text
        assert "Boka utredning" in text and "Ansök om bostadsbidrag" in text
        assert "15 december" in text
    assert f"{OPEN}: tas upp igen nästa gång" in alex.text()
    assert ids(sara) == [], "the professionals get no family summary"

    # Kim marks the family's action done in her plan; the family is told, neutrally.
    kim.send("/plan")
    kim.choose("Ansök om bostadsbidrag")
    kim.choose("Klar")
    kim.choose("Ingen kommentar")
    assert kim.ids()[0] == "status.saved"

    # Sara reports "Hinder" with a reason: Maria hears it at once, not at the next report.
    sara.send("/meny")
    sara.choose("Boka utredning")
    sara.choose("Hinder")
    sara.send("Väntar på remissen")
    sara.choose("Ingen kommentar")
    told = maria.receive()
    assert [s.message_id for s in told] == ["alert.blocked"]
    assert "Väntar på remissen" in maria.text() and "Sara" in maria.text()

    # Wednesday 25 November, a day after the meeting: Alex and Kim are asked how it was.
    clock.now = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    run_tick(sessions, clock)
    assert "meeting.checkin.ask" in ids(alex)
    assert "meeting.checkin.ask" in ids(kim)
    alex.tap("checkin:open")
    alex.choose("Både och")
    alex.choose("Ja")
    alex.choose("Nej tack")
    assert alex.ids()[0] == "meeting.checkin.thanks"
    assert "alert.checkin" in ids(maria)

    # Sunday 13 December 12.00 UTC, 48 hours before the follow-up meeting: Maria gets the
    # follow-up report (with how the meeting was), the family its own plain follow-up, and
    # the agenda carries over the question to follow up, marked, without the answered one.
    for person in (maria, sara, kim, alex):
        person.receive()
    clock.now = datetime(2026, 12, 13, 12, 0, tzinfo=UTC)
    run_tick(sessions, clock)
    got = maria.receive()
    got_ids = [s.message_id for s in got]
    assert "coord.report" in got_ids and "coord.report_timeline" in got_ids, got_ids
    report = next(s for s in got if s.message_id == "coord.report").rendered
    assert report.file is not None
    html = report.file.data.decode()
    assert "Hur mötena var" in html and "Både och" in html
    assert 'data-status="blocked"' in html and 'data-status="done"' in html
    for person in (kim, alex):
        assert "family_report.followup" in ids(person)
        assert "Klart: 1." in person.text(), person.text()
    agenda = next(s for s in got if s.message_id == "coord.agenda").rendered.text
    assert ANSWERED not in agenda, "an answered question is not raised again"
    line = next(x for x in agenda.splitlines() if OPEN in x)
    assert "(från förra mötet, följs upp)" in line
