"""A reply written while its chat is still being sent to goes right after, not at a sweep."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedMessage
from bot.connector import PLAIN_TEXT, Capabilities
from bot.delivery_loop import DeliveryLoop
from bot.handler import EventHandler
from flows.conversation import ConversationRef, Inbound, parse_text
from flows.replies import say
from flows.wiring import default_engine
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.seed import SeededCase, seed_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")


@dataclass
class SlowPlatform:
    """A platform whose first send hangs until the test lets it through (a send in flight)."""

    platform: str = PLATFORM
    capabilities: Capabilities = PLAIN_TEXT
    sent: list[tuple[str, str]] = field(default_factory=list)
    in_flight: asyncio.Event = field(default_factory=asyncio.Event)
    let_through: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Records the message once the platform took it; the first one waits to be let on."""
        self.in_flight.set()
        await self.let_through.wait()
        self.sent.append((idempotency_key, message.text))


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> SeededCase:
    """A case with a meeting next week."""
    return seed_case(sessions, clock.now)


@pytest.fixture
def alex(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> Chat:
    """Alex has joined with the youth invite and sees the menu."""
    chat = Chat(sessions, catalogue, clock, ALEX)
    chat.send(f"/start {case.youth_code}")
    assert chat.said("youth.menu")
    return chat


def test_a_reply_written_while_a_reminder_is_being_sent_follows_it_at_once(
    alex: Chat, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    with UnitOfWork(sessions) as uow:
        [reminder] = uow.outbox.enqueue(
            PLATFORM, "alex", (say("youth.question.saved"),), "sv", clock.now
        )
        uow.commit()
    handler = EventHandler(sessions, default_engine(), clock=clock, labels=catalogue.label)

    async def scenario() -> tuple[SlowPlatform, int, int, int]:
        platform = SlowPlatform()
        loop = DeliveryLoop(sessions, catalogue, clock=clock, connectors=[platform])
        # The tick sends a reminder to Alex; the platform is slow to take it.
        tick = asyncio.create_task(loop.deliver([reminder]))
        await platform.in_flight.wait()
        # Meanwhile Alex taps "Vad är ett samverkansmöte?" (the menu's first choice).
        tapped = handler.handle(Inbound(ALEX, parse_text("1")))
        assert not tapped.claimed, "the chat is busy: the answer waits behind the reminder"
        answered_at_once = await loop.deliver(tapped)
        platform.let_through.set()
        after_the_reminder = await tick
        # No time passes: nothing here waits for the sweep's grace.
        swept = await loop.sweep(fresh_too=True)
        return platform, answered_at_once, after_the_reminder, swept

    platform, answered_at_once, after_the_reminder, swept = asyncio.run(scenario())
    assert answered_at_once == 0
    assert after_the_reminder == 2, "the reminder, then the answer right after it"
    texts = [text for _key, text in platform.sent]
    assert texts[0] == catalogue.render("youth.question.saved", {}, "sv", PLAIN_TEXT.text_format)
    assert "samverkansmöte" in texts[1]
    assert swept == 0 and len(platform.sent) == 2, "and not twice"
    assert len({key for key, _text in platform.sent}) == 2
    with UnitOfWork(sessions) as uow:
        assert uow.outbox.counts().pending == 0


def test_a_waiting_chat_is_left_to_the_sweep_once_its_grace_is_over(
    alex: Chat, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    """A chat held for long (an older message waits for a retry) is the sweep's, as before."""
    with UnitOfWork(sessions) as uow:
        [held] = uow.outbox.enqueue(
            PLATFORM, "alex", (say("youth.question.saved"),), "sv", clock.now
        )
        uow.outbox.retry_later(
            held, "NetworkError", clock.now.replace(year=clock.now.year + 1), count_attempt=True
        )
        uow.commit()
    handler = EventHandler(sessions, default_engine(), clock=clock, labels=catalogue.label)

    async def scenario() -> int:
        platform = SlowPlatform()
        platform.let_through.set()
        loop = DeliveryLoop(sessions, catalogue, clock=clock, connectors=[platform])
        tapped = handler.handle(Inbound(ALEX, parse_text("1")))
        assert not tapped.claimed
        sent = await loop.deliver(tapped)
        clock.advance(seconds=11)
        sent += await loop.deliver([])
        return sent + len(loop._waiting_chats)

    assert asyncio.run(scenario()) == 0
