"""LoopPort in memory: check-ins after a meeting and answers to picture comments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flows.domain import FAMILY_ROLES, Role
from flows.loop_ports import CheckinItem, CheckinMeeting, CommentToAnswer, Felt, Heard
from testkit.memory.access import MemoryAccessRefused, require, roles
from testkit.memory.families import MemoryFamilies
from testkit.memory.world import World


@dataclass(frozen=True)
class Checkin:
    """One family member's answer after one meeting (nothing answered: skipped)."""

    meeting_id: int
    person_id: int
    felt: Felt | None
    heard: Heard | None
    words: str | None
    answered_at: datetime


@dataclass
class MemoryLoop:
    """Check-ins and comment answers on the World (storage/loop_repository.py)."""

    world: World
    families: MemoryFamilies
    checkins: list[Checkin] = field(default_factory=list)
    comment_answers: list[tuple[int, int, str]] = field(default_factory=list)

    def checkin_meeting(
        self, case_id: int, person_id: int, now: datetime, window: timedelta
    ) -> CheckinMeeting | None:
        """The newest meeting started within the window that the person has not answered."""
        self._family(person_id, case_id)
        answered = {c.meeting_id for c in self.checkins if c.person_id == person_id}
        started = [
            m
            for m in self.world.meetings_of(case_id)
            if now - window < m.starts_at <= now and m.id not in answered
        ]
        latest = started[-1] if started else None
        return CheckinMeeting(latest.id, latest.case_id, latest.starts_at) if latest else None

    def save_checkin(
        self,
        meeting_id: int,
        person_id: int,
        felt: Felt | None,
        heard: Heard | None,
        words: str | None,
        now: datetime,
    ) -> None:
        """Stores a family member's check-in (nothing answered: skipped)."""
        self._family(person_id, self.world.meetings[meeting_id].case_id)
        self.checkins.append(Checkin(meeting_id, person_id, felt, heard, words, now))

    def checkin_answers(self, case_id: int, viewer: int) -> Sequence[CheckinItem]:
        """Every check-in of a case, oldest meeting first: the coordinator's view."""
        self._coordinator(viewer, case_id)
        items = []
        for checkin in self.checkins:
            meeting = self.world.meetings[checkin.meeting_id]
            if meeting.case_id != case_id:
                continue
            member = self.world.membership(checkin.person_id, case_id)
            items.append(
                CheckinItem(
                    meeting_id=meeting.id,
                    meeting_at=meeting.starts_at,
                    person_id=checkin.person_id,
                    name=self.world.name(checkin.person_id, case_id),
                    role=member.role if member else Role.YOUTH,
                    felt=checkin.felt,
                    heard=checkin.heard,
                    words=checkin.words,
                    skipped=checkin.felt is None and checkin.heard is None and not checkin.words,
                    answered_at=checkin.answered_at,
                )
            )
        return sorted(items, key=lambda i: i.meeting_at)

    def comment_to_answer(self, response_id: int, coordinator: int) -> CommentToAnswer | None:
        """A comment on the case's picture the coordinator may answer; None if gone."""
        for (picture_id, person_id), answer in self.families.answers.items():
            if answer.id != response_id:
                continue
            stored = next(p for p in self.families.pictures if p.picture.id == picture_id)
            self._coordinator(coordinator, stored.case_id)
            if not answer.comment:
                return None
            return CommentToAnswer(
                response_id,
                stored.case_id,
                person_id,
                self.world.name(person_id, stored.case_id),
                answer.verdict,
                answer.comment,
                stored.picture.version,
            )
        return None

    def answer_comment(
        self, response_id: int, coordinator: int, text: str, now: datetime
    ) -> CommentToAnswer:
        """Stores the coordinator's answer to a comment."""
        comment = self.comment_to_answer(response_id, coordinator)
        if comment is None:
            raise LookupError("no comment to answer")
        self.comment_answers.append((response_id, coordinator, text))
        return comment

    def _family(self, person_id: int, case_id: int) -> None:
        """Only an admitted family member checks in."""
        require(self.world, person_id, case_id)
        if not roles(self.world, person_id, case_id) & FAMILY_ROLES:
            raise MemoryAccessRefused("family")

    def _coordinator(self, person_id: int, case_id: int) -> None:
        """Only the case's coordinator reads the answers."""
        require(self.world, person_id, case_id)
        if Role.COORDINATOR not in roles(self.world, person_id, case_id):
            raise MemoryAccessRefused("only the case's coordinator")
