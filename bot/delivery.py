"""Sends outbox rows through the platform transports and records the outcome.

Delivery is at least once with bounded duplicates: a row is claimed (status "sending"), sent,
then marked sent in a second transaction. A process that dies between the send and the mark
leaves the row claimed; once the claim runs out (or, on SQLite, when the one process starts
again) it is sent again, with the same idempotency key, so a platform that honours keys
(Matrix txnId) shows it once. Any other crash point loses nothing and repeats nothing.

A chat's messages go out in order: while one waits for a retry, the younger ones wait with it.
So that one message the platform keeps refusing cannot hold its chat for hours, it is parked
(failed, for `samverkan outbox list --failed`) once its own sends have failed for
`park_after`; a message that cannot be rendered (a template error, an unknown file kind, a
file maker's error) fails at once, since a retry would render it the same way.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from babel.dates import format_timedelta
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

import storage.db
from bot.catalogue import Catalogue, RenderedMessage
from bot.clock import Clock, system_clock
from bot.connector import Capabilities
from bot.files import FileMaker, UnknownFileKind
from bot.metrics import DeliveryOutcome, Metrics
from flows.coordinator_reminders import neutral_digest
from flows.engine import Notice
from flows.replies import PRIVATE_CHAT_LINK, Reply, say
from storage.db import engine_of, is_sqlite, one_statement
from storage.outbox_repository import PendingMessage, mark_sent
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class PermanentSendError(Exception):
    """The platform will never accept this message (blocked bot, chat gone)."""


class RetryAfter(Exception):
    """The platform asked us to wait (HTTP 429, M_LIMIT_EXCEEDED) before sending again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds:.1f} s")
        self.seconds = seconds


class Transport(Protocol):
    """The sending half of a connector (bot/connector.py): sends rendered messages to one
    platform, and says what it can show.

    A platform that can open the bot's private chat from a link (Telegram's t.me link) says
    so in `capabilities.opens_private_chat`, and shows the choice
    flows.replies.PRIVATE_CHAT_LINK as that link; for the others it is left out.
    """

    platform: str
    capabilities: Capabilities

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Sends one message; raises PermanentSendError or any other error for a retry."""
        ...


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What handling one event left to send: rows written already claimed, and rows to claim.

    The replies to the chat in hand are claimed in the handler's own transaction, so they go
    out without a claim transaction of their own; notices to other chats are claimed as usual.
    """

    claimed: tuple[PendingMessage, ...] = ()
    ids: tuple[int, ...] = ()
    # (platform, chat id) of the chat in hand when its replies were written pending behind
    # an older message still being sent: the delivery loop sends them right after it.
    waiting: tuple[tuple[str, str], ...] = ()

    def __len__(self) -> int:
        return len(self.claimed) + len(self.ids)

    def __bool__(self) -> bool:
        """True when there is anything to send, or to follow up on."""
        return bool(self.claimed or self.ids or self.waiting)


