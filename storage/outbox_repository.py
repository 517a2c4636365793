"""The outbox and the inbox: outgoing messages as rows, inbound updates by platform id.

An outbox row is written in the same transaction as the change that caused it (the replies
to the chat in hand already claimed by the handler's process, when nothing older of the chat
is on its way: `enqueue_claimed`). Dispatchers claim due rows (`FOR UPDATE SKIP LOCKED` on
PostgreSQL; SQLite has one writer anyway), send them, and mark the outcome:

```mermaid
stateDiagram-v2
    [*] --> pending: enqueued with the change
    [*] --> sending: a reply to the chat in hand, written claimed (attempts 1)
    pending --> sending: claimed (attempts + 1)
    sending --> sent: the platform took it
    sending --> pending: transient error, retry at next_attempt_at
    sending --> failed: permanent or rendering error, the last attempt, or parked
    sending --> dropped: a reminder that no longer makes sense
    sending --> sending: claim ran out (process died), claimed again
    failed --> pending: operator retries
    pending --> dropped: operator drops it
    failed --> dropped: operator drops it
```

One chat's messages go out in the order they were written: a row is sent only when no older
open row of its chat is left (being sent, waiting for a retry, or merely due). A message that
keeps failing is parked (failed) after a bounded time, so the rows behind it go on.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flows.choice_reading import is_notice_choice
from flows.conversation import ConversationRef
from flows.domain import Role
from flows.engine import Notice
from flows.replies import Choice, Params, Reply, may_show_in
from storage import models as m
from storage.codec import (
    decode_attachment,
    decode_choices,
    decode_params,
    encode_attachment,
    encode_choices,
    encode_params,
    without_secrets,
)
from storage.db import execute_core, in_chunks

# Parameters of a notice's reply that the outbox also keeps as columns (see bot/scheduler.py).
DUE_AT_PARAM = "due_at"
EXPIRES_AT_PARAM = "expires_at"

log = logging.getLogger(__name__)


class OutboxStatus(StrEnum):
    """Where an outgoing message is on its way."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"


OPEN = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """An outbox row ready to be rendered and sent."""

    id: int
    platform: str
    chat_id: str
    reply: Reply
    locale: str
    idempotency_key: str
    attempts: int
    due_at: datetime | None = None
    expires_at: datetime | None = None
    unreachable: bool = False
    # When its own sends began to fail (None: they have not); it is parked after a while.
    failing_since: datetime | None = None
    # The platform's id of the tapped message this reply may replace (bot/edit_in_place.py).
    edits_message: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """Rows written already claimed: by which process, and until when the claim holds."""

    process_id: str
    until: datetime


@dataclass(frozen=True, slots=True)
class FailedMessage:
    """A message that was given up on, as the operator sees it (no content)."""

    id: int
    platform: str
    chat_id: str
    message_id: str
    attempts: int
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WaitingMessage:
    """A message not sent yet, as the operator sees it (no content)."""

    id: int
    platform: str
    chat_id: str
    message_id: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime


class DropOutcome(StrEnum):
    """What `drop` did with the row it was asked to drop."""

    DROPPED = "dropped"
    NOT_FOUND = "not found"
    FINISHED = "finished"  # sent or dropped already: nothing to drop
    BEING_SENT = "being sent"  # a process holds it right now


@dataclass(frozen=True, slots=True)
class SentChoices:
    """The choices of a sent message, and the language they were shown in; when that was a
    notice, also the conversation's own newest list before it (flows/choice_reading.py)."""

    choices: tuple[Choice, ...]
    locale: str
    earlier: SentChoices | None = None


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    """How the outbox stands, for `samverkan status`."""

    pending: int
    sending: int
    failed: int
    oldest_open_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxGauges:
    """How many messages wait or were given up on, for the metrics (bot/metrics.py)."""

    pending: int
    sending: int
    # Given up on at once (refused for good, cannot be made) ...
    failed: int
    # ... or after their sends kept failing (parked, or out of attempts).
    parked: int
    oldest_open_at: datetime | None


@dataclass(frozen=True, slots=True)
class CaseContact:
    """A coordinator to tell that someone in their case can no longer be reached."""

    case_id: int
    case_reference: str
    coordinator_person_id: int
    member_name: str
    # Whose name the notice quotes: /glommig removes it with them.
    member_person_id: int


