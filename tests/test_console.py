"""The terminal chat: numbered choices, and a reminder's "1" means the reminder's own choice.

Sara from BUP uses the terminal chat. Her list of actions is on screen; then a nudge is
printed with "1) Visa mina åtgärder". She types 1 and gets her list, not the first line of
the older list (which would open the action itself).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.console import ConsoleTransport, run_console
from bot.delivery import Deliverer
from bot.handler import EventHandler
from flows.conversation import ConversationRef, Inbound, parse_text
from flows.wiring import default_engine
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code, run_tick

SARA = ConversationRef("console", "local", "local")


class Terminal:
    """Sara at the terminal chat, with her case's plan and a nudge on screen."""

    def __init__(
        self, sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
    ) -> None:
        maria = chat(sessions, catalogue, clock, "maria")
        maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
        self.code = case_with_plan(maria, "Alex", "BUP: Skicka remiss — 1 dec")
        self.out = io.StringIO()
        self.sessions, self.clock = sessions, clock
        self.handler = EventHandler(sessions, default_engine(), clock=clock, labels=catalogue.label)
        terminal = ConsoleTransport(self.out)
        self.deliverer = Deliverer(sessions, catalogue, {"console": terminal}, clock=clock)

    def printed_after(self, action: Callable[[], Coroutine[Any, Any, object]]) -> str:
        """What the terminal printed while `action` ran."""
        start = len(self.out.getvalue())
        asyncio.run(action())
        return self.out.getvalue()[start:]

    def starts(self) -> str:
        """Sara starts the terminal chat with her invite code."""
        stdin = io.StringIO(f"/start {self.code}\n")
        handler, deliverer = self.handler, self.deliverer
        return self.printed_after(lambda: run_console(handler, deliverer, stdin, self.out, SARA))

    def nudge(self) -> str:
        """The day before the due date, the nudge is printed."""
        self.clock.advance(days=7)
        return self.printed_after(
            lambda: self.deliverer.deliver(run_tick(self.sessions, self.clock))
        )

    def types(self, line: str) -> str:
        """Sara types one line into the terminal, read as the terminal reads it."""
        inbound = Inbound(SARA, parse_text(line))
        return self.printed_after(lambda: self.deliverer.deliver(self.handler.handle(inbound)))


def test_a_typed_number_answers_the_newest_reminder_not_the_older_menu(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    sara = Terminal(sessions, catalogue, clock)
    shown = sara.starts()
    assert "Du har 1 öppen åtgärd." in shown
    assert "1) K-1: Skicka remiss" in shown

    nudge = sara.nudge()
    assert "Du har 1 åtgärd i ärende K-1, 1 förfaller snart." in nudge
    assert "1) Visa mina åtgärder" in nudge

    reply = sara.types("1")
    assert "Hej Sara! Du har 1 öppen åtgärd." in reply, reply
    assert "Hur går det?" not in reply, "the older list's first line was opened instead"
    # Now the conversation's own list is the newest: "1" opens its first line.
    assert "Skicka remiss (ärende K-1)" in sara.types("1")


def test_a_reminders_button_typed_by_its_words_answers_the_reminder(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    sara = Terminal(sessions, catalogue, clock)
    sara.starts()
    sara.nudge()
    # "2" is no line of the reminder she sees: text, not the older list's second line.
    assert sara.types("2").startswith("Det förstod jag inte."), "read as the older list's 2"
    sara.nudge()  # overdue now: the next nudge
    reply = sara.types("  visa MINA åtgärder ")
    assert reply.startswith("Hej Sara! Du har 1 öppen åtgärd."), reply