# Attempts before a message counts as failed, by default ([delivery] max_attempts).
MAX_ATTEMPTS = 12
# How long a message's own sends may fail before it is parked ([delivery] park_after_seconds).
PARK_AFTER = timedelta(minutes=5)
# Chats sent to at once by one deliverer (DeliveryPolicy.concurrent_chats).
CONCURRENT_CHATS = 16


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How hard and how long we try, and when a message counts as late."""

    max_attempts: int = MAX_ATTEMPTS
    base_backoff: timedelta = timedelta(seconds=5)
    max_backoff: timedelta = timedelta(minutes=30)
    # A claimed row is another dispatcher's to take after this: longer than any one send.
    claim_for: timedelta = timedelta(seconds=120)
    # A reminder sent this much after its due time says how late it is.
    late_after: timedelta = timedelta(minutes=15)
    batch_size: int = 50
    # A message failing this long is parked (failed), so its chat's later messages go on.
    park_after: timedelta = PARK_AFTER
    # Chats sent to at once (each chat's own messages one at a time, in order). A send waits
    # mostly for the platform's answer: with a 60 ms round trip one chat at a time gets
    # about 7 messages a second out, while Telegram allows 30; the connector's pacer keeps
    # the platform's limits whatever this is. 16 covers a round trip of up to about half a
    # second at 30 a second, and bounds what one process has in flight.
    concurrent_chats: int = CONCURRENT_CHATS


DEFAULT_POLICY = DeliveryPolicy()
# A rate limit asks for a wait, not a failure; never come back sooner than this.
MIN_RETRY_AFTER = timedelta(seconds=1)
# How often a sent row's mark is tried while the database stays busy (each try waits up to
# SQLite's busy timeout, 5 s): well inside a claim, so no other sweep takes the row meanwhile.
MARK_SENT_ATTEMPTS = 6
# How long a mark on the event loop may wait for SQLite's write lock before it moves to a
# worker thread: about one slow statement, far below a stall anyone notices.
MARK_SENT_ON_LOOP_BUSY_MS = 20


def backoff(
    attempts: int, policy: DeliveryPolicy = DEFAULT_POLICY, rng: random.Random | None = None
) -> timedelta:
    """Exponential backoff with "equal jitter": half the step is fixed, half random, capped.

    The fixed half keeps retries from coming back at once; the random half spreads the
    retries of many messages that failed together (a platform outage) over time.
    """
    step = min(policy.base_backoff * (2 ** max(attempts - 1, 0)), policy.max_backoff)
    half = step.total_seconds() / 2
    return timedelta(seconds=half + (rng or random).uniform(0, half))


class Deliverer:
    """Claims due outbox rows and sends them; a row is marked sent only after the platform
    took it."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        catalogue: Catalogue,
        transports: Mapping[str, Transport],
        clock: Clock = system_clock,
        file_makers: Mapping[str, FileMaker] | None = None,
        *,
        process_id: str = "local",
        policy: DeliveryPolicy = DEFAULT_POLICY,
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._sessions = sessions
        self._engine = engine_of(sessions)
        self._sqlite = is_sqlite(self._engine)
        self._metrics = metrics
        self._catalogue = catalogue
        self._transports = dict(transports)
        self._clock = clock
        self._file_makers = dict(file_makers or {})
        self._process_id = process_id
        self._policy = policy
        self._rng = rng or random.Random()

    @property
    def platforms(self) -> Collection[str]:
        """The platforms this deliverer can send to."""
        return self._transports.keys()

    def attach(self, transport: Transport) -> None:
        """Sends the transport's platform's messages from now on."""
        self._transports[transport.platform] = transport

    def detach(self, platform: str) -> None:
        """Sends no more to the platform; its claimed rows are given back as they come."""
        self._transports.pop(platform, None)

    def transport(self, platform: str) -> Transport | None:
        """The transport of a platform, if this deliverer sends to it."""
        return self._transports.get(platform)

    async def deliver(self, ids: Outgoing | Sequence[int] | None = None) -> int:
        """Sends the given (or up to a batch of due) rows in order; returns how many were sent.

        The rows must already be committed: replies to the chat in hand are sent at once this
        way, and rows another dispatcher claimed first are simply left to it. Rows an
        `Outgoing` brings already claimed are sent as they are.
        """
        if isinstance(ids, Outgoing):
            sent = await self._send_claimed(list(ids.claimed))
            if ids.ids:
                sent += await self._rounds(list(ids.ids))
            return sent
        if ids is None:
            sent, _claimed = await self._round(None)
            return sent
        return await self._rounds(list(ids))

    async def _rounds(self, ids: list[int]) -> int:
        """Claims and sends the given rows a batch at a time (a tick may leave thousands);
        returns how many were sent."""
        sent = 0
        size = self._policy.batch_size
        for start in range(0, len(ids), size):
            sent += (await self._round(ids[start : start + size]))[0]
        return sent

    async def drain(self) -> int:
        """Sends everything due now, batch by batch; returns how many were sent."""
        total = 0
        while True:
            sent, claimed = await self._round(None)
            total += sent
            if claimed == 0:
                return total

    async def _round(self, ids: list[int] | None) -> tuple[int, int]:
        """Claims one batch and sends it: (sent, claimed)."""
        # In a worker thread: the claim's transaction may wait for SQLite's write lock (a
        # handler's commit, a tick), and on the event loop that wait would hold up every
        # chat's sends and every answer. One hop a batch, not one a message.
        claimed = await asyncio.to_thread(self._claim, ids, list(self.platforms))
        # A handled row is sent, failed, dropped or due again only later: drain() ends.
        return await self._send_claimed(claimed), len(claimed)

    def _claim(self, ids: list[int] | None, platforms: list[str]) -> list[PendingMessage]:
        """Claims one batch of due rows (or of the given ones) for this process."""
        with UnitOfWork(self._sessions) as uow:
            claimed = uow.outbox.claim(
                self._process_id,
                self._clock(),
                self._policy.claim_for,
                platforms,
                ids,
                self._policy.batch_size,
            )
            uow.commit()
        return claimed

    async def _send_claimed(self, claimed: list[PendingMessage]) -> int:
        """Sends rows claimed for this process, several chats at once and each chat's in
        order; returns how many were sent."""
        chats = _ChatsThisRound()
        queues: dict[tuple[str, str], list[PendingMessage]] = {}
        for message in claimed:
            if message.platform not in self._transports:
                # Claimed on insert for a platform this deliverer does not send to: give it
                # back at once (not a failed attempt), for the dispatcher that does.
                self._retry(message, "NoTransport", self._clock(), count_attempt=False)
                continue
            queues.setdefault((message.platform, message.chat_id), []).append(message)
        waiting = deque(queues.values())
        workers = min(max(self._policy.concurrent_chats, 1), len(waiting))
        if workers == 0:
            return 0
        # A send mostly waits for the platform's answer: other chats are sent meanwhile, up
        # to `concurrent_chats` at once. A chat is one worker's from its first message to its
        # last, so its messages go one at a time and in order (the pacer keeps the
        # platform's spacing within the chat and its limits across chats).
        outcomes = await asyncio.gather(*(self._send_chats(waiting, chats) for _ in range(workers)))
        sent = sum(count for count, _error in outcomes)
        errors = [error for _count, error in outcomes if error is not None]
        if errors:
            # The other chats went on; what failed is raised now, as a one-at-a-time round
            # would have (a sweep logs it, the chat's rows are retried once their claim ends).
            raise errors[0]
        return sent

    async def _send_chats(
        self, waiting: deque[list[PendingMessage]], chats: _ChatsThisRound
    ) -> tuple[int, Exception | None]:
        """One worker: takes chat after chat and sends each chat's messages in order;
        (sent, the first unexpected error, which stopped only the chat it came from)."""
        sent = 0
        first_error: Exception | None = None
        while waiting:
            messages = waiting.popleft()
            try:
                for message in messages:
                    sent += await self._send_one(message, chats)
                    # Database calls block the loop; let inbound handling and lease renewal
                    # in between, so a long catch-up after downtime starves nobody.
                    await asyncio.sleep(0)
            except Exception as exc:
                # Not a send's failure (those are recorded per message) but the database's
                # or a bug: this chat's rows keep their claim and are sent again when it
                # runs out, and the other chats are not held up by it.
                log.error(
                    "outbox %d: delivery to its chat stopped: %s",
                    messages[0].id,
                    type(exc).__name__,
                )
                first_error = first_error or exc
        return sent, first_error

    async def _send_one(self, message: PendingMessage, chats: _ChatsThisRound) -> int:
        """Sends one claimed row and records the outcome; 1 if it was sent."""
        now = self._clock()
        if message.expires_at is not None and now >= message.expires_at:
            log.info(
                "outbox %d dropped: no longer relevant since %s",
                message.id,
                message.expires_at.isoformat(),
            )
            with UnitOfWork(self._sessions) as uow:
                uow.outbox.mark_dropped(message.id, "Expired")
                uow.commit()
            self._count(message, DeliveryOutcome.DROPPED)
            return 0
        if message.attempts > self._policy.max_attempts:
            # Claimed this often with no outcome recorded: each try ended the process that
            # made it. Sending once more would only end this one too.
            log.warning(
                "outbox %d failed: %d claims without an outcome", message.id, message.attempts
            )
            with UnitOfWork(self._sessions) as uow:
                uow.outbox.mark_failed(message.id, "TooManyAttempts")
                uow.commit()
            self._count(message, DeliveryOutcome.FAILED)
            return 0
        chat = (message.platform, message.chat_id)
        if chat in chats.waiting:
            # An older message of this chat has to wait: this one waits with it, in order.
            # It was not tried, so this is no attempt of its own, and it is not failing: when
            # the older one is parked, this one goes on with all its attempts.
            error, at = chats.waiting[chat]
            self._retry(message, error, at, count_attempt=False)
            return 0
        if message.unreachable or chat in chats.refused:
            log.info("outbox %d failed: chat is marked unreachable", message.id)
            with UnitOfWork(self._sessions) as uow:
                uow.outbox.mark_failed(message.id, "RecipientUnreachable")
                uow.commit()
            self._count(message, DeliveryOutcome.FAILED)
            return 0
        transport = self._transports.get(message.platform)
        if transport is None:
            # Detached while this round was sending (its channel stopped): given back for the
            # process that holds the channel now, as at the start of a round.
            self._retry(message, "NoTransport", now, count_attempt=False)
            return 0
        try:
            if message.reply.attachment is None:
                rendered = self._render(message, transport.capabilities, now)
            else:
                # A file (a chart drawn by matplotlib, a report read from the database) takes
                # long enough to hold up every chat: made in a worker thread.
                rendered = await asyncio.to_thread(
                    self._render, message, transport.capabilities, now
                )
        except DBAPIError as exc:
            # The file maker could not read the database: that may pass, so it is retried.
            return self._failed_attempt(message, type(exc).__name__, now, chats)
        except Exception as exc:
            # A template error, an unknown file kind, a file maker's error: rendering again
            # gives the same, so it fails at once and the chat goes on (issue 20).
            log.warning("outbox %d failed: cannot render: %s", message.id, type(exc).__name__)
            self._give_up(message, type(exc).__name__, permanent=False)
            return 0
        if not transport.capabilities.opens_private_chat:
            rendered = without_private_chat_link(rendered)
        try:
            await _send_rendered(transport, message, rendered)
        except RetryAfter as exc:
            wait = max(timedelta(seconds=exc.seconds), MIN_RETRY_AFTER)
            log.info("outbox %d: platform asks to wait %.1f s", message.id, wait.total_seconds())
            self._retry(message, "RetryAfter", now + wait, count_attempt=False)
            chats.waiting[chat] = ("RetryAfter", now + wait)
            self._count(message, DeliveryOutcome.RATE_LIMITED)
        except PermanentSendError as exc:
            log.warning("outbox %d failed permanently: %s", message.id, type(exc).__name__)
            chats.refused.add(chat)
            self._give_up(message, type(exc).__name__, permanent=True)
        except Exception as exc:  # any transport error is retried later, never lost
            return self._failed_attempt(message, type(exc).__name__, now, chats)
        else:
            # Marked at once, in its own transaction, not with the round's other sends: a
            # crash then repeats at most this one message. A batch of marks would repeat every
            # message sent since the last batch, and Telegram has no idempotency key to hide
            # them. (The transaction is one prepared UPDATE on a plain connection: no session
            # or repository is made for it, and on SQLite no BEGIN or COMMIT either.)
            await self._mark_sent(message, self._clock())
            self._count(message, DeliveryOutcome.SENT)
            return 1
        return 0

    async def _mark_sent(self, message: PendingMessage, now: datetime) -> None:
        """Marks a sent row at once; while the database is busy, in a worker thread, again.

        At once, on the event loop, so no other chat's send comes between a send and its
        mark: a crash repeats at most the message in hand (tests/test_delivery_faults.py).
        But a mark that waited there for SQLite's write lock (a catch-up queueing thousands
        of messages, many handlers at once) held up every chat for the whole busy timeout,
        then failed, and the row stayed "sending", to be sent again once its claim ran out:
        Telegram shows it twice (bench/memory.py). So the first try waits for the lock only
        briefly, and then the mark is tried in a worker thread, for as long as a claim lasts.
        """
        try:
            self._mark_sent_now(message, now, busy_ms=MARK_SENT_ON_LOOP_BUSY_MS)
            return
        except OperationalError:
            log.info("outbox %d sent; the database is busy, marking it from a thread", message.id)
        for attempt in range(1, MARK_SENT_ATTEMPTS + 1):
            try:
                await asyncio.to_thread(self._mark_sent_now, message, now)
                return
            except OperationalError:
                if attempt == MARK_SENT_ATTEMPTS:
                    raise
                log.warning("outbox %d sent; the database is still busy", message.id)

    def _mark_sent_now(
        self, message: PendingMessage, now: datetime, busy_ms: int | None = None
    ) -> None:
        """The mark itself; on SQLite waiting at most `busy_ms` for the write lock if given."""
        wait_s = None if busy_ms is None else busy_ms / 1000
        with one_statement(self._engine, writer_wait_s=wait_s) as connection:
            if busy_ms is None or not self._sqlite:
                mark_sent(connection, message.id, now, message.reply.params)
                return
            # A setting of the connection, set on the driver's connection directly (a few
            # microseconds, not a statement of the transaction: the UPDATE stays the one);
            # the connection goes back to the pool with its usual timeout.
            driver = connection.connection.dbapi_connection
            assert driver is not None
            driver.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
            try:
                mark_sent(connection, message.id, now, message.reply.params)
            finally:
                driver.execute(f"PRAGMA busy_timeout={storage.db.SQLITE_BUSY_TIMEOUT_MS}")

    def _failed_attempt(
        self, message: PendingMessage, error: str, now: datetime, chats: _ChatsThisRound
    ) -> int:
        """Records a failed attempt: retried with backoff, until it is parked or out of
        attempts; meanwhile the chat's younger messages wait. Always 0 (nothing sent)."""
        log.warning("outbox %d attempt %d failed: %s", message.id, message.attempts, error)
        failing_since = message.failing_since or now
        park_at = failing_since + self._policy.park_after
        if now >= park_at:
            log.warning(
                "outbox %d parked: failing for %d s; its chat goes on",
                message.id,
                (now - failing_since).total_seconds(),
            )
            self._give_up(message, error, permanent=False)
        elif message.attempts >= self._policy.max_attempts:
            self._give_up(message, error, permanent=False)
        else:
            # The last try falls at the park time, not a backoff step after it: the chat
            # waits for at most `park_after`.
            retry_at = min(now + backoff(message.attempts, self._policy, self._rng), park_at)
            self._retry(message, error, retry_at, count_attempt=True, failed_at=now)
            self._count(message, DeliveryOutcome.RETRY)
            chats.waiting[(message.platform, message.chat_id)] = (error, retry_at)
        return 0

    def _count(self, message: PendingMessage, outcome: DeliveryOutcome) -> None:
        """Counts a send's outcome by platform, when the process keeps metrics (memory only)."""
        if self._metrics is not None:
            self._metrics.delivery(message.platform, outcome)

    def _render(
        self, message: PendingMessage, capabilities: Capabilities, now: datetime
    ) -> RenderedMessage:
        """Renders the text and choices, notes lateness, and makes the attached file."""
        fmt = capabilities.text_format
        reply = message.reply if capabilities.full_content else neutral_digest(message.reply)
        rendered = self._catalogue.render_reply(reply, message.locale, fmt)
        if message.due_at is not None and now - message.due_at >= self._policy.late_after:
            note = self._catalogue.render(
                "delivery.late",
                {
                    "due_at": message.due_at,
                    "late_by": format_timedelta(now - message.due_at, locale=message.locale),
                },
                message.locale,
                fmt,
            )
            rendered = replace(rendered, text=f"{rendered.text}\n\n{note}")
        if reply.attachment is None:
            return rendered
        maker = self._file_makers.get(reply.attachment.kind)
        if maker is None:
            raise UnknownFileKind(reply.attachment.kind)
        with UnitOfWork(self._sessions) as uow:
            file = maker.make(uow, reply.attachment.params, message.locale, self._catalogue)
        return replace(rendered, file=file)

    def _retry(
        self,
        message: PendingMessage,
        error: str,
        at: datetime,
        *,
        count_attempt: bool,
        failed_at: datetime | None = None,
    ) -> None:
        """Puts the row back for a later attempt (error class only: never content)."""
        with UnitOfWork(self._sessions) as uow:
            uow.outbox.retry_later(
                message.id, error, at, count_attempt=count_attempt, failed_at=failed_at
            )
            uow.commit()

    def _give_up(self, message: PendingMessage, error: str, *, permanent: bool) -> None:
        """Marks the row failed; a permanent refusal also marks the chat unreachable and
        tells the case coordinators, once, in the same transaction."""
        now = self._clock()
        self._count(message, DeliveryOutcome.FAILED)
        with UnitOfWork(self._sessions) as uow:
            uow.outbox.mark_failed(message.id, error)
            if permanent and uow.outbox.mark_unreachable(
                message.platform, message.chat_id, error, now
            ):
                contacts = uow.outbox.coordinators_to_tell(message.platform, message.chat_id)
                for contact in contacts:
                    notice = Notice(
                        unreachable_notice(contact.case_reference, contact.member_name),
                        person_id=contact.coordinator_person_id,
                        about=(contact.member_person_id,),
                        dedup_key=(
                            f"unreachable:{message.platform}:{message.chat_id}:"
                            f"{contact.case_id}:{now.isoformat()}"
                        ),
                    )
                    uow.outbox.enqueue_notice(notice, now, self._catalogue.default_locale)
                log.warning(
                    "chat of outbox %d marked unreachable; %d coordinator(s) told",
                    message.id,
                    len(contacts),
                )
            uow.commit()


