"""Handles one inbound event in one transaction: inbox, state, flow step, outbox, commit.

Two rules hold here for every flow, so no flow has to remember them:

- **Audience.** Before anything is written to the outbox, every reply is checked against the
  chat it goes to (flows.replies.may_show_in). When a step would show a group chat something
  meant for one person, the whole step is undone and the group gets only a pointer to the
  private chat (`common.private_only`): nothing private is rendered, and nothing the step
  changed is kept, so the person can do the same thing privately.
- **One message per step.** Once every reply passed the audience check, a step's text-only
  replies are joined to the reply after them (bot/one_message.py): "Sparat!" and the next
  prompt are one outbox row, one send.
- **No stuck conversation.** A step that fails with an unexpected error is undone, the person
  is told, and the conversation starts over from their menu, instead of failing again on every
  later message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, system_clock
from bot.connector import Unreadable
from bot.delivery import DEFAULT_POLICY, Outgoing
from bot.edit_in_place import edit_target
from bot.later import Later
from bot.one_message import combine
from flows.choice_reading import ShownChoices, may_be_a_choice, typed_number
from flows.conversation import (
    ConversationRef,
    Event,
    Inbound,
    JoinWithCode,
    Resume,
    clean_event,
)
from flows.engine import FORGOTTEN, Engine, FlowState, Transition
from flows.replies import OPEN_PRIVATE_CHAT, Choice, Reply, may_show_in, say_to_anyone
from storage.outbox_repository import Claim, PendingMessage, SentChoices
from storage.repositories import StaleConversation
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

MAX_STALE_RETRIES = 3

# What a group chat gets instead of a reply meant for one person: a pointer to the private
# chat, with a link to it where the platform has one (flows.replies.PRIVATE_CHAT_LINK).
PRIVATE_ONLY_POINTER = say_to_anyone("common.private_only", OPEN_PRIVATE_CHAT)
# An invite code sent in a group chat: joining (and consent) happens in the private chat.
JOIN_IN_GROUP = say_to_anyone("join.in_group", OPEN_PRIVATE_CHAT)
# What someone is told when their step failed for a reason of ours.
STEP_FAILED = say_to_anyone("common.step_failed")

# A choice's label in a language as the person saw it (bot.catalogue.Catalogue.label).
LabelRenderer = Callable[[Choice, str], str]


def _waiting_chat(
    ref: ConversationRef, replies: tuple[Reply, ...], written: list[PendingMessage]
) -> tuple[tuple[str, str], ...]:
    """The chat, when its replies were written pending behind a send still in flight.

    `enqueue_claimed` returns the replies it wrote claimed after any older rows it took
    along (rows read back from the database: new objects); when the chat was busy it
    returns only those older ones, if any. So the last reply itself is there, or it waits.
    """
    if not replies or (written and written[-1].reply is replies[-1]):
        return ()
    return ((ref.platform, ref.chat_id),)


class _NotForThisChat(Exception):
    """A step would show a group chat something meant for one person: undo it."""


class EventHandler:
    """Turns inbound events into state changes and outbox rows, one conversation at a time."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        engine: Engine | Later[Engine],
        default_locale: str = "sv",
        clock: Clock = system_clock,
        *,
        process_id: str = "local",
        claim_for: timedelta = DEFAULT_POLICY.claim_for,
        labels: LabelRenderer | None = None,
    ) -> None:
        self._sessions = sessions
        # Renders the labels of the newest shown choices, so a typed label is read as its
        # choice; without it only typed numbers are.
        self._labels = labels
        # `samverkan run` builds the conversations after its first poll (bot/later.py).
        self._engine = engine
        self._default_locale = default_locale
        self._clock = clock
        # The replies are written claimed by this process for this long ([delivery]
        # claim_seconds), exactly as the deliverer's own claim would leave them.
        self._process_id = process_id
        self._claim_for = claim_for

    def handle(self, inbound: Inbound) -> Outgoing:
        """Handles one event; returns the outbox rows to send (none for a replay).

        The order of a chat's events is kept by the caller (bot/pipeline.py); should two
        steps of one conversation still meet (two processes), the stored version tells,
        and the later one is read again and retried.
        """
        for attempt in range(1, MAX_STALE_RETRIES + 1):
            try:
                return self._handle_once(inbound)
            except StaleConversation:
                # Another process saved this conversation first; re-read and try again.
                log.info("conversation changed concurrently; retry %d", attempt)
            except _NotForThisChat:
                joining = isinstance(inbound.event, JoinWithCode)
                pointer = JOIN_IN_GROUP if joining else PRIVATE_ONLY_POINTER
                return self._answer_only(inbound, pointer, forget=False)
        raise StaleConversation(inbound.ref)

    def answer_unreadable(self, update: Unreadable) -> Outgoing:
        """Answers an update the bot cannot read with its connector's honest text, once."""
        inbound = Inbound(update.ref, Resume(), update.platform_event_id)
        return self._answer_only(inbound, say_to_anyone(update.reply_key), forget=False)

    def _handle_once(self, inbound: Inbound) -> Outgoing:
        """One attempt: everything commits together or not at all."""
        now = self._clock()
        ref = inbound.ref
        with UnitOfWork(self._sessions) as uow:
            if self._replayed(uow, inbound, now):
                log.info("replayed %s update ignored", ref.platform)
                return Outgoing()
            # Whoever writes to us can be reached again, whatever a platform said before
            # (marked in the same read as the state: no DELETE on every message).
            loaded = uow.conversations.load_writer(ref)
            state, version = loaded if loaded is not None else (None, None)
            inbound = replace(inbound, event=clean_event(inbound.event))
            shown = None
            if state is not None and not ref.is_group and may_be_a_choice(inbound.event):
                shown = self._shown(uow, ref, inbound.event)
            transition = self._step(uow, state, inbound, now, shown)
            if transition is None:
                # The step failed and was undone: the person hears so, and starts afresh.
                uow.session.rollback()
                return self._answer_only(inbound, STEP_FAILED, forget=True)
            if not all(may_show_in(r, group=ref.is_group) for r in transition.replies):
                raise _NotForThisChat
            if transition.state.flow == FORGOTTEN.flow and transition.state.step == FORGOTTEN.step:
                # The person was erased: keep no trace of this conversation either.
                uow.conversations.forget(ref)
            else:
                uow.conversations.save(ref, transition.state, version, now)
            # The engine already found the member and their language; a step that changed it
            # (/sprak, first contact's guess) says so in the transition.
            actor = transition.actor
            locale = self._default_locale if actor is None else transition.locale or actor.locale
            # In a group chat what the bot says may quote the writer (their name, their line
            # on the family list): it goes when they are erased, even while still waiting.
            about = (actor.person_id,) if actor is not None and ref.is_group else ()
            # Checked part by part above, then one message per step (bot/one_message.py).
            combined = combine(transition.replies)
            edits = edit_target(inbound, combined)
            replies = self._enqueue_replies(uow, ref, combined, locale, now, about, edits)
            ids: list[int] = []
            for notice in transition.notices:
                ids += uow.outbox.enqueue_notice(notice, now, self._default_locale)
            uow.commit()
        waiting = _waiting_chat(ref, combined, replies)
        log.debug(
            "handled %s event on %s: %s/%s, %d replies",
            type(inbound.event).__name__,
            ref.platform,
            transition.state.flow,
            transition.state.step,
            len(replies),
        )
        return Outgoing(tuple(replies), tuple(ids), waiting)

    def _shown(self, uow: UnitOfWork, ref: ConversationRef, event: Event) -> ShownChoices | None:
        """The newest message with choices shown in a private chat since its conversation
        changed, with its labels as shown (rendered only for a text that is no number).

        Read only for a short text in a private chat, where the person's conversation is
        the chat's only one: a tap, a long text and a group's message cost no statement.
        """
        sent = uow.outbox.newest_choices(ref)
        return None if sent is None else self._as_shown(sent, event)

    def _as_shown(self, sent: SentChoices, event: Event) -> ShownChoices:
        """Sent choices as the person saw them (words rendered only for a text no number)."""
        ids = tuple(choice.id for choice in sent.choices)
        if self._labels is None or typed_number(event) is not None:
            return ShownChoices(ids)
        render = self._labels
        earlier = None if sent.earlier is None else self._as_shown(sent.earlier, event)
        labels = tuple(render(choice, sent.locale) for choice in sent.choices)
        return ShownChoices(ids, labels, earlier)

    def _step(
        self,
        uow: UnitOfWork,
        state: FlowState | None,
        inbound: Inbound,
        now: datetime,
        shown: ShownChoices | None,
    ) -> Transition | None:
        """The engine's step, or None when it failed for a reason that is not the database's."""
        try:
            engine = self._engine.get() if isinstance(self._engine, Later) else self._engine
            return engine.step(
                state, inbound.event, ref=inbound.ref, now=now, ports=uow, shown=shown
            )
        except (StaleConversation, DBAPIError):
            # Concurrency and the database are handled by the caller (retry, or the adapter).
            raise
        except Exception as exc:
            # Only the class and where: an exception's message may quote what was written.
            where = "-" if state is None else f"{state.flow}/{state.step}"
            log.error("a step failed in %s with %s", where, type(exc).__name__)
            return None

    def _answer_only(self, inbound: Inbound, reply: Reply, *, forget: bool) -> Outgoing:
        """Records the event and sends one fixed reply in its chat, changing nothing else
        (after `forget`, the conversation starts over from the person's menu)."""
        now = self._clock()
        ref = inbound.ref
        with UnitOfWork(self._sessions) as uow:
            if self._replayed(uow, inbound, now):
                return Outgoing()
            if forget:
                uow.conversations.forget(ref)
            locale = self._default_locale
            actor = uow.members.actor_for(ref)
            if actor is not None:
                locale = actor.locale
            replies = self._enqueue_replies(uow, ref, (reply,), locale, now)
            uow.commit()
        return Outgoing(tuple(replies), (), _waiting_chat(ref, (reply,), replies))

    @staticmethod
    def _replayed(uow: UnitOfWork, inbound: Inbound, now: datetime) -> bool:
        """Records the event in the inbox; True when it was recorded before (a replay)."""
        if inbound.platform_event_id is None:
            return False
        return not uow.inbox.record(inbound.ref.platform, inbound.platform_event_id, now)

    def _enqueue_replies(
        self,
        uow: UnitOfWork,
        ref: ConversationRef,
        replies: tuple[Reply, ...],
        locale: str,
        now: datetime,
        about: tuple[int, ...] = (),
        edits: str | None = None,
    ) -> list[PendingMessage]:
        """Writes the replies to the event's chat already claimed by this process: they are
        sent right after the commit without a claim transaction of their own (one
        transaction less for every message)."""
        claim = Claim(self._process_id, now + self._claim_for)
        return uow.outbox.enqueue_claimed(
            ref.platform, ref.chat_id, replies, locale, now, claim, about, edits
        )
