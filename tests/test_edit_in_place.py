"""Which answers may replace the tapped message (bot/edit_in_place.py): a tap in a private
chat answered by one message of text and buttons; nothing else."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bot.edit_in_place import edit_target
from flows.conversation import ChoiceMade, ConversationRef, Inbound, TextMessage
from flows.replies import Attachment, Choice, say
from storage.db import session_factory
from storage.outbox_repository import Claim
from storage.unit_of_work import UnitOfWork

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


def test_the_row_keeps_the_tapped_message_through_a_crash(engine: Engine) -> None:
    """Written claimed with the tapped message's id; claimed again after the process died,
    the row still says which message it may replace (SQLite and PostgreSQL)."""
    sessions = session_factory(engine)
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    claim = Claim("gone", now + timedelta(seconds=30))
    with UnitOfWork(sessions) as uow:
        [written] = uow.outbox.enqueue_claimed(
            "telegram", "6001", (ANSWER,), "sv", now, claim, edits="42"
        )
        # Two replies are two messages: neither replaces the tapped one.
        uow.outbox.enqueue_claimed(
            "telegram", "6002", (say("youth.saved"), ANSWER), "sv", now, claim, edits="43"
        )
        uow.commit()
    assert written.edits_message == "42"
    later = now + timedelta(minutes=5)
    with UnitOfWork(sessions) as uow:
        again = uow.outbox.claim("next", later, timedelta(seconds=30), ["telegram"])
        uow.commit()
    assert [(p.chat_id, p.edits_message) for p in again] == [
        ("6001", "42"),
        ("6002", None),
        ("6002", None),
    ]
