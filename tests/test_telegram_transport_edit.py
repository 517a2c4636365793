"""The transport replaces a tapped message in place only when it is the newest in the chat:
not spaced like a new message, and a new message wherever an edit could go unseen.

A real PTB Bot talks to the strict front and the emulator; the pacer runs on a virtual
clock (tests/test_telegram_transport.py), so "not spaced" is what it slept.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.pacing import PacerLimits
from bot.telegram.transport import TelegramTransport
from tests.support.strict_bot_api import StrictBotApi
from tests.support.telegram_emulator import EmulatorClient
from tests.test_telegram_transport import SteppedTime, message, with_transport

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]


CHAT = "6001"
GROUP = "-1006001"
LIMITS = PacerLimits(per_second=30, chat_interval=1.0, group_per_minute=20)


async def newest_id(emulator: EmulatorClient, chat: str) -> int:
    """The id of the newest bot message in a chat."""
    return int((await emulator.bot_messages(int(chat)))[-1]["message_id"])


def test_the_answer_replaces_the_newest_message_at_once(
    telegram: tuple[EmulatorClient, StrictBotApi],
) -> None:
    emulator, _strict = telegram

    async def scenario(transport: TelegramTransport, time: SteppedTime) -> None:
        await transport.send(CHAT, message("Vad vill du göra?", "questions"), "k1")
        tapped = await newest_id(emulator, CHAT)
        started = time.now
        answer = replace(message("Sparat! Nästa steg?", "next"), edits_message=str(tapped))
        await transport.send(CHAT, answer, "k2")
        # No second of spacing, as a new message in the same chat would wait.
        assert time.now == started
        [shown] = await emulator.bot_messages(int(CHAT))
        assert shown["text"] == "Sparat! Nästa steg?"
        assert shown["reply_markup"]["inline_keyboard"][0][0]["text"] == "Next"
        # The same edit again (a retry after a crash): "not modified", delivered, no copy.
        await transport.send(CHAT, answer, "k2")
        assert len(await emulator.bot_messages(int(CHAT))) == 1

    with_transport(telegram, scenario, LIMITS)


def test_an_older_message_an_unknown_chat_and_a_group_get_new_messages(
    telegram: tuple[EmulatorClient, StrictBotApi],
) -> None:
    emulator, strict = telegram

    async def scenario(transport: TelegramTransport, time: SteppedTime) -> None:
        await transport.send(CHAT, message("Första", "a"), "k1")
        first = await newest_id(emulator, CHAT)
        await transport.send(CHAT, message("Andra", "b"), "k2")
        # The tapped message is no longer the newest: the answer comes below.
        await transport.send(CHAT, replace(message("Svar"), edits_message=str(first)), "k3")
        assert [m["text"] for m in await emulator.bot_messages(int(CHAT))] == [
            "Första",
            "Andra",
            "Svar",
        ]
        # The person wrote after the bot's newest message (noted from her update).
        newest = await newest_id(emulator, CHAT)
        transport.newest.saw(CHAT, newest + 1)
        await transport.send(CHAT, replace(message("Igen"), edits_message=str(newest)), "k4")
        assert (await emulator.bot_messages(int(CHAT)))[-1]["text"] == "Igen"

        # A group: everyone sees the tapped message, so it is never replaced.
        await transport.send(GROUP, message("Till gruppen", "ok"), "g1")
        in_group = await newest_id(emulator, GROUP)
        await transport.send(GROUP, replace(message("Svar"), edits_message=str(in_group)), "g2")
        assert [m["text"] for m in await emulator.bot_messages(int(GROUP))] == [
            "Till gruppen",
            "Svar",
        ]
        assert strict.state.sent("editMessageText") == []

    with_transport(telegram, scenario, LIMITS)

    # A chat this process never saw (a restart): a new message, not an edit out of sight.
    async def restarted(transport: TelegramTransport, time: SteppedTime) -> None:
        before = await emulator.bot_messages(int(CHAT))
        last = str(before[-1]["message_id"])
        await transport.send(CHAT, replace(message("Efter omstart"), edits_message=last), "k5")
        assert len(await emulator.bot_messages(int(CHAT))) == len(before) + 1

    with_transport(telegram, restarted, LIMITS)
    assert strict.state.sent("editMessageText") == []
