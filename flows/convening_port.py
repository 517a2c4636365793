"""Convening's domain values and port: open meeting requests, people the family suggests, and
the small hook that marks a request answered when a meeting is booked from it.

This module imports nothing of the coordinator's flow, so the booking step
(flows/coordinator/meetings.py) can call the hook without a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from flows.domain import Role
from flows.engine import NOTICE_CHOICE_PREFIX, FlowState, Notice, StepContext, Transition
from flows.ports import Ports
from flows.reminder_ports import ReminderPorts
from flows.replies import Choice, say

# The coordinator's home menu entry, and the button on every alert and reminder (a notice's
# button, so a typed "1" under the alert means it): the list of what awaits an answer
# (flows/convening.py).
OPEN_CHOICE = "convening:open"
NOTICE_OPEN_CHOICE = f"{NOTICE_CHOICE_PREFIX}convening"

# The key of the coordinator's flow state that carries a request into the booking step.
REQUEST_KEY = "request"
# The coordinator's booking steps are named so (meeting_when, meeting_link, and any the
# booking grows); a request id is carried through all of them.
BOOKING_STEP_PREFIX = "meeting_"
COORDINATOR_FLOW = "coordinator"


@dataclass(frozen=True, slots=True)
class OpenRequest:
    """An unanswered request for a meeting, as its case's coordinator sees it."""

    id: int
    case_id: int
    case_reference: str
    reason: str | None
    created_at: datetime
    asked_by: int | None
    asked_by_name: str | None
    asked_by_role: Role | None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Someone who matters to the young person, suggested by the family, awaiting a yes/no."""

    id: int
    case_id: int
    case_reference: str
    name: str
    relation: str
    suggested_by: int | None
    suggested_by_name: str | None
    suggested_by_role: Role | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WaitingRequest:
    """An unanswered request as a reminder sees it: ids and a time, no words."""

    id: int
    case_id: int
    case_reference: str
    created_at: datetime
    coordinators: tuple[int, ...]


class ConveningPort(Protocol):
    """Requests answered in the chat and people suggested by the family."""

    def open_requests(self, coordinator_id: int) -> Sequence[OpenRequest]:
        """Unanswered requests of every open case this person coordinates, oldest first."""
        ...

    def open_request(self, request_id: int, coordinator_id: int) -> OpenRequest | None:
        """One unanswered request of a case this person coordinates; None otherwise."""
        ...

    def answer_request(
        self, request_id: int, coordinator_id: int, answer: str | None, now: datetime
    ) -> int | None:
        """Marks a request answered (with words, or None when a meeting was booked); returns
        who asked, or None when it is not open (or they are gone)."""
        ...

    def suggest(self, case_id: int, person_id: int, name: str, relation: str, now: datetime) -> int:
        """Stores a family member's suggestion of someone who matters; returns its id."""
        ...

    def open_suggestions(self, coordinator_id: int) -> Sequence[Suggestion]:
        """Undecided suggestions of every open case this person coordinates, oldest first."""
        ...

    def decide(
        self, suggestion_id: int, coordinator_id: int, approved: bool, now: datetime
    ) -> Suggestion | None:
        """Approves or declines an undecided suggestion; None when it is not open."""
        ...

    def waiting_requests(self, asked_before: datetime) -> Sequence[WaitingRequest]:
        """Unanswered requests of open cases asked before this time (a reminder's read)."""
        ...

    def still_waiting(self, request_ids: Sequence[int]) -> dict[int, str]:
        """Of these requests, the ones still unanswered in an open case, with its reference."""
        ...


def convening(ports: Ports | ReminderPorts) -> ConveningPort:
    """The convening port of this transaction (a step's ports or a reminder's)."""
    return ports.convening


def open_choice(ctx: StepContext) -> tuple[Choice, ...]:
    """The coordinator's home menu entry when something waits for their answer, with how
    many; nothing when all is answered."""
    port = convening(ctx.ports)
    person = ctx.actor.person_id
    count = len(port.open_requests(person)) + len(port.open_suggestions(person))
    return (Choice(OPEN_CHOICE, "convene.menu", {"count": count}),) if count else ()


def answer_button() -> Choice:
    """The button on an alert to the coordinator: the list of what awaits an answer."""
    return Choice(NOTICE_OPEN_CHOICE, "convene.answer_now")


def add_working_days(start: datetime, days: int) -> datetime:
    """`start` moved on by this many working days (Monday to Friday), same time of day."""
    moved = start
    left = days
    while left > 0:
        moved += timedelta(days=1)
        if _working(moved.date()):
            left -= 1
    return moved


def _working(day: date) -> bool:
    """Monday to Friday (public holidays are not known here)."""
    return day.weekday() < 5


def carry_request(before: FlowState, transition: Transition) -> Transition:
    """Keeps a request's id in the coordinator's state while they go through the booking
    steps, whatever those steps put in their own state."""
    request = before.data.get(REQUEST_KEY)
    after = transition.state
    if (
        request is None
        or after.flow != COORDINATOR_FLOW
        or not after.step.startswith(BOOKING_STEP_PREFIX)
        or REQUEST_KEY in after.data
    ):
        return transition
    return replace(transition, state=replace(after, data={**after.data, REQUEST_KEY: request}))


def booked_from_request(state: FlowState, ctx: StepContext, first: datetime) -> tuple[Notice, ...]:
    """The hook of the booking step: a meeting booked from a request answers it, and the
    person who asked is told when the meeting is; nothing when it was an ordinary booking."""
    request = state.data.get(REQUEST_KEY)
    if request is None:
        return ()
    request_id = int(request)
    asked_by = convening(ctx.ports).answer_request(request_id, ctx.actor.person_id, None, ctx.now)
    if asked_by is None:
        return ()
    return (
        Notice(
            say("request.booked", starts_at=first),
            person_id=asked_by,
            dedup_key=f"meeting-request-answer:{request_id}",
        ),
    )
