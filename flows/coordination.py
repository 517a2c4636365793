"""Domain values and the port of the coordinator side: cases, invites, meetings, the plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from flows.domain import Agenda, MeetingInfo, MeetingKind, Role
from flows.engine import StepContext

# A coordinator who has no case yet is an actor of this case id: the flow shows "open a case".
NO_CASE = 0


class ActionStatus(StrEnum):
    """Where a plan action is (lägesrapport)."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def is_closed(self) -> bool:
        """Done or cancelled: no more reminders."""
        return self in (ActionStatus.DONE, ActionStatus.CANCELLED)


class OwnerKind(StrEnum):
    """Who owns an action: a member, an organisation, or the family."""

    PERSON = "p"
    ORGANISATION = "o"
    FAMILY = "family"


@dataclass(frozen=True, slots=True)
class Owner:
    """The owner of an action; `key` is "p:12", "o:3" or "family"."""

    kind: OwnerKind
    id: int | None
    name: str

    @property
    def key(self) -> str:
        """A stable text form for choices and state."""
        return self.kind.value if self.id is None else f"{self.kind.value}:{self.id}"


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """A case as a coordinator sees it in lists."""

    id: int
    reference: str
    youth_name: str
    open: bool


@dataclass(frozen=True, slots=True)
class MemberItem:
    """Someone who has joined a case."""

    person_id: int
    name: str
    role: Role
    organisation: str | None


@dataclass(frozen=True, slots=True)
class InviteItem:
    """An invite that has not been used yet."""

    name: str
    role: Role
    organisation: str | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OrganisationItem:
    """An organisation taking part in a case."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class ActionUpdateItem:
    """One lägesrapport in an action's history."""

    at: datetime
    author: str | None
    status: ActionStatus
    note: str | None
    new_due: date | None


@dataclass(frozen=True, slots=True)
class EmailInvite:
    """An invite on its way by e-mail: the code, and the opaque key its address has."""

    code: str
    chat_key: str


@dataclass(frozen=True, slots=True)
class ActionItem:
    """A plan action with its owner and current status."""

    id: int
    case_id: int
    case_reference: str
    description: str
    owner: Owner
    due: date
    status: ActionStatus
    history: tuple[ActionUpdateItem, ...] = ()


@dataclass(frozen=True, slots=True)
class NewAction:
    """An action the coordinator is about to add."""

    owner: Owner
    description: str
    due: date


class CoordinationPort(Protocol):
    """Everything the coordinator and professional flows read and change."""

    def may_open_cases(self, person_id: int) -> bool:
        """True for coordinators an operator created."""
        ...

    def open_case(self, person_id: int, youth_name: str, now: datetime) -> CaseSummary:
        """Opens a case with this coordinator as its coordinator, and makes it current."""
        ...

    def cases_of(self, person_id: int) -> Sequence[CaseSummary]:
        """The open cases this person coordinates."""
        ...

    def select_case(self, person_id: int, case_id: int, now: datetime) -> bool:
        """Makes one of this coordinator's cases the one they work on."""
        ...

    def case(self, case_id: int) -> CaseSummary | None:
        """One case."""
        ...

    def close_case(self, case_id: int, person_id: int, now: datetime) -> None:
        """Closes a case: no more reminders, members can no longer reach it."""
        ...

    def organisations(self, case_id: int) -> Sequence[OrganisationItem]:
        """The organisations taking part in a case."""
        ...

    def add_organisation(self, case_id: int, name: str) -> OrganisationItem:
        """Adds an organisation to a case (reusing one with the same name)."""
        ...

    def members(self, case_id: int) -> Sequence[MemberItem]:
        """Who has joined a case."""
        ...

    def open_invites(self, case_id: int, now: datetime) -> Sequence[InviteItem]:
        """Invites not yet used and not expired."""
        ...

    def create_invite(
        self,
        case_id: int,
        role: Role,
        name: str,
        organisation_id: int | None,
        created_by: int,
        now: datetime,
    ) -> str:
        """A new single-use invite code; only its hash is stored."""
        ...

    def invite_by_email(
        self,
        case_id: int,
        name: str,
        organisation_id: int | None,
        created_by: int,
        address: str,
        now: datetime,
    ) -> EmailInvite:
        """A professional's invite that goes to an e-mail address: its code and the chat
        key the address is kept under (the e-mail's outbox chat)."""
        ...

    def schedule_meetings(
        self,
        case_id: int,
        kind: MeetingKind,
        starts: Sequence[datetime],
        remote_link: str | None,
        series: tuple[int, int, str] | None,
        now: datetime,
    ) -> list[int]:
        """Adds meetings; a series (weekday, interval weeks, "HH.MM") links them."""
        ...

    def upcoming_meetings(self, case_id: int, now: datetime) -> Sequence[MeetingInfo]:
        """Meetings of a case that have not started, soonest first."""
        ...

    def agenda(self, case_id: int, now: datetime) -> Agenda:
        """What people shared before the next meeting."""
        ...

    def owners(self, case_id: int) -> Sequence[Owner]:
        """Who can own an action in a case: organisations, members, the family."""
        ...

    def actions(
        self, case_id: int, viewer: int, with_history: bool = False
    ) -> Sequence[ActionItem]:
        """The plan of a case as this member may see it, by due date."""
        ...

    def family_plan(self, case_id: int, viewer: int) -> Sequence[ActionItem]:
        """The whole plan as the family sees it: what, who, by when, status; no history.
        Refused (AccessRefused) for anyone but an admitted family member of the case."""
        ...

    def action(self, action_id: int, viewer: int) -> ActionItem | None:
        """One action with its history; None when it does not exist for this member."""
        ...

    def add_actions(
        self, case_id: int, actions: Sequence[NewAction], author_id: int, now: datetime
    ) -> list[int]:
        """Adds actions to the plan."""
        ...

    def change_action(
        self,
        action_id: int,
        author_id: int,
        now: datetime,
        *,
        description: str | None = None,
        owner: Owner | None = None,
    ) -> bool:
        """Edits or reassigns an action (kept in its history)."""
        ...

    def record_update(
        self,
        action_id: int,
        author_id: int,
        status: ActionStatus,
        note: str | None,
        new_due: date | None,
        now: datetime,
    ) -> bool:
        """Adds a lägesrapport; a new date moves the due date."""
        ...

    def actions_owned_by(self, person_id: int) -> Sequence[ActionItem]:
        """Open actions this person owns, directly, through their organisation or family."""
        ...

    def may_update(self, action_id: int, person_id: int) -> bool:
        """True when this person owns the action, or coordinates its case."""
        ...

    def family_to_tell(self, action_id: int, author_id: int) -> Sequence[int]:
        """The family members (youth, caregivers, network) a reminder may reach, who are to
        hear that this action changed; never the author; empty unless the author may update it."""
        ...


def coordination(ctx: StepContext) -> CoordinationPort:
    """The coordination port of this step's transaction."""
    return ctx.ports.coordination
