"""Erasure ("glöm mig") and export ("vad har ni om mig?") over every table, by introspection.

Every table in the models' metadata must have a rule in ERASURE_RULES; erasure refuses to run
if one is missing, and tests/test_erasure.py fails the build, so a new table cannot be
forgotten. Every foreign key to person.id must be named by its table's rule.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, MetaData, Table, delete, or_, select, tuple_, update
from sqlalchemy.orm import Session

from flows.domain import DataSummary
from storage import models as m
from storage.crypto import active_keyring
from storage.models import Base
from storage.outbox_repository import OutboxStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EraseRows:
    """Delete the rows whose given person columns point at the person."""

    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Detach:
    """Keep the rows (they belong to the case), but forget who: set the columns to NULL."""

    columns: tuple[str, ...]
    why: str


@dataclass(frozen=True, slots=True)
class Keep:
    """The table holds nothing about people."""

    why: str


@dataclass(frozen=True, slots=True)
class ByCode:
    """Handled by a named step below (rows are found through chat ids, or pseudonymised)."""

    why: str
    person_columns: tuple[str, ...] = field(default_factory=tuple)


Rule = EraseRows | Detach | Keep | ByCode

ERASURE_RULES: dict[str, Rule] = {
    "person": EraseRows(("id",)),
    "chat_identity": EraseRows(("person_id",)),
    "email_address": EraseRows(("person_id",)),
    "membership": EraseRows(("person_id",)),
    "question": EraseRows(("author_id",)),
    "view": EraseRows(("author_id",)),
    "preference": EraseRows(("person_id",)),
    "picture_response": EraseRows(("person_id",)),
    "consent": EraseRows(("person_id", "given_by_id")),
    "age_statement": EraseRows(("person_id",)),
    "organisation_consent": EraseRows(("person_id",)),
    "action_update": EraseRows(("author_id",)),
    "meeting_request": EraseRows(("requested_by_id",)),
    # Whom the suggester named goes with the suggester (the invite, once made, stays).
    "suggested_person": EraseRows(("suggested_by_id",)),
    "invite": EraseRows(("used_by_person_id",)),
    "shared_picture": Detach(
        ("author_id",), "the coordinator's record of the meeting; others have answered it"
    ),
    "plan_action": Detach(("owner_person_id",), "the plan belongs to the case"),
    "outbox": ByCode(
        "messages to the person's chats, found by chat id, and messages to others that quote"
        " them, found by outbox_about"
    ),
    "outbox_about": ByCode(
        "whom an outbox row quotes; goes with the rows it names", person_columns=("person_id",)
    ),
    "conversation_state": ByCode("the person's conversations, found by platform user id"),
    "audit_event": ByCode("kept, with the person replaced by a keyed pseudonym"),
    "inbox_event": Keep("platform update ids only, no link to a person"),
    "used_link_nonce": Keep("random nonces of used answer links, no link to a person"),
    "id_high_water": Keep("the highest meeting id ever given out, a number per table"),
    "matrix_account": Keep("the bot's own Matrix login, no person"),
    "matrix_room": ByCode("the person's direct rooms, found by their Matrix user id"),
    "family_item": EraseRows(("author_id",)),
    "meeting_need": EraseRows(("person_id",)),
    "group_chat_member": EraseRows(("person_id",)),
    "coordinator": EraseRows(("person_id",)),
    "coordinator_invite": EraseRows(("used_by_person_id",)),
    "nudge_sent": EraseRows(("person_id",)),
    "case_profile": Detach(("opened_by_id",), "the case's own record; purged with the case"),
    "case_organisation": Keep("which agencies take part in a case"),
    "meeting_series": Keep("when a case's meetings recur"),
    "action_owner_family": Keep("marks a plan action as the family's; no person"),
    "invite_guessing": Keep("failed-code counters per chat, kept hours; no name or text"),
    "bot_process": Keep("the bot's own running processes"),
    "channel_lease": Keep("which bot process sends on a channel"),
    "unreachable_chat": ByCode("chats the bot cannot reach, found by the person's chat ids"),
    "organisation": Keep("agencies, not people"),
    "case_file": Keep("a reference and dates; purged with the case (retention)"),
    "meeting": Keep("time and place of the case's meetings; purged with the case"),
    "checkin_answer": EraseRows(("person_id",)),
    "comment_answer": EraseRows(("author_id",)),
    "meeting_note": Detach(
        ("author_id",), "the coordinator's record of the meeting; the family has read it"
    ),
    "question_mark": Keep("answered or to follow up; no person, goes with its question"),
}

# Friendly kinds for the summary (catalogue ids privacy.kind.<kind>); others count as "other".
_KINDS = {
    "question": "question",
    "view": "view",
    "preference": "preference",
    "picture_response": "picture_response",
    "action_update": "action_update",
    "meeting_request": "meeting_request",
    "consent": "consent",
    "chat_identity": "account",
    "family_item": "family_item",
    "group_chat_member": "account",
    "nudge_sent": "reminder",
    "age_statement": "age",
    "invite": "invite",
    "membership": "membership",
    "outbox": "message",
    "conversation_state": "conversation",
    "matrix_room": "conversation",
}


class ErasureRuleMissing(RuntimeError):
    """A table has no erasure rule: refuse rather than leave someone's data behind."""


