"""What only the coordinator side keeps: coordinators, the plan, series, requests answered.

`World.coord` holds one of these, so the coordination, meeting-change and convening fakes
(and any other port that needs them) agree, as the tables agree in production. Nothing here
imports the World: the World imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flows.coordination import ActionStatus, OwnerKind


@dataclass
class CoordinatorRecord:
    """A coordinator: may they open cases (an operator made them), and their current case."""

    may_open_cases: bool = True
    current_case_id: int | None = None


@dataclass
class ActionUpdateRecord:
    """One lägesrapport (or an edit, kept as an entry with no note)."""

    at: datetime
    author_id: int | None
    status: ActionStatus
    note: str | None = None
    new_due: date | None = None


@dataclass
class ActionRecord:
    """A plan action: what, whose, by when, where it stands, and its history."""

    id: int
    case_id: int
    description: str
    owner_kind: OwnerKind
    owner_id: int | None
    due: date
    status: ActionStatus = ActionStatus.OPEN
    history: list[ActionUpdateRecord] = field(default_factory=list)


@dataclass
class SeriesRecord:
    """A fixed slot of meetings ("varannan tisdag 13.00") kept booked ahead."""

    id: str
    case_id: int
    weeks: int
    local_time: str
    booked_until: date | None
    created_at: datetime
    stopped_at: datetime | None = None


@dataclass
class RequestRecord:
    """A family member's request for a meeting, and whether it was answered."""

    id: int
    case_id: int
    requested_by: int | None
    reason: str | None
    created_at: datetime
    answered_at: datetime | None = None
    answer: str | None = None


@dataclass
class SuggestionRecord:
    """Someone who matters, suggested by the family, and the coordinator's decision."""

    id: int
    case_id: int
    suggested_by: int | None
    name: str
    relation: str
    created_at: datetime
    decided_at: datetime | None = None
    approved: bool | None = None


@dataclass
class CoordinationFacts:
    """The coordinator side's rows, shared by the fakes of one test."""

    coordinators: dict[int, CoordinatorRecord] = field(default_factory=dict)
    # An operator's unused coordinator codes, with the name the coordinator is given.
    coordinator_codes: dict[str, str] = field(default_factory=dict)
    # The young person's name a case was opened with (CaseProfile).
    youth_names: dict[int, str] = field(default_factory=dict)
    actions: dict[int, ActionRecord] = field(default_factory=dict)
    series: dict[str, SeriesRecord] = field(default_factory=dict)
    # Which series a meeting belongs to (the World's Meeting has no series of its own).
    meeting_series: dict[int, str] = field(default_factory=dict)
    # When each unused invite code stops working.
    invite_expiry: dict[str, datetime] = field(default_factory=dict)
    # E-mail invites: the chat key an address is kept under, and the address (never logged).
    email_addresses: dict[str, str] = field(default_factory=dict)
    requests: dict[int, RequestRecord] = field(default_factory=dict)
    suggestions: dict[int, SuggestionRecord] = field(default_factory=dict)
    # Who did what (action, object id), never content: the audit log's shape.
    audit: list[tuple[int | None, int | None, str, int | None]] = field(default_factory=list)
