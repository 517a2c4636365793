""" "När är mötet?": time, place, link, who is invited, a calendar file, and who is who."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.conversation import ConversationRef
from flows.domain import MeetingKind, Role
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.family_seed import MEETING_LINK, FamilyCase, seed_family_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with a meeting on 30 November 2026 at 10.00 UTC, for 90 minutes."""
    return seed_family_case(sessions, clock.now)


@pytest.fixture
def alex(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> Chat:
    """Alex has joined the case and sees the menu."""
    chat = Chat(sessions, catalogue, clock, ALEX)
    chat.send(f"/start {case.youth_code}")
    return chat


def parse_calendar(chat: Chat) -> Calendar:
    """The calendar file that came with the last turn's meeting info."""
    (sent,) = [s for s in chat.turn if s.message_id == "meeting.info"]
    file = sent.rendered.file
    assert file is not None
    assert file.media_type == "text/calendar"
    assert file.filename.endswith(".ics")
    return Calendar.from_ical(file.data)


def test_the_young_person_asks_when_the_meeting_is(alex: Chat) -> None:
    alex.choose("När är mötet?")
    assert alex.ids() == ["meeting.info"]
    text = alex.text()
    assert "När: måndag 30 november kl. 11.00 till 12.30." in text
    assert "Hur länge: 90 minuter." in text
    assert "Var: BUP, Storgatan 1" in text
    assert f"Länk för att vara med på video: {MEETING_LINK}" in text
    assert "• ung person" in text
    assert "• samordnare, Socialtjänsten Storstad" in text
    assert "• yrkesperson, BUP Storstad" in text
    alex.choose("Tillbaka")
    assert alex.ids() == ["youth.menu"]


def test_the_calendar_file_parses_with_the_right_start_end_and_time_zone(alex: Chat) -> None:
    alex.send("/mote")
    calendar = parse_calendar(alex)
    (event,) = calendar.walk("VEVENT")
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert start == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert end - start == timedelta(minutes=90)
    assert event["dtstart"].params["TZID"] == "Europe/Stockholm"
    assert (start.astimezone(STOCKHOLM).hour, start.astimezone(STOCKHOLM).minute) == (11, 0)
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    assert str(event["location"]) == "BUP, Storgatan 1"
    assert str(event["url"]) == MEETING_LINK
    assert str(event["uid"]).startswith("meeting-")


def test_a_summer_meeting_is_in_summer_time_in_the_calendar_file(
    sessions: sessionmaker[Session], alex: Chat, case: FamilyCase
) -> None:
    with UnitOfWork(sessions) as uow:
        uow.session.execute(delete(m.Meeting))
        uow.cases.add_meeting(
            case.case_id, MeetingKind.FOLLOW_UP, datetime(2027, 6, 10, 12, 0, tzinfo=UTC), 60
        )
        uow.commit()
    alex.send("/mote")
    assert "torsdag 10 juni kl. 14.00 till 15.00" in alex.text()
    (event,) = parse_calendar(alex).walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2027, 6, 10, 14, 0, tzinfo=STOCKHOLM)
    assert event.decoded("dtend") == datetime(2027, 6, 10, 15, 0, tzinfo=STOCKHOLM)


def test_who_is_who_presents_each_organisation_with_a_default_or_own_text(
    sessions: sessionmaker[Session], alex: Chat
) -> None:
    alex.send("/mote")
    alex.choose("Vem är vem?")
    text = alex.text()
    assert "BUP Storstad\nBUP är en vård för barn och unga som mår dåligt." in text
    assert "Socialtjänsten Storstad\nSocialtjänsten finns i din kommun." in text
    with UnitOfWork(sessions) as uow:
        org = uow.families.find_organisation("socialtjänsten storstad")
        assert org is not None
        uow.families.set_organisation_description(org.id, "Vi är Anna och Ali på familjeenheten.")
        uow.commit()
    alex.choose("Mötet")
    alex.choose("Vem är vem?")
    assert "Socialtjänsten Storstad\nVi är Anna och Ali på familjeenheten." in alex.text()


def test_every_role_can_ask_with_the_command(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    Chat.for_user(sessions, catalogue, clock, user="kim").send(f"/start {case.caregiver_codes[0]}")
    # In the family group chat too: when and where is for the whole family.
    kim = Chat.for_user(sessions, catalogue, clock, user="kim", chat="family")
    kim.send("/möte")
    assert kim.ids() == ["meeting.info"]
    assert kim.turn[0].rendered.file is not None
    jonas_ref = ConversationRef(PLATFORM, "jonas", "jonas")
    with UnitOfWork(sessions) as uow:
        jonas = uow.cases.add_person("Jonas", "sv", clock.now)
        uow.cases.link_identity(jonas.id, jonas_ref)
        uow.cases.add_member(case.case_id, jonas.id, Role.PROFESSIONAL, clock.now)
        uow.commit()
    professional = Chat(sessions, catalogue, clock, jonas_ref)
    professional.send("/mote")
    assert professional.ids() == ["meeting.info"]
    professional.choose("Tillbaka")
    assert professional.ids() == ["pro.home"]


def test_with_no_meeting_booked_the_answer_says_so(
    sessions: sessionmaker[Session], alex: Chat, clock: FakeClock
) -> None:
    clock.advance(days=8)
    alex.send("/mote")
    assert alex.ids() == ["meeting.none", "youth.menu"]
