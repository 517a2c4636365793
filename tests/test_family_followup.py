"""Reports to the family: before the follow-up meeting the young person and each caregiver get
a short plain follow-up of the plan (done, late, next), privately; a follow-up that cannot be
delivered is retried and then told to the coordinator, as the coordinator's own report is."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedMessage
from bot.config import PrivacyConfig
from bot.connector import PLAIN_TEXT
from bot.delivery import MAX_ATTEMPTS, Deliverer
from bot.family_reports import family_report_sources
from bot.nudge_config import NudgeConfig, ReportConfig
from bot.scheduler import tick
from flows.conversation import ConversationRef
from flows.coordinator_reminders import NudgeContent
from flows.domain import MeetingKind
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code
from tests.notes_seed import invite

PLAN = (
    "BUP: Boka utredning — 15 dec\n"
    "Familjen: Ansök om bostadsbidrag — 24 nov\n"
    "Skolan: Anpassa schemat — 10 dec"
)
# The follow-up meeting, and the moment the report falls due (48 hours before it).
MEETING = datetime(2026, 12, 13, 10, 0, tzinfo=UTC)
REPORT_TIME = datetime(2026, 12, 11, 10, 0, tzinfo=UTC)


def _tick(
    sessions: sessionmaker[Session], clock: FakeClock, content: NudgeContent = NudgeContent.MINIMAL
) -> list[int] | None:
    """One scheduler run over the family reports' kinds, as configured by default."""
    sources = family_report_sources(
        NudgeConfig(content=content), ReportConfig(), PrivacyConfig(), "Europe/Stockholm"
    )
    return tick(sessions, sources, clock.now)


def _follow_up_meeting(sessions: sessionmaker[Session], clock: FakeClock) -> None:
    """The coordinator has booked the follow-up meeting of K-1."""
    with UnitOfWork(sessions) as uow:
        case_id = uow.session.scalars(select(m.Case.id).where(m.Case.reference == "K-1")).one()
        uow.coordination.schedule_meetings(
            case_id, MeetingKind.FOLLOW_UP, [MEETING], None, None, clock.now
        )
        uow.commit()


@pytest.fixture
def family(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> dict[str, Chat]:
    """Case K-1 with a plan and a follow-up meeting: Maria coordinates, Kim and Robin are
    caregivers, Alex is the young person; Kim has done the family's action."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    case_with_plan(maria, "Alex", PLAN)
    people = {"maria": maria}
    for user, role, name in (
        ("kim", "Vårdnadshavare", "Kim"),
        ("robin", "Vårdnadshavare", "Robin"),
        ("alex", "Den unga personen", "Alex"),
    ):
        people[user] = chat(sessions, catalogue, clock, user)
        people[user].send(f"/start {invite(maria, role, name)}")
    kim = people["kim"]
    kim.send("/plan")
    kim.choose("Ansök om bostadsbidrag")
    kim.choose("Klar")
    kim.choose("Ingen kommentar")
    for person in people.values():
        person.receive()  # "Något i planen är klart": read before the report
    _follow_up_meeting(sessions, clock)
    return people


def test_before_the_follow_up_meeting_each_of_the_family_gets_done_late_and_next(
    family: dict[str, Chat], sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    clock.now = REPORT_TIME - timedelta(hours=1)
    _tick(sessions, clock)
    assert family["kim"].receive() == [], "not before the coordinator's report is due"
    clock.now = REPORT_TIME
    _tick(sessions, clock)
    for user in ("alex", "kim", "robin"):
        person = family[user]
        person.receive()
        assert person.ids() == ["family_report.followup"], user
        text = person.text()
        # 24 Nov is done (Kim), 10 Dec is late (it is 11 Dec), 15 Dec is next.
        assert "Klart: 1." in text and "Inte klart i tid: 1." in text, text
        assert "Näst på tur: 1." in text, text
        assert "13 december" in text, "the meeting's day"
        # Neutral by default, as the nudges are: no action's words in a chat message.
        assert "Anpassa schemat" not in text and "Boka utredning" not in text
        assert person.choices() == ["Visa planen"]
    family["maria"].receive()
    assert "family_report.followup" not in family["maria"].ids(), "the family's, not staff's"
    # The button opens the plan itself, privately, behind the access gate.
    family["alex"].choose("Visa planen")
    assert family["alex"].ids() == ["plan.family"]
    assert "Anpassa schemat" in family["alex"].text()
    # A second tick sends nothing again.
    _tick(sessions, clock)
    assert family["kim"].receive() == []


def test_with_full_content_the_follow_up_names_the_actions(
    family: dict[str, Chat], sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    clock.now = REPORT_TIME
    _tick(sessions, clock, NudgeContent.FULL)
    kim = family["kim"]
    kim.receive()
    lines = kim.text().splitlines()
    late = lines.index(next(x for x in lines if x.startswith("⏰")))
    assert "Anpassa schemat" in lines[late + 1] and "10 december" in lines[late + 1]
    assert any("Boka utredning" in x for x in lines[late + 2 :])


def test_a_young_person_without_consent_gets_no_follow_up(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    case_with_plan(maria, "Alex", PLAN)
    alex = Chat(
        sessions, catalogue, clock, ConversationRef(PLATFORM, "alex", "alex"), auto_consent=False
    )
    alex.send(f"/start {invite(maria, 'Den unga personen', 'Alex')}")
    assert alex.ids()[-1] == "consent.explain", "she has not said yes (yet)"
    kim = chat(sessions, catalogue, clock, "kim")
    kim.send(f"/start {invite(maria, 'Vårdnadshavare', 'Kim')}")
    _follow_up_meeting(sessions, clock)
    clock.now = REPORT_TIME
    _tick(sessions, clock)
    assert [s.message_id for s in kim.receive()] == ["family_report.followup"]
    assert alex.receive() == [], "no consent: the bot does not write to her"


class KimUnreachable:
    """A platform that cannot reach Kim's chat for now (a transient error each time)."""

    platform = PLATFORM
    capabilities = PLAIN_TEXT

    def __init__(self) -> None:
        self.texts: dict[str, list[str]] = {}
        self.tries = 0

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Fails Kim's messages; records everyone else's."""
        if chat_id == "kim":
            self.tries += 1
            raise ConnectionError("no route to the chat")
        self.texts.setdefault(chat_id, []).append(message.text)


def test_a_follow_up_that_cannot_be_delivered_is_retried_then_the_coordinator_is_told(
    family: dict[str, Chat],
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    clock.now = REPORT_TIME
    _tick(sessions, clock)
    transport = KimUnreachable()
    deliverer = Deliverer(sessions, catalogue, {PLATFORM: transport}, clock)
    for _ in range(MAX_ATTEMPTS):
        asyncio.run(deliverer.deliver())
        clock.advance(hours=1)
    assert transport.tries >= 2, "it was tried again before it was given up"
    with UnitOfWork(sessions) as uow:
        status = uow.session.scalars(
            select(m.Outbox.status).where(
                m.Outbox.message_id == "family_report.followup", m.Outbox.chat_id == "kim"
            )
        ).one()
    assert status == "failed"
    assert not any("gick inte att skicka" in t for t in transport.texts.get("maria", []))
    _tick(sessions, clock)
    _tick(sessions, clock)
    asyncio.run(deliverer.deliver())
    told = [t for t in transport.texts.get("maria", []) if "gick inte att skicka" in t]
    assert len(told) == 1, "the coordinator is told once"
    assert "K-1" in told[0] and "en vårdnadshavare" in told[0]
    # The others got theirs.
    assert any("Så här går det med planen" in t for t in transport.texts["robin"])
