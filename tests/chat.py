"""A conversation harness: tests read like the chat they check.

chat = Chat.join(...)
chat.send("/start")
chat.choose("Mina frågor")
assert chat.said("youth.questions")
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedMessage
from bot.clock import Clock
from bot.connector import PLAIN_TEXT, Capabilities
from bot.delivery import Deliverer, Outgoing
from bot.files import FileMaker
from bot.handler import EventHandler
from bot.ics import meeting_file_makers
from bot.one_message import PARTS_BEFORE, message_ids, parts_before
from bot.privacy_files import PersonalDataFile
from flows.conversation import (
    ChoiceMade,
    ConversationRef,
    Inbound,
    JoinWithCode,
    Resume,
    parse_text,
)
from flows.engine import Engine
from flows.replies import Reply
from flows.wiring import default_engine
from storage.outbox_repository import PendingMessage
from storage.unit_of_work import UnitOfWork

PLATFORM = "test"


@dataclass
class Sent:
    """One message the bot sent, as the user saw it and as the flow said it."""

    reply: Reply
    rendered: RenderedMessage

    @property
    def message_id(self) -> str:
        """The catalogue id of the message."""
        return self.reply.message


@dataclass
class RecordingTransport:
    """A transport that keeps what it was asked to send, per chat."""

    platform: str = PLATFORM
    capabilities: Capabilities = PLAIN_TEXT
    sent: dict[str, list[RenderedMessage]] = field(default_factory=dict)

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Records one message."""
        self.sent.setdefault(chat_id, []).append(message)


