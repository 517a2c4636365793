"""Convening: the coordinator answers a young person's request for a meeting in the chat, by
booking a meeting from it or with words, and an unanswered request reminds her."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.nudge_config import NudgeConfig, ReportConfig, SettingError, report_config
from bot.nudges import coordinator_sources
from bot.scheduler import tick
from flows.convening_reminders import UnansweredRequests
from storage.unit_of_work import UnitOfWork
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.coord_seed import chat, code_in, coordinator_code

REASON = "Det har blivit värre i skolan."


@pytest.fixture
def maria(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """Coordinator Maria in her new case K-1, at the case menu."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    maria.choose("Öppna ett nytt ärende")
    maria.send("Alex")
    maria.choose("Till ärendet")
    return maria


@pytest.fixture
def alex(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, maria: Chat
) -> Chat:
    """Alex, invited by Maria in the chat, has joined and asked for a new meeting."""
    maria.choose("Bjud in")
    maria.choose("Den unga personen")
    maria.send("Alex")
    alex = chat(sessions, catalogue, clock, "alex")
    alex.send(f"/start {code_in(maria.text())}")
    alex.choose("Be om ett nytt möte")
    alex.send(REASON)
    assert alex.ids() == ["request.sent", "youth.menu"]
    return alex


def open_requests(sessions: sessionmaker[Session], maria: Chat) -> int:
    """How many requests wait for Maria's answer."""
    with UnitOfWork(sessions) as uow:
        actor = uow.members.actor_for(maria.ref)
        assert actor is not None
        return len(uow.convening.open_requests(actor.person_id))


def test_a_request_answered_by_booking_a_meeting_reaches_the_one_who_asked(
    sessions: sessionmaker[Session], maria: Chat, alex: Chat
) -> None:
    maria.receive()
    assert maria.ids() == ["alert.meeting_request"]
    assert REASON in maria.text()
    maria.choose("Svara")
    assert maria.ids() == ["convene.list"]
    maria.choose("Alex ber om möte")
    assert maria.ids() == ["convene.request"]
    assert REASON in maria.text()

    maria.choose("Boka ett möte")
    assert maria.ids() == ["convene.book_intro", "coord.meeting_ask"]
    maria.send("nonsens")  # the booking step asks again, still for the request
    maria.send("15 dec 13.00")
    maria.choose("Ingen länk")
    maria.choose("Ingen plats")
    maria.choose("90 minuter")
    assert "coord.meeting_booked" in maria.ids()
    assert open_requests(sessions, maria) == 0
    assert "Att svara på" not in " ".join(maria.choices()), "nothing waits any more"

    alex.receive()
    # The calendar file everyone gets, then the answer to her own request.
    assert alex.ids() == ["meeting_changes.booked", "request.booked"]
    assert "Nu är det bokat: tisdag 15 december kl. 13.00." in alex.text()
    alex.choose("Be om ett nytt möte")
    assert alex.ids() == ["request.ask"], "the request is no longer open"


def test_a_request_answered_with_words_reaches_the_one_who_asked_privately(
    sessions: sessionmaker[Session], maria: Chat, alex: Chat
) -> None:
    maria.send("/meny")
    maria.choose("Att svara på (1)")
    maria.choose("Alex ber om möte")
    maria.choose("Svara med ord")
    assert maria.ids() == ["convene.answer_ask"]
    maria.send("Vi ses på uppföljningen den 5 januari, vi tar upp skolan då.")
    assert maria.ids() == ["convene.answered", "convene.list"]
    assert "Inget väntar på svar." in maria.text()

    alex.receive()
    assert alex.ids() == ["request.answered"]
    assert "Vi ses på uppföljningen den 5 januari" in alex.text()
    assert open_requests(sessions, maria) == 0


def test_an_ordinary_booking_answers_no_request(
    sessions: sessionmaker[Session], maria: Chat, alex: Chat
) -> None:
    maria.send("/meny")
    maria.choose("Boka möte")
    maria.send("15 dec 13.00")
    maria.choose("Ingen länk")
    maria.choose("Ingen plats")
    maria.choose("90 minuter")
    assert open_requests(sessions, maria) == 1
    # Alex hears of the meeting as everyone does, but her request is not answered by it.
    assert [s.message_id for s in alex.receive()] == ["meeting_changes.booked"]


def test_an_unanswered_request_reminds_after_two_working_days_skipping_the_weekend(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    # Alex asks on Friday 27 November at 10.00 UTC.
    clock.now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    maria.choose("Öppna ett nytt ärende")
    maria.send("Alex")
    maria.choose("Till ärendet")
    maria.choose("Bjud in")
    maria.choose("Den unga personen")
    maria.send("Alex")
    alex = chat(sessions, catalogue, clock, "alex")
    alex.send(f"/start {code_in(maria.text())}")
    alex.choose("Be om ett nytt möte")
    alex.send(REASON)
    maria.receive()
    kinds = [UnansweredRequests(working_days=2)]

    # Saturday, Sunday and Monday morning: fewer than two working days have passed.
    for day, hour in ((28, 10), (29, 23), (30, 10)):
        clock.now = datetime(2026, 11, day, hour, 0, tzinfo=UTC)
        assert tick(sessions, kinds, clock.now) == []
    clock.now = datetime(2026, 12, 1, 9, 59, tzinfo=UTC)
    assert tick(sessions, kinds, clock.now) == [], "not before Tuesday 10.00"

    clock.now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert len(tick(sessions, kinds, clock.now) or []) == 1
    maria.receive()
    assert maria.ids() == ["convene.reminder"]
    assert "har inte fått svar på 2 arbetsdagar" in maria.text()
    assert REASON not in maria.text(), "a reminder carries no free text"
    assert tick(sessions, kinds, clock.now) == [], "once"

    # The reminder's button opens the list to answer.
    maria.choose("Svara")
    assert maria.ids() == ["convene.list"]


def test_an_answered_request_does_not_remind(
    sessions: sessionmaker[Session], clock: FakeClock, maria: Chat, alex: Chat
) -> None:
    maria.send("/meny")
    maria.choose("Att svara på (1)")
    maria.choose("Alex ber om möte")
    maria.choose("Svara med ord")
    maria.send("Vi ses snart.")
    clock.advance(days=7)
    assert tick(sessions, [UnansweredRequests(working_days=2)], clock.now) == []


def test_the_working_days_are_configured_and_ticked_with_the_coordinator_side() -> None:
    assert report_config({}).request_reminder_working_days == 2
    assert report_config({"request_reminder_working_days": 5}).request_reminder_working_days == 5
    with pytest.raises(SettingError):
        report_config({"request_reminder_working_days": -1})
    sources = coordinator_sources(
        NudgeConfig(), ReportConfig(request_reminder_working_days=3), "UTC"
    )
    (kind,) = [s for s in sources if isinstance(s, UnansweredRequests)]
    assert kind.working_days == 3