def check_rules(metadata: MetaData = Base.metadata) -> None:
    """Every table has a rule, and every foreign key to person.id is named by it."""
    for table in metadata.sorted_tables:
        rule = ERASURE_RULES.get(table.name)
        if rule is None:
            raise ErasureRuleMissing(f"table {table.name!r} has no rule in ERASURE_RULES")
        named = set(getattr(rule, "columns", ())) | set(getattr(rule, "person_columns", ()))
        for column in table.columns:
            points_at_person = any(fk.column.table.name == "person" for fk in column.foreign_keys)
            if points_at_person and column.name not in named and not isinstance(rule, ByCode):
                raise ErasureRuleMissing(
                    f"{table.name}.{column.name} points at a person but its rule does not name it"
                )


def _table(name: str) -> Table:
    """A model table by name."""
    return Base.metadata.tables[name]


def _chats(session: Session, person_id: int) -> list[tuple[str, str, str | None]]:
    """(platform, user id, private chat id) of each of the person's chat accounts."""
    rows = session.execute(
        select(
            m.ChatIdentity.platform, m.ChatIdentity.external_user_id, m.ChatIdentity.private_chat_id
        ).where(m.ChatIdentity.person_id == person_id)
    ).all()
    return [(p, u, c) for p, u, c in rows]


def _quoting(person_id: int) -> Any:
    """Outbox rows to others that quote the person (their words or name)."""
    return m.Outbox.id.in_(
        select(m.OutboxAbout.outbox_id).where(m.OutboxAbout.person_id == person_id)
    )


def _by_code_condition(
    session: Session, name: str, person_id: int, *, erasing: bool = False
) -> Any:
    """Which rows of a ByCode table are about the person (None: none).

    `erasing` adds the rows in others' chats that quote the person: they go with the person,
    but they are the other people's messages, so they are neither counted nor exported.
    """
    if erasing and name == "outbox_about":
        return m.OutboxAbout.person_id == person_id
    chats = _chats(session, person_id)
    if name == "outbox":
        t = m.Outbox
        own = [
            (t.platform == p) & t.chat_id.in_([c for c in (u, chat) if c is not None])
            for p, u, chat in chats
        ]
        if erasing:
            own.append(_quoting(person_id))
        return or_(*own) if own else None
    if not chats:
        return None
    if name == "conversation_state":
        cs = m.ConversationState
        return or_(*((cs.platform == p) & (cs.user_id == u) for p, u, _ in chats))
    if name == "unreachable_chat":
        uc = _table(name).c
        return or_(
            *(
                (uc.platform == p) & uc.chat_id.in_([c for c in (u, chat) if c is not None])
                for p, u, chat in chats
            )
        )
    matrix = [(u, c) for p, u, c in chats if p == "matrix"]
    if name == "matrix_room" and matrix:
        return _table(name).c.direct_user_id.in_([u for u, _ in matrix])
    return None