class Chat:
    """One user in one chat, talking to the real handler, database and catalogue."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        catalogue: Catalogue,
        clock: Clock,
        ref: ConversationRef,
        file_makers: Mapping[str, FileMaker] | None = None,
        engine: Engine | None = None,
        auto_consent: bool = True,
    ) -> None:
        self.ref = ref
        # People in feature tests have said yes at first contact (age 15, SIP yes): joining
        # walks the consent flow and the turn shows only what the role's flow said. Consent
        # itself is tested with auto_consent=False (tests/test_consent.py, test_youth_prep).
        self._auto_consent = auto_consent
        self._sessions = sessions
        # Typed labels are read as in the product (bot/cli.py), in the words the catalogue shows.
        self._handler = EventHandler(
            sessions, engine or default_engine(), clock=clock, labels=catalogue.label
        )
        self._transport = RecordingTransport()
        self._deliverer = Deliverer(
            sessions,
            catalogue,
            {PLATFORM: self._transport},
            clock=clock,
            # The meeting's calendar file unless a test brings its own makers; the personal
            # data export always.
            file_makers={
                PersonalDataFile.kind: PersonalDataFile(),
                **(meeting_file_makers() if file_makers is None else file_makers),
            },
        )
        self.turn: list[Sent] = []
        self.history: list[Sent] = []

    @classmethod
    def for_user(
        cls,
        sessions: sessionmaker[Session],
        catalogue: Catalogue,
        clock: Clock,
        user: str = "u1",
        chat: str | None = None,
    ) -> Chat:
        """A private chat (or a group chat, when `chat` differs from the user)."""
        return cls(sessions, catalogue, clock, ConversationRef(PLATFORM, chat or user, user))

    def send(self, text: str) -> list[Sent]:
        """The user writes a line, exactly as an adapter would pass it on."""
        event = parse_text(text)
        turn = self._run(Inbound(self.ref, event))
        if self._auto_consent and isinstance(event, JoinWithCode) and self.said("consent.explain"):
            joined = _without_consent(turn)
            self.says_yes()
            self.turn = joined + _without_consent(self.turn)
        return self.turn

    def resume(self) -> list[Sent]:
        """The adapter (re)starts and asks where the user is."""
        return self._run(Inbound(self.ref, Resume()))

    def choose(self, label: str) -> list[Sent]:
        """The user taps the choice whose label contains `label` (the last message's)."""
        offered = self.choices()
        matches = [n for n, text in enumerate(offered, start=1) if label in text]
        assert len(matches) == 1, f"{label!r} matches {len(matches)} of {offered}"
        return self._run(Inbound(self.ref, parse_text(str(matches[0]))))

    def says_yes(self) -> list[Sent]:
        """First contact: yes to the bot, age 15 if asked, yes to sharing between agencies."""
        self.choose("Ja, det är okej")
        if self.said("consent.age"):
            self.send("15")
        if self.said("consent.sip"):
            self.choose("Ja, alla får se")
        return self.turn

    def tap(self, choice_id: str) -> list[Sent]:
        """The user taps a button by its id (also one from an older message)."""
        return self._run(Inbound(self.ref, ChoiceMade(choice_id)))

    def choices(self) -> list[str]:
        """Labels of the choices under the last message that had any."""
        for sent in reversed(self.history):
            if sent.rendered.choices:
                return [c.label for c in sent.rendered.choices]
        return []

    def said(self, message_id: str) -> bool:
        """True if the bot's last turn included this message."""
        return message_id in self.ids()

    def ids(self) -> list[str]:
        """Message ids of the bot's last turn (every part of a combined message, in order)."""
        return [message for s in self.turn for message in message_ids(s.reply)]

    def text(self) -> str:
        """Everything the bot said in its last turn, as the user read it."""
        return "\n".join(s.rendered.text for s in self.turn)

    def receive(self) -> list[Sent]:
        """Delivers what others (the scheduler, other users' steps) left for this chat."""
        with UnitOfWork(self._sessions) as uow:
            ids = [p.id for p in uow.outbox.pending(_far_future()) if self._is_mine(p)]
        return self._deliver(ids)

    def _is_mine(self, message: PendingMessage) -> bool:
        """True for an outbox row addressed to this chat."""
        return message.platform == self.ref.platform and message.chat_id == self.ref.chat_id

    def _run(self, inbound: Inbound) -> list[Sent]:
        """Handles the event and delivers its replies through the real outbox."""
        return self._deliver(self._handler.handle(inbound))

    def _deliver(self, rows: Outgoing | list[int]) -> list[Sent]:
        """Delivers the rows for this chat (notices to others stay for their chats)."""
        claimed: tuple[PendingMessage, ...] = ()
        if isinstance(rows, Outgoing):
            # The replies come claimed by the handler, and are always this chat's.
            assert all(self._is_mine(p) for p in rows.claimed)
            claimed, rows = rows.claimed, list(rows.ids)
        with UnitOfWork(self._sessions) as uow:
            pending = [p for p in uow.outbox.pending(_far_future(), rows) if self._is_mine(p)]
        replies = [p.reply for p in (*claimed, *pending)]
        before = len(self._transport.sent.get(self.ref.chat_id, []))
        asyncio.run(self._deliverer.deliver(Outgoing(claimed, tuple(p.id for p in pending))))
        rendered = self._transport.sent.get(self.ref.chat_id, [])[before:]
        assert len(rendered) == len(replies), "every reply must be delivered exactly once"
        self.turn = [Sent(r, m) for r, m in zip(replies, rendered, strict=True)]
        self.history += self.turn
        return self.turn


def _without_consent(turn: list[Sent]) -> list[Sent]:
    """The turn without what first contact's consent said (parts of a combined message too)."""
    kept: list[Sent] = []
    for sent in turn:
        ids = message_ids(sent.reply)
        texts = sent.rendered.parts or (sent.rendered.text,)
        own = [(i, t) for i, t in zip(ids, texts, strict=True) if not i.startswith("consent.")]
        if len(own) == len(ids):
            kept.append(sent)
        elif own:
            # The message as if only its other parts had been said.
            *before, (last_id, _text) = own
            params = {k: v for k, v in sent.reply.params.items() if k != PARTS_BEFORE}
            old = dict(parts_before(sent.reply))
            if before:
                params[PARTS_BEFORE] = [{"message": i, "params": old[i]} for i, _ in before]
            reply = replace(sent.reply, message=last_id, params=params)
            if last_id != sent.reply.message:
                reply = replace(reply, params=old[last_id], choices=(), attachment=None)
            text = "\n\n".join(t for _, t in own)
            parts = tuple(t for _, t in own) if len(own) > 1 else ()
            kept.append(Sent(reply, replace(sent.rendered, text=text, parts=parts)))
    return kept


def _far_future() -> datetime:
    """A time after every row's next attempt, to read rows just enqueued."""
    from datetime import datetime

    return datetime(9999, 1, 1, tzinfo=UTC)
