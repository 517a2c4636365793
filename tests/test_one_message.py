"""One message per step: a step's confirmation and its next prompt reach the chat as one."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedMessage
from bot.connector import PLAIN_TEXT, Capabilities
from bot.delivery import Deliverer
from bot.one_message import combine, message_ids
from flows.conversation import ConversationRef
from flows.replies import Attachment, Audience, Choice, say, say_to_anyone, to_family
from storage import models as m
from storage.outbox_repository import OutboxStatus
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.seed import SeededCase, seed_case

ALEX = ConversationRef(PLATFORM, "alex", "alex")
MENU = Choice("menu", "youth.menu.pause")


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> SeededCase:
    """A case with a meeting next week."""
    return seed_case(sessions, clock.now)


@pytest.fixture
def alex(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: SeededCase
) -> Chat:
    """Alex has joined with the youth invite and said yes at first contact."""
    chat = Chat(sessions, catalogue, clock, ALEX)
    chat.send(f"/start {case.youth_code}")
    return chat


def test_adding_a_question_answers_with_one_message_saved_and_the_list(alex: Chat) -> None:
    alex.choose("Mina frågor")
    alex.choose("Skriv en ny fråga")
    turn = alex.send("Varför måste jag byta skola?")
    assert len(turn) == 1, "the confirmation and the list are one message"
    (message,) = turn
    assert message_ids(message.reply) == ["youth.question.saved", "youth.questions"]
    saved, questions = message.rendered.parts
    assert message.rendered.text == f"{saved}\n\n{questions}"
    assert "1. Varför måste jag byta skola?" in questions
    # The list's buttons are under the one message, and a typed number still reads them.
    assert "Skriv en ny fråga" in alex.choices()


def test_typing_a_question_in_the_list_is_one_message_too(alex: Chat) -> None:
    alex.choose("Mina frågor")
    turn = alex.send("Får mamma vara med?")
    assert len(turn) == 1
    assert alex.ids() == ["youth.question.saved", "youth.questions"]


def test_the_combined_message_is_one_outbox_row_with_one_key(
    alex: Chat, sessions: sessionmaker[Session]
) -> None:
    alex.choose("Mina frågor")
    with UnitOfWork(sessions) as uow:
        before = uow.session.scalar(select(func.max(m.Outbox.id)))
    alex.send("Får mamma vara med?")
    with UnitOfWork(sessions) as uow:
        rows = uow.session.execute(
            select(m.Outbox.message_id, m.Outbox.status).where(m.Outbox.id > before)
        ).all()
    assert rows == [("youth.questions", OutboxStatus.SENT.value)]


def test_text_only_replies_join_the_reply_after_them() -> None:
    saved, prompt = say("youth.question.saved"), say("youth.questions", MENU, count=1)
    (one,) = combine((saved, prompt))
    assert one.message == "youth.questions" and one.choices == (MENU,)
    assert message_ids(one) == ["youth.question.saved", "youth.questions"]


def test_a_reply_with_choices_or_a_file_ends_the_message() -> None:
    first = say("a", MENU)
    filed = replace(say("b"), attachment=Attachment("meeting_ics", {"meeting_id": 1}))
    last = say("c")
    combined = combine((first, say("x"), filed, last))
    assert [message_ids(r) for r in combined] == [["a"], ["x", "b"], ["c"]]


def test_a_secret_or_a_due_time_keeps_its_reply_apart() -> None:
    secret = say("invite.code", secret_code="ABC123")
    due = say("nudge.x", due_at=None)
    combined = combine((secret, say("p", MENU)))
    assert [message_ids(r) for r in combined] == [["invite.code"], ["p"]]
    combined = combine((say("t"), say("q", MENU, secret_code="X")))
    assert [message_ids(r) for r in combined] == [["t"], ["q"]]
    assert [message_ids(r) for r in combine((due, say("p")))] == [["nudge.x"], ["p"]]


def test_a_combined_reply_is_for_whom_its_most_private_part_is() -> None:
    """A group chat never gets a PERSON part: the combined reply is PERSON as soon as one is."""
    family = to_family(say("family.saved"))
    anyone = say_to_anyone("common.help")
    (one,) = combine((family, say("youth.questions", MENU)))
    assert one.audience is Audience.PERSON
    (two,) = combine((anyone, to_family(say("family.list", MENU))))
    assert two.audience is Audience.FAMILY


@dataclass
class ShortTransport:
    """A platform that takes at most 60 characters a message, recording what it sent."""

    platform: str = PLATFORM
    capabilities: Capabilities = field(
        default_factory=lambda: replace(PLAIN_TEXT, max_text_length=60)
    )
    sent: list[tuple[RenderedMessage, str]] = field(default_factory=list)

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Records one message and its key."""
        self.sent.append((message, idempotency_key))


def test_a_combined_text_too_long_for_the_platform_stays_split(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    long_question = "Varför " * 10
    replies = combine(
        (say("youth.question.saved"), say("youth.question.edit_ask", MENU, text=long_question))
    )
    with UnitOfWork(sessions) as uow:
        ids = uow.outbox.enqueue(PLATFORM, "alex", replies, "sv", clock.now)
        uow.commit()
    transport = ShortTransport()
    deliverer = Deliverer(sessions, catalogue, {PLATFORM: transport}, clock=clock)
    assert asyncio.run(deliverer.deliver(ids)) == 1
    (first, first_key), (second, second_key) = transport.sent
    assert first.text == catalogue.render("youth.question.saved", {}, "sv", PLAIN_TEXT.text_format)
    assert first.choices == ()
    assert long_question.strip() in second.text and [c.id for c in second.choices] == ["menu"]
    assert first_key != second_key, "each part has a key of its own (Matrix txnId)"
    with UnitOfWork(sessions) as uow:
        assert uow.outbox.counts().pending == 0