def _forget_group_history(session: Session, person_id: int) -> None:
    """Empties the sent messages of the group chats the person wrote in.

    What the bot said there may quote them (the family list with their lines and name) in
    answer to anyone. Sent rows are kept only to know what was sent, so their text goes and
    the row stays (its key still keeps a reminder from being sent twice). Waiting rows that
    quote the person are found through outbox_about and deleted with the other rows.
    """
    groups = select(m.GroupChatMember.platform, m.GroupChatMember.chat_id).where(
        m.GroupChatMember.person_id == person_id
    )
    session.execute(
        update(m.Outbox)
        .where(
            m.Outbox.status == OutboxStatus.SENT.value,
            tuple_(m.Outbox.platform, m.Outbox.chat_id).in_(groups),
        )
        .values(params={}, choices=[], attachment=None)
    )


def summary(session: Session, person_id: int) -> DataSummary:
    """How many rows of each kind are stored about the person."""
    counts: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        rule = ERASURE_RULES.get(table.name)
        if table.name == "person":
            continue
        n = 0
        if isinstance(rule, EraseRows):
            cond = or_(*(table.c[c] == person_id for c in rule.columns))
            n = len(session.execute(select(table.c[rule.columns[0]]).where(cond)).all())
        elif isinstance(rule, ByCode):
            cond = _by_code_condition(session, table.name, person_id)
            if cond is not None:
                n = len(session.execute(select(table).where(cond)).all())
        if n:
            kind = _KINDS.get(table.name, "other")
            counts[kind] = counts.get(kind, 0) + n
    return DataSummary(tuple(sorted(counts.items())))


def export(session: Session, person_id: int) -> dict[str, Any]:
    """Everything stored about the person, table by table, decrypted, as JSON-able data."""
    data: dict[str, Any] = {}
    for table in Base.metadata.sorted_tables:
        rule = ERASURE_RULES.get(table.name)
        cond: Any = None
        if isinstance(rule, EraseRows):
            cond = or_(*(table.c[c] == person_id for c in rule.columns))
        elif isinstance(rule, ByCode):
            cond = _by_code_condition(session, table.name, person_id)
        elif isinstance(rule, Detach):
            cond = or_(*(table.c[c] == person_id for c in rule.columns))
        if cond is None:
            continue
        rows = [_jsonable(dict(r._mapping)) for r in session.execute(select(table).where(cond))]
        if rows:
            data[table.name] = rows
    return data


def erase(session: Session, person_id: int, now: datetime) -> DataSummary:
    """Erases the person in this transaction; the caller commits, then `scrub` cleans files."""
    check_rules()
    removed = summary(session, person_id)
    pseudonym = active_keyring().pseudonym("person", person_id)
    session.execute(
        update(m.AuditEvent)
        .where(m.AuditEvent.actor_person_id == person_id)
        .values(actor_person_id=None, actor_pseudonym=pseudonym)
    )
    _forget_group_history(session, person_id)
    for name, rule in ERASURE_RULES.items():
        if isinstance(rule, ByCode) and name != "audit_event":
            cond = _by_code_condition(session, name, person_id, erasing=True)
            if cond is not None:
                session.execute(delete(_table(name)).where(cond))
    # Children before parents, so foreign keys never block; person itself last.
    for table in reversed(Base.metadata.sorted_tables):
        rule = ERASURE_RULES[table.name]
        if isinstance(rule, Detach):
            for c in rule.columns:
                session.execute(update(table).where(table.c[c] == person_id).values({c: None}))
        elif isinstance(rule, EraseRows) and table.name != "person":
            session.execute(
                delete(table).where(or_(*(table.c[c] == person_id for c in rule.columns)))
            )
    session.execute(delete(m.Person).where(m.Person.id == person_id))
    session.add(
        m.AuditEvent(
            at=now,
            actor_person_id=None,
            actor_pseudonym=pseudonym,
            case_id=None,
            action="erased",
            object_type="person",
            object_id=None,
        )
    )
    log.info("erased a person: %d rows", removed.total)
    return removed


def scrub(engine: Engine) -> None:
    """After an erasure commits: SQLite moves the WAL into the file and truncates it.

    With secure_delete on, deleted cells are already zeroed in their pages; the checkpoint
    makes sure no old page image is left in the write-ahead log.
    """
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def _jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row with dates as ISO strings and enums as their values."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif hasattr(value, "value"):
            value = value.value
        out[key] = value
    return out
