"""The follow-up report: escaped user text, and a report that cannot be sent is not lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedMessage
from bot.connector import PLAIN_TEXT
from bot.delivery import MAX_ATTEMPTS, Deliverer
from bot.followup_report import build_followup, file_makers, render_followup
from bot.reports import DocumentFormat
from flows.conversation import ConversationRef
from flows.coordination import NewAction, Owner, OwnerKind
from flows.domain import MeetingKind
from storage import models as m
from storage.access import Purpose
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM
from tests.conftest import FakeClock
from tests.coord_seed import run_tick


def _case(sessions: sessionmaker[Session], clock: FakeClock) -> int:
    """Maria (chat "maria") coordinates K-1 with one action whose text is hostile HTML."""
    with UnitOfWork(sessions) as uow:
        maria = uow.cases.add_person("Maria", "sv", clock.now)
        uow.cases.link_identity(maria.id, ConversationRef(PLATFORM, "maria", "maria"))
        case = uow.coordination.open_case(maria.id, "Alex", clock.now)
        org = uow.coordination.add_organisation(case.id, "BUP")
        uow.coordination.add_actions(
            case.id,
            [
                NewAction(
                    Owner(OwnerKind.ORGANISATION, org.id, "BUP"),
                    "<script>x</script>",
                    date(2026, 12, 1),
                )
            ],
            maria.id,
            clock.now,
        )
        uow.commit()
        return case.id


def test_user_text_in_the_document_is_escaped(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case_id = _case(sessions, clock)
    with UnitOfWork(sessions) as uow:
        report = build_followup(uow, case_id, clock.now, uow.gate.for_system(Purpose.REPORT))
    html = render_followup(report, catalogue, "sv", DocumentFormat.HTML)
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    markdown = render_followup(report, catalogue, "en", DocumentFormat.MARKDOWN)
    assert "\\<script\\>" in markdown and "Follow-up of the plan, case K-1" in markdown


class FilesFail:
    """A platform that takes text but refuses every file."""

    platform = PLATFORM
    capabilities = PLAIN_TEXT

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Refuses files with a transient error; records text messages."""
        if message.file is not None:
            raise ConnectionError("upload failed")
        self.texts.append(message.text)


def test_a_promised_report_is_retried_and_then_the_coordinator_is_told(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case_id = _case(sessions, clock)
    with UnitOfWork(sessions) as uow:
        uow.coordination.schedule_meetings(
            case_id, MeetingKind.FOLLOW_UP, [clock.now + timedelta(hours=24)], None, None, clock.now
        )
        uow.commit()
    run_tick(sessions, clock)
    transport = FilesFail()
    deliverer = Deliverer(sessions, catalogue, {PLATFORM: transport}, clock, file_makers(clock))
    for _ in range(MAX_ATTEMPTS):
        asyncio.run(deliverer.deliver())
        clock.advance(hours=2)
    with UnitOfWork(sessions) as uow:
        states = dict(uow.session.execute(select(m.Outbox.message_id, m.Outbox.status)).all())
    assert states["coord.report"] == "failed" and states["coord.report_timeline"] == "failed"
    assert states["coord.agenda"] == "failed"
    clock.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    run_tick(sessions, clock)
    run_tick(sessions, clock)
    asyncio.run(deliverer.deliver())
    told = [t for t in transport.texts if "gick inte att skicka" in t]
    assert len(told) == 3, "one message per failed report, each once"
    assert "samverkan report followup --case K-1" in told[0]
