"""Inline keyboards: one button per row, made once for the same choices, never changed."""

from __future__ import annotations

import json

import pytest

from bot.catalogue import Catalogue, RenderedChoice, RenderedMessage, TextFormat
from bot.telegram.bot_api import markup_json
from bot.telegram.transport import ChoiceIdTooLong, keyboard, keyboard_for
from flows.replies import PRIVATE_CHAT_LINK, Choice, say

CHOICES = (
    RenderedChoice("done", "Klart"),
    RenderedChoice("progress", "På gång"),
    RenderedChoice("blocked", "Det har stött på hinder"),
)


def test_one_button_per_row_with_the_choice_id_as_callback_data() -> None:
    made = keyboard(CHOICES)
    assert made is not None
    rows = [[{"text": choice.label, "callback_data": choice.id}] for choice in CHOICES]
    assert made.markup.to_dict() == {"inline_keyboard": rows}
    # The JSON sent with texts is the object's, as the library would write it.
    assert json.loads(made.json) == {"inline_keyboard": rows}
    assert made.json == markup_json(made.markup)
    assert keyboard(()) is None


def test_the_same_choices_reuse_one_keyboard_that_cannot_change() -> None:
    # A drain sends one nudge's keyboard to many chats: it is built once.
    first = keyboard_for(RenderedMessage("", CHOICES, choices_reusable=True))
    same = tuple(RenderedChoice(c.id, c.label) for c in CHOICES)
    assert keyboard_for(RenderedMessage("", same, choices_reusable=True)) is first
    other = (*CHOICES[:2], RenderedChoice("blocked", "Hinder"))
    assert keyboard_for(RenderedMessage("", other, choices_reusable=True)) is not first
    # Shared between sends only because python-telegram-bot's objects are frozen.
    assert first is not None
    with pytest.raises(AttributeError):
        first.json = "{}"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        first.markup.inline_keyboard = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        first.markup.inline_keyboard[0][0].text = "Ändrad"  # type: ignore[misc]


def test_a_choice_id_too_long_for_telegram_is_refused_every_time() -> None:
    too_long = (RenderedChoice("x" * 65, "Lång"),)
    for _ in range(2):  # a refusal is not remembered as a keyboard
        with pytest.raises(ChoiceIdTooLong):
            keyboard(too_long)


def test_a_keyboard_with_someones_words_in_its_labels_is_never_kept(catalogue: Catalogue) -> None:
    # A young person's question as a button: made for this message, then let go.
    question = Choice("q:7", "common.item", {"text": "Varför måste jag byta skola?"})
    rendered = catalogue.render_reply(say("common.not_understood", question), "sv", TextFormat.HTML)
    assert not rendered.choices_reusable
    assert keyboard_for(rendered) is not keyboard_for(rendered)
    # The catalogue's own buttons (numbers at most) may be kept.
    menu = Choice("menu", "youth.menu.questions", {"step": 1, "total": 4})
    kept = catalogue.render_reply(say("common.not_understood", menu), "sv", TextFormat.HTML)
    assert kept.choices_reusable
    assert keyboard_for(kept) is keyboard_for(kept)


def test_the_private_chat_pointer_is_a_link_button_to_the_bot() -> None:
    link = RenderedChoice(PRIVATE_CHAT_LINK, "Skriv till mig privat")
    made = keyboard((link,), "https://t.me/samverkansbot")
    assert made is not None
    assert json.loads(made.json) == {
        "inline_keyboard": [
            [{"text": "Skriv till mig privat", "url": "https://t.me/samverkansbot"}]
        ]
    }
    # Before the bot knows its username, there is no link to make: no button at all.
    assert keyboard((link,)) is None
    assert keyboard((*CHOICES, link)) == keyboard(CHOICES)
