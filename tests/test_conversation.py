"""Raw text becomes platform-neutral events."""

from __future__ import annotations

from flows.conversation import (
    ChoiceMade,
    Command,
    CommandIssued,
    ConversationRef,
    JoinWithCode,
    TextMessage,
    UnknownCommand,
    clean_event,
    parse_text,
)


def test_plain_text_is_text() -> None:
    assert parse_text("Varför måste jag byta skola?") == TextMessage("Varför måste jag byta skola?")


def test_swedish_and_english_commands_mean_the_same() -> None:
    for word in ("/hjälp", "/hjalp", "/help", "/HJÄLP"):
        assert parse_text(word) == CommandIssued(Command.HELP)
    assert parse_text("/paus") == parse_text("/pause") == CommandIssued(Command.PAUSE)
    assert parse_text("/meny") == CommandIssued(Command.MENU)


def test_start_with_a_code_is_a_join_and_botname_is_dropped() -> None:
    assert parse_text("/start ABCDE-12345") == JoinWithCode("ABCDE-12345")
    assert parse_text("/start@SamverkanBot KOD1") == JoinWithCode("KOD1")
    assert parse_text("/start") == CommandIssued(Command.START)
    assert parse_text("/hjalp@SamverkanBot") == CommandIssued(Command.HELP)


def test_unknown_commands_are_named_and_a_lone_slash_is_text() -> None:
    assert parse_text("/rm -rf") == UnknownCommand("rm")
    assert parse_text("/") == TextMessage("/")


def test_group_chats_are_told_apart_from_private_ones() -> None:
    assert not ConversationRef("telegram", "42", "42").is_group
    assert ConversationRef("telegram", "-100", "42").is_group


def test_lone_surrogates_become_replacement_characters_so_they_can_be_stored() -> None:
    assert parse_text("/m\ud800te") == UnknownCommand("m\ufffdte")
    assert parse_text("hej \udfff") == TextMessage("hej \ufffd")
    assert clean_event(ChoiceMade("a\ud83d")) == ChoiceMade("a\ufffd")
    assert clean_event(TextMessage("hej")) == TextMessage("hej")
