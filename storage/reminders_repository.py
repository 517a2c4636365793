"""The reads reminder kinds need (reminder_ports.ReminderReadsPort), over the families' side."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from flows.domain import Role
from flows.family_domain import Recipients
from flows.reminder_ports import UpcomingMeeting, WaitingPicture
from storage.access import AccessGate, Purpose
from storage.families_repository import FamiliesRepository


class ReminderReads:
    """What is due, for the reminder kinds: system reads, each for its own purpose."""

    def __init__(self, families: FamiliesRepository, gate: AccessGate) -> None:
        self._families = families
        self._gate = gate

    def meetings_between(self, start: datetime, end: datetime) -> list[UpcomingMeeting]:
        """Meetings of open cases starting after `start` and no later than `end`."""
        return [
            UpcomingMeeting(meeting.id, meeting.case_id, meeting.starts_at)
            for meeting in self._families.meetings_between(start, end)
        ]

    def recipients_of(
        self,
        case_ids: Iterable[int],
        roles: Iterable[Role],
        *,
        group_first: bool,
        only: Mapping[int, frozenset[int]] | None = None,
    ) -> dict[int, Recipients]:
        """Where to reach these roles of these cases (FamiliesRepository.recipients_of)."""
        return self._families.recipients_of(case_ids, roles, group_first=group_first, only=only)

    def unanswered_pictures(
        self, published_after: datetime, published_before: datetime
    ) -> list[WaitingPicture]:
        """Newest pictures of the window with their admitted members yet to answer."""
        grant = self._gate.for_system(Purpose.PICTURE_REMINDER)
        return [
            WaitingPicture(picture, case_id, waiting)
            for picture, case_id, waiting in self._families.unanswered_pictures(
                grant, published_after, published_before
            )
        ]
