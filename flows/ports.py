"""The ports flows talk through; storage implements them, tests may fake them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from flows.conversation import ConversationRef
from flows.domain import (
    Actor,
    Agenda,
    ConsentScope,
    ConsentStatus,
    DataSummary,
    GuardianConsent,
    GuardianRequest,
    ItemKind,
    JoinResult,
    MeetingInfo,
    Participation,
    Preparation,
    QuestionItem,
    Role,
    ViewAspect,
)
from flows.family_domain import PictureInfo, Recipients
from flows.family_ports import FamiliesPort
from flows.sharing_port import SharingPort

if TYPE_CHECKING:
    # flows.coordination imports the engine, which imports these ports.
    from flows.coordination import ActionItem


class MembershipPort(Protocol):
    """Who is behind a conversation, and joining cases with invite codes."""

    def actor_for(self, ref: ConversationRef) -> Actor | None:
        """The active member behind this conversation, or None for a stranger."""
        ...

    def former_member(self, ref: ConversationRef) -> Actor | None:
        """Someone stored behind this chat with no active membership of an open case (the
        case closed, or they left it), in their latest case; None when nobody is stored."""
        ...

    def redeem_invite(self, ref: ConversationRef, code: str, now: datetime) -> JoinResult:
        """Uses an invite code for this conversation's user."""
        ...

    def next_meeting(self, case_id: int, now: datetime) -> MeetingInfo | None:
        """The next meeting of a case that has not started yet."""
        ...


class PreparationPort(Protocol):
    """A person's own preparation: questions, view, participation, sharing."""

    def preparation(self, case_id: int, person_id: int) -> Preparation:
        """Everything this person has prepared for this case."""
        ...

    def add_question(self, case_id: int, person_id: int, text: str, now: datetime) -> int:
        """Stores a new, unshared question and returns its id."""
        ...

    def question(self, question_id: int, person_id: int) -> QuestionItem | None:
        """One of this person's own questions."""
        ...

    def edit_question(self, question_id: int, person_id: int, text: str, now: datetime) -> bool:
        """Changes the text of one of this person's questions."""
        ...

    def delete_question(self, question_id: int, person_id: int) -> bool:
        """Deletes one of this person's questions."""
        ...

    def set_view(
        self, case_id: int, person_id: int, aspect: ViewAspect, text: str, now: datetime
    ) -> None:
        """Writes (or rewrites) one part of this person's view."""
        ...

    def set_participation(
        self, case_id: int, person_id: int, participation: Participation, now: datetime
    ) -> None:
        """Records how this person wants to take part."""
        ...

    def set_shared(
        self, kind: ItemKind, item_id: int, person_id: int, shared: bool, now: datetime
    ) -> bool:
        """Shares or unshares one of this person's own items."""
        ...


class AgendaPort(Protocol):
    """Read side for the coordinator's agenda: shared items only."""

    def agenda(self, case_id: int, now: datetime) -> Agenda:
        """What people chose to share before the next meeting of a case."""
        ...


class PrivacyPort(Protocol):
    """Consent, the age question, export and erasure of one person's data."""

    def consent(self, person_id: int, case_id: int) -> ConsentStatus:
        """Where this person's consents stand in this case."""
        ...

    def record_consent(
        self,
        person_id: int,
        case_id: int,
        scope: ConsentScope,
        given: bool,
        text_version: str,
        now: datetime,
        given_by: int | None = None,
    ) -> None:
        """Records a consent given or declined (given_by: a caregiver consenting for a child)."""
        ...

    def record_age(self, person_id: int, under_limit: bool, age_limit: int, now: datetime) -> None:
        """Records only whether the person is under the consent age."""
        ...

    def withdraw(self, person_id: int, case_id: int, now: datetime) -> int:
        """Revokes the person's consents and stops sharing at once; returns items unshared."""
        ...

    def guardian_requests(self, caregiver_id: int, case_id: int) -> tuple[GuardianRequest, ...]:
        """Children in this case who wait for this caregiver's consent."""
        ...

    def guardian_consents(self, caregiver_id: int, case_id: int) -> tuple[GuardianConsent, ...]:
        """Children in this case under the age limit who said yes, with a caregiver's answer
        (none unless this person is a caregiver in the case)."""
        ...

    def withdraw_guardian_consent(
        self, youth_id: int, case_id: int, caregiver_id: int, now: datetime
    ) -> int:
        """A caregiver takes back the yes for a child: the child's sharing stops at once;
        returns the items unshared."""
        ...

    def caregivers(self, case_id: int) -> tuple[int, ...]:
        """Person ids of the active caregivers of a case."""
        ...

    def data_summary(self, person_id: int) -> DataSummary:
        """How much is stored about a person (for the export and before erasure)."""
        ...

    def erase(self, person_id: int, now: datetime) -> DataSummary:
        """Erases everything about the person; returns what was removed."""
        ...


class Ports(Protocol):
    """Everything a flow step may use, bound to one transaction."""

    @property
    def members(self) -> MembershipPort:
        """Membership and invites."""
        ...

    @property
    def preparation(self) -> PreparationPort:
        """A person's preparation."""
        ...

    @property
    def families(self) -> FamiliesPort:
        """The families' side: family list, meeting info, shared picture, requests, language."""
        ...

    @property
    def privacy(self) -> PrivacyPort:
        """Consent, export and erasure."""
        ...

    @property
    def sharing(self) -> SharingPort:
        """Who reads what is shared, the agenda per reader, consent per organisation."""
        ...


# --- what reminder kinds read (flows/reminders.py) -----------------------------------------


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
