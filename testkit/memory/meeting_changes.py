"""Meeting changes in memory: book, move, cancel, series kept ahead (flows/meeting_changes.py).

Mirrors storage/meeting_changes_repository.py: a change is made by a coordinator of the case
(anyone else is refused), the booked meetings live in the World so every other port (the
family's next meeting, reminders) sees them, and after each change the case's meetings are
labelled by date: the earliest is the first meeting, every later one a follow-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flows.domain import MeetingInfo, MeetingKind
from flows.meeting_changes import MeetingDetails, SeriesInfo, SeriesSlot
from testkit.memory.coord_facts import SeriesRecord
from testkit.memory.coordination import meeting_info, require_coordinator
from testkit.memory.world import World

# The kinds labelled by date; other kinds (a flerpartsamtal) are what they are.
_LABELLED = (MeetingKind.FIRST, MeetingKind.FOLLOW_UP)


@dataclass
class MemoryMeetingChanges:
    """Implements flows.meeting_changes.MeetingChangesSource: the tick's series work."""

    world: World

    def acting_as(self, person_id: int) -> MemoryMeetingChangesPort:
        """The port for a member of the case (the coordinator)."""
        return MemoryMeetingChangesPort(self.world, person_id)

    def series_to_extend(self, now: datetime, ahead: int) -> Sequence[SeriesInfo]:
        """Series not stopped, in open cases, with fewer than `ahead` meetings to come."""
        found = []
        for series in sorted(self.world.coord.series.values(), key=lambda s: s.created_at):
            case = self.world.cases[series.case_id]
            meetings = _meetings_of_series(self.world, series.id)
            upcoming = sum(1 for m in meetings if m.starts_at > now)
            if series.stopped_at is not None or case.closed or upcoming >= ahead:
                continue
            booked_until = series.booked_until
            if booked_until is None:
                if not meetings:
                    continue  # a series with no meeting left has nothing to go on from
                booked_until = max(m.starts_at for m in meetings).date()
            found.append(
                SeriesInfo(
                    series.id,
                    series.case_id,
                    series.weeks,
                    series.local_time,
                    booked_until,
                    upcoming,
                )
            )
        return found

    def extend_series(
        self, series_id: str, starts: Sequence[datetime], booked_until: date
    ) -> list[MeetingInfo]:
        """Books the next meetings of a series like its latest one (place, length, link)."""
        series = self.world.coord.series.get(series_id)
        if series is None or not starts:
            return []
        meetings = _meetings_of_series(self.world, series_id)
        latest = max(meetings, key=lambda m: (m.starts_at, m.id)) if meetings else None
        details = (
            MeetingDetails()
            if latest is None
            else MeetingDetails(latest.place, latest.duration_minutes, latest.remote_link)
        )
        series.booked_until = booked_until
        return _add_meetings(self.world, series.case_id, starts, details, series_id)

    def people_to_tell(self, case_id: int) -> Sequence[int]:
        """Every member a meeting change reaches (consent in effect)."""
        return sorted(
            {
                m.person_id
                for m in self.world.members(case_id)
                if self.world.admitted(m.person_id, case_id)
            }
        )

    def meeting(self, meeting_id: int) -> MeetingInfo | None:
        """One meeting (not cancelled), for the tick's notice of it."""
        found = self.world.meetings.get(meeting_id)
        if found is None or found.cancelled:
            return None
        return meeting_info(self.world, found)


