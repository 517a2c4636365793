"""A tap and the text typed after it are handled in the order the person sent them.

The press is answered and its keyboard taken away over the network; a text typed meanwhile
used to be handled first (bench/latency.py saw 8 of 48 quick updates out of order)."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.delivery import Outgoing
from bot.pipeline import Pipeline
from bot.telegram.service import TelegramService
from flows.conversation import ChoiceMade, ConversationRef, Inbound, TextMessage

REF = ConversationRef("telegram", "42", "42")


class RecordingHandler:
    """Writes down which update was handled when; answers nothing."""

    def __init__(self) -> None:
        self.handled: list[str] = []

    def handle(self, update: Inbound) -> Outgoing:
        """Notes the update's event."""
        event = update.event
        self.handled.append(event.choice_id if isinstance(event, ChoiceMade) else "text")
        return Outgoing(())


class SlowQuery:
    """A button press whose answer to Telegram takes a while."""

    def __init__(self, released: asyncio.Event) -> None:
        self.released = released
        self.message = None

    async def answer(self) -> None:
        """Waits for the network."""
        await self.released.wait()


def test_a_text_typed_after_a_tap_is_handled_after_it() -> None:
    async def scenario() -> list[str]:
        handler = RecordingHandler()
        pipeline = Pipeline(handler, delivery=None)  # type: ignore[arg-type]
        released = asyncio.Event()
        service: Any = object.__new__(TelegramService)
        service._pipeline, service._acks = pipeline, set()
        service.translate = lambda update: Inbound(REF, ChoiceMade("questions"), "1")

        async def owns(_pressed: Inbound) -> bool:
            return True

        async def remove(_query: SlowQuery) -> None:
            await released.wait()  # the keyboard's removal is on its way to Telegram

        service._presser_owns_buttons, service._remove_buttons = owns, remove
        update: Any = type("U", (), {"callback_query": SlowQuery(released)})()
        tap = asyncio.create_task(service._on_callback(update, None))
        await asyncio.sleep(0)
        typed = asyncio.create_task(pipeline.submit(Inbound(REF, TextMessage("hej"), "2")))
        await asyncio.sleep(0.01)
        released.set()
        await asyncio.gather(tap, typed)
        return handler.handled

    assert asyncio.run(scenario()) == ["questions", "text"]
