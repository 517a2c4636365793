"""Retention: closed cases are erased after a period; the audit log stays, pseudonymised.

`run_retention` is the daily job: the running bot runs it at [privacy] retention_at
(bot/retention_job.py), and `samverkan retention run` runs it at once. It is idempotent, so
running it twice a day does no harm, and a day missed is caught up the next day.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from storage import erasure
from storage import models as m
from storage.crypto import active_keyring
from storage.db import session_factory
from storage.link_nonces_repository import LinkNonceRepository

log = logging.getLogger(__name__)


class RetentionPolicy(Protocol):
    """The [privacy] settings retention needs."""

    @property
    def closed_case_days(self) -> int:
        """Days after closing before a case is erased."""
        ...

    @property
    def audit_days(self) -> int:
        """Days pseudonymised audit rows are kept."""
        ...

    @property
    def outbox_days(self) -> int:
        """Days sent messages are kept."""
        ...


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one run removed."""

    cases: int
    messages: int


def run_retention(engine: Engine, policy: RetentionPolicy, now: datetime) -> RetentionReport:
    """Erases closed cases past the period, old sent messages, expired audit rows, and the
    nonces of expired answer links."""
    sessions = session_factory(engine)
    cutoff = now - timedelta(days=policy.closed_case_days)
    with sessions() as session, session.begin():
        due = list(
            session.scalars(
                select(m.Case.id).where(m.Case.status == "closed", m.Case.closed_at <= cutoff)
            )
        )
    for case_id in due:
        with sessions() as session, session.begin():
            purge_case(session, case_id, now)
    with sessions() as session, session.begin():
        result = session.execute(
            delete(m.Outbox).where(
                m.Outbox.status.in_(("sent", "failed")),
                m.Outbox.created_at <= now - timedelta(days=policy.outbox_days),
            )
        )
        messages = getattr(result, "rowcount", 0)
        session.execute(
            delete(m.InboxEvent).where(
                m.InboxEvent.received_at <= now - timedelta(days=policy.outbox_days)
            )
        )
        # A link past its expiry is refused before its nonce is looked at: the nonce can go.
        LinkNonceRepository(session).purge_expired(now)
        session.execute(
            delete(m.AuditEvent).where(
                m.AuditEvent.actor_person_id.is_(None),
                m.AuditEvent.at <= now - timedelta(days=policy.audit_days),
            )
        )
    erasure.scrub(engine)
    log.info("retention: %d cases erased, %d messages removed", len(due), messages)
    return RetentionReport(len(due), messages)


def purge_case(session: Session, case_id: int, now: datetime) -> None:
    """Erases a closed case: its people who are in no other case, then the case itself."""
    keyring = active_keyring()
    people = set(
        session.scalars(select(m.Membership.person_id).where(m.Membership.case_id == case_id))
    )
    for person_id in sorted(people):
        session.execute(
            update(m.AuditEvent)
            .where(m.AuditEvent.case_id == case_id, m.AuditEvent.actor_person_id == person_id)
            .values(actor_person_id=None, actor_pseudonym=keyring.pseudonym("person", person_id))
        )
        others = session.scalar(
            select(m.Membership.id).where(
                m.Membership.person_id == person_id, m.Membership.case_id != case_id
            )
        )
        if others is None:
            erasure.erase(session, person_id, now)
    # The rest of the case (meetings, pictures, plan, invites) goes with the case row.
    session.execute(delete(m.Case).where(m.Case.id == case_id))
    session.add(
        m.AuditEvent(
            at=now, case_id=case_id, action="case_purged", object_type="case", object_id=case_id
        )
    )


def audit_trail(session: Session, case_id: int) -> Iterator[str]:
    """One line per audit row of a case, oldest first: when, who, what."""
    rows = session.scalars(
        select(m.AuditEvent).where(m.AuditEvent.case_id == case_id).order_by(m.AuditEvent.at)
    )
    for row in rows:
        who = (
            f"person {row.actor_person_id}"
            if row.actor_person_id is not None
            else f"pseudonym {row.actor_pseudonym}"
            if row.actor_pseudonym
            else "system"
        )
        target = f"{row.object_type} {row.object_id}" if row.object_id else row.object_type
        yield f"{row.at.isoformat(timespec='seconds')}  {who:<42}  {row.action:<20}  {target}"
