"""Meeting needs (flows/meeting_needs.py) on the database, behind the access gate.

A family member writes and reads their own needs (rules 1 and 2, family roles). The agenda
reads every admitted member's needs: a withdrawn consent stops them reaching the coordinator,
as it stops sharing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.domain import MeetingNeedItem
from flows.meeting_needs import MeetingNeed
from storage import models as m
from storage.access import AccessGate


class MeetingNeedsRepository:
    """Implements flows.meeting_needs.MeetingNeedsPort and the agenda's needs."""

    def __init__(self, session: Session, gate: AccessGate) -> None:
        self._s = session
        self._gate = gate

    def need(self, case_id: int, person_id: int) -> MeetingNeed | None:
        """The member's own needs, or None when they have not said."""
        self._gate.require(person_id, case_id)
        row = self._row(case_id, person_id)
        if row is None:
            return None
        return MeetingNeed(row.interpreter, row.language, row.other)

    def set_need(self, case_id: int, person_id: int, need: MeetingNeed, now: datetime) -> None:
        """Stores the member's needs (a family member of the case); audited, never content."""
        self._gate.require_family_member(
            person_id, case_id, now, "meeting_need.set", "meeting_need"
        )
        row = self._row(case_id, person_id)
        if row is None:
            row = m.MeetingNeed(case_id=case_id, person_id=person_id)
            self._s.add(row)
        row.interpreter = need.interpreter
        row.language = need.language
        row.other = need.other
        row.updated_at = now
        self._s.flush()

    def last_meeting_start(self, case_id: int, now: datetime) -> datetime | None:
        """When the case's latest meeting that has started began, or None."""
        return self._s.scalar(
            select(m.Meeting.starts_at)
            .where(m.Meeting.case_id == case_id, m.Meeting.starts_at <= now)
            .order_by(m.Meeting.starts_at.desc())
            .limit(1)
        )

    def for_agenda(self, case_id: int) -> tuple[MeetingNeedItem, ...]:
        """Every admitted member's needs that ask for something, in the order they joined."""
        rows = self._s.execute(
            select(m.MeetingNeed, m.Person.display_name, m.Membership.role)
            .join(m.Person, m.Person.id == m.MeetingNeed.person_id)
            .join(
                m.Membership,
                (m.Membership.person_id == m.MeetingNeed.person_id)
                & (m.Membership.case_id == m.MeetingNeed.case_id),
            )
            .where(m.MeetingNeed.case_id == case_id, m.Membership.active.is_(True))
            .order_by(m.Membership.joined_at, m.Membership.id)
        ).all()
        needs: list[MeetingNeedItem] = []
        seen: set[int] = set()
        for row, name, role in rows:
            if row.person_id in seen or not (row.interpreter or row.other):
                continue
            seen.add(row.person_id)
            if not self._gate.admitted(row.person_id, case_id):
                continue
            needs.append(
                MeetingNeedItem(row.person_id, name, role, row.interpreter, row.language, row.other)
            )
        return tuple(needs)

    def _row(self, case_id: int, person_id: int) -> m.MeetingNeed | None:
        """The member's row, if any."""
        return self._s.scalar(
            select(m.MeetingNeed).where(
                m.MeetingNeed.case_id == case_id, m.MeetingNeed.person_id == person_id
            )
        )
