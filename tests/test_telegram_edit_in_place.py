"""The answer to a tap replaces the tapped message in place (issue 26), through the emulator.

A young person tapping through her preparation in a private chat sees one message change,
the newest prompt and buttons in it, instead of a new message for every tap (each of which
waited a second behind the one before). Anything else still gets a new message: an answer
to what she typed, a tap on an older message, a refused edit.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from flows.domain import Role
from storage import models as m
from tests.conftest import FakeClock
from tests.support.strict_bot_api import Fault, StrictBotApi
from tests.support.telegram_driver import RunningBot, TelegramUser, running_bot
from tests.support.telegram_emulator import EmulatedUser, EmulatorClient
from tests.test_telegram_adapter import invite, no_refusals

pytestmark = pytest.mark.slow

NOOR = EmulatedUser(id=5101, first_name="Noor", language_code="sv")


async def joined(bot: RunningBot, code: str) -> TelegramUser:
    """Noor joins by her invite and says yes; her menu is the newest message."""
    noor = bot.user(NOOR)
    await noor.command("/start", code)
    await noor.says_yes()
    assert "Mina frågor" in " ".join(noor.labels())
    return noor


async def messages(bot: RunningBot) -> list[int]:
    """The ids of the bot's messages in Noor's chat."""
    return [int(m["message_id"]) for m in await bot.emulator.bot_messages(NOOR.id)]


def test_taps_through_her_preparation_edit_one_message(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    emulator, strict = telegram
    [code] = invite(db, clock, (Role.YOUTH, "Noor"))

    async def conversation() -> None:
        async with running_bot(emulator, strict, db, catalogue) as bot:
            noor = await joined(bot, code)
            before = await messages(bot)
            menu = before[-1]
            edits_before = len(strict.state.sent("editMessageText"))
            removals_before = len(strict.state.sent("editMessageReplyMarkup"))

            await noor.tap("Mina frågor")
            assert "Du har inga frågor än" in noor.text()
            await noor.tap("Till menyn")
            await noor.tap("Mina frågor")
            assert "Du har inga frågor än" in noor.text()

            # Three taps, no new message: the menu she tapped shows the newest prompt.
            assert await messages(bot) == before
            [shown] = noor.edits
            assert int(shown["message_id"]) == menu
            assert any("Skriv en ny fråga" in label for label in noor.labels())
            assert len(strict.state.sent("editMessageText")) == edits_before + 3
            # One Bot API call a tap: the edit replaces the buttons, none are taken off first.
            assert len(strict.state.sent("editMessageReplyMarkup")) == removals_before
            no_refusals(bot)

    asyncio.run(conversation())


def test_what_she_types_and_a_tap_on_an_older_message_get_new_messages(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    emulator, strict = telegram
    [code] = invite(db, clock, (Role.YOUTH, "Noor"))

    async def conversation() -> None:
        async with running_bot(emulator, strict, db, catalogue) as bot:
            noor = await joined(bot, code)
            await noor.tap("Mina frågor")
            prompt, add = await noor.button("Skriv en ny fråga")
            await noor.tap("Skriv en ny fråga")
            assert noor.edits == noor.turn  # a tap on the newest message: edited in place
            before = await messages(bot)

            # What she types is answered by a new message below it.
            await noor.say("Varför måste jag byta skola?")
            assert "Sparat!" in noor.text()
            assert noor.edits == [] and len(await messages(bot)) == len(before) + 1

            # A tap on the message above her text (a second look, a slow network) is
            # answered below too: an edit up there would go unseen.
            await noor.press(prompt["message_id"], add)
            assert "Skriv din fråga" in noor.text()
            assert noor.edits == [] and len(await messages(bot)) == len(before) + 2
            # ... and the buttons she pressed up there are taken off.
            removed = strict.state.sent("editMessageReplyMarkup")[-1]
            assert removed["message_id"] == str(prompt["message_id"])
            no_refusals(bot)

    asyncio.run(conversation())


def test_a_refused_edit_is_sent_as_a_new_message(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    emulator, strict = telegram
    [code] = invite(db, clock, (Role.YOUTH, "Noor"))

    async def conversation() -> None:
        async with running_bot(emulator, strict, db, catalogue) as bot:
            noor = await joined(bot, code)
            before = await messages(bot)
            # Telegram refuses the edit (the message was deleted, or is too old to edit).
            strict.state.fail_next("editMessageText", Fault("400"))
            removals = len(strict.state.sent("editMessageReplyMarkup"))

            await noor.tap("Mina frågor")
            assert "Du har inga frågor än" in noor.text()
            assert noor.edits == [] and len(await messages(bot)) == len(before) + 1
            assert strict.state.faults["editMessageText"] == [], "the edit was tried first"
            # The refused menu keeps no buttons to press twice.
            [removed] = strict.state.sent("editMessageReplyMarkup")[removals:]
            assert int(removed["message_id"]) == before[-1]
            with db() as session:
                assert session.scalars(select(m.Outbox.status)).all() == ["sent"] * len(
                    session.scalars(select(m.Outbox.id)).all()
                )

    asyncio.run(conversation())


def test_an_edit_sent_again_after_a_crash_is_delivered_once(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    emulator, strict = telegram
    [code] = invite(db, clock, (Role.YOUTH, "Noor"))

    async def conversation() -> None:
        async with running_bot(emulator, strict, db, catalogue) as bot:
            noor = await joined(bot, code)
            await noor.tap("Mina frågor")
            assert len(noor.edits) == 1
            before = await messages(bot)
            # The process died after the edit, before it was marked sent: the row is due again.
            with db() as session:
                newest = session.scalar(select(m.Outbox.id).order_by(m.Outbox.id.desc()))
                assert session.get(m.Outbox, newest).edits_message is not None
                # Its claim ran out (the process that held it is gone).
                session.execute(
                    update(m.Outbox)
                    .where(m.Outbox.id == newest)
                    .values(status="sending", next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC))
                )
                session.commit()

            assert await bot.service._pipeline.delivery.deliver([newest]) == 1
            # Telegram says "message is not modified": it is there already, and no copy comes.
            assert await messages(bot) == before
            with db() as session:
                assert session.get(m.Outbox, newest).status == "sent"

    asyncio.run(conversation())


def test_after_a_restart_a_tap_gets_a_new_message(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    emulator, strict = telegram
    [code] = invite(db, clock, (Role.YOUTH, "Noor"))

    async def conversation() -> None:
        async with running_bot(emulator, strict, db, catalogue) as bot:
            await joined(bot, code)
        # A new process knows nothing of the chat: the tapped menu may be far up by now
        # (the person or another process may have written since), so no edit.
        async with running_bot(emulator, strict, db, catalogue) as bot:
            noor = bot.user(NOOR)
            before = await messages(bot)
            await noor.tap("Mina frågor")
            assert "Du har inga frågor än" in noor.text()
            assert len(await messages(bot)) == len(before) + 1

    asyncio.run(conversation())
