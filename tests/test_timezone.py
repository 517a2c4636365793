"""The configured `[bot] timezone` is the one the coordinator and the professionals live in.

Helsinki is an hour ahead of Stockholm, so a flow still on Stockholm time books a meeting an
hour late and reads "i morgon" (tomorrow) as the wrong day around midnight.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.followup_report import file_makers
from flows.conversation import ConversationRef
from flows.wiring import default_engine
from storage import models as m
from storage.access import Purpose
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.cli import run
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, coordinator_code

HELSINKI = "Europe/Helsinki"
# Monday 23 November, 22.30 UTC: still Monday in Stockholm (23.30), already Tuesday 24
# November in Helsinki (00.30).
HELSINKI_PAST_MIDNIGHT = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)


def chat_in(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, user: str
) -> Chat:
    """A private chat with the engine `samverkan run` builds for [bot] timezone Helsinki."""
    return Chat(
        sessions,
        catalogue,
        clock,
        ConversationRef(PLATFORM, user, user),
        file_makers=file_makers(clock),
        engine=default_engine(timezone=HELSINKI),
    )


@pytest.fixture
def maria(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """A coordinator in Helsinki with her case K-1 and its plan, at the case menu."""
    maria = chat_in(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    case_with_plan(maria, "Alex", "BUP: Boka utredning — 15 dec")
    maria.send("/meny")
    return maria


def meeting_starts(sessions: sessionmaker[Session]) -> list[datetime]:
    """When the booked meetings start, in UTC."""
    with sessions() as session:
        starts = session.scalars(select(m.Meeting.starts_at).order_by(m.Meeting.id)).all()
    return [s.replace(tzinfo=UTC) if s.tzinfo is None else s.astimezone(UTC) for s in starts]


def dues(sessions: sessionmaker[Session], case_id: int = 1) -> dict[str, date]:
    """Due date of each plan action of the case, by its text."""
    with UnitOfWork(sessions) as uow:
        actions = uow.coordination.actions(case_id, uow.gate.for_system(Purpose.OPERATOR))
    return {a.description: a.due for a in actions}


def test_a_meeting_at_13_in_helsinki_is_at_11_utc(
    maria: Chat, sessions: sessionmaker[Session]
) -> None:
    maria.choose("Boka möte")
    maria.send("15 dec 13.00")
    maria.choose("Ingen länk")
    maria.choose("Ingen plats")
    maria.choose("90 minuter")
    assert "Mötet är bokat tisdag 15 december kl." in maria.text()
    assert meeting_starts(sessions) == [datetime(2026, 12, 15, 11, 0, tzinfo=UTC)]


def test_a_plan_date_in_words_is_read_on_the_helsinki_calendar(
    maria: Chat, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    clock.now = HELSINKI_PAST_MIDNIGHT
    maria.choose("Planen")
    maria.choose("Lägg till en åtgärd")
    maria.choose("BUP")
    maria.send("Skicka remiss")
    maria.send("i morgon")
    assert maria.ids() == ["coord.plan_added", "coord.plan"]
    assert dues(sessions)["Skicka remiss"] == date(2026, 11, 25)  # Stockholm: the 24th


def test_a_professional_s_new_date_is_read_on_the_helsinki_calendar(
    maria: Chat,
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    maria.choose("Bjud in")
    maria.choose("Yrkesperson")
    maria.choose("BUP")
    maria.send("Sara")
    code = maria.text().split("/start ")[1].split()[0]
    sara = chat_in(sessions, catalogue, clock, "sara")
    sara.send(f"/start {code}")
    sara.send("/meny")
    clock.now = HELSINKI_PAST_MIDNIGHT
    sara.choose("Boka utredning")
    sara.choose("Nytt datum")
    sara.send("i morgon")
    sara.choose("Ingen kommentar")
    assert "nytt datum onsdag 25 november" in sara.text()
    assert dues(sessions)["Boka utredning"] == date(2026, 11, 25)


def test_the_demo_books_the_coordinator_s_meeting_at_the_configured_time(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[bot]\ntimezone = "{HELSINKI}"\n', encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    # Boka möte (4), the time, Ingen länk (1), Ingen plats (1), 90 minuter (2).
    sara = run(
        ["demo", "--as", "coordinator", "--config", str(config), "--db", db],
        tmp_path,
        "4\n15 dec 13.00\n1\n1\n2\n",
    )
    assert sara.returncode == 0, sara.stderr
    # Before, the flows read 13.00 as Stockholm time and the message (Helsinki) said 14.00.
    [booked] = [line for line in sara.stdout.splitlines() if "Mötet är bokat" in line]
    assert booked.endswith("15 december kl. 13.00."), booked
