"""Helpers for the answer-link tests: a case with a plan, Sara from BUP owning its action,
and the answer-link listener on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.email.answers import LinkAnswers
from bot.email.links import LinkAnswer, LinkSigner, new_claim
from bot.email.listener import LinkListener
from bot.email.pages import PageRenderer
from bot.handler import EventHandler
from flows.conversation import ConversationRef, Inbound
from flows.wiring import default_engine
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code

KEY = bytes(range(32))
SARA = ConversationRef(PLATFORM, "sara", "sara")


@dataclass(frozen=True)
class Seeded:
    """Who and what the links are about."""

    maria: Chat
    sara: int
    action: int


def seed(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Seeded:
    """Maria coordinates K-1; Sara (BUP) joined in chat and owns "Skicka remiss"."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    code = case_with_plan(maria, "Alex", "BUP: Skicka remiss — 1 dec")
    chat(sessions, catalogue, clock, "sara").send(f"/start {code}")
    with UnitOfWork(sessions) as uow:
        actor = uow.members.actor_for(SARA)
        action = uow.session.scalars(select(m.PlanAction.id)).one()
    assert actor is not None
    return Seeded(maria, actor.person_id, action)


def status_of(sessions: sessionmaker[Session], action: int) -> tuple[str, int, list[str | None]]:
    """The action's status, its number of history entries and their notes."""
    with UnitOfWork(sessions) as uow:
        status = uow.session.get(m.PlanAction, action)
        assert status is not None
        entries = select(func.count()).select_from(m.ActionUpdate)
        count = uow.session.scalar(entries.where(m.ActionUpdate.action_id == action))
        notes = list(
            uow.session.scalars(
                select(m.ActionUpdate.note).where(m.ActionUpdate.action_id == action)
            )
        )
        return status.status, int(count or 0), notes


@dataclass
class Served:
    """The listener and how to make links for it."""

    base: str
    signer: LinkSigner
    clock: FakeClock

    def link(self, person: int, answer: LinkAnswer, action: int | None, **kw: object) -> str:
        """A signed link as an e-mail would carry it."""
        claim = new_claim(person, answer, action, self.clock.now, **kw)  # type: ignore[arg-type]
        return self.signer.url(claim).replace("http://127.0.0.1", self.base, 1)


@contextlib.asynccontextmanager
async def serving(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> AsyncIterator[Served]:
    """The real listener on 127.0.0.1 (a port the system picks), joins handled as in chat."""
    handler = EventHandler(sessions, default_engine(), clock=clock, labels=catalogue.label)

    async def submit(inbound: Inbound) -> None:
        await asyncio.to_thread(handler.handle, inbound)

    # The base URL is fixed before the port is known: links name the path, the test the host.
    signer = LinkSigner(KEY, "http://127.0.0.1")
    answers = LinkAnswers(sessions, signer, catalogue, submit=submit, clock=clock)
    listener = LinkListener(answers, PageRenderer(catalogue), "127.0.0.1", 0)
    await listener.start()
    try:
        yield Served(f"http://127.0.0.1:{listener.port}", signer, clock)
    finally:
        await listener.stop()