@dataclass
class MemoryMeetingChangesPort:
    """Implements flows.meeting_changes.MeetingChangesPort: one coordinator's changes."""

    world: World
    person_id: int

    def book(
        self,
        case_id: int,
        starts: Sequence[datetime],
        details: MeetingDetails,
        series: SeriesSlot | None,
        now: datetime,
    ) -> list[MeetingInfo]:
        """Books meetings (a series when `series` is given); first/follow-up by date."""
        require_coordinator(self.world, self.person_id, case_id, "meeting.book")
        series_id: str | None = None
        if series is not None:
            series_id = f"s{self.world.next_id('series')}"
            self.world.coord.series[series_id] = SeriesRecord(
                series_id,
                case_id,
                series.weeks,
                series.at.strftime("%H.%M"),
                starts[-1].date(),
                now,
            )
        return _add_meetings(self.world, case_id, starts, details, series_id)

    def move(
        self, case_id: int, meeting_id: int, starts_at: datetime, now: datetime
    ) -> MeetingInfo | None:
        """Gives a meeting a new start (its sequence one higher); None: no such meeting."""
        meeting = self.world.meetings.get(meeting_id)
        if meeting is None or meeting.cancelled or meeting.case_id != case_id:
            return None
        require_coordinator(self.world, self.person_id, case_id, "meeting.move")
        length = meeting.ends_at - meeting.starts_at
        meeting.starts_at, meeting.ends_at = starts_at, starts_at + length
        meeting.sequence += 1
        _label(self.world, case_id)
        return meeting_info(self.world, meeting)

    def cancel(self, case_id: int, meeting_id: int, now: datetime) -> MeetingInfo | None:
        """Removes a meeting; what it was, with the sequence of the cancellation."""
        meeting = self.world.meetings.get(meeting_id)
        if meeting is None or meeting.cancelled or meeting.case_id != case_id:
            return None
        require_coordinator(self.world, self.person_id, case_id, "meeting.cancel")
        info = meeting_info(self.world, meeting)
        # The repository deletes the row: here it is gone from every read of the World.
        del self.world.meetings[meeting_id]
        self.world.coord.meeting_series.pop(meeting_id, None)
        _label(self.world, case_id)
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
        """The series of the case that are not stopped."""
        require_coordinator(self.world, self.person_id, case_id, "series.read")
        return [
            SeriesInfo(s.id, s.case_id, s.weeks, s.local_time, s.booked_until, 0)
            for s in sorted(self.world.coord.series.values(), key=lambda s: s.created_at)
            if s.case_id == case_id and s.stopped_at is None and s.booked_until is not None
        ]

    def stop_series(self, case_id: int, series_id: str, now: datetime) -> bool:
        """Stops a series: nothing more is booked ahead; False when there is no such series."""
        series = self.world.coord.series.get(series_id)
        if series is None or series.case_id != case_id or series.stopped_at is not None:
            return False
        require_coordinator(self.world, self.person_id, case_id, "series.stop")
        series.stopped_at = now
        return True

    def to_tell(self, case_id: int) -> Sequence[int]:
        """The members a meeting change reaches (consent in effect), but the one making it."""
        people = MemoryMeetingChanges(self.world).people_to_tell(case_id)
        return [p for p in people if p != self.person_id]


def _meetings_of_series(world: World, series_id: str) -> list[MeetingInfo]:
    """The meetings (not cancelled) of one series."""
    return [
        meeting_info(world, m)
        for m in world.meetings.values()
        if not m.cancelled and world.coord.meeting_series.get(m.id) == series_id
    ]


def _add_meetings(
    world: World,
    case_id: int,
    starts: Sequence[datetime],
    details: MeetingDetails,
    series_id: str | None,
) -> list[MeetingInfo]:
    """Adds the meetings, labels the case's meetings by date; the new ones."""
    booked = []
    for start in starts:
        meeting = world.meeting(
            case_id,
            start,
            details.minutes,
            place=details.place,
            link=details.link,
            kind=MeetingKind.FOLLOW_UP,
        )
        if series_id is not None:
            world.coord.meeting_series[meeting.id] = series_id
        booked.append(meeting)
    _label(world, case_id)
    return [meeting_info(world, m) for m in booked]


def _label(world: World, case_id: int) -> None:
    """The earliest meeting of the case is the first meeting; every later one a follow-up."""
    labelled = [m for m in world.meetings_of(case_id) if m.kind in _LABELLED]
    for n, meeting in enumerate(sorted(labelled, key=lambda m: (m.starts_at, m.id))):
        meeting.kind = MeetingKind.FIRST if n == 0 else MeetingKind.FOLLOW_UP
