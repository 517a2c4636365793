"""The shared facts every in-memory port reads and writes: people, cases, memberships, meetings.

One `World` per test; each port object (testkit/memory/*.py) holds a reference to it, so what
one port writes (a member joins, a meeting is booked, a locale is chosen) the others read, as
the database makes them agree in production. Keep this additive: other fakes share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flows.conversation import ConversationRef
from flows.domain import (
    CONSENTING_ROLES,
    Actor,
    ConsentScope,
    ConsentStatus,
    MeetingInfo,
    MeetingKind,
    Role,
)
from testkit.memory.coord_facts import CoordinationFacts


@dataclass
class Person:
    """Someone the bot knows: a display name and the language they read."""

    id: int
    name: str
    locale: str = "sv"


@dataclass
class Organisation:
    """A verksamhet (BUP, skola, …) with its kind and the operator's own description."""

    id: int
    name: str
    kind: str = "other"
    description: str | None = None


@dataclass
class Case:
    """An ärende, centred on one young person, with its organisations."""

    id: int
    reference: str
    closed: bool = False
    organisations: list[int] = field(default_factory=list)


@dataclass
class Membership:
    """A person's part in one case: role, name shown there, organisation (for staff)."""

    person_id: int
    case_id: int
    role: Role
    display_name: str
    organisation_id: int | None = None
    active: bool = True


