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

from bot.catalogue import Catalogue, RenderedChoice, RenderedMessage
from bot.console import ConsoleTransport, run_console
from bot.delivery import Deliverer
from bot.handler import EventHandler
from flows.conversation import ChoiceMade, ConversationRef, Inbound, TextMessage
from flows.wiring import default_engine
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code, run_tick

SARA = ConversationRef("console", "local", "local")


def test_a_typed_number_answers_the_newest_reminder_not_the_older_menu(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    code = case_with_plan(maria, "Alex", "BUP: Skicka remiss — 1 dec")
    out = io.StringIO()
    terminal = ConsoleTransport(out)
    handler = EventHandler(sessions, default_engine(), clock=clock)
    deliverer = Deliverer(sessions, catalogue, {"console": terminal}, clock=clock)

    def printed_after(action: Callable[[], Coroutine[Any, Any, object]]) -> str:
        """What the terminal printed while `action` ran."""
        start = len(out.getvalue())
        asyncio.run(action())
        return out.getvalue()[start:]

    def types(line: str) -> str:
        """Sara types one line into the terminal, read as the terminal reads it."""
        inbound = Inbound(SARA, terminal.read(SARA.chat_id, line))
        return printed_after(lambda: deliverer.deliver(handler.handle(inbound)))

    stdin = io.StringIO(f"/start {code}\n")
    shown = printed_after(lambda: run_console(handler, deliverer, stdin, out, SARA, terminal))
    assert "Du har 1 öppen åtgärd." in shown
    assert "1) K-1: Skicka remiss" in shown

    clock.advance(days=7)  # the day before the due date
    nudge = printed_after(lambda: deliverer.deliver(run_tick(sessions, clock)))
    assert "Du har 1 åtgärd i ärende K-1, 1 förfaller snart." in nudge
    assert "1) Visa mina åtgärder" in nudge

    reply = types("1")
    assert "Hej Sara! Du har 1 öppen åtgärd." in reply, reply
    assert "Hur går det?" not in reply, "the older list's first line was opened instead"
    # Now the conversation's own list is the newest: "1" opens its first line.
    assert "Skicka remiss (ärende K-1)" in types("1")


def test_only_a_reminders_choices_are_read_by_the_terminal() -> None:
    terminal = ConsoleTransport(io.StringIO())
    menu = RenderedMessage("Meny", (RenderedChoice("questions", "Mina frågor"),))
    nudge = RenderedMessage("Påminnelse", (RenderedChoice("n:pro:list", "Visa mina åtgärder"),))
    asyncio.run(terminal.send("local", menu, "k1"))
    # The conversation offered the menu itself: the engine reads "1" against it.
    assert terminal.read("local", "1") == TextMessage("1")
    asyncio.run(terminal.send("local", nudge, "k2"))
    assert terminal.read("local", "1") == ChoiceMade("n:pro:list")
    assert terminal.read("local", "  visa MINA åtgärder ") == ChoiceMade("n:pro:list")
    assert terminal.read("local", "2") == TextMessage("2")
    # A message without choices after the reminder: "1" is text again (an answer, say).
    asyncio.run(terminal.send("local", RenderedMessage("Skriv din fråga", ()), "k3"))
    assert terminal.read("local", "1") == TextMessage("1")
