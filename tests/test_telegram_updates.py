"""What each kind of Telegram update means to the flows (no network)."""

from __future__ import annotations

from typing import Any

from telegram import Bot, Update

from bot.telegram.service import menu_commands
from bot.telegram.updates import BotIdentity, Ignored, NotText, translate
from flows.conversation import (
    ChoiceMade,
    Command,
    CommandIssued,
    ConversationRef,
    Inbound,
    JoinWithCode,
    TextMessage,
)

BOT = BotIdentity(id=999, username="SamverkanBot")
ALEX = {"id": 11, "is_bot": False, "first_name": "Alex"}
KIM = {"id": 12, "is_bot": False, "first_name": "Kim"}
PRIVATE = {"id": 11, "type": "private", "first_name": "Alex"}
GROUP = {"id": -500, "type": "group", "title": "Familjen"}
_bot = Bot("999:token")


def update(**message: Any) -> Update:
    """A message update with the given fields."""
    base = {"message_id": 1, "date": 1_700_000_000, "chat": PRIVATE, "from": ALEX}
    return Update.de_json({"update_id": 77, "message": {**base, **message}}, _bot)


def inbound(result: object) -> Inbound:
    assert isinstance(result, Inbound), result
    return result


def test_deep_link_start_joins_with_the_code_and_update_id_is_the_dedup_key() -> None:
    result = inbound(translate(update(text="/start 7K2QF-ABCDE"), BOT))
    assert result.event == JoinWithCode("7K2QF-ABCDE")
    assert result.ref == ConversationRef("telegram", "11", "11")
    assert result.platform_event_id == "999:77"


def test_text_in_a_private_chat_goes_to_the_flow() -> None:
    result = inbound(translate(update(text="Varför måste jag byta skola?"), BOT))
    assert result.event == TextMessage("Varför måste jag byta skola?")


def test_in_a_group_commands_for_us_count_and_for_other_bots_do_not() -> None:
    ours = inbound(translate(update(chat=GROUP, text="/hjalp@samverkanbot"), BOT))
    assert ours.event == CommandIssued(Command.HELP)
    assert ours.ref == ConversationRef("telegram", "-500", "11")
    assert translate(update(chat=GROUP, text="/start@AnnanBot"), BOT) is Ignored.OTHER_BOT


def test_in_a_group_only_replies_to_the_bot_and_mentions_are_for_the_bot() -> None:
    assert translate(update(chat=GROUP, text="Ska vi åka?"), BOT) is Ignored.GROUP_CHATTER
    bot_message = {
        "message_id": 5,
        "date": 1_700_000_000,
        "chat": GROUP,
        "from": {"id": 999, "is_bot": True, "first_name": "Bot"},
        "text": "Skriv din fråga.",
    }
    reply = inbound(
        translate(update(chat=GROUP, text="Om skolan", reply_to_message=bot_message), BOT)
    )
    assert reply.event == TextMessage("Om skolan")
    mention = inbound(translate(update(chat=GROUP, text="@SamverkanBot hej"), BOT))
    assert mention.event == TextMessage("hej")


def test_a_button_press_is_the_choice_id() -> None:
    message = {"message_id": 3, "date": 1_700_000_000, "chat": PRIVATE, "text": "Välj"}
    press = Update.de_json(
        {
            "update_id": 78,
            "callback_query": {
                "id": "q1",
                "from": ALEX,
                "chat_instance": "ci",
                "message": message,
                "data": "t:question:12",
            },
        },
        _bot,
    )
    result = inbound(translate(press, BOT))
    assert result.event == ChoiceMade("t:question:12")
    assert result.platform_event_id == "999:78"


def test_a_sticker_gets_a_helpful_answer_and_service_messages_none() -> None:
    sticker = {
        "file_id": "s",
        "file_unique_id": "su",
        "type": "regular",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
    }
    assert translate(update(sticker=sticker), BOT) == NotText(
        ConversationRef("telegram", "11", "11"), "999:77"
    )
    joined = update(chat=GROUP, new_chat_members=[KIM])
    assert translate(joined, BOT) is Ignored.GROUP_CHATTER
    from_bot = update(**{"from": {"id": 5, "is_bot": True, "first_name": "B"}}, text="hej")
    assert translate(from_bot, BOT) is Ignored.FROM_BOT


def test_the_command_menu_has_the_swedish_names_telegram_allows() -> None:
    assert menu_commands() == [
        "start",
        "hjalp",
        "paus",
        "meny",
        "mote",
        "bild",
        "nyttmote",
        "sprak",
        "plan",
        "dagordning",
        "samtycke",
        "minadata",
        "glommig",
    ]