@dataclass
class Meeting:
    """A booked meeting of a case: when, where, and its video link."""

    id: int
    case_id: int
    starts_at: datetime
    ends_at: datetime
    place: str | None = None
    link: str | None = None
    kind: MeetingKind = MeetingKind.FIRST
    sequence: int = 0
    cancelled: bool = False

    def info(self) -> MeetingInfo:
        """The meeting as flows read it."""
        minutes = int((self.ends_at - self.starts_at).total_seconds() // 60)
        return MeetingInfo(
            self.id, self.kind, self.starts_at, minutes, self.place, self.link, self.sequence
        )


@dataclass
class Invite:
    """An invite code for one role in one case; used once."""

    code: str
    case_id: int
    role: Role
    display_name: str
    organisation_id: int | None = None
    person_id: int | None = None  # invite an existing person (a second case), else a new one
    used_by: int | None = None


@dataclass(frozen=True)
class ConsentAnswer:
    """One recorded consent answer (given_by: a caregiver answering for a child)."""

    person_id: int
    case_id: int
    scope: ConsentScope
    given: bool
    given_by: int | None
    at: datetime


@dataclass
class World:
    """Everything shared between the in-memory ports of one test."""

    people: dict[int, Person] = field(default_factory=dict)
    organisations: dict[int, Organisation] = field(default_factory=dict)
    cases: dict[int, Case] = field(default_factory=dict)
    memberships: list[Membership] = field(default_factory=list)
    meetings: dict[int, Meeting] = field(default_factory=dict)
    invites: dict[str, Invite] = field(default_factory=dict)
    # Who is behind a chat user (platform, user id): the person, as the conversations table.
    chat_users: dict[tuple[str, str], int] = field(default_factory=dict)
    # Where each person was seen (private chats and family group chats), oldest first.
    chats: list[tuple[int, ConversationRef]] = field(default_factory=list)
    # Consent answers, oldest first; the newest of each kind counts (storage/consent).
    consents: list[ConsentAnswer] = field(default_factory=list)
    # Whether a young person said they are under the consent age (only the answer is kept).
    under_age: dict[int, bool] = field(default_factory=dict)
    # Samtycke till informationsutbyte per organisation: (person, case) → organisation → yes.
    exchange_consents: dict[tuple[int, int], dict[int, bool]] = field(default_factory=dict)
    # Tests of engine mechanics start with consent given; consent tests turn this off.
    assume_consent: bool = True
    # One counter per kind of id ("person", "case", "meeting", "item", …), as sequences.
    counters: dict[str, int] = field(default_factory=dict)
    # The coordinator side's rows: coordinators, the plan, series, requests, suggestions.
    coord: CoordinationFacts = field(default_factory=CoordinationFacts)

    def next_id(self, kind: str) -> int:
        """A fresh id of one kind, never reused."""
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    # --- building a test's world ---------------------------------------------------------

    def case(self, reference: str | None = None) -> Case:
        """Opens a new case."""
        case_id = self.next_id("case")
        case = Case(case_id, reference or f"K-{case_id}")
        self.cases[case_id] = case
        return case

    def organisation(
        self, name: str, kind: str = "other", case_id: int | None = None
    ) -> Organisation:
        """Adds an organisation, taking part in a case when one is given."""
        organisation = Organisation(self.next_id("organisation"), name, kind)
        self.organisations[organisation.id] = organisation
        if case_id is not None:
            self.cases[case_id].organisations.append(organisation.id)
        return organisation

    def person(
        self,
        name: str,
        role: Role,
        case_id: int,
        *,
        locale: str = "sv",
        organisation_id: int | None = None,
    ) -> Person:
        """Adds a person who is already a member of a case in a role."""
        person = Person(self.next_id("person"), name, locale)
        self.people[person.id] = person
        self.join(person.id, case_id, role, name, organisation_id)
        return person

    def join(
        self,
        person_id: int,
        case_id: int,
        role: Role,
        display_name: str,
        organisation_id: int | None = None,
    ) -> Membership:
        """Makes a person an active member of a case."""
        membership = Membership(person_id, case_id, role, display_name, organisation_id)
        self.memberships.append(membership)
        if organisation_id is not None and organisation_id not in self.cases[case_id].organisations:
            self.cases[case_id].organisations.append(organisation_id)
        return membership

    def invite(
        self,
        code: str,
        case_id: int,
        role: Role,
        display_name: str,
        organisation_id: int | None = None,
    ) -> Invite:
        """Creates an invite code for a new member of a case."""
        invite = Invite(code, case_id, role, display_name, organisation_id)
        self.invites[code] = invite
        return invite

    def meeting(
        self,
        case_id: int,
        starts_at: datetime,
        minutes: int = 60,
        *,
        place: str | None = "Skolan, rum 2",
        link: str | None = None,
        kind: MeetingKind = MeetingKind.FIRST,
    ) -> Meeting:
        """Books a meeting of a case."""
        meeting = Meeting(
            self.next_id("meeting"),
            case_id,
            starts_at,
            starts_at + timedelta(minutes=minutes),
            place,
            link,
            kind,
        )
        self.meetings[meeting.id] = meeting
        return meeting

    def bind_chat(self, ref: ConversationRef, person_id: int) -> None:
        """Says which person a chat user is (as after joining with a code)."""
        self.chat_users[(ref.platform, ref.user_id)] = person_id

    # --- reads every port shares ---------------------------------------------------------

    def person_behind(self, ref: ConversationRef) -> int | None:
        """The person behind a chat user, if any."""
        return self.chat_users.get((ref.platform, ref.user_id))

    def membership(self, person_id: int, case_id: int) -> Membership | None:
        """A person's active membership of an open case."""
        case = self.cases.get(case_id)
        if case is None or case.closed:
            return None
        return next(
            (
                m
                for m in self.memberships
                if m.person_id == person_id and m.case_id == case_id and m.active
            ),
            None,
        )

    def memberships_of(self, person_id: int) -> list[Membership]:
        """A person's active memberships of open cases, oldest first."""
        return [m for m in self.memberships if m.person_id == person_id and self._open(m)]

    def members(self, case_id: int, roles: frozenset[Role] | None = None) -> list[Membership]:
        """The active members of a case (of these roles), in the order they joined."""
        return [
            m
            for m in self.memberships
            if m.case_id == case_id and self._open(m) and (roles is None or m.role in roles)
        ]

    def actor(self, membership: Membership) -> Actor:
        """The flows' view of a member."""
        person = self.people[membership.person_id]
        return Actor(
            membership.person_id,
            membership.case_id,
            membership.role,
            membership.display_name,
            person.locale,
        )

    def name(self, person_id: int, case_id: int) -> str:
        """The name a person is shown by in a case."""
        membership = self.membership(person_id, case_id)
        return membership.display_name if membership else self.people[person_id].name

    def consent_status(self, person_id: int, case_id: int) -> ConsentStatus:
        """Where a person's consents stand: the newest answer of each kind counts."""
        latest: dict[tuple[ConsentScope, bool], bool] = {}
        for answer in self.consents:
            if (answer.person_id, answer.case_id) == (person_id, case_id):
                latest[(answer.scope, answer.given_by is not None)] = answer.given
        # Assumed consent is the first answer the family gave; a later answer of one kind (a
        # SIP changed in /samtycke) replaces that kind alone, as stored answers do.
        assumed = True if self.assume_consent else None
        return ConsentStatus(
            bot=latest.get((ConsentScope.BOT, False), assumed),
            sip=latest.get((ConsentScope.SIP, False), assumed),
            under_age_limit=self.under_age.get(person_id),
            guardian=latest.get((ConsentScope.BOT, True)),
        )

    def admitted(self, person_id: int, case_id: int) -> bool:
        """The access gate's rule: an active member, whose consent is in effect when their
        role is asked for it (storage/access.py)."""
        membership = self.membership(person_id, case_id)
        if membership is None:
            return False
        if membership.role not in CONSENTING_ROLES:
            return True
        return self.consent_status(person_id, case_id).effective

    def meetings_of(self, case_id: int) -> list[Meeting]:
        """The case's booked meetings (not cancelled), earliest first."""
        return sorted(
            (m for m in self.meetings.values() if m.case_id == case_id and not m.cancelled),
            key=lambda m: m.starts_at,
        )

    def next_meeting(self, case_id: int, now: datetime) -> Meeting | None:
        """The case's next meeting that has not started."""
        return next((m for m in self.meetings_of(case_id) if m.starts_at > now), None)

    def _open(self, membership: Membership) -> bool:
        """True for an active membership of a case that is not closed."""
        case = self.cases.get(membership.case_id)
        return membership.active and case is not None and not case.closed
