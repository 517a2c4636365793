"""Meetings that change: booked, moved or cancelled, and everyone in the case is told.

One way for every change, whoever makes it (the coordinator's chat, the operator's
`samverkan meeting move|cancel`, the tick that books a series ahead): the port changes the
rows, and `told` makes a notice to each member the case may reach, in their private chats,
with the meeting's calendar file (bot/ics.py): the same UID for the same meeting, a higher
SEQUENCE after each change, `METHOD:REQUEST` when booked or moved and `METHOD:CANCEL` when
cancelled. The notices go out through the outbox like every other message.

A series ("varannan tisdag 13.00") has `SERIES_AHEAD` meetings booked ahead; `SeriesBooking`,
a reminder kind the tick runs, books the next one as each passes, until the coordinator stops
the series.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from flows.conversation import ReminderDue
from flows.domain import MeetingInfo
from flows.engine import Notice, StepContext
from flows.meeting_info import ICS_KIND
from flows.reminder_ports import ReminderPorts
from flows.replies import Attachment, Reply

# How many meetings of a series are booked ahead at any time.
SERIES_AHEAD = 3
# The lengths offered when booking; any other number of minutes can be typed.
MINUTES_OFFERED = (60, 90, 120)
MIN_MINUTES = 15
MAX_MINUTES = 480


class MeetingChange(StrEnum):
    """What happened to a meeting; names the notice and the calendar file's METHOD."""

    BOOKED = "booked"
    MOVED = "moved"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class MeetingDetails:
    """Where and how long a meeting is, and its video link."""

    place: str | None = None
    minutes: int = 90
    link: str | None = None


@dataclass(frozen=True, slots=True)
class SeriesSlot:
    """A fixed slot: every `weeks` weeks on the first meeting's weekday, at `at` local time."""

    weeks: int
    at: time


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """A series that goes on: its slot, the last day booked, how many meetings are ahead."""

    id: str
    case_id: int
    weeks: int
    local_time: str
    booked_until: date
    upcoming: int


class MeetingChangesPort(Protocol):
    """Changes to a case's meetings by one person (or the operator), behind the access gate."""

    def book(
        self,
        case_id: int,
        starts: Sequence[datetime],
        details: MeetingDetails,
        series: SeriesSlot | None,
        now: datetime,
    ) -> list[MeetingInfo]:
        """Books meetings (a series when `series` is given); first/follow-up by date."""
        ...

    def move(
        self, case_id: int, meeting_id: int, starts_at: datetime, now: datetime
    ) -> MeetingInfo | None:
        """Gives a meeting a new start (its sequence one higher); None: no such meeting."""
        ...

    def cancel(self, case_id: int, meeting_id: int, now: datetime) -> MeetingInfo | None:
        """Removes a meeting; what it was, with the sequence of the cancellation."""
        ...

    def series_of(self, case_id: int, now: datetime) -> Sequence[SeriesInfo]:
        """The series of the case that are not stopped."""
        ...

    def stop_series(self, case_id: int, series_id: str, now: datetime) -> bool:
        """Stops a series: nothing more is booked ahead; False when there is no such series."""
        ...

    def to_tell(self, case_id: int) -> Sequence[int]:
        """The members a meeting change reaches (consent in effect), but the one making it."""
        ...


class MeetingChangesSource(Protocol):
    """Gives the port bound to who acts, and the tick's series work."""

    def acting_as(self, person_id: int) -> MeetingChangesPort:
        """The port for a member of the case (the coordinator)."""
        ...

    def series_to_extend(self, now: datetime, ahead: int) -> Sequence[SeriesInfo]:
        """Series not stopped, in open cases, with fewer than `ahead` meetings to come."""
        ...

    def extend_series(
        self, series_id: str, starts: Sequence[datetime], booked_until: date
    ) -> list[MeetingInfo]:
        """Books the next meetings of a series like its latest one (place, length, link)."""
        ...

    def people_to_tell(self, case_id: int) -> Sequence[int]:
        """Every member a meeting change reaches (consent in effect)."""
        ...

    def meeting(self, meeting_id: int) -> MeetingInfo | None:
        """One meeting, for the tick's notice of it."""
        ...


def meeting_changes(ctx: StepContext) -> MeetingChangesPort:
    """The meeting changes of this step's transaction, made by the person in hand."""
    return ctx.ports.meeting_changes.acting_as(ctx.actor.person_id)


# --- what everyone is told ----------------------------------------------------------------


