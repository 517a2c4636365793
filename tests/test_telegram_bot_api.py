"""The Bot API calls made for every message: the same request as the library's named methods,
Telegram's answer left unparsed, and no warning in the operator's log."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBUserWarning

from bot.telegram.bot_api import (
    markup_json,
    remove_keyboard,
    send_text,
    silence_named_method_hint,
)

TOKEN = "4242:test-token-not-a-secret"
ANSWER = (
    b'{"ok": true, "result": {"message_id": 7, "date": 0, "chat": {"id": 6001, "type":'
    b' "private"}, "text": "Hej"}}'
)
ME = b'{"ok": true, "result": {"id": 4242, "is_bot": true, "first_name": "Boten"}}'


class RecordedRequests(BaseRequest):
    """Answers every call as Telegram would and keeps what was sent, as it goes on the wire."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        if endpoint == "getMe":
            return 200, ME
        self.calls.append((endpoint, request_data.json_parameters if request_data else {}))
        return 200, ANSWER


def buttons() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Mina frågor", callback_data="questions")]])


def wire(calls: Any, silenced: bool = True) -> list[tuple[str, dict[str, str]]]:
    """What a coroutine sent, on a bot of its own."""
    if silenced:
        silence_named_method_hint()  # as TelegramTransport does (pytest resets filters per test)

    async def main() -> list[tuple[str, dict[str, str]]]:
        network = RecordedRequests()
        async with Bot(TOKEN, request=network, get_updates_request=RecordedRequests()) as bot:
            await calls(bot)
        return network.calls

    return asyncio.run(main())


def test_a_text_goes_out_exactly_as_the_librarys_send_message_would_send_it() -> None:
    async def ours(bot: Bot) -> None:
        # The buttons as JSON written once: on the wire the same as the object the library writes.
        await send_text(bot, "6001", "<b>Sparat.</b> Vad vill du göra nu?", markup_json(buttons()))
        await send_text(bot, "-1001", "Hej gruppen", None)

    async def librarys(bot: Bot) -> None:
        await bot.send_message(
            "6001", "<b>Sparat.</b> Vad vill du göra nu?", "HTML", reply_markup=buttons()
        )
        await bot.send_message("-1001", "Hej gruppen", "HTML")

    sent = wire(ours)
    assert sent == wire(librarys)
    assert sent[0][0] == "sendMessage" and "reply_markup" in sent[0][1]
    assert "reply_markup" not in sent[1][1]


def test_taking_the_buttons_off_is_the_librarys_edit_message_reply_markup() -> None:
    async def ours(bot: Bot) -> None:
        await remove_keyboard(bot, 6001, 7)

    async def librarys(bot: Bot) -> None:
        await bot.edit_message_reply_markup(chat_id=6001, message_id=7, reply_markup=None)

    assert (
        wire(ours)
        == wire(librarys)
        == [("editMessageReplyMarkup", {"chat_id": "6001", "message_id": "7"})]
    )


def test_the_librarys_hint_to_use_its_named_method_never_reaches_the_log() -> None:
    async def both(bot: Bot) -> None:
        await send_text(bot, "6001", "Hej", markup_json(buttons()))
        await remove_keyboard(bot, 6001, 7)

    with warnings.catch_warnings(record=True) as hinted:
        warnings.simplefilter("always")
        wire(both, silenced=False)
    # Without the filter the library does hint, on every call: the check above is real.
    assert [type(w.message) for w in hinted] == [PTBUserWarning, PTBUserWarning]

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        wire(both)  # silenced, as every transport does
    assert seen == []
