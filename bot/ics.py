"""The meeting's calendar file (RFC 5545), made at send time from the meeting row.

Times are written in the deployment's time zone with its VTIMEZONE, so a calendar shows the
meeting at the right local time on both sides of a daylight-saving change. The file carries
no case free text beyond the place and the video link the invitation already names.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.catalogue import Catalogue, RenderedFile, TextFormat
from bot.delivery import PermanentSendError
from flows.meeting_info import ICS_KIND
from flows.replies import Params
from storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from icalendar import Event

MEDIA_TYPE = "text/calendar"
PRODID = "-//Samverkansboten//samverkansboten//SV"


class MissingMeeting(PermanentSendError):
    """The attachment names a meeting that no longer exists: no retry can make its file."""


class MeetingIcsMaker:
    """Makes the .ics file of one meeting."""

    kind = ICS_KIND

    def make(
        self, uow: UnitOfWork, params: Params, locale: str, catalogue: Catalogue
    ) -> RenderedFile:
        """The calendar file of the meeting named by params["meeting_id"]: PUBLISH from the
        meeting info, REQUEST with a booking or a move, CANCEL with a cancellation."""
        meeting_id = params.get("meeting_id")
        method = params.get("method")
        if method == "cancel":
            return self._cancelled(params, locale, catalogue)
        meeting = uow.families.meeting(meeting_id) if isinstance(meeting_id, int) else None
        if meeting is None:
            raise MissingMeeting(f"meeting {meeting_id!r}")
        zone = catalogue.timezone
        starts = meeting.starts_at.astimezone(zone)
        event = _event(meeting.id, starts, meeting.duration_minutes, catalogue, locale)
        # Each change of the meeting counts up: a calendar keeps the newest version.
        event.add("sequence", meeting.sequence)
        description = catalogue.render(
            "meeting.ics_description", {"link": meeting.remote_link}, locale, TextFormat.PLAIN
        )
        event.add("description", description)
        if meeting.place:
            event.add("location", meeting.place)
        if meeting.remote_link:
            event.add("url", meeting.remote_link)
        return _file(event, starts, "REQUEST" if method == "request" else "PUBLISH")

    def _cancelled(self, params: Params, locale: str, catalogue: Catalogue) -> RenderedFile:
        """The cancellation of a meeting that no longer exists, from what the notice carries."""
        meeting_id, sequence = params.get("meeting_id"), params.get("sequence")
        starts_text, minutes = params.get("starts_at"), params.get("minutes")
        if not (
            isinstance(meeting_id, int)
            and isinstance(sequence, int)
            and isinstance(starts_text, str)
            and isinstance(minutes, int)
        ):
            raise MissingMeeting(f"cancelled meeting {meeting_id!r}")
        starts = datetime.fromisoformat(starts_text).astimezone(catalogue.timezone)
        event = _event(meeting_id, starts, minutes, catalogue, locale)
        event.add("sequence", sequence)
        event.add("status", "CANCELLED")
        return _file(event, starts, "CANCEL")


def _event(
    meeting_id: int, starts: datetime, minutes: int, catalogue: Catalogue, locale: str
) -> Event:
    """The event's fields every version of the file has."""
    # Imported here: icalendar takes a tenth of a second to import, on every start of the bot
    # (bench/startup.py), and calendar files are made seldom.
    from icalendar import Event

    event = Event()
    # A stable UID: a calendar that imports the file again updates the same event.
    event.add("uid", f"meeting-{meeting_id}@samverkansboten")
    event.add("dtstamp", datetime.now(UTC).replace(microsecond=0))
    event.add("dtstart", starts)
    event.add("dtend", starts + timedelta(minutes=minutes))
    event.add("summary", catalogue.render("meeting.ics_summary", {}, locale, TextFormat.PLAIN))
    return event


def _file(event: Event, starts: datetime, method: str) -> RenderedFile:
    """The calendar around the event, with its time zone."""
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return RenderedFile(f"mote-{starts:%Y-%m-%d}.ics", MEDIA_TYPE, calendar.to_ical())


def meeting_file_makers() -> dict[str, MeetingIcsMaker]:
    """The file makers the deliverer needs for the families' messages, by kind."""
    return {ICS_KIND: MeetingIcsMaker()}