def change_reply(change: MeetingChange, meeting: MeetingInfo) -> Reply:
    """The notice of one change, with the calendar file (no free text: the file has it)."""
    params: dict[str, str | int | bool | None] = {"meeting_id": meeting.id}
    if change is MeetingChange.CANCELLED:
        # The row is gone when the file is made: the cancellation carries what it needs.
        params |= {
            "method": "cancel",
            "sequence": meeting.sequence,
            "starts_at": meeting.starts_at.isoformat(),
            "minutes": meeting.duration_minutes,
        }
    else:
        params["method"] = "request"
    return Reply(
        f"meeting_changes.{change.value}",
        {
            "starts_at": meeting.starts_at,
            "minutes": meeting.duration_minutes,
            "kind": meeting.kind.value,
            "place": meeting.place is not None,
            "link": meeting.remote_link is not None,
        },
        attachment=Attachment(ICS_KIND, params),
    )


def told(
    change: MeetingChange, meetings: Sequence[MeetingInfo], people: Sequence[int]
) -> tuple[Notice, ...]:
    """A notice per person per meeting, each once (the key holds the change's sequence)."""
    return tuple(
        Notice(
            change_reply(change, meeting),
            person_id=person,
            dedup_key=f"meeting:{change.value}:{meeting.id}:{meeting.sequence}:{person}",
        )
        for meeting in meetings
        for person in people
    )


def book_meetings(
    port: MeetingChangesPort,
    case_id: int,
    starts: Sequence[datetime],
    details: MeetingDetails,
    series: SeriesSlot | None,
    now: datetime,
) -> tuple[list[MeetingInfo], tuple[Notice, ...]]:
    """Books the meetings; what was booked and the notices to everyone in the case."""
    booked = port.book(case_id, starts, details, series, now)
    return booked, told(MeetingChange.BOOKED, booked, port.to_tell(case_id))


def move_meeting(
    port: MeetingChangesPort, case_id: int, meeting_id: int, starts_at: datetime, now: datetime
) -> tuple[MeetingInfo, tuple[Notice, ...]] | None:
    """Moves a meeting; the meeting as it is now and the notices; None: no such meeting."""
    moved = port.move(case_id, meeting_id, starts_at, now)
    if moved is None:
        return None
    return moved, told(MeetingChange.MOVED, (moved,), port.to_tell(case_id))


def cancel_meeting(
    port: MeetingChangesPort, case_id: int, meeting_id: int, now: datetime
) -> tuple[MeetingInfo, tuple[Notice, ...]] | None:
    """Cancels a meeting; what it was and the notices; None: no such meeting."""
    cancelled = port.cancel(case_id, meeting_id, now)
    if cancelled is None:
        return None
    return cancelled, told(MeetingChange.CANCELLED, (cancelled,), port.to_tell(case_id))


# --- series ---------------------------------------------------------------------------------


def series_starts(first: date, at: time, weeks: int, zone: ZoneInfo, count: int) -> list[datetime]:
    """`count` meetings every `weeks` weeks from `first`, each at `at` local time (so the
    wall-clock time holds across daylight-saving changes)."""
    return [datetime.combine(first + timedelta(weeks=weeks * n), at, zone) for n in range(count)]


@dataclass(frozen=True, slots=True)
class SeriesBooking:
    """Keeps each series `ahead` meetings booked, and tells everyone of each new one."""

    zone: ZoneInfo
    ahead: int = SERIES_AHEAD
    name: str = "meeting_series"
    # Its `due` books meetings: they commit with the notices, or not at all.
    marks_what_it_sends: bool = True

    def due(self, ports: ReminderPorts, now: datetime) -> Iterator[ReminderDue]:
        """Books what each series lacks; a notice per member per new meeting."""
        source = ports.meeting_changes
        for series in source.series_to_extend(now, self.ahead):
            hour, minute = (int(p) for p in series.local_time.split("."))
            step = timedelta(weeks=series.weeks)
            first = series.booked_until + step
            # A series left alone for long (the bot was down) starts again from today.
            while datetime.combine(first, time(hour, minute), self.zone) <= now:
                first += step
            starts = series_starts(
                first, time(hour, minute), series.weeks, self.zone, self.ahead - series.upcoming
            )
            booked = source.extend_series(series.id, starts, starts[-1].date())
            people = source.people_to_tell(series.case_id)
            for meeting in booked:
                for person in people:
                    yield ReminderDue(
                        self.name,
                        f"meeting:booked:{meeting.id}:{meeting.sequence}:{person}",
                        person_id=person,
                        params={"meeting_id": meeting.id},
                    )

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply | None:
        """The booking notice of the new meeting."""
        source = ports.meeting_changes
        meeting_id = due.params["meeting_id"]
        if not isinstance(meeting_id, int):
            raise TypeError("meeting_id must be an int")
        meeting = source.meeting(meeting_id)
        if meeting is None:
            return None
        return change_reply(MeetingChange.BOOKED, meeting)
