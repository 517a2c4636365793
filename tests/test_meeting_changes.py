"""Meetings that change: booked, moved and cancelled, everyone told with a calendar file;
series that go on until stopped, labelled first/follow-up by date."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.cli import main
from bot.clock import system_clock
from bot.followup_report import file_makers
from bot.ics import meeting_file_makers
from bot.nudge_config import NudgeConfig, ReportConfig
from bot.nudges import coordinator_sources
from bot.scheduler import tick
from flows.conversation import ConversationRef
from flows.domain import MeetingKind
from flows.meeting_changes import SeriesBooking
from storage import models as m
from tests.chat import PLATFORM, Chat, Sent
from tests.conftest import FakeClock
from tests.coord_seed import code_in, coordinator_code


def person(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, user: str
) -> Chat:
    """A private chat that also gets the meeting's calendar files."""
    makers = {**file_makers(clock), **meeting_file_makers()}
    return Chat(sessions, catalogue, clock, ConversationRef(PLATFORM, user, user), makers)


def coordinator_with_case(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> Chat:
    """Maria with a case for Alex."""
    maria = person(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    maria.choose("Öppna ett nytt ärende")
    maria.send("Alex")
    maria.choose("Till ärendet")
    return maria


def invited(maria: Chat, chat: Chat, role: str, name: str) -> None:
    """Maria invites someone, who joins in a private chat."""
    if role == "Yrkesperson":
        maria.choose("Verksamheter")
        maria.choose("Lägg till en verksamhet")
        maria.send("BUP")
        maria.choose("Till ärendet")
    maria.choose("Bjud in")
    maria.choose(role)
    if role == "Yrkesperson":
        maria.choose("BUP")
    maria.send(name)
    chat.send(f"/start {code_in(maria.text())}")


def book(maria: Chat, when: str, place: str | None = None, minutes: str = "90 minuter") -> None:
    """Maria books a meeting in her chat: time, no link, place, length."""
    maria.choose("Boka möte")
    maria.send(when)
    maria.choose("Ingen länk")
    assert maria.ids() == ["meeting_edit.place_ask"]
    if place is None:
        maria.choose("Ingen plats")
    else:
        maria.send(place)
    assert maria.ids() == ["meeting_edit.length_ask"]
    if minutes.isdecimal():
        maria.send(minutes)
    else:
        maria.choose(minutes)


def calendar_of(sent: Sent) -> Calendar:
    """The calendar file of a message, read by a standard parser."""
    file = sent.rendered.file
    assert file is not None and file.media_type == "text/calendar"
    return Calendar.from_ical(file.data)


def event_of(calendar: Calendar) -> dict[str, object]:
    """The one event's fields that matter here."""
    (event,) = calendar.walk("VEVENT")
    return {
        "method": str(calendar["METHOD"]),
        "uid": str(event["UID"]),
        "sequence": int(event.get("SEQUENCE", 0)),
        "start": event.decoded("DTSTART").astimezone(UTC),
        "end": event.decoded("DTEND").astimezone(UTC),
        "location": str(event["LOCATION"]) if "LOCATION" in event else None,
        "status": str(event["STATUS"]) if "STATUS" in event else None,
    }


def test_book_move_cancel_everyone_is_told_with_a_calendar_file(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = coordinator_with_case(sessions, catalogue, clock)
    alex = person(sessions, catalogue, clock, "alex")
    kim = person(sessions, catalogue, clock, "kim")
    sara = person(sessions, catalogue, clock, "sara")
    invited(maria, alex, "Den unga personen", "Alex")
    invited(maria, kim, "Vårdnadshavare", "Kim")
    invited(maria, sara, "Yrkesperson", "Sara")
    for someone in (alex, kim, sara):
        someone.receive()

    # Maria books a meeting with a place and 60 minutes: everyone hears of it, with a file.
    book(maria, "15 dec 13.00", place="BUP, Storgatan 3", minutes="60 minuter")
    assert maria.ids() == ["coord.meeting_booked", "meeting_edit.everyone_told", "coord.home"]
    assert "3 personer i ärendet har fått veta" in maria.text()
    booked = {}
    for someone in (alex, kim, sara):
        [told] = someone.receive()
        assert told.message_id == "meeting_changes.booked"
        assert "60 minuter" in told.rendered.text
        assert "Storgatan" not in told.rendered.text, "the place is in the file, not the chat"
        booked[someone.ref.user_id] = event_of(calendar_of(told))
    first = booked["alex"]
    assert all(b == first for b in booked.values())
    assert first["method"] == "REQUEST" and first["sequence"] == 0
    assert first["start"] == datetime(2026, 12, 15, 12, 0, tzinfo=UTC)
    assert first["end"] == datetime(2026, 12, 15, 13, 0, tzinfo=UTC)
    assert first["location"] == "BUP, Storgatan 3"
    alex.send("/mote")
    assert "Var: BUP, Storgatan 3" in alex.text() and "60 minuter" in alex.text()

    # She moves it: the same event, a higher sequence, the new time.
    maria.choose("Ändra eller ställ in ett möte")
    maria.choose("15 december")
    maria.choose("Flytta")
    maria.send("17 dec 10.00")
    assert maria.ids() == [
        "meeting_edit.moved_done",
        "meeting_edit.everyone_told",
        "coord.home",
    ]
    for someone in (alex, kim, sara):
        [told] = someone.receive()
        assert told.message_id == "meeting_changes.moved"
        moved = event_of(calendar_of(told))
        assert moved["uid"] == first["uid"] and moved["method"] == "REQUEST"
        assert moved["sequence"] == 1
        assert moved["start"] == datetime(2026, 12, 17, 9, 0, tzinfo=UTC)

    # She cancels it, after saying yes: METHOD:CANCEL, still the same event, higher again.
    maria.choose("Ändra eller ställ in ett möte")
    maria.choose("17 december")
    maria.choose("Ställ in")
    assert maria.ids() == ["meeting_edit.cancel_ask"]
    maria.choose("Ja, ställ in")
    assert maria.ids()[0] == "meeting_edit.cancelled_done"
    for someone in (alex, kim, sara):
        [told] = someone.receive()
        assert told.message_id == "meeting_changes.cancelled"
        cancelled = event_of(calendar_of(told))
        assert cancelled["uid"] == first["uid"] and cancelled["method"] == "CANCEL"
        assert cancelled["status"] == "CANCELLED" and cancelled["sequence"] == 2
        assert cancelled["start"] == datetime(2026, 12, 17, 9, 0, tzinfo=UTC)
    assert maria.receive() == [], "the coordinator reads it in her own chat"
    with sessions() as session:
        assert session.scalar(select(m.Meeting.id)) is None


def test_a_series_booked_before_the_first_meeting_starts_with_the_first(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = coordinator_with_case(sessions, catalogue, clock)
    book(maria, "15 dec 13.00")
    book(maria, "varannan tisdag 13.00")
    with sessions() as session:
        kinds = session.execute(
            select(m.Meeting.starts_at, m.Meeting.kind).order_by(m.Meeting.starts_at)
        ).all()
    assert kinds[0].kind is MeetingKind.FIRST, "24 November comes before 15 December"
    assert all(k.kind is MeetingKind.FOLLOW_UP for k in kinds[1:])


def test_a_fortnightly_series_goes_on_past_six_until_stopped(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = coordinator_with_case(sessions, catalogue, clock)
    kim = person(sessions, catalogue, clock, "kim")
    invited(maria, kim, "Vårdnadshavare", "Kim")
    kim.receive()
    book(maria, "varannan tisdag 13.00", minutes="75")
    assert "Nya möten bokas allt eftersom" in maria.text()
    assert len(kim.receive()) == 3, "the first three are booked, each with its file"

    # Sixteen weeks pass, a tick each day: the series is kept three ahead. (Only the series'
    # kind ticks here: the agendas of sixteen weeks would fill Maria's chat.)
    assert any(
        isinstance(k, SeriesBooking)
        for k in coordinator_sources(NudgeConfig(), ReportConfig(), "Europe/Stockholm")
    )
    series_only = [SeriesBooking(ZoneInfo("Europe/Stockholm"))]
    for _ in range(16 * 7):
        clock.advance(days=1)
        tick(sessions, series_only, clock.now)
    with sessions() as session:
        meetings = session.execute(
            select(m.Meeting.starts_at, m.Meeting.kind, m.Meeting.duration_minutes).order_by(
                m.Meeting.starts_at
            )
        ).all()
    starts = [mt.starts_at.astimezone(UTC) for mt in meetings]
    assert len(meetings) >= 8 + 3
    assert starts[0] == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    local = [s.astimezone(ZoneInfo("Europe/Stockholm")) for s in starts]
    assert {(t.weekday(), t.hour, t.minute) for t in local} == {(1, 13, 0)}, "Tuesdays 13.00"
    assert {(b.date() - a.date()).days for a, b in itertools.pairwise(local)} == {14}
    assert [mt.kind for mt in meetings[:8]] == [MeetingKind.FIRST] + [MeetingKind.FOLLOW_UP] * 7
    assert {mt.duration_minutes for mt in meetings} == {75}
    assert sum(1 for s in starts if s > clock.now) == 3
    told = kim.receive()
    assert len(told) == len(meetings) - 3
    assert {t.message_id for t in told} == {"meeting_changes.booked"}

    # Maria stops the series: nothing more is booked.
    count = len(meetings)
    maria.send("/meny")
    maria.choose("Ändra eller ställ in ett möte")
    maria.choose("Stoppa serien")
    assert maria.ids()[0] == "meeting_edit.series_stopped"
    clock.advance(weeks=4)
    tick(sessions, series_only, clock.now)
    with sessions() as session:
        assert len(session.scalars(select(m.Meeting.id)).all()) == count


def test_a_young_person_who_has_not_said_yes_is_not_told(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = coordinator_with_case(sessions, catalogue, clock)
    kim = person(sessions, catalogue, clock, "kim")
    invited(maria, kim, "Vårdnadshavare", "Kim")
    makers = {**file_makers(clock), **meeting_file_makers()}
    alex = Chat(
        sessions,
        catalogue,
        clock,
        ConversationRef(PLATFORM, "alex", "alex"),
        makers,
        auto_consent=False,
    )
    invited(maria, alex, "Den unga personen", "Alex")
    assert alex.said("consent.explain"), "Alex has the question about the bot, unanswered"
    kim.receive()
    book(maria, "15 dec 13.00")
    assert "En person i ärendet har fått veta" in maria.text()
    assert [s.message_id for s in kim.receive()] == ["meeting_changes.booked"]
    assert alex.receive() == []


def test_the_operator_s_cancel_tells_everyone_the_same_way(
    engine: Engine, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = coordinator_with_case(sessions, catalogue, clock)
    kim = person(sessions, catalogue, clock, "kim")
    invited(maria, kim, "Vårdnadshavare", "Kim")
    kim.receive()
    book(maria, "15 dec 13.00", place="Skolan")
    kim.receive()
    with sessions() as session:
        meeting_id = session.scalar(select(m.Meeting.id))
    url = engine.url.render_as_string(hide_password=False)
    assert main(["meeting", "cancel", "--case", "K-1", "--id", str(meeting_id), "--db", url]) == 0

    # The shell queued the notices at its own (real) time: delivered on the real clock.
    for user in ("kim", "maria"):
        makers = {**file_makers(clock), **meeting_file_makers()}
        chat = Chat(
            sessions, catalogue, system_clock, ConversationRef(PLATFORM, user, user), makers
        )
        [told] = chat.receive()
        assert told.message_id == "meeting_changes.cancelled"
        cancelled = event_of(calendar_of(told))
        assert cancelled["method"] == "CANCEL" and cancelled["status"] == "CANCELLED"
        assert cancelled["uid"] == f"meeting-{meeting_id}@samverkansboten"
        assert cancelled["sequence"] == 1


def test_a_meeting_booked_after_one_was_cancelled_is_a_new_event_everyone_hears_of(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    # Found by tests/test_email_journey.py: SQLite gave a cancelled (deleted) meeting's id to
    # the next one booked, so its calendar file updated the cancelled event and its notices
    # were dropped as sent. Meeting ids are never given out twice (storage/meeting_ids.py).
    maria = coordinator_with_case(sessions, catalogue, clock)
    sara = person(sessions, catalogue, clock, "sara")
    invited(maria, sara, "Yrkesperson", "Sara")
    sara.receive()
    book(maria, "15 dec 13.00")
    [booked] = sara.receive()
    maria.choose("Ändra eller ställ in ett möte")
    maria.choose("15 december")
    maria.choose("Ställ in")
    maria.choose("Ja, ställ in")
    [cancelled] = sara.receive()
    assert event_of(calendar_of(cancelled))["method"] == "CANCEL"

    # Maria books again. On SQLite a deleted row's id is given out again, so the new meeting
    # would carry the cancelled one's calendar UID (calendars ignore it: its SEQUENCE is
    # lower) and its notices the same dedup keys (dropped: nobody told).
    book(maria, "16 dec 13.00")
    assert "En person i ärendet har fått veta" in maria.text()
    [rebooked] = sara.receive()
    assert rebooked.message_id == "meeting_changes.booked"
    assert event_of(calendar_of(rebooked))["uid"] != event_of(calendar_of(booked))["uid"]
