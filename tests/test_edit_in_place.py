"""Which answers may replace the tapped message (bot/edit_in_place.py): a tap in a private
chat answered by one message of text and buttons; nothing else."""

from __future__ import annotations

from dataclasses import replace

from bot.edit_in_place import edit_target
from flows.conversation import ChoiceMade, ConversationRef, Inbound, TextMessage
from flows.replies import Attachment, Choice, say

PRIVATE = ConversationRef("telegram", "6001", "6001")
GROUP = ConversationRef("telegram", "-1001", "6001")
ANSWER = say("youth.menu", Choice("questions", "youth.menu.questions"))


def tap(ref: ConversationRef = PRIVATE) -> Inbound:
    """Noor taps a button on message 42."""
    return Inbound(ref, ChoiceMade("questions"), "1:7", on_message="42")


def test_a_tap_in_her_private_chat_answered_by_one_message_replaces_the_tapped_one() -> None:
    assert edit_target(tap(), (ANSWER,)) == "42"
    assert edit_target(tap(), (say("youth.saved"),)) == "42"  # text alone too


def test_a_tap_in_a_group_never_edits_everyone_sees_that_message() -> None:
    assert edit_target(tap(GROUP), (ANSWER,)) is None


def test_what_is_not_a_tap_never_edits() -> None:
    typed = Inbound(PRIVATE, TextMessage("Mina frågor"), "1:8")
    assert edit_target(typed, (ANSWER,)) is None
    # A ChoiceMade from a typed number or label carries no tapped message either.
    assert edit_target(Inbound(PRIVATE, ChoiceMade("questions"), "1:9"), (ANSWER,)) is None


def test_two_messages_a_file_or_a_secret_get_new_messages() -> None:
    assert edit_target(tap(), (say("youth.saved"), ANSWER)) is None
    with_file = replace(ANSWER, attachment=Attachment("meeting_ics", {"meeting": 1}))
    assert edit_target(tap(), (with_file,)) is None
    assert edit_target(tap(), (say("youth.code", secret_code="K7Q2"),)) is None
    assert edit_target(tap(), ()) is None
