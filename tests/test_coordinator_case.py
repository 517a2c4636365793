"""A whole case, walked as chats: a coordinator opens it and runs it to the follow-up report."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from matplotlib import image as mpimg
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.timeline import STATUS_COLOURS
from flows.coordination import ActionStatus
from flows.domain import MeetingKind
from flows.picture_loop import OPEN_CHOICE
from storage import models as m
from storage.access import Purpose
from storage.unit_of_work import UnitOfWork
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.coord_seed import chat, code_in, coordinator_code, run_tick

PLAN = """BUP: Boka neuropsykiatrisk utredning — 2026-11-30
Skolan: Anpassat schema — 27 nov
Familjen: Ansöka om kontaktperson — 2026-12-04
Sara: Ringa Alex varje vecka — 25 nov"""


def _invite(maria: Chat, role: str, name: str, org: str | None = None) -> str:
    """The coordinator invites someone and reads the code off the reply."""
    maria.choose("Bjud in")
    maria.choose(role)
    if org is not None:
        maria.choose(org)
    maria.send(name)
    assert maria.ids() == ["coord.invite_created", "coord.home"]
    return code_in(maria.text())


def _colour_present(png: bytes, hex_colour: str) -> bool:
    """True when some pixel of the picture has this colour (±2 per channel)."""
    pixels = mpimg.imread(io.BytesIO(png), format="png")
    want = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    rgb = pixels[..., :3]
    close = (abs(rgb - want) <= 2 / 255).all(axis=-1)
    return bool(close.any())


@pytest.mark.parametrize("locale", ["sv"])
def test_a_whole_case_from_opening_to_the_follow_up_report(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, locale: str
) -> None:
    # The operator creates a coordinator; Maria starts in a private chat with the code.
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    assert maria.ids() == ["join.joined", "coord.home_no_case"]

    # She opens a case; an identity number is refused before anything is stored.
    maria.choose("Öppna ett nytt ärende")
    maria.send("Alex 080412-1234")
    assert maria.ids() == ["coord.personnummer", "coord.case_name_ask"]
    maria.send("Alex")
    assert maria.ids() == ["coord.case_opened", "coord.case_next_steps"]
    maria.choose("Till ärendet")
    assert "Ärende K-1" in maria.text() and "Alex" in maria.text()

    maria.choose("Verksamheter")
    maria.choose("Lägg till en verksamhet")
    maria.send("BUP")
    assert "• BUP" in maria.text()
    maria.choose("Till ärendet")

    sara_code = _invite(maria, "Yrkesperson", "Sara", org="BUP")
    alex_code = _invite(maria, "Den unga personen", "Alex")
    kim_code = _invite(maria, "Vårdnadshavare", "Kim")

    sara = chat(sessions, catalogue, clock, "sara")
    sara.send(f"/start {sara_code}")
    assert sara.ids() == ["join.joined", "pro.home"]
    alex = chat(sessions, catalogue, clock, "alex")
    alex.send(f"/start {alex_code}")
    assert alex.ids() == ["join.joined", "youth.menu"]
    kim = chat(sessions, catalogue, clock, "kim")
    kim.send(f"/start {kim_code}")
    assert kim.ids()[0] == "join.joined"

    maria.choose("Vilka är med")
    assert "Sara – yrkesperson, BUP" in maria.text()
    assert "Alex – ung person" in maria.text() and "Kim – vårdnadshavare" in maria.text()
    maria.choose("Till ärendet")

    # Alex writes a question and shares it.
    alex.choose("Mina frågor")
    alex.choose("Skriv en ny fråga")
    alex.send("Varför måste jag byta skola?")
    alex.choose("Till menyn")
    alex.choose("Välj vad du delar")
    alex.choose("Bara jag")
    assert "✅ Delas: Varför måste jag byta skola?" in alex.choices()

    # A fixed slot every other Tuesday at 13.00, with a video link.
    maria.choose("Boka möte")
    maria.send("varannan tisdag 13.00")
    maria.send("https://meet.example.org/k1")
    maria.choose("Ingen plats")
    maria.choose("90 minuter")
    assert maria.ids() == [
        "meeting_edit.series_booked",
        "meeting_edit.everyone_told",
        "coord.home",
    ]
    assert "var 2:e vecka, med start tisdag 24 november kl. 13.00" in maria.text()
    # Everyone hears of the three meetings booked ahead, each with its calendar file.
    for member in (alex, kim, sara):
        assert [s.message_id for s in member.receive()] == ["meeting_changes.booked"] * 3
    with UnitOfWork(sessions) as uow:
        meetings = uow.session.execute(
            select(m.Meeting.starts_at, m.Meeting.kind, m.Meeting.series_id).order_by(
                m.Meeting.starts_at
            )
        ).all()
    assert [(mt.starts_at, mt.kind) for mt in meetings[:2]] == [
        (datetime(2026, 11, 24, 12, 0, tzinfo=UTC), MeetingKind.FIRST),
        (datetime(2026, 12, 8, 12, 0, tzinfo=UTC), MeetingKind.FOLLOW_UP),
    ]
    assert len({mt.series_id for mt in meetings}) == 1 and meetings[0].series_id

    # The meeting is tomorrow: the scheduler sends Maria the agenda with Alex's question.
    run_tick(sessions, clock)
    maria.receive()
    assert maria.ids() == ["coord.agenda"]
    assert "Varför måste jag byta skola?" in maria.text()
    agenda_file = maria.turn[0].rendered.file
    assert agenda_file is not None and agenda_file.media_type == "text/html"
    assert "Varför måste jag byta skola?" in agenda_file.data.decode()
    # Sara from BUP gets the agenda as she may read it: Alex said everyone who helps may.
    assert [s.message_id for s in sara.receive()] == ["sharing.agenda_chat"]
    assert "Varför måste jag byta skola?" in sara.text()
    run_tick(sessions, clock)
    assert maria.receive() == [], "the agenda of a meeting is sent once"

    # After the meeting: Maria publishes the shared picture in the chat; Alex answers that it
    # is partly right, in his own words, and Kim asks for a new meeting.
    clock.now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    maria.choose("Skriv gemensam bild")
    maria.send("Alex mår bättre i en mindre grupp.")
    maria.choose("Publicera")
    assert maria.ids() == ["coord.picture.published", "coord.home"]
    assert [s.message_id for s in alex.receive()] == ["picture.published"]
    assert [s.message_id for s in kim.receive()] == ["picture.published"]
    alex.tap(OPEN_CHOICE)
    alex.choose("Stämmer delvis")
    alex.send("Det är skolvägen som är jobbig.")
    assert alex.ids()[0] == "picture.thanks.comment"
    assert "alert.picture" in [s.message_id for s in maria.receive()]
    kim.send("/meny")
    kim.choose("Be om ett nytt möte")
    kim.send("Vi vill prata om skolskjuts.")
    assert "alert.meeting_request" in [s.message_id for s in maria.receive()]

    # Maria pastes a four-line plan and confirms how it was read. (The comment's alert came
    # with its own "Svara på kommentaren" button, so she goes back to her menu first.)
    maria.send("/meny")
    maria.choose("Planen")
    maria.choose("Klistra in en plan")
    maria.send(PLAN)
    assert maria.ids() == ["coord.paste_confirm"]
    assert "Skolan (ny verksamhet): Anpassat schema – fredag 27 november" in maria.text()
    assert "Familjen: Ansöka om kontaktperson – fredag 4 december" in maria.text()
    maria.choose("Ja, lägg till")
    assert maria.ids() == ["coord.plan_added", "coord.plan"]
    assert "4 åtgärder är tillagda." in maria.text()
    maria.choose("Till ärendet")

    # Monday 30 November: BUP's action is due today and Sara's own is late. One digest.
    clock.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    run_tick(sessions, clock)
    sara.receive()
    # The 24 November meeting has passed: the series books its next one, and all hear of it.
    assert sara.ids() == ["nudge.digest", "meeting_changes.booked"]
    assert sara.turn[0].rendered.text == (
        "Du har 2 åtgärder i ärende K-1, 1 är försenad, 1 ska vara klar i dag."
    )
    assert [s.message_id for s in kim.receive()] == ["meeting_changes.booked"]
    # Maria hears of the booking too, the 24th is over (she is asked for its notes), and Kim's
    # request of Tuesday has waited two working days for her answer.
    assert [s.message_id for s in maria.receive()] == [
        "meeting_changes.booked",
        "coord.notes.due",
        "convene.reminder",
    ]
    run_tick(sessions, clock)
    assert sara.receive() == [], "a stage is nudged once"

    # Wednesday 2 December: Kim is reminded about the family's action; Sara gets one digest
    # again (both hers are late now); Maria is told once that Sara's call is a week late.
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    run_tick(sessions, clock)
    assert [s.message_id for s in sara.receive()] == ["nudge.digest"]
    assert "2 är försenade" in sara.text()
    assert [s.message_id for s in kim.receive()] == ["nudge.digest"]
    assert kim.text() == "Du har 1 åtgärd i ärende K-1, 1 förfaller snart."
    assert [s.message_id for s in maria.receive()] == ["nudge.escalation"]
    assert maria.text() == "En åtgärd i ärende K-1 är försenad mer än 7 dagar."
    clock.advance(hours=1)
    run_tick(sessions, clock)
    assert sara.receive() == [] and kim.receive() == [] and maria.receive() == []

    # Sara taps the button on the reminder and answers: a new date, then done with a note.
    sara.tap("n:actions")
    assert sara.ids() == ["pro.home"]
    sara.choose("Boka neuro")
    assert sara.ids() == ["status.pick"]
    sara.choose("Nytt datum")
    sara.send("15 dec")
    sara.choose("Ingen kommentar")
    assert sara.ids() == ["status.saved", "pro.home"]
    assert "nytt datum tisdag 15 december" in sara.text()
    sara.choose("Ringa Alex")
    sara.choose("Klar")
    sara.send("Vi har pratat varje vecka.")
    assert sara.ids() == ["status.saved", "pro.home"]
    assert len(sara.choices()) == 3, "one open action left, Visa igen, Jag kan inte komma"

    # Maria opens the plan from the escalation's button, then asks for the follow-up report:
    # text, HTML and the timeline picture.
    maria.tap("n:plan:1")
    assert maria.ids() == ["coord.plan"]
    assert "✅ Ringa Alex varje vecka (Sara)" in maria.choices()
    maria.choose("Till ärendet")
    maria.choose("Uppföljningsrapport")
    assert maria.ids() == ["coord.report", "coord.report_timeline", "coord.home"]
    assert "Klara: 1 · Pågår: 0 · Hinder: 0 · Ej påbörjade: 3 · Försenade: 1" in maria.text()
    html_file = maria.turn[0].rendered.file
    png_file = maria.turn[1].rendered.file
    assert html_file is not None and png_file is not None
    html = html_file.data.decode()
    with UnitOfWork(sessions) as uow:
        statuses = {
            a.description: a.status
            for a in uow.coordination.actions(1, uow.gate.for_system(Purpose.OPERATOR))
        }
        dues = {
            a.description: a.due
            for a in uow.coordination.actions(1, uow.gate.for_system(Purpose.OPERATOR))
        }
    assert statuses == {
        "Boka neuropsykiatrisk utredning": ActionStatus.OPEN,
        "Anpassat schema": ActionStatus.OPEN,
        "Ansöka om kontaktperson": ActionStatus.OPEN,
        "Ringa Alex varje vecka": ActionStatus.DONE,
    }
    assert dues["Boka neuropsykiatrisk utredning"] == date(2026, 12, 15)
    assert html.count('data-status="done"') == 1 and html.count('data-status="open"') == 3
    assert 'data-status="blocked"' not in html and 'data-status="in_progress"' not in html
    assert "→ tisdag 15 december" in html
    assert "Vi har pratat varje vecka." in html
    assert "stämmer delvis – Det är skolvägen som är jobbig." in html
    assert "Vi vill prata om skolskjuts." in html
    assert png_file.media_type == "image/png" and png_file.data.startswith(b"\x89PNG")
    assert _colour_present(png_file.data, STATUS_COLOURS[ActionStatus.DONE])
    assert _colour_present(png_file.data, STATUS_COLOURS[ActionStatus.OPEN])
    assert not _colour_present(png_file.data, STATUS_COLOURS[ActionStatus.BLOCKED])
    assert not _colour_present(png_file.data, STATUS_COLOURS[ActionStatus.IN_PROGRESS])

    # Before the follow-up meeting on 8 December the scheduler sends the report by itself.
    clock.now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    run_tick(sessions, clock)
    received = [s.message_id for s in maria.receive()]
    assert received.count("coord.report") == 1 and received.count("coord.report_timeline") == 1
    assert "coord.agenda" in received
