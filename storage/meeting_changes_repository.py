"""The meeting changes of flows/meeting_changes.py: book, move, cancel, series kept ahead.

Every change by a person goes through the access gate (a coordinator of the case, or the
operator's CLI), and is audited. After each change the meetings of the case are labelled by
date: the earliest is the first meeting, every later one a follow-up (a flerpartsamtal keeps
its kind).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flows.domain import MeetingInfo, MeetingKind
from flows.meeting_changes import MeetingDetails, SeriesInfo, SeriesSlot
from storage import models as m
from storage.access import AccessGate, Who
from storage.repositories import _meeting_info

# The kinds labelled by date; other kinds (a flerpartsamtal) are what they are.
_LABELLED = (MeetingKind.FIRST, MeetingKind.FOLLOW_UP)


class MeetingChangesRepository:
    """The tick's series work and the people to tell; `acting_as` for a person's changes."""

    def __init__(self, session: Session, gate: AccessGate) -> None:
        self._s = session
        self._gate = gate

    def acting_as(self, who: Who) -> MeetingChanges:
        """The changes made by a coordinator (person id) or the operator (a system grant)."""
        return MeetingChanges(self._s, self._gate, who)

    def meeting(self, meeting_id: int) -> MeetingInfo | None:
        """One meeting, for the tick's notice of it."""
        row = self._s.get(m.Meeting, meeting_id)
        return None if row is None else _meeting_info(row)

    def people_to_tell(self, case_id: int) -> Sequence[int]:
        """Every active member of the case a message may reach (rule 2: consent in effect)."""
        members = self._s.execute(
            select(m.Membership.case_id, m.Membership.person_id, m.Membership.role).where(
                m.Membership.case_id == case_id, m.Membership.active.is_(True)
            )
        ).all()
        return sorted({p for _, p in self._gate.reachable((c, p, r) for c, p, r in members)})

    def series_to_extend(self, now: datetime, ahead: int) -> Sequence[SeriesInfo]:
        """Series not stopped, of open cases, with fewer than `ahead` meetings to come."""
        upcoming = (
            select(func.count(m.Meeting.id))
            .where(m.Meeting.series_id == m.MeetingSeries.id, m.Meeting.starts_at > now)
            .scalar_subquery()
        )
        latest = (
            select(func.max(m.Meeting.starts_at))
            .where(m.Meeting.series_id == m.MeetingSeries.id)
            .scalar_subquery()
        )
        rows = self._s.execute(
            select(m.MeetingSeries, upcoming, latest)
            .join(m.Case, m.Case.id == m.MeetingSeries.case_id)
            .where(
                m.MeetingSeries.stopped_at.is_(None),
                m.Case.status == "open",
                upcoming < ahead,
            )
            .order_by(m.MeetingSeries.created_at, m.MeetingSeries.id)
        ).all()
        found: list[SeriesInfo] = []
        for series, count, last in rows:
            booked_until = series.booked_until
            if booked_until is None:
                if last is None:
                    continue  # a series with no meeting left has nothing to go on from
                booked_until = last.date()
            found.append(
                SeriesInfo(
                    series.id,
                    series.case_id,
                    series.interval_weeks,
                    series.local_time,
                    booked_until,
                    int(count),
                )
            )
        return found

    def extend_series(
        self, series_id: str, starts: Sequence[datetime], booked_until: date
    ) -> list[MeetingInfo]:
        """Books the next meetings of a series like its latest one (place, length, link)."""
        series = self._s.get(m.MeetingSeries, series_id)
        if series is None or not starts:
            return []
        model = self._s.scalars(
            select(m.Meeting)
            .where(m.Meeting.series_id == series_id)
            .order_by(m.Meeting.starts_at.desc(), m.Meeting.id.desc())
            .limit(1)
        ).first()
        details = MeetingDetails(
            model.place if model else None,
            model.duration_minutes if model else 90,
            model.remote_link if model else None,
        )
        series.booked_until = booked_until
        return _add_meetings(self._s, series.case_id, starts, details, series_id)


