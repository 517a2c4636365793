"""Closing a case: the coordinator closes it in the chat (with a yes); each member of the family
is told privately that it is closed and on which day what they wrote is erased, the
professionals that it is closed; and the day told is the day the retention job erases it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.config import PrivacyConfig
from bot.family_reports import family_report_sources
from bot.nudge_config import NudgeConfig, ReportConfig
from bot.scheduler import tick
from flows.family_reports import erasure_day
from storage import models as m
from storage.retention import run_retention
from storage.unit_of_work import UnitOfWork
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code
from tests.notes_seed import invite

PLAN = "BUP: Boka utredning — 15 dec\nFamiljen: Ansök om bostadsbidrag — 24 nov"


def _tick(sessions: sessionmaker[Session], clock: FakeClock, privacy: PrivacyConfig) -> None:
    """One scheduler run over the family reports' kinds."""
    sources = family_report_sources(NudgeConfig(), ReportConfig(), privacy, "Europe/Stockholm")
    tick(sessions, sources, clock.now)


@pytest.fixture
def case(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> dict[str, Chat]:
    """K-1: Maria coordinates, Sara is from BUP, Kim is a caregiver, Alex the young person."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    sara_code = case_with_plan(maria, "Alex", PLAN)
    people = {"maria": maria}
    people["sara"] = chat(sessions, catalogue, clock, "sara")
    people["sara"].send(f"/start {sara_code}")
    for user, role, name in (
        ("kim", "Vårdnadshavare", "Kim"),
        ("alex", "Den unga personen", "Alex"),
    ):
        people[user] = chat(sessions, catalogue, clock, user)
        people[user].send(f"/start {invite(maria, role, name)}")
    return people


def test_closing_a_case_tells_the_family_when_their_data_is_erased(
    case: dict[str, Chat], sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    maria = case["maria"]
    maria.send("/meny")
    maria.choose("Stäng ärendet")
    assert maria.ids() == ["coord.close_confirm"]
    maria.choose("Nej")
    _tick(sessions, clock, PrivacyConfig())
    assert case["kim"].receive() == [], "a no closes nothing"
    maria.send("/meny")
    maria.choose("Stäng ärendet")
    maria.choose("Ja, stäng")
    assert maria.ids() == ["coord.closed"]
    clock.advance(seconds=30)  # the next tick
    _tick(sessions, clock, PrivacyConfig(closed_case_days=365))
    # Closed Monday 23 Nov 2026 11.00 in Stockholm; a year on, the 03.30 run of the next day.
    for user in ("kim", "alex"):
        person = case[user]
        person.receive()
        assert person.ids() == ["family_report.closed"], user
        assert "stängt" in person.text() and "onsdag 24 november 2027" in person.text(), (
            person.text()
        )
        assert "/glommig" in person.text(), "she can have it erased at once"
    sara = case["sara"]
    sara.receive()
    assert sara.ids() == ["family_report_staff.closed"]
    assert "K-1 är stängt" in sara.text()
    assert case["maria"].receive() == [], "the coordinator who closed it was answered already"
    # Told once, however many ticks follow.
    clock.advance(hours=1)
    _tick(sessions, clock, PrivacyConfig(closed_case_days=365))
    assert case["kim"].receive() == []


def test_a_family_member_without_consent_is_not_written_to_when_the_case_closes(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    from flows.conversation import ConversationRef
    from tests.chat import PLATFORM

    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    case_with_plan(maria, "Alex", PLAN)
    ref = ConversationRef(PLATFORM, "alex", "alex")
    alex = Chat(sessions, catalogue, clock, ref, auto_consent=False)
    alex.send(f"/start {invite(maria, 'Den unga personen', 'Alex')}")
    maria.send("/meny")
    maria.choose("Stäng ärendet")
    maria.choose("Ja, stäng")
    _tick(sessions, clock, PrivacyConfig())
    assert alex.receive() == []


def test_the_day_told_is_the_day_the_retention_job_erases_the_case(
    case: dict[str, Chat], sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    maria = case["maria"]
    maria.send("/meny")
    maria.choose("Stäng ärendet")
    maria.choose("Ja, stäng")
    zone, privacy = ZoneInfo("Europe/Stockholm"), PrivacyConfig(closed_case_days=30)
    day = erasure_day(clock.now, 30, privacy.retention_at, zone)
    engine = sessions.kw["bind"]

    def run_on(local_day: datetime) -> int:
        """The daily retention run of that local day; how many cases it erased."""
        at = datetime.combine(local_day.date(), privacy.retention_at, zone).astimezone(UTC)
        return run_retention(engine, privacy, at).cases

    before = datetime.combine(day - timedelta(days=1), time(), zone)
    assert run_on(before) == 0, "not erased the day before the day told"
    assert run_on(datetime.combine(day, time(), zone)) == 1, "erased on the day told"
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalars(select(m.Case.id)).all() == []
