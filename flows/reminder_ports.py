"""The ports reminder kinds read through (flows/reminders.py); storage implements them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from flows.domain import Agenda, Role
from flows.family_domain import PictureInfo, Recipients

if TYPE_CHECKING:
    # These modules import the engine, which imports the step ports: typing them here only.
    from flows.convening_port import ConveningPort
    from flows.coordination import ActionItem
    from flows.loop_ports import LoopPort
    from flows.meeting_changes import MeetingChangesSource
    from flows.meeting_notes_ports import MeetingNotesPort


@dataclass(frozen=True, slots=True)
class UpcomingMeeting:
    """A meeting of an open case, as a reminder needs it: which, whose, when."""

    id: int
    case_id: int
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class WaitingPicture:
    """The newest shared picture of an open case, and the admitted family members who have
    not answered it yet."""

    picture: PictureInfo
    case_id: int
    waiting: tuple[int, ...]


class ReminderReadsPort(Protocol):
    """The reads reminder kinds need to find what is due; many cases at a time, few queries."""

    def meetings_between(self, start: datetime, end: datetime) -> Sequence[UpcomingMeeting]:
        """Meetings of open cases starting after `start` and no later than `end`."""
        ...

    def recipients_of(
        self,
        case_ids: Iterable[int],
        roles: Iterable[Role],
        *,
        group_first: bool,
        only: Mapping[int, frozenset[int]] | None = None,
    ) -> Mapping[int, Recipients]:
        """Where to reach these roles of these cases; `only` narrows each case's members;
        `group_first` reaches members seen in a group chat through it instead of privately."""
        ...

    def unanswered_pictures(
        self, published_after: datetime, published_before: datetime
    ) -> Sequence[WaitingPicture]:
        """Newest pictures published in the window that admitted members have not answered."""
        ...


@dataclass(frozen=True, slots=True)
class ActionToRemind:
    """An open action as a nudge or an escalation finds it due: ids, its date, whom to tell."""

    id: int
    case_id: int
    due_date: date
    recipients: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ActionText:
    """What a nudge in full wording says about an action: its case, its text, its date."""

    reference: str
    description: str
    due_date: date


@dataclass(frozen=True, slots=True)
class ReportMeeting:
    """A meeting of an open case a report or agenda is sent before."""

    id: int
    case_id: int
    starts_at: datetime
    follow_up: bool


class CoordinatorRemindersPort(Protocol):
    """What the coordinator side's reminder kinds read and mark (flows/coordinator_reminders.py).

    Each read takes many ids at a time, and what `due` read is kept for the transaction, so
    `compose`, called once per event, asks no further query for it.
    """

    def actions_to_nudge(self, due_by: date) -> Sequence[ActionToRemind]:
        """Open actions of open cases due by `due_by`, with their admitted owners."""
        ...

    def actions_to_escalate(self, due_by: date) -> Sequence[ActionToRemind]:
        """Open actions of open cases due by `due_by`, with their cases' coordinators."""
        ...

    def stages_sent(self, action_ids: Iterable[int]) -> set[tuple[int, int, date, str]]:
        """(action, person, due date, stage) already marked sent for these actions."""
        ...

    def mark_nudged(self, marks: Iterable[tuple[ActionToRemind, int, str]], now: datetime) -> None:
        """Marks (action, person, stage) sent as nudges, audited; in the tick's transaction."""
        ...

    def mark_escalated(
        self, marks: Iterable[tuple[ActionToRemind, int, str]], now: datetime
    ) -> None:
        """Marks (action, person, stage) sent as escalations, audited."""
        ...

    def action_texts(self, action_ids: Iterable[int]) -> Mapping[int, ActionText]:
        """What nudges say about these actions."""
        ...

    def case_references(self, case_ids: Iterable[int]) -> Mapping[int, str]:
        """The references (K-7) of these cases."""
        ...

    def meetings_starting(self, now: datetime, lead: timedelta) -> Sequence[ReportMeeting]:
        """Meetings of open cases starting within the lead time, soonest first."""
        ...

    def coordinators_to_tell(
        self, meetings: Sequence[ReportMeeting], keys: Callable[[int, int], tuple[str, ...]]
    ) -> Sequence[tuple[ReportMeeting, Sequence[int]]]:
        """Each meeting with its case's coordinators whose notices (dedup keys: `keys(meeting
        id, person id)`) the outbox does not hold yet; meetings with nobody left out."""
        ...

    def agenda_before(self, case_id: int, at: datetime) -> Agenda:
        """What is shared with the meeting of a case that follows `at`."""
        ...

    def professionals_to_tell(
        self, meetings: Sequence[ReportMeeting], keys: Callable[[int, int], tuple[str, ...]]
    ) -> Sequence[tuple[ReportMeeting, Sequence[int]]]:
        """Each meeting with its case's professionals not yet sent their agenda."""
        ...

    def agenda_for_reader(self, case_id: int, person_id: int, at: datetime) -> Agenda:
        """The agenda of the meeting after `at` as one professional may read it."""
        ...

    def plan_of(self, case_id: int) -> Sequence[ActionItem]:
        """A case's plan, as reports show it."""
        ...

    def failed_reports(self, since: datetime) -> Sequence[tuple[int, int]]:
        """(outbox id, person) of reports created after `since` that finally failed."""
        ...

    def failed_report_cases(self, outbox_ids: Iterable[int]) -> Mapping[int, str]:
        """The case reference each of these failed reports named."""
        ...


@dataclass(frozen=True, slots=True)
class FailedFamilyReport:
    """A family member's follow-up that could not be delivered: whom of the staff to tell."""

    outbox_id: int
    coordinator_id: int
    case_id: int
    role: Role


@dataclass(frozen=True, slots=True)
class ClosedCase:
    """A case closed recently, and who of its members is told (family and professionals)."""

    case_id: int
    reference: str
    closed_at: datetime
    members: tuple[tuple[int, Role], ...]


class FamilyReportsPort(Protocol):
    """What the family's follow-up and the closing notices read (flows/family_reports.py)."""

    def family_to_tell(
        self, meetings: Sequence[ReportMeeting], keys: Callable[[int, int], tuple[str, ...]]
    ) -> Sequence[tuple[ReportMeeting, Sequence[int]]]:
        """Each meeting with the family members of its case the bot may reach (consent in
        effect) whose notices (`keys(meeting id, person id)`) the outbox does not hold yet."""
        ...

    def failed_family_reports(self, since: datetime) -> Sequence[FailedFamilyReport]:
        """Family follow-ups created after `since` that finally failed, one per coordinator
        of their case."""
        ...

    def closed_since(self, since: datetime) -> Sequence[ClosedCase]:
        """Cases closed after `since`, with the members to tell."""
        ...


class ReminderPorts(Protocol):
    """Everything a reminder kind may use, bound to one transaction."""

    @property
    def reminders(self) -> ReminderReadsPort:
        """The reminder kinds' reads."""
        ...

    @property
    def coordinator_reminders(self) -> CoordinatorRemindersPort:
        """The coordinator side's reads and marks."""
        ...

    @property
    def family_reports(self) -> FamilyReportsPort:
        """The family's follow-up and closing notices' reads."""
        ...

    @property
    def meeting_changes(self) -> MeetingChangesSource:
        """Series kept ahead, booked in the tick's transaction."""
        ...

    @property
    def convening(self) -> ConveningPort:
        """Meeting requests still waiting for an answer."""
        ...

    @property
    def meeting_notes(self) -> MeetingNotesPort:
        """Meetings that ended without notes."""
        ...

    @property
    def loop(self) -> LoopPort:
        """The check-in's answers and answers to comments."""
        ...