class MeetingChanges:
    """One person's (or the operator's) changes to a case's meetings."""

    def __init__(self, session: Session, gate: AccessGate, who: Who) -> None:
        self._s = session
        self._gate = gate
        self._who = who

    def book(
        self,
        case_id: int,
        starts: Sequence[datetime],
        details: MeetingDetails,
        series: SeriesSlot | None,
        now: datetime,
    ) -> list[MeetingInfo]:
        """Books meetings (a series when `series` is given); first/follow-up by date."""
        self._gate.coordinator_or_operator(self._who, case_id, now, "meeting.book", "case", None)
        series_id: str | None = None
        if series is not None:
            series_id = uuid.uuid4().hex
            first = starts[0]
            self._s.add(
                m.MeetingSeries(
                    id=series_id,
                    case_id=case_id,
                    weekday=first.weekday(),
                    interval_weeks=series.weeks,
                    local_time=series.at.strftime("%H.%M"),
                    created_at=now,
                    booked_until=starts[-1].date(),
                )
            )
        return _add_meetings(self._s, case_id, starts, details, series_id)

    def move(
        self, case_id: int, meeting_id: int, starts_at: datetime, now: datetime
    ) -> MeetingInfo | None:
        """Gives a meeting a new start, its sequence one higher; None: no such meeting."""
        row = self._s.get(m.Meeting, meeting_id)
        if row is None or row.case_id != case_id:
            return None
        self._gate.coordinator_or_operator(
            self._who, case_id, now, "meeting.move", "meeting", meeting_id
        )
        row.starts_at = starts_at
        row.sequence += 1
        self._s.flush()
        _label(self._s, case_id)
        return _meeting_info(row)

    def cancel(self, case_id: int, meeting_id: int, now: datetime) -> MeetingInfo | None:
        """Removes a meeting; what it was, with the sequence of the cancellation."""
        row = self._s.get(m.Meeting, meeting_id)
        if row is None or row.case_id != case_id:
            return None
        self._gate.coordinator_or_operator(
            self._who, case_id, now, "meeting.cancel", "meeting", meeting_id
        )
        info = _meeting_info(row)
        self._s.delete(row)
        self._s.flush()
        _label(self._s, case_id)
        # The cancellation is one more change of the same calendar event.
        return MeetingInfo(
            info.id,
            info.kind,
            info.starts_at,
            info.duration_minutes,
            info.place,
            info.remote_link,
            info.sequence + 1,
            info.series_id,
        )

    def series_of(self, case_id: int, now: datetime) -> Sequence[SeriesInfo]:
        """The case's series that are not stopped (a coordinator's read)."""
        self._gate.coordinator_or_operator(self._who, case_id, now, "series.read", "case", None)
        rows = self._s.scalars(
            select(m.MeetingSeries)
            .where(m.MeetingSeries.case_id == case_id, m.MeetingSeries.stopped_at.is_(None))
            .order_by(m.MeetingSeries.created_at)
        ).all()
        return [
            SeriesInfo(s.id, s.case_id, s.interval_weeks, s.local_time, s.booked_until, 0)
            for s in rows
            if s.booked_until is not None
        ]

    def stop_series(self, case_id: int, series_id: str, now: datetime) -> bool:
        """Stops a series: nothing more is booked ahead; False when there is no such series."""
        series = self._s.get(m.MeetingSeries, series_id)
        if series is None or series.case_id != case_id or series.stopped_at is not None:
            return False
        self._gate.coordinator_or_operator(self._who, case_id, now, "series.stop", "case", None)
        series.stopped_at = now
        self._s.flush()
        return True

    def to_tell(self, case_id: int) -> Sequence[int]:
        """The members a change reaches, but the coordinator making it (she sees it here)."""
        people = MeetingChangesRepository(self._s, self._gate).people_to_tell(case_id)
        return [p for p in people if p != self._who]


def _add_meetings(
    session: Session,
    case_id: int,
    starts: Sequence[datetime],
    details: MeetingDetails,
    series_id: str | None,
) -> list[MeetingInfo]:
    """Adds the meetings, labels the case's meetings by date; the new ones."""
    rows = [
        m.Meeting(
            case_id=case_id,
            kind=MeetingKind.FOLLOW_UP,
            starts_at=start,
            duration_minutes=details.minutes,
            place=details.place,
            remote_link=details.link,
            series_id=series_id,
            sequence=0,
        )
        for start in starts
    ]
    session.add_all(rows)
    session.flush()
    _label(session, case_id)
    return [_meeting_info(r) for r in rows]


def _label(session: Session, case_id: int) -> None:
    """The earliest meeting of the case is the first meeting; every later one a follow-up."""
    rows = session.scalars(
        select(m.Meeting)
        .where(m.Meeting.case_id == case_id, m.Meeting.kind.in_(_LABELLED))
        .order_by(m.Meeting.starts_at, m.Meeting.id)
    ).all()
    for n, row in enumerate(rows):
        kind = MeetingKind.FIRST if n == 0 else MeetingKind.FOLLOW_UP
        if row.kind is not kind:
            row.kind = kind
    session.flush()
