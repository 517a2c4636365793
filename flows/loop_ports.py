"""Closing the loop after a meeting: the check-in's answers and answers to picture comments.

The port storage/loop_repository.py implements; its reads and writes go through the access
gate. Flows reach it with `loop(ctx)` (or `ports.loop` in a reminder kind).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from flows.domain import Role
from flows.engine import StepContext
from flows.family_domain import Verdict


class Felt(StrEnum):
    """How the meeting was for the person."""

    GOOD = "good"
    MIXED = "mixed"
    HARD = "hard"


class Heard(StrEnum):
    """Whether the person felt listened to."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"


@dataclass(frozen=True, slots=True)
class CheckinMeeting:
    """A meeting a person may say how it was."""

    id: int
    case_id: int
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class CheckinItem:
    """One person's check-in after one meeting, as the coordinator and the report read it."""

    meeting_id: int
    meeting_at: datetime
    person_id: int
    name: str
    role: Role
    felt: Felt | None
    heard: Heard | None
    words: str | None
    skipped: bool
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class CommentToAnswer:
    """A "stämmer inte / delvis" comment a coordinator may answer."""

    response_id: int
    case_id: int
    person_id: int
    name: str
    verdict: Verdict
    comment: str
    version: int


class LoopPort(Protocol):
    """The check-in's answers and the coordinator's answers to comments."""

    def checkin_meeting(
        self, case_id: int, person_id: int, now: datetime, window: timedelta
    ) -> CheckinMeeting | None:
        """The newest meeting of the case started within `window` before `now` that this
        family member has not answered or skipped yet."""
        ...

    def save_checkin(
        self,
        meeting_id: int,
        person_id: int,
        felt: Felt | None,
        heard: Heard | None,
        words: str | None,
        now: datetime,
    ) -> None:
        """Stores a family member's check-in (nothing answered: skipped), audited."""
        ...

    def checkin_answers(self, case_id: int, viewer: int) -> Sequence[CheckinItem]:
        """Every check-in of a case, oldest meeting first: the coordinator's view."""
        ...

    def comment_to_answer(self, response_id: int, coordinator: int) -> CommentToAnswer | None:
        """A comment on the case's picture the coordinator may answer; None if gone."""
        ...

    def answer_comment(
        self, response_id: int, coordinator: int, text: str, now: datetime
    ) -> CommentToAnswer:
        """Stores the coordinator's answer to a comment, audited."""
        ...


def loop(ctx: StepContext) -> LoopPort:
    """The loop port of this step's transaction."""
    return ctx.ports.loop
