"""The transport against Telegram's failures: 429, 5xx, timeouts, refusals, files.

A real PTB Bot talks HTTP to the strict front, which injects the faults and forwards what
it accepts to the emulator. The pacer runs on a virtual clock, so a 429 asking for seven
seconds costs the test no real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.catalogue import RenderedChoice, RenderedFile, RenderedMessage
from bot.delivery import PermanentSendError, RetryAfter
from bot.pacing import PacerLimits
from bot.telegram.pacer import Pacer
from bot.telegram.transport import ChoiceIdTooLong, TelegramTransport
from tests.support.strict_bot_api import Fault, StrictBotApi
from tests.support.telegram_driver import visible
from tests.support.telegram_emulator import EmulatorClient

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]

CHAT = 6001
T = TypeVar("T")


class SteppedTime:
    """A virtual clock for one sender at a time: sleeping moves it forward at once."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def with_transport(
    telegram: tuple[EmulatorClient, StrictBotApi],
    scenario: Callable[[TelegramTransport, SteppedTime], Awaitable[T]],
    limits: PacerLimits | None = None,
) -> T:
    """Runs a scenario with a transport whose bot has a short read timeout."""
    emulator, strict = telegram
    time = SteppedTime()

    async def main() -> T:
        request = HTTPXRequest(read_timeout=0.5)
        async with Bot(emulator.token, base_url=strict.base_url, request=request) as bot:
            pacer = Pacer(limits, clock=time.clock, sleep=time.sleep)
            return await scenario(TelegramTransport(bot, pacer), time)

    return asyncio.run(main())


def message(text: str, *choices: str, file: RenderedFile | None = None) -> RenderedMessage:
    return RenderedMessage(text, tuple(RenderedChoice(c, c.title()) for c in choices), file)


def test_a_429_pauses_the_bot_for_retry_after_and_the_message_still_arrives(
    telegram: tuple[EmulatorClient, StrictBotApi],
) -> None:
    emulator, strict = telegram
    strict.state.fail_next("sendMessage", Fault("429", retry_after=7))

    async def scenario(transport: TelegramTransport, time: SteppedTime) -> None:
        await transport.send(str(CHAT), message("Hej <b>Alex</b>!"), "k1")
        assert time.now >= 7.0, "waited the whole retry_after"
        [sent] = await emulator.bot_messages(CHAT)
        assert visible(sent) == "Hej Alex!"

    with_transport(telegram, scenario)


def test_server_errors_and_timeouts_are_retried_and_the_message_sent_once(
    telegram: tuple[EmulatorClient, StrictBotApi],
) -> None:
    emulator, strict = telegram
    strict.state.fail_next("sendMessage", Fault("502"), Fault("hang"), Fault("500"))

    async def scenario(transport: TelegramTransport, time: SteppedTime) -> None:
        await transport.send(str(CHAT), message("Sparat!"), "k1")
        assert len(await emulator.bot_messages(CHAT)) == 1

    with_transport(telegram, scenario, PacerLimits(network_attempts=5))
    assert len(strict.state.sent()) == 1


def test_rate_limited_again_and_again_goes_back_to_the_outbox(
    telegram: tuple[EmulatorClient, StrictBotApi],
) -> None:
    _, strict = telegram
    strict.state.fail_next("sendMessage", *[Fault("429", retry_after=30)] * 3)

    async def scenario(transport: TelegramTransport, time: SteppedTime) -> None:
        with pytest.raises(RetryAfter) as caught:
            await transport.send(str(CHAT), message("Hej"), "k1")
        assert caught.value.seconds == 30

    with_transport(telegram, scenario, PacerLimits(rate_limit_attempts=3))


def test_a_blocked_bot_and_a_refused_text_fail_permanently_without_retries(
    telegram: tuple[EmulatorClient, StrictBotApi],
) -> None:
    _, strict = telegram
    strict.state.fail_next("sendMessage", Fault("403"))

    async def scenario(transport: TelegramTransport, time: SteppedTime) -> None:
        with pytest.raises(PermanentSendError):
            await transport.send(str(CHAT), message("Hej"), "k1")
        # Text that is not valid Telegram HTML (never made by the catalogue) is refused.
        with pytest.raises(PermanentSendError, match=r"(?i)can't parse entities"):
            await transport.send(str(CHAT), message("<b>oj"), "k2")
        with pytest.raises(ChoiceIdTooLong):
            await transport.send(str(CHAT), message("Välj", "x" * 65), "k3")

    with_transport(telegram, scenario)
    assert len(strict.state.rejected) == 1
    assert strict.state.sent() == []


def test_a_token_telegram_no_longer_accepts_fails_the_send_permanently_not_retried(
    telegram: tuple[EmulatorClient, StrictBotApi],
) -> None:
    # Telegram answers a revoked token with 401; the library's do_api_request raises that
    # as EndPointNotFound once the bot has started, not as InvalidToken (bot/telegram/bot_api.py).
    _, strict = telegram
    strict.state.fail_next("sendMessage", Fault("401"))

    async def scenario(transport: TelegramTransport, time: SteppedTime) -> None:
        with pytest.raises(PermanentSendError):
            await transport.send(str(CHAT), message("Hej"), "k1")
        assert time.slept == [], "not retried"

    with_transport(telegram, scenario)
    assert strict.state.sent() == []


def test_files_go_as_documents_and_pngs_as_photos_with_the_buttons(
    telegram: tuple[EmulatorClient, StrictBotApi],
) -> None:
    emulator, strict = telegram
    ics = RenderedFile("mote.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    png = RenderedFile("tidslinje.png", "image/png", _png())

    async def scenario(transport: TelegramTransport, time: SteppedTime) -> None:
        await transport.send(str(CHAT), message("Mötet <b>i kalendern</b>", "ok", file=ics), "k1")
        await transport.send(str(CHAT), message("Tidslinjen", file=png), "k2")
        # A text longer than a caption goes first, the file after it with the buttons.
        await transport.send(str(CHAT), message("lång " * 300, "ok", file=ics), "k3")

    with_transport(telegram, scenario)
    sent = asyncio.run(emulator.bot_messages(CHAT))
    assert [m["upload"]["filename"] if "upload" in m else "text" for m in sent] == [
        "mote.ics",
        "tidslinje.png",
        "text",
        "mote.ics",
    ]
    [document, _] = strict.state.sent("sendDocument")
    assert (document["caption"], document["parse_mode"]) == ("Mötet <b>i kalendern</b>", "HTML")
    assert sent[0]["reply_markup"]["inline_keyboard"] == [[{"text": "Ok", "callback_data": "ok"}]]
    assert "photo" in sent[1]
    assert "reply_markup" not in sent[2] and "reply_markup" in sent[3]
    assert [name for name, _ in strict.state.calls if name.startswith("send")] == [
        "sendDocument",
        "sendPhoto",
        "sendMessage",
        "sendDocument",
    ]


def _png() -> bytes:
    """A 1x1 greyscale PNG."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff")) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body