class OutboxRepository:
    """Outgoing messages as rows: enqueued with the change, claimed and sent after commit."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def enqueue(
        self, platform: str, chat_id: str, replies: tuple[Reply, ...], locale: str, now: datetime
    ) -> list[int]:
        """Adds one pending row per reply, in order."""
        return self._add(platform, chat_id, replies, locale, now)

    def enqueue_claimed(
        self,
        platform: str,
        chat_id: str,
        replies: tuple[Reply, ...],
        locale: str,
        now: datetime,
        claim: Claim,
        about: tuple[int, ...] = (),
        edits: str | None = None,
    ) -> list[PendingMessage]:
        """Adds the replies to the chat in hand as rows this process is already sending.

        `about` names the people the replies quote (in a group chat, the writer), so that
        erasing one of them removes the rows still waiting there too. `edits` (for one reply
        only) is the platform's id of the tapped message it may replace (bot/edit_in_place.py).

        They are written exactly as a claim right after the commit would leave them, so
        sending them needs no claim transaction of its own; if the process dies first, they
        are due again when the claim runs out, like any claimed row. When the chat is not free
        (an older message is being sent or waits for a retry, or the chat is unreachable),
        they are added pending instead and none are returned: the dispatcher sends them in
        their turn, after the older one. An older row that is merely due (a retry whose time
        came, a notice not yet claimed) never lets a reply overtake it either: it is claimed
        here too and returned first, so the person gets both at once and in order, without
        waiting for a sweep. A free chat, nearly every one, costs no look-up of its own: the
        first reply's INSERT makes it (`_insert_claimed`).
        """
        if not replies:
            return []
        # Only a lone reply may replace the tapped message: two would need two messages.
        edits = edits if len(replies) == 1 else None
        first = self._insert_claimed(platform, chat_id, replies[0], locale, now, claim, True, edits)
        if first is not None:
            # The chat was free, and the first reply is on its way: the others follow it.
            on_its_way = [first]
            for reply in replies[1:]:
                sending = self._insert_claimed(platform, chat_id, reply, locale, now, claim)
                assert sending is not None  # written whatever the chat's state
                on_its_way.append(sending)
            self._add_about([(p.id, about) for p in on_its_way if about])
            return on_its_way
        busy, unreachable = execute_core(
            self._s, _CHAT_NOT_FREE, {"platform": platform, "chat_id": chat_id}
        ).one()
        older: list[PendingMessage] = []
        if busy and not unreachable:
            older, busy = self._claim_older(platform, chat_id, now, claim)
        if busy or unreachable:
            added = self._add(platform, chat_id, replies, locale, now, edits)
            self._add_about([(outbox_id, about) for outbox_id in added if about])
            return older
        claimed: list[PendingMessage] = older
        for reply in replies:
            sending = self._insert_claimed(
                platform, chat_id, reply, locale, now, claim, edits=edits
            )
            assert sending is not None  # written whatever the chat's state
            claimed.append(sending)
        self._add_about([(p.id, about) for p in claimed if about])
        return claimed

    def _insert_claimed(
        self,
        platform: str,
        chat_id: str,
        reply: Reply,
        locale: str,
        now: datetime,
        claim: Claim,
        if_free: bool = False,
        edits: str | None = None,
    ) -> PendingMessage | None:
        """Writes one reply claimed by this process; with `if_free`, only when the chat is
        free (nothing older open, not unreachable), else writes nothing and returns None.

        The check is part of the INSERT (INSERT ... SELECT ... WHERE NOT EXISTS), so a reply
        to a free chat, nearly every one, costs one statement instead of a look-up and an
        INSERT, and nothing can come between the look and the write.
        """
        values = _outbox_values(platform, chat_id, reply, locale, now, edits)
        values.update(
            status=OutboxStatus.SENDING.value,
            attempts=1,
            next_attempt_at=claim.until,
            claimed_by=claim.process_id,
        )
        statement = _INSERT_CLAIMED_IF_FREE if if_free else _INSERT_OUTBOX
        outbox_id = execute_core(self._s, statement, values).scalar()
        if outbox_id is None:
            return None
        return PendingMessage(
            id=outbox_id,
            platform=platform,
            chat_id=chat_id,
            reply=reply,
            locale=locale,
            idempotency_key=str(values["idempotency_key"]),
            attempts=1,
            due_at=_time_param(reply, DUE_AT_PARAM),
            expires_at=_time_param(reply, EXPIRES_AT_PARAM),
            edits_message=edits,
        )

    def _claim_older(
        self, platform: str, chat_id: str, now: datetime, claim: Claim
    ) -> tuple[list[PendingMessage], bool]:
        """Claims the chat's older open rows when every one of them is due; returns those
        claimed and whether the chat is still busy (one is being sent or waits for later)."""
        open_ids = list(
            self._s.scalars(
                select(m.Outbox.id)
                .where(
                    m.Outbox.platform == platform,
                    m.Outbox.chat_id == chat_id,
                    m.Outbox.status.in_((OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)),
                )
                .order_by(m.Outbox.id)
            )
        )
        taken = self.claim(claim.process_id, now, claim.until - now, [platform], ids=open_ids)
        return taken, len(taken) < len(open_ids)

    def enqueue_notice(self, notice: Notice, now: datetime, default_locale: str) -> list[int]:
        """Adds rows for a notice: to each private chat of a person, or to one chat.

        With a dedup key, a chat that already has a row for the key gets no second one.
        """
        return self.enqueue_notices([notice], now, default_locale)

    def enqueue_notices(
        self, notices: Sequence[Notice], now: datetime, default_locale: str
    ) -> list[int]:
        """Adds rows for many notices with a few queries (a tick may find thousands due).

        Rows keep the notices' order, so one chat's messages go out in it; the ids returned
        are in that order too. A key that is already in the outbox, or comes twice, gets one
        row: the first.
        """
        targets = self._targets(notices, default_locale)
        keys = [
            _dedup_key(n.dedup_key, platform, chat)
            for n, platform, chat, _ in targets
            if n.dedup_key is not None
        ]
        # Most ticks find everything already enqueued: ask first, in bulk, and build no rows.
        existing: set[str] = set()
        for chunk in in_chunks(keys):
            existing.update(
                self._s.scalars(
                    select(m.Outbox.idempotency_key).where(m.Outbox.idempotency_key.in_(chunk))
                )
            )
        ids: list[int] = []
        keyed: list[dict[str, object]] = []
        # Whom each new row quotes: by outbox id for unkeyed rows, by key for keyed ones.
        quoted: list[tuple[int, tuple[int, ...]]] = []
        quoted_by_key: dict[str, tuple[int, ...]] = {}
        for notice, platform, chat_id, locale in targets:
            if notice.dedup_key is None:
                # Rows are numbered in the order they go in: the keyed ones before it first.
                ids += self._add_keyed(keyed)
                keyed = []
                added = self._add(platform, chat_id, (notice.reply,), locale, now)
                quoted += [(outbox_id, notice.about) for outbox_id in added if notice.about]
                ids += added
                continue
            key = _dedup_key(notice.dedup_key, platform, chat_id)
            if key in existing:
                continue
            existing.add(key)
            if notice.about:
                quoted_by_key[key] = notice.about
            keyed.append(
                {
                    **_outbox_values(platform, chat_id, notice.reply, locale, now),
                    "idempotency_key": key,
                }
            )
        ids += self._add_keyed(keyed)
        if quoted_by_key:
            # Which of the rows just made carry a quoting key (a key another transaction
            # added meanwhile is theirs, with their own link): only asked when one does.
            for made in in_chunks(ids):
                quoted += [
                    (outbox_id, quoted_by_key[key])
                    for outbox_id, key in self._s.execute(
                        select(m.Outbox.id, m.Outbox.idempotency_key).where(m.Outbox.id.in_(made))
                    )
                    if key in quoted_by_key
                ]
        self._add_about(quoted)
        return ids

    def _add_about(self, quoted: Sequence[tuple[int, tuple[int, ...]]]) -> None:
        """Writes whom each new row quotes, so erasing one of them removes the row."""
        links = [
            {"outbox_id": outbox_id, "person_id": person_id}
            for outbox_id, people in quoted
            for person_id in sorted(set(people))
        ]
        for chunk in in_chunks(links):
            self._s.execute(insert(m.OutboxAbout), list(chunk))

    def _add_keyed(self, rows: Sequence[dict[str, object]]) -> list[int]:
        """Inserts rows with their idempotency keys, in order, one statement per chunk; a key
        another transaction added meanwhile is skipped. The new ids, in the rows' order."""
        if not rows:
            return []
        insert_once = _INSERT_OUTBOX_ONCE[self._s.get_bind().dialect.name]
        added: dict[str, int] = {}
        for chunk in in_chunks(rows):
            # Two processes may find the same reminder due at once: the second one's row
            # meets the unique key and is simply not made (no savepoint, no exception).
            added.update(
                (key, outbox_id) for outbox_id, key in self._s.execute(insert_once, list(chunk))
            )
        return [added[k] for k in (str(r["idempotency_key"]) for r in rows) if k in added]

    def _targets(
        self, notices: Sequence[Notice], default_locale: str
    ) -> list[tuple[Notice, str, str, str]]:
        """(notice, platform, chat, locale) for every chat each notice goes to, in order.

        A notice to a person goes to each of their private chats, in their language; a notice
        to a chat (a group) in the language of the user it names, if we know them.
        """
        person_ids = list({n.person_id for n in notices if n.person_id is not None})
        private: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
        for chunk in in_chunks(person_ids):
            rows = self._s.execute(
                select(
                    m.ChatIdentity.person_id,
                    m.ChatIdentity.platform,
                    m.ChatIdentity.private_chat_id,
                    m.Person.locale,
                )
                .join(m.Person, m.Person.id == m.ChatIdentity.person_id)
                .where(
                    m.ChatIdentity.person_id.in_(chunk),
                    m.ChatIdentity.private_chat_id.is_not(None),
                )
                .order_by(m.ChatIdentity.id)
            ).all()
            for person_id, platform, chat, locale in rows:
                private[person_id].append((platform, str(chat), locale))
        users: dict[str, set[str]] = defaultdict(set)
        for n in notices:
            if n.chat is not None:
                users[n.chat.platform].add(n.chat.user_id)
        # (platform, user id) → language; a user is one person per platform (unique).
        spoken: dict[tuple[str, str], str] = {}
        for platform, user_ids in users.items():
            for some in in_chunks(sorted(user_ids)):
                spoken.update(
                    ((platform, user), locale)
                    for user, locale in self._s.execute(
                        select(m.ChatIdentity.external_user_id, m.Person.locale)
                        .join(m.Person, m.Person.id == m.ChatIdentity.person_id)
                        .where(
                            m.ChatIdentity.platform == platform,
                            m.ChatIdentity.external_user_id.in_(some),
                        )
                    )
                )
        targets: list[tuple[Notice, str, str, str]] = []
        for notice in notices:
            if notice.chat is None:
                assert notice.person_id is not None
                targets += [(notice, p, c, loc) for p, c, loc in private[notice.person_id]]
                continue
            if not may_show_in(notice.reply, group=notice.chat.is_group):
                # The audience rule, for messages no one's step sent (reminders, reports):
                # what is for one person never goes to a group chat. A flow's mistake, so
                # it is said loudly, by message id only.
                log.error(
                    "a %s notice for one person was kept out of a group chat", notice.reply.message
                )
                continue
            locale = spoken.get((notice.chat.platform, notice.chat.user_id), default_locale)
            targets.append((notice, notice.chat.platform, notice.chat.chat_id, locale))
        return targets

    def _add(
        self,
        platform: str,
        chat_id: str,
        replies: tuple[Reply, ...],
        locale: str,
        now: datetime,
        edits: str | None = None,
    ) -> list[int]:
        """Inserts pending rows with fresh random keys, one per reply, in order."""
        # The message path: one prepared INSERT … RETURNING per reply, no ORM objects
        # (a random key cannot collide, so no savepoint is needed).
        return [
            execute_core(
                self._s, _INSERT_OUTBOX, _outbox_values(platform, chat_id, r, locale, now, edits)
            ).scalar_one()
            for r in replies
        ]

    def pending(
        self, now: datetime, ids: list[int] | None = None, limit: int = 100
    ) -> list[PendingMessage]:
        """Due pending rows, oldest first (optionally only the given ids); claims nothing."""
        stmt = (
            select(m.Outbox)
            .where(m.Outbox.status == OutboxStatus.PENDING.value, m.Outbox.next_attempt_at <= now)
            .order_by(m.Outbox.id)
            .limit(limit)
        )
        if ids is not None:
            stmt = stmt.where(m.Outbox.id.in_(ids))
        return [_pending(row, unreachable=False) for row in self._s.scalars(stmt)]

    def newest_choices(self, ref: ConversationRef) -> SentChoices | None:
        """The choices (and their language) of the newest message with choices sent into a
        conversation's chat since the conversation last changed; None when there is none.

        Read backwards along (platform, chat_id, status) of ix_outbox_chat_status, so it costs
        the same however long the chat's history; only the few newest are looked at.
        """
        params = {"platform": ref.platform, "chat_id": ref.chat_id, "user_id": ref.user_id}
        newest: SentChoices | None = None
        for encoded, locale in self._s.execute(_NEWEST_SENT, params):
            choices = decode_choices(encoded)
            if not choices:
                continue
            if newest is None:
                newest = SentChoices(choices, locale)
                if not any(is_notice_choice(c.id) for c in choices):
                    return newest
            elif not any(is_notice_choice(c.id) for c in choices):
                # A notice came after the conversation's own list: both are read.
                return SentChoices(newest.choices, newest.locale, SentChoices(choices, locale))
        return newest

    def due_ids(self, now: datetime, platform: str, limit: int = 100) -> list[int]:
        """Open rows of a platform due by `now`, oldest first; claims nothing.

        Due as for a claim: pending and due, or "sending" under a claim that ran out (its
        process died after writing or claiming them).
        """
        return list(
            self._s.scalars(
                select(_OUTBOX.c.id)
                .where(
                    _OUTBOX.c.status.in_(OPEN),
                    _OUTBOX.c.next_attempt_at <= now,
                    _OUTBOX.c.platform == platform,
                )
                .order_by(_OUTBOX.c.next_attempt_at, _OUTBOX.c.id)
                .limit(limit)
            )
        )

    def chat_due_ids(self, platform: str, chat_id: str, now: datetime) -> list[int]:
        """One chat's pending rows due by `now`, oldest first; claims nothing (the delivery
        loop's follow-up after a send to the chat, bot/delivery_loop.py)."""
        return list(
            self._s.scalars(
                select(_OUTBOX.c.id)
                .where(
                    _OUTBOX.c.platform == platform,
                    _OUTBOX.c.chat_id == chat_id,
                    _OUTBOX.c.status == OutboxStatus.PENDING.value,
                    _OUTBOX.c.next_attempt_at <= now,
                )
                .order_by(_OUTBOX.c.id)
            )
        )

    def claim(
        self,
        process_id: str,
        now: datetime,
        claim_for: timedelta,
        platforms: Collection[str],
        ids: Sequence[int] | None = None,
        limit: int = 50,
    ) -> list[PendingMessage]:
        """Claims due rows for one dispatcher, in the order to send them.

        Due means pending and due, or "sending" by a claim that ran out (its process died).
        Rows other dispatchers have locked are skipped, and a row is only taken when every
        older open row of its chat is taken with it: one chat's messages stay in order.
        """
        params: dict[str, object] = {"now": now, "platforms": list(platforms), "limit": limit}
        if ids is not None:
            found = self._s.execute(_DUE_AMONG, {**params, "ids": list(ids)}).all()
        else:
            found = self._s.execute(_DUE, params).all()
        if not found:
            return []
        candidates = {row.id: row for row in found}
        # Every open row of these chats up to the newest candidate, to find gaps.
        open_rows = self._s.execute(
            _OPEN_IN_CHATS,
            {"chats": list({row.chat_id for row in found}), "newest": max(candidates)},
        ).all()
        if ids is not None:
            # Rows asked for by id (the notices in hand, a sweep) take the older rows of their
            # chats that are due with them, locked like any claim, so they go first and in
            # order rather than be overtaken (issue 20).
            chats = {(row.platform, row.chat_id) for row in found}
            along = [
                row.id
                for row in open_rows
                if row.id not in candidates
                and (row.platform, row.chat_id) in chats
                and row.next_attempt_at <= now
            ]
            if along:
                more = self._s.execute(_DUE_AMONG, {**params, "ids": along}).all()
                candidates.update((row.id, row) for row in more)
        by_chat: dict[tuple[str, str], list[int]] = defaultdict(list)
        for row in open_rows:
            by_chat[(row.platform, row.chat_id)].append(row.id)
        taken: list[int] = []
        for chat_rows in by_chat.values():
            for outbox_id in chat_rows:
                if outbox_id not in candidates:
                    # An older message of this chat is being sent, waits for a retry, or is
                    # locked or left out by another dispatcher: the younger ones wait for it.
                    break
                taken.append(outbox_id)
        if not taken:
            return []
        taken.sort()
        self._s.execute(
            _CLAIM,
            {"ids": taken, "process": process_id, "until": now + claim_for},
        )
        # The candidates were read under the claim's lock (FOR UPDATE on PostgreSQL, the
        # write lock of BEGIN IMMEDIATE on SQLite), so their attempts are those just counted.
        return [
            _pending(
                candidates[i],
                unreachable=bool(candidates[i].unreachable),
                attempts=candidates[i].attempts + 1,
            )
            for i in taken
        ]

    def mark_sent(self, outbox_id: int, now: datetime, params: Params | None = None) -> None:
        """Records that the platform took the message; a secret among the `params` it was
        sent with (storage/codec.py) is then forgotten by the row."""
        mark_sent(self._s.connection(), outbox_id, now, params)

    def retry_later(
        self,
        outbox_id: int,
        error: str,
        at: datetime,
        *,
        count_attempt: bool = True,
        failed_at: datetime | None = None,
    ) -> None:
        """Puts a claimed row back to pending until `at` (a rate limit is no failed attempt).

        `failed_at` says its own send failed then: the first such time is kept, to park it.
        """
        values: dict[str, object] = {
            "status": OutboxStatus.PENDING.value,
            "next_attempt_at": at,
            "last_error": error[:200],
            "claimed_by": None,
        }
        if not count_attempt:
            values["attempts"] = m.Outbox.attempts - 1
        if failed_at is not None:
            values["failing_since"] = func.coalesce(m.Outbox.failing_since, failed_at)
        self._s.execute(update(m.Outbox).where(m.Outbox.id == outbox_id).values(**values))

    def mark_failed(self, outbox_id: int, error: str) -> None:
        """Gives up on a message; it stays visible to the operator, who may retry it."""
        self._s.execute(
            update(m.Outbox)
            .where(m.Outbox.id == outbox_id)
            .values(status=OutboxStatus.FAILED.value, last_error=error[:200], claimed_by=None)
        )

    def mark_dropped(self, outbox_id: int, reason: str) -> None:
        """Drops a message that no longer makes sense (the meeting it announces is over)."""
        self._s.execute(
            update(m.Outbox)
            .where(m.Outbox.id == outbox_id)
            .values(status=OutboxStatus.DROPPED.value, last_error=reason[:200], claimed_by=None)
        )

    def release_all_claims(self, now: datetime) -> int:
        """Makes every "sending" row due again; only for a process that knows it is alone."""
        result = self._s.execute(
            update(m.Outbox)
            .where(m.Outbox.status == OutboxStatus.SENDING.value)
            .values(status=OutboxStatus.PENDING.value, next_attempt_at=now, claimed_by=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def counts(self) -> OutboxCounts:
        """Open and failed rows, and when the oldest open row was written."""
        by_status: dict[str, int] = {
            status: count
            for status, count in self._s.execute(
                select(m.Outbox.status, func.count())
                .where(m.Outbox.status.in_((*OPEN, OutboxStatus.FAILED.value)))
                .group_by(m.Outbox.status)
            )
        }
        oldest = self._s.scalar(
            select(func.min(m.Outbox.created_at)).where(m.Outbox.status.in_(OPEN))
        )
        return OutboxCounts(
            pending=by_status.get(OutboxStatus.PENDING.value, 0),
            sending=by_status.get(OutboxStatus.SENDING.value, 0),
            failed=by_status.get(OutboxStatus.FAILED.value, 0),
            oldest_open_at=oldest,
        )

    def gauges(self) -> OutboxGauges:
        """Open, failed and parked rows and the oldest open one, in one aggregate query."""
        parked = case((m.Outbox.failing_since.is_(None), 0), else_=1).label("parked")
        rows = self._s.execute(
            select(m.Outbox.status, parked, func.count(), func.min(m.Outbox.created_at))
            .where(m.Outbox.status.in_((*OPEN, OutboxStatus.FAILED.value)))
            .group_by(m.Outbox.status, parked)
        ).all()
        counts: dict[tuple[str, bool], int] = defaultdict(int)
        oldest: datetime | None = None
        for status, is_parked, count, first in rows:
            counts[(status, bool(is_parked) and status == OutboxStatus.FAILED.value)] += count
            if status in OPEN and first is not None:
                oldest = first if oldest is None else min(oldest, first)
        return OutboxGauges(
            pending=counts[(OutboxStatus.PENDING.value, False)],
            sending=counts[(OutboxStatus.SENDING.value, False)],
            failed=counts[(OutboxStatus.FAILED.value, False)],
            parked=counts[(OutboxStatus.FAILED.value, True)],
            oldest_open_at=oldest,
        )

    def waiting(self, limit: int = 100) -> list[WaitingMessage]:
        """The messages not sent yet (pending or being sent), oldest first."""
        rows = self._s.scalars(
            select(m.Outbox).where(m.Outbox.status.in_(OPEN)).order_by(m.Outbox.id).limit(limit)
        )
        return [
            WaitingMessage(
                row.id,
                row.platform,
                row.chat_id,
                row.message_id,
                row.status,
                row.attempts,
                row.last_error,
                row.created_at,
                row.next_attempt_at,
            )
            for row in rows
        ]

    def drop(self, outbox_id: int, now: datetime) -> DropOutcome:
        """Drops a waiting or failed message for the operator, so its chat goes on without it.

        A row a live process is sending right now is left to it (its claim has not run out).
        """
        row = self._s.get(m.Outbox, outbox_id, with_for_update=True)
        if row is None:
            return DropOutcome.NOT_FOUND
        if row.status in (OutboxStatus.SENT.value, OutboxStatus.DROPPED.value):
            return DropOutcome.FINISHED
        if row.status == OutboxStatus.SENDING.value and row.next_attempt_at > now:
            return DropOutcome.BEING_SENT
        self.mark_dropped(outbox_id, "DroppedByOperator")
        return DropOutcome.DROPPED

    def failed(self, limit: int = 100) -> list[FailedMessage]:
        """The failed messages, oldest first."""
        rows = self._s.scalars(
            select(m.Outbox)
            .where(m.Outbox.status == OutboxStatus.FAILED.value)
            .order_by(m.Outbox.id)
            .limit(limit)
        )
        return [
            FailedMessage(
                row.id,
                row.platform,
                row.chat_id,
                row.message_id,
                row.attempts,
                row.last_error,
                row.created_at,
            )
            for row in rows
        ]

    def retry_failed(self, now: datetime, ids: Sequence[int] | None = None) -> int:
        """Makes failed messages pending again with fresh attempts; their chats count as
        reachable again, since the operator asks to try."""
        where = [m.Outbox.status == OutboxStatus.FAILED.value]
        if ids is not None:
            where.append(m.Outbox.id.in_(list(ids)))
        chats = self._s.execute(select(m.Outbox.platform, m.Outbox.chat_id).where(*where)).all()
        for platform, chat_id in set(chats):
            self.mark_reachable(platform, chat_id)
        result = self._s.execute(
            update(m.Outbox)
            .where(*where)
            .values(
                status=OutboxStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                last_error=None,
                failing_since=None,
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def mark_unreachable(self, platform: str, chat_id: str, error: str, now: datetime) -> bool:
        """Notes that a platform refused a chat for good; True if it was reachable until now."""
        exists = self._s.scalar(
            select(m.UnreachableChat.id).where(
                m.UnreachableChat.platform == platform, m.UnreachableChat.chat_id == chat_id
            )
        )
        if exists is not None:
            return False
        try:
            with self._s.begin_nested():
                self._s.add(
                    m.UnreachableChat(
                        platform=platform, chat_id=chat_id, since=now, error=error[:64]
                    )
                )
        except IntegrityError:
            return False  # another dispatcher noted it at the same moment
        return True

    def mark_reachable(self, platform: str, chat_id: str) -> None:
        """Forgets that a chat was unreachable (its user wrote to us again)."""
        # Runs for every handled event: one prepared DELETE, which finds nothing nearly always.
        execute_core(self._s, _FORGET_UNREACHABLE, {"platform": platform, "chat_id": chat_id})

    def coordinators_to_tell(self, platform: str, chat_id: str) -> list[CaseContact]:
        """The coordinators of every case of the people behind a chat (not themselves).

        People behind a chat: whose private chat it is, or who have talked in it (a group).
        """
        private = select(m.ChatIdentity.person_id).where(
            m.ChatIdentity.platform == platform, m.ChatIdentity.private_chat_id == chat_id
        )
        talked = (
            select(m.ChatIdentity.person_id)
            .join(
                m.ConversationState,
                (m.ConversationState.platform == m.ChatIdentity.platform)
                & (m.ConversationState.user_id == m.ChatIdentity.external_user_id),
            )
            .where(m.ConversationState.platform == platform, m.ConversationState.chat_id == chat_id)
        )
        people = set(self._s.scalars(private).all()) | set(self._s.scalars(talked).all())
        if not people:
            return []
        members = self._s.execute(
            select(m.Membership.case_id, m.Person.display_name, m.Case.reference, m.Person.id)
            .join(m.Person, m.Person.id == m.Membership.person_id)
            .join(m.Case, m.Case.id == m.Membership.case_id)
            .where(m.Membership.person_id.in_(people), m.Membership.active.is_(True))
            .order_by(m.Membership.case_id, m.Person.id)
        ).all()
        contacts: list[CaseContact] = []
        for case_id, name, reference, member_id in members:
            coordinators = self._s.scalars(
                select(m.Membership.person_id)
                .where(
                    m.Membership.case_id == case_id,
                    m.Membership.role == Role.COORDINATOR,
                    m.Membership.active.is_(True),
                    m.Membership.person_id.not_in(people),
                )
                .order_by(m.Membership.person_id)
            ).all()
            contacts += [CaseContact(case_id, reference, c, name, member_id) for c in coordinators]
        return contacts


def mark_sent(
    connection: Connection, outbox_id: int, now: datetime, params: Params | None = None
) -> None:
    """Marks one row sent, in one statement (the deliverer runs it as a transaction of its
    own, storage.db.one_statement); forgets a secret among its `params` in the same one."""
    kept = without_secrets(params) if params else None
    if kept is None:
        connection.execute(_MARK_SENT, {"outbox_id": outbox_id, "now": now})
        return
    # A sent row is never rendered again; an invite code in it would only be a copy of a
    # secret that should exist nowhere but in the chat it was shown in.
    connection.execute(
        _MARK_SENT_FORGETTING, {"outbox_id": outbox_id, "now": now, "kept": encode_params(kept)}
    )


class InboxRepository:
    """Inbound updates recorded by platform id, so a replay has no effect."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def record(self, platform: str, platform_event_id: str, now: datetime) -> bool:
        """True the first time an update is seen, False for a replay."""
        values = {"platform": platform, "platform_event_id": platform_event_id, "received_at": now}
        dialect = self._s.get_bind().dialect.name
        if dialect in _INSERT_EVENT_ONCE:
            # One statement instead of a look-up plus an insert in a savepoint: the unique
            # constraint decides, and a replay inserts nothing.
            return execute_core(self._s, _INSERT_EVENT_ONCE[dialect], values).first() is not None
        seen = self._s.scalar(
            select(m.InboxEvent.id).where(
                m.InboxEvent.platform == platform,
                m.InboxEvent.platform_event_id == platform_event_id,
            )
        )
        if seen is not None:
            return False
        try:
            with self._s.begin_nested():
                self._s.add(
                    m.InboxEvent(
                        platform=platform, platform_event_id=platform_event_id, received_at=now
                    )
                )
        except IntegrityError:
            return False
        return True


def due_rows(now: datetime, platforms: Collection[str], limit: int) -> Select[int, str, str]:
    """The query for due rows: open, due, not locked by another dispatcher.

    It reads the (status, next_attempt_at) index, so its cost follows the number of due
    rows, not the size of the outbox (sent rows are never touched).
    """
    return (
        select(m.Outbox.id, m.Outbox.platform, m.Outbox.chat_id)
        .where(
            m.Outbox.status.in_(OPEN),
            m.Outbox.next_attempt_at <= now,
            m.Outbox.platform.in_(list(platforms)),
        )
        # Most overdue first. (Not by id: the planner would then walk the whole table in id
        # order instead of the index. The batch is sent in id order all the same.)
        .order_by(m.Outbox.next_attempt_at, m.Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


# RETURNING says whether a row went in (rowcount is not reliable with every driver).
_INBOX_TABLE = m.Base.metadata.tables["inbox_event"]
_INSERT_EVENT_ONCE = {
    "sqlite": sqlite.insert(_INBOX_TABLE)
    .on_conflict_do_nothing(index_elements=["platform", "platform_event_id"])
    .returning(_INBOX_TABLE.c.id),
    "postgresql": postgresql.insert(_INBOX_TABLE)
    .on_conflict_do_nothing(index_elements=["platform", "platform_event_id"])
    .returning(_INBOX_TABLE.c.id),
}


# The statements of the message path, built once with bound parameters: building a
# statement costs more CPU than running it on SQLite. They use the table, not the ORM class,
# so executing them skips the ORM's bookkeeping (no outbox row is ever loaded as an object
# on these paths).
_OUTBOX = m.Base.metadata.tables["outbox"]
_UNREACHABLE = m.Base.metadata.tables["unreachable_chat"]
_INSERT_OUTBOX = insert(_OUTBOX).returning(_OUTBOX.c.id)
# A batch of keyed rows (executemany, sent as multi-row INSERTs): a key already there is
# skipped by the unique constraint, and RETURNING names the rows that went in.
_INSERT_OUTBOX_ONCE = {
    "sqlite": sqlite.insert(_OUTBOX)
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(_OUTBOX.c.id, _OUTBOX.c.idempotency_key),
    "postgresql": postgresql.insert(_OUTBOX)
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(_OUTBOX.c.id, _OUTBOX.c.idempotency_key),
}
_PENDING_COLUMNS = (
    _OUTBOX.c.id,
    _OUTBOX.c.platform,
    _OUTBOX.c.chat_id,
    _OUTBOX.c.message_id,
    _OUTBOX.c.params,
    _OUTBOX.c.choices,
    _OUTBOX.c.attachment,
    _OUTBOX.c.locale,
    _OUTBOX.c.idempotency_key,
    _OUTBOX.c.attempts,
    _OUTBOX.c.due_at,
    _OUTBOX.c.expires_at,
    _OUTBOX.c.failing_since,
    _OUTBOX.c.edits_message,
)
_UNREACHABLE_NOW = (
    select(_UNREACHABLE.c.id)
    .where(
        _UNREACHABLE.c.platform == _OUTBOX.c.platform,
        _UNREACHABLE.c.chat_id == _OUTBOX.c.chat_id,
    )
    .exists()
    .label("unreachable")
)
# The same rows as due_rows(), read whole with whether their chat is unreachable, so the
# claim needs no second look-up.
_DUE = (
    select(*_PENDING_COLUMNS, _UNREACHABLE_NOW)
    .where(
        _OUTBOX.c.status.in_(OPEN),
        _OUTBOX.c.next_attempt_at <= bindparam("now", type_=_OUTBOX.c.next_attempt_at.type),
        _OUTBOX.c.platform.in_(bindparam("platforms", expanding=True)),
    )
    .order_by(_OUTBOX.c.next_attempt_at, _OUTBOX.c.id)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True)
)
_DUE_AMONG = _DUE.where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
_OPEN_IN_CHATS = (
    select(
        _OUTBOX.c.id,
        _OUTBOX.c.platform,
        _OUTBOX.c.chat_id,
        _OUTBOX.c.status,
        _OUTBOX.c.next_attempt_at,
    )
    .where(
        _OUTBOX.c.status.in_(OPEN),
        _OUTBOX.c.chat_id.in_(bindparam("chats", expanding=True)),
        _OUTBOX.c.id <= bindparam("newest"),
    )
    .order_by(_OUTBOX.c.id)
)
_CLAIM = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=OutboxStatus.SENDING.value,
        claimed_by=bindparam("process", type_=_OUTBOX.c.claimed_by.type),
        next_attempt_at=bindparam("until", type_=_OUTBOX.c.next_attempt_at.type),
        attempts=_OUTBOX.c.attempts + 1,
    )
)
# Whether new replies to a chat must wait behind an older message of it (being sent, waiting
# for a retry, or due and not yet taken: a reply claimed then would overtake it), and whether
# the chat is unreachable: one look-up before a claimed insert.
_CHAT_NOT_FREE = select(
    # Two look-ups rather than one with OR, so each reads (platform, chat_id, status) of
    # ix_outbox_chat_status whole and never walks the chat's history of sent rows.
    or_(
        exists().where(
            _OUTBOX.c.platform == bindparam("platform"),
            _OUTBOX.c.chat_id == bindparam("chat_id"),
            _OUTBOX.c.status == OutboxStatus.SENDING.value,
        ),
        exists().where(
            _OUTBOX.c.platform == bindparam("platform"),
            _OUTBOX.c.chat_id == bindparam("chat_id"),
            _OUTBOX.c.status == OutboxStatus.PENDING.value,
        ),
    ),
    exists().where(
        _UNREACHABLE.c.platform == bindparam("platform"),
        _UNREACHABLE.c.chat_id == bindparam("chat_id"),
    ),
)
# A claimed reply written only when its chat is free, exactly as _CHAT_NOT_FREE would have
# found it (nothing being sent, nothing pending, not unreachable); RETURNING gives no row when
# it is not. The parameters are named as _outbox_values names the columns.
_CLAIMED_COLUMNS = (
    "platform", "chat_id", "message_id", "params", "choices", "attachment", "locale",
    "status", "attempts", "next_attempt_at", "idempotency_key", "created_at", "due_at",
    "expires_at", "claimed_by", "edits_message",
)  # fmt: skip
_CLAIMED_VALUES = {c: bindparam(c, type_=_OUTBOX.c[c].type) for c in _CLAIMED_COLUMNS}
_INSERT_CLAIMED_IF_FREE = (
    insert(_OUTBOX)
    .from_select(
        _CLAIMED_COLUMNS,
        select(*_CLAIMED_VALUES.values()).where(
            ~exists().where(
                _OUTBOX.c.platform == _CLAIMED_VALUES["platform"],
                _OUTBOX.c.chat_id == _CLAIMED_VALUES["chat_id"],
                _OUTBOX.c.status == OutboxStatus.SENDING.value,
            ),
            ~exists().where(
                _OUTBOX.c.platform == _CLAIMED_VALUES["platform"],
                _OUTBOX.c.chat_id == _CLAIMED_VALUES["chat_id"],
                _OUTBOX.c.status == OutboxStatus.PENDING.value,
            ),
            ~exists().where(
                _UNREACHABLE.c.platform == _CLAIMED_VALUES["platform"],
                _UNREACHABLE.c.chat_id == _CLAIMED_VALUES["chat_id"],
            ),
        ),
    )
    .returning(_OUTBOX.c.id)
)
# The choices of a chat's newest sent messages, newest first (a message without choices may
# follow the last one with them; a few are enough), sent after the conversation last changed:
# a menu the conversation showed later (its replies may still be on their way) is newer.
_STATE = m.Base.metadata.tables["conversation_state"]
_NEWEST_SENT = (
    select(_OUTBOX.c.choices, _OUTBOX.c.locale)
    .where(
        _OUTBOX.c.platform == bindparam("platform"),
        _OUTBOX.c.chat_id == bindparam("chat_id"),
        _OUTBOX.c.status == OutboxStatus.SENT.value,
        # (At the same instant the message counts as newer: it was sent after the step.)
        _OUTBOX.c.sent_at
        >= select(_STATE.c.updated_at)
        .where(
            _STATE.c.platform == bindparam("platform"),
            _STATE.c.chat_id == bindparam("chat_id"),
            _STATE.c.user_id == bindparam("user_id"),
        )
        .scalar_subquery(),
    )
    .order_by(_OUTBOX.c.id.desc())
    .limit(5)
)
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("outbox_id"))
    .values(
        status=OutboxStatus.SENT.value,
        sent_at=bindparam("now", type_=_OUTBOX.c.sent_at.type),
        claimed_by=None,
    )
)
_MARK_SENT_FORGETTING = _MARK_SENT.values(params=bindparam("kept", type_=_OUTBOX.c.params.type))
_FORGET_UNREACHABLE = delete(_UNREACHABLE).where(
    _UNREACHABLE.c.platform == bindparam("platform"),
    _UNREACHABLE.c.chat_id == bindparam("chat_id"),
)


def _outbox_values(
    platform: str,
    chat_id: str,
    reply: Reply,
    locale: str,
    now: datetime,
    edits: str | None = None,
) -> dict[str, object]:
    """The columns of a new pending row for one reply, with a fresh random key."""
    return {
        "platform": platform,
        "chat_id": chat_id,
        "message_id": reply.message,
        "params": encode_params(reply.params),
        "choices": encode_choices(reply.choices),
        "attachment": encode_attachment(reply.attachment),
        "locale": locale,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "idempotency_key": uuid.uuid4().hex,
        "created_at": now,
        "due_at": _time_param(reply, DUE_AT_PARAM),
        "expires_at": _time_param(reply, EXPIRES_AT_PARAM),
        "edits_message": edits,
    }


def _pending(row: Any, *, unreachable: bool, attempts: int | None = None) -> PendingMessage:
    """An outbox row (an ORM object or a row of its columns) as a message to send."""
    return PendingMessage(
        id=row.id,
        platform=row.platform,
        chat_id=row.chat_id,
        reply=Reply(
            row.message_id,
            decode_params(row.params),
            decode_choices(row.choices),
            decode_attachment(row.attachment),
        ),
        locale=row.locale,
        idempotency_key=row.idempotency_key,
        attempts=row.attempts if attempts is None else attempts,
        due_at=row.due_at,
        expires_at=row.expires_at,
        unreachable=unreachable,
        failing_since=row.failing_since,
        edits_message=row.edits_message,
    )


def _time_param(reply: Reply, name: str) -> datetime | None:
    """A datetime parameter of a reply, if it has one by that name."""
    value = reply.params.get(name)
    return value if isinstance(value, datetime) else None


def _dedup_key(key: str, platform: str, chat_id: str) -> str:
    """A fixed-length idempotency key for one notice key in one chat."""
    return hashlib.sha256(f"{key}\0{platform}\0{chat_id}".encode()).hexdigest()
