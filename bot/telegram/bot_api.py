"""The two Bot API calls made for every message, without turning Telegram's answer into objects.

python-telegram-bot's `send_message` and `edit_message_reply_markup` parse Telegram's answer
into a `Message` (the chat, the sender, the keyboard: a dozen objects) that nothing here reads.
That parsing was about a third of the CPU of delivering a message (docs/performance.md, round
4). `Bot.do_api_request` is the library's public way to call a Bot API method; without a
return type it hands the answer back as it came. The request is the same one the named
methods make (tests/test_telegram_bot_api.py compares them), since this bot sets no
`Defaults`, no callback-data cache and no rate limiter on its `Bot`, which are all the named
methods add.

Buttons go as the JSON the Bot API takes (`markup_json`, written once per kept keyboard by
the transport): the library would turn the keyboard object into the very same JSON on every
call, which cost more than the rest of building the request.

The library suggests its named method whenever one exists, with a warning on every call;
that one suggestion is silenced for these two methods only, so an operator's log shows no
warning the bot caused on purpose.
"""

from __future__ import annotations

import json
import warnings

from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.warnings import PTBUserWarning

SEND_MESSAGE = "sendMessage"
EDIT_MESSAGE_REPLY_MARKUP = "editMessageReplyMarkup"
EDIT_MESSAGE_TEXT = "editMessageText"


def silence_named_method_hint() -> None:
    """Ignores the library's "please use Bot.<method>" hint for the methods called here.

    Adding the same filter again replaces it (the warnings module keeps one of each), so
    calling this for every transport costs nothing and adds nothing.
    """
    for method in (SEND_MESSAGE, EDIT_MESSAGE_REPLY_MARKUP, EDIT_MESSAGE_TEXT):
        warnings.filterwarnings(
            "ignore",
            message=rf"Please use 'Bot\.{method}' instead of 'Bot\.do_api_request",
            category=PTBUserWarning,
        )


def markup_json(markup: InlineKeyboardMarkup) -> str:
    """A keyboard as the Bot API takes it: the JSON the library itself writes for one."""
    return json.dumps(markup.to_dict())


async def send_text(bot: Bot, chat_id: str, text: str, markup: str | None) -> int | None:
    """Sends one HTML text, with its buttons (`markup_json`) if any, and returns the new
    message's id (None if Telegram's answer had none); Telegram's errors are raised as usual."""
    params: dict[str, object] = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML}
    if markup is not None:
        # A string is sent as it is, where a keyboard object would be written out first.
        params["reply_markup"] = markup
    return _message_id(await bot.do_api_request(SEND_MESSAGE, params))


async def edit_text(bot: Bot, chat_id: str, message_id: int, text: str, markup: str | None) -> None:
    """Replaces the text and buttons of one of the bot's messages (no `markup`: no buttons,
    as Telegram takes an edit without one); Telegram's errors are raised as usual."""
    params: dict[str, object] = {
        "chat_id": chat_id,
        "message_id": message_id,
        "text": text,
        "parse_mode": ParseMode.HTML,
    }
    if markup is not None:
        params["reply_markup"] = markup
    await bot.do_api_request(EDIT_MESSAGE_TEXT, params)


def _message_id(answer: object) -> int | None:
    """The message id in the Bot API's answer to a send, read without parsing the rest."""
    if isinstance(answer, dict):
        value = answer.get("message_id")
        if isinstance(value, int):
            return value
    return None


async def remove_keyboard(bot: Bot, chat_id: int, message_id: int) -> None:
    """Takes the buttons off one of the bot's messages."""
    await bot.do_api_request(
        EDIT_MESSAGE_REPLY_MARKUP, {"chat_id": chat_id, "message_id": message_id}
    )


silence_named_method_hint()
