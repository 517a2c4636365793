"""Handles one inbound event in one transaction: inbox, state, flow step, outbox, commit."""

from __future__ import annotations

import logging
import threading
import zlib
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, system_clock
from bot.delivery import DEFAULT_POLICY, Outgoing
from flows.conversation import ConversationRef, Inbound
from flows.engine import FORGOTTEN, NOTICE_CHOICE_PREFIX, Engine, FlowState, typed_number
from storage.outbox_repository import Claim
from storage.repositories import StaleConversation
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

LOCK_STRIPES = 64
MAX_STALE_RETRIES = 3


class EventHandler:
    """Turns inbound events into state changes and outbox rows, one conversation at a time."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        engine: Engine,
        default_locale: str = "sv",
        clock: Clock = system_clock,
        *,
        process_id: str = "local",
        claim_for: timedelta = DEFAULT_POLICY.claim_for,
    ) -> None:
        self._sessions = sessions
        self._engine = engine
        self._default_locale = default_locale
        self._clock = clock
        # The replies are written claimed by this process for this long ([delivery]
        # claim_seconds), exactly as the deliverer's own claim would leave them.
        self._process_id = process_id
        self._claim_for = claim_for
        # Striped locks: events of one conversation are handled in order within this
        # process, with a bounded number of locks however many chats there are.
        self._locks = [threading.Lock() for _ in range(LOCK_STRIPES)]

    def handle(self, inbound: Inbound) -> Outgoing:
        """Handles one event; returns the outbox rows to send (none for a replay)."""
        with self._lock_for(inbound.ref):
            for attempt in range(1, MAX_STALE_RETRIES + 1):
                try:
                    return self._handle_once(inbound)
                except StaleConversation:
                    # Another process saved this conversation first; re-read and try again.
                    log.info("conversation changed concurrently; retry %d", attempt)
            raise StaleConversation(inbound.ref)

    def _handle_once(self, inbound: Inbound) -> Outgoing:
        """One attempt: everything commits together or not at all."""
        now = self._clock()
        ref = inbound.ref
        with UnitOfWork(self._sessions) as uow:
            if inbound.platform_event_id is not None and not uow.inbox.record(
                ref.platform, inbound.platform_event_id, now
            ):
                log.info("replayed %s update ignored", ref.platform)
                return Outgoing()
            # Whoever writes to us can be reached again, whatever a platform said before.
            uow.outbox.mark_reachable(ref.platform, ref.chat_id)
            loaded = uow.conversations.load(ref)
            state, version = loaded if loaded is not None else (None, None)
            if state is not None and not ref.is_group and typed_number(inbound.event) is not None:
                state = _with_newest_notice_choices(uow, ref, state)
            transition = self._engine.step(state, inbound.event, ref=ref, now=now, ports=uow)
            if transition.state.flow == FORGOTTEN.flow and transition.state.step == FORGOTTEN.step:
                # The person was erased: keep no trace of this conversation either.
                uow.conversations.forget(ref)
            else:
                uow.conversations.save(ref, transition.state, version, now)
            # The engine already found the member and their language; the step may have
            # changed it (/sprak), which locale_of sees without another statement.
            actor = transition.actor
            locale = self._default_locale if actor is None else uow.outbox.locale_of(actor)
            # The replies are claimed as they are written: sent right after the commit without
            # a claim transaction of their own (one transaction less for every message).
            claim = Claim(self._process_id, now + self._claim_for)
            replies = uow.outbox.enqueue_claimed(
                ref.platform, ref.chat_id, transition.replies, locale, now, claim
            )
            ids: list[int] = []
            for notice in transition.notices:
                ids += uow.outbox.enqueue_notice(notice, now, self._default_locale)
            uow.commit()
        log.debug(
            "handled %s event on %s: %s/%s, %d replies",
            type(inbound.event).__name__,
            ref.platform,
            transition.state.flow,
            transition.state.step,
            len(replies),
        )
        return Outgoing(tuple(replies), tuple(ids))

    def _lock_for(self, ref: ConversationRef) -> threading.Lock:
        """The lock stripe of a conversation."""
        key = f"{ref.platform}\0{ref.chat_id}\0{ref.user_id}".encode()
        return self._locks[zlib.crc32(key) % LOCK_STRIPES]


def _with_newest_notice_choices(
    uow: UnitOfWork, ref: ConversationRef, state: FlowState
) -> FlowState:
    """The state with a reminder's buttons offered, when a reminder is the newest message with
    choices in this private chat: a number typed now answers what the person last saw.

    Read only for a typed number (nothing for taps or text, nothing on sending), and only in
    a private chat, where the person's conversation is the chat's only one.
    """
    newest = uow.outbox.newest_choices(ref)
    if any(choice.startswith(NOTICE_CHOICE_PREFIX) for choice in newest):
        return replace(state, offered=newest)
    return state
