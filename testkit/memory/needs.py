"""MeetingNeedsPort in memory: interpreter and other needs for the meeting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flows.domain import FAMILY_ROLES
from flows.meeting_needs import MeetingNeed
from testkit.memory.access import MemoryAccessRefused, require, roles
from testkit.memory.world import World


@dataclass
class MemoryMeetingNeeds:
    """Each family member's needs, by (case, person) (storage/meeting_needs_repository.py)."""

    world: World
    needs: dict[tuple[int, int], MeetingNeed] = field(default_factory=dict)

    def need(self, case_id: int, person_id: int) -> MeetingNeed | None:
        """The member's own needs, or None when they have not said."""
        require(self.world, person_id, case_id)
        return self.needs.get((case_id, person_id))

    def set_need(self, case_id: int, person_id: int, need: MeetingNeed, now: datetime) -> None:
        """Stores the member's needs (a family member of the case)."""
        require(self.world, person_id, case_id)
        if not roles(self.world, person_id, case_id) & FAMILY_ROLES:
            raise MemoryAccessRefused("only the family says what they need")
        self.needs[(case_id, person_id)] = need

    def last_meeting_start(self, case_id: int, now: datetime) -> datetime | None:
        """When the case's latest meeting that has started began, or None."""
        started = [m.starts_at for m in self.world.meetings_of(case_id) if m.starts_at <= now]
        return max(started) if started else None
