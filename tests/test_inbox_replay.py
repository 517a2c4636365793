"""A platform that delivers one update twice (a retry after a timeout, a restart that
re-reads the last batch) gets one stored effect and one reply."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.delivery import Deliverer, Outgoing
from bot.handler import EventHandler
from flows.conversation import ConversationRef, Inbound, parse_text
from flows.wiring import default_engine
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, RecordingTransport
from tests.conftest import FakeClock
from tests.seed import seed_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")


def count(sessions: sessionmaker[Session], model: type[m.Base]) -> int:
    """Rows of one table."""
    with UnitOfWork(sessions) as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def test_a_replayed_update_is_stored_once_and_answered_once(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case = seed_case(sessions, clock.now)
    handler = EventHandler(sessions, default_engine(), clock=clock)
    transport = RecordingTransport()
    deliverer = Deliverer(sessions, catalogue, {PLATFORM: transport}, clock=clock)

    def receive(update_id: str, text: str) -> Outgoing:
        """The adapter hands over one platform update and sends the replies."""
        ids = handler.handle(Inbound(ALEX, parse_text(text), platform_event_id=update_id))
        asyncio.run(deliverer.deliver(ids))
        return ids

    first_seen = clock.now
    joined = receive("update-1", f"/start {case.youth_code}")
    assert len(joined) == 1  # welcome and the menu, one message
    memberships, outbox = count(sessions, m.Membership), count(sessions, m.Outbox)

    clock.advance(seconds=30)
    assert len(receive("update-1", f"/start {case.youth_code}")) == 0  # the replay

    assert count(sessions, m.Membership) == memberships  # joined once
    assert count(sessions, m.Outbox) == outbox  # answered once (not "code already used")
    assert count(sessions, m.InboxEvent) == 1
    assert len(transport.sent["alex"]) == 1
    with UnitOfWork(sessions) as uow:
        invite = uow.session.scalars(select(m.Invite).where(m.Invite.used_at.is_not(None))).one()
        assert invite.used_at == first_seen  # used by the first delivery only

    # The same update id on another platform is another update.
    other = ConversationRef("other", "alex", "alex")
    assert handler.handle(Inbound(other, parse_text("/hjälp"), platform_event_id="update-1"))