@dataclass
class _ChatsThisRound:
    """What one round learnt about chats: refused for good, or to be retried later (and
    then their younger messages wait too, so a chat's messages never overtake each other)."""

    refused: set[tuple[str, str]] = field(default_factory=set)
    # chat → (error, retry at)
    waiting: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)


async def _send_rendered(
    transport: Transport, message: PendingMessage, rendered: RenderedMessage
) -> None:
    """Sends a rendered row: as one message, or a combined reply (bot/one_message.py) part by
    part when its joined text is longer than the platform takes at once, so each part stays
    whole (the last carries the choices and any file; each part has its own key)."""
    limit = transport.capabilities.max_text_length
    # UTF-16 units (as Telegram counts) are never fewer than characters.
    if len(rendered.parts) < 2 or len(rendered.text.encode("utf-16-le")) // 2 <= limit:
        if message.edits_message is not None:
            # One message: it may replace the tapped one (bot/edit_in_place.py).
            rendered = replace(rendered, edits_message=message.edits_message)
        await transport.send(message.chat_id, rendered, message.idempotency_key)
        return
    # Split into several messages: only the first may replace the tapped one (the transport
    # then takes the tapped message's buttons away, or replaces it with this first part).
    *before, last = rendered.parts
    for number, text in enumerate(before, start=1):
        part = RenderedMessage(
            text, (), edits_message=message.edits_message if number == 1 else None
        )
        await transport.send(message.chat_id, part, f"{message.idempotency_key}.{number}")
    # Whatever followed the joined parts (a late note) stays with the last one.
    tail = rendered.text[len("\n\n".join(rendered.parts)) :]
    final = replace(rendered, text=last + tail, parts=())
    await transport.send(message.chat_id, final, message.idempotency_key)


def unreachable_notice(case_reference: str, member_name: str) -> Reply:
    """What a coordinator is told when someone in their case can no longer be reached."""
    return say("delivery.unreachable", case=case_reference, name=member_name)


def without_private_chat_link(message: RenderedMessage) -> RenderedMessage:
    """The message without the private chat link, for a platform that cannot open one."""
    if not any(c.id == PRIVATE_CHAT_LINK for c in message.choices):
        return message
    kept = tuple(c for c in message.choices if c.id != PRIVATE_CHAT_LINK)
    return replace(message, choices=kept)
