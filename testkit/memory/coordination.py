"""The coordination port in memory: cases, organisations, invites, meetings and the plan.

Mirrors storage/coordinators_repository.py with the access gate's rules kept honest:
only a case's coordinators open, add to or edit its plan; an action's owner or a coordinator
reports on it (rule 6); coordinators and professionals read the whole plan, others what they
own (rule 5); the family reads the family's view of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flows.coordination import (
    ActionItem,
    ActionStatus,
    ActionUpdateItem,
    CaseSummary,
    EmailInvite,
    InviteItem,
    MemberItem,
    NewAction,
    OrganisationItem,
    Owner,
    OwnerKind,
)
from flows.domain import (
    FAMILY_ROLES,
    AccessRefused,
    Agenda,
    MeetingInfo,
    MeetingKind,
    Role,
)
from flows.ports import AgendaPort
from testkit.memory.coord_facts import (
    ActionRecord,
    ActionUpdateRecord,
    CoordinatorRecord,
    SeriesRecord,
)
from testkit.memory.world import Meeting, Person, World

INVITE_VALID_FOR = timedelta(days=14)
# Who reads a case's whole plan (storage/access.py rule 5).
PLAN_READERS = frozenset({Role.COORDINATOR, Role.PROFESSIONAL})
# The family as an owner has no name of its own: texts show the catalogue's word for it.
FAMILY_NAME = ""
# A booking by schedule_meetings has no length of its own (as the repository's default).
DEFAULT_MINUTES = 90


def coordinates(world: World, person_id: int, case_id: int) -> bool:
    """True when the person is an active coordinator of this open case."""
    membership = world.membership(person_id, case_id)
    return membership is not None and membership.role is Role.COORDINATOR


def require_coordinator(world: World, person_id: int, case_id: int, action: str) -> None:
    """The gate's "only the case's coordinator", audited; raises AccessRefused for others."""
    if not coordinates(world, person_id, case_id):
        raise AccessRefused("only the case's coordinator")
    world.coord.audit.append((person_id, case_id, action, None))


def meeting_info(world: World, meeting: Meeting) -> MeetingInfo:
    """A World meeting as flows read it, with the series it belongs to."""
    info = meeting.info()
    series = world.coord.meeting_series.get(meeting.id)
    return info if series is None else _with_series(info, series)


def _with_series(info: MeetingInfo, series_id: str) -> MeetingInfo:
    """The same meeting, marked as part of a series."""
    return MeetingInfo(
        info.id,
        info.kind,
        info.starts_at,
        info.duration_minutes,
        info.place,
        info.remote_link,
        info.sequence,
        series_id,
    )


@dataclass
class MemoryCoordination:
    """Implements flows.coordination.CoordinationPort on a World."""

    world: World
    # What people shared, read as the whole meeting reads it (storage's agenda is the
    # sharing repository's too); without it, nothing is shared.
    sharing: AgendaPort | None = None

    # --- coordinators and cases ----------------------------------------------------------

    def make_coordinator(self, name: str, locale: str = "sv") -> int:
        """A coordinator an operator created (a test's seed; no case yet); their person id."""
        person_id = self.world.next_id("person")
        self.world.people[person_id] = Person(person_id, name, locale)
        self.world.coord.coordinators[person_id] = CoordinatorRecord(may_open_cases=True)
        return person_id

    def may_open_cases(self, person_id: int) -> bool:
        """True for coordinators an operator created."""
        record = self.world.coord.coordinators.get(person_id)
        return record is not None and record.may_open_cases

    def open_case(self, person_id: int, youth_name: str, now: datetime) -> CaseSummary:
        """Opens a case (K-n) with this person as its coordinator, and makes it current."""
        case = self.world.case()
        self.world.coord.youth_names[case.id] = youth_name
        self.world.join(person_id, case.id, Role.COORDINATOR, self.world.people[person_id].name)
        self.select_case(person_id, case.id, now)
        self.world.coord.audit.append((person_id, case.id, "case.open", case.id))
        return CaseSummary(case.id, case.reference, youth_name, True)

    def cases_of(self, person_id: int) -> Sequence[CaseSummary]:
        """The open cases this person coordinates, oldest first."""
        ids = sorted(
            m.case_id for m in self.world.memberships_of(person_id) if m.role is Role.COORDINATOR
        )
        return [c for c in (self.case(i) for i in ids) if c is not None]

    def select_case(self, person_id: int, case_id: int, now: datetime) -> bool:
        """Makes one of this coordinator's cases the one they work on."""
        if not coordinates(self.world, person_id, case_id):
            return False
        record = self.world.coord.coordinators.setdefault(
            person_id, CoordinatorRecord(may_open_cases=False)
        )
        record.current_case_id = case_id
        return True

    def case(self, case_id: int) -> CaseSummary | None:
        """One case with its young person's name."""
        case = self.world.cases.get(case_id)
        if case is None:
            return None
        name = self.world.coord.youth_names.get(case_id)
        if name is None:
            youth = [m for m in self.world.memberships if m.case_id == case_id]
            name = next((m.display_name for m in youth if m.role is Role.YOUTH), "–")
        return CaseSummary(case.id, case.reference, name, not case.closed)

    def close_case(self, case_id: int, person_id: int, now: datetime) -> None:
        """Closes a case: no more reminders, members can no longer reach it."""
        self.world.cases[case_id].closed = True
        self.world.coord.audit.append((person_id, case_id, "case.close", case_id))

    # --- organisations, members, invites -------------------------------------------------

    def organisations(self, case_id: int) -> Sequence[OrganisationItem]:
        """The organisations taking part in a case, in the order they were added."""
        case = self.world.cases[case_id]
        return [OrganisationItem(o, self.world.organisations[o].name) for o in case.organisations]

    def add_organisation(self, case_id: int, name: str) -> OrganisationItem:
        """Adds an organisation to a case (reusing one with the same name)."""
        existing = next(
            (o for o in self.world.organisations.values() if o.name.casefold() == name.casefold()),
            None,
        )
        if existing is None:
            existing = self.world.organisation(name)
        case = self.world.cases[case_id]
        if existing.id not in case.organisations:
            case.organisations.append(existing.id)
        return OrganisationItem(existing.id, existing.name)

    def members(self, case_id: int) -> Sequence[MemberItem]:
        """Who has joined a case, in the order they joined."""
        return [
            MemberItem(
                m.person_id,
                m.display_name,
                m.role,
                self._organisation_name(m.organisation_id),
            )
            for m in self.world.memberships
            if m.case_id == case_id and m.active
        ]

    def open_invites(self, case_id: int, now: datetime) -> Sequence[InviteItem]:
        """Invites not yet used and not expired."""
        expiry = self.world.coord.invite_expiry
        return [
            InviteItem(
                invite.display_name,
                invite.role,
                self._organisation_name(invite.organisation_id),
                expiry[code],
            )
            for code, invite in self.world.invites.items()
            if invite.case_id == case_id
            and invite.used_by is None
            and code in expiry
            and expiry[code] > now
        ]

    def create_invite(
        self,
        case_id: int,
        role: Role,
        name: str,
        organisation_id: int | None,
        created_by: int,
        now: datetime,
    ) -> str:
        """A new single-use code for this case and role (readable: a test types it)."""
        code = f"K{case_id}-{role.value}-{self.world.next_id('invite')}"
        self.world.invite(code, case_id, role, name, organisation_id)
        self.world.coord.invite_expiry[code] = now + INVITE_VALID_FOR
        self.world.coord.audit.append((created_by, case_id, "invite.create", None))
        return code

    def invite_by_email(
        self,
        case_id: int,
        name: str,
        organisation_id: int | None,
        created_by: int,
        address: str,
        now: datetime,
    ) -> EmailInvite:
        """A professional's invite that goes to an e-mail address: its code and chat key."""
        code = self.create_invite(
            case_id, Role.PROFESSIONAL, name, organisation_id, created_by, now
        )
        key = f"email:{self.world.next_id('email')}"
        self.world.coord.email_addresses[key] = address
        return EmailInvite(code, key)

    # --- meetings and agenda -------------------------------------------------------------

    def schedule_meetings(
        self,
        case_id: int,
        kind: MeetingKind,
        starts: Sequence[datetime],
        remote_link: str | None,
        series: tuple[int, int, str] | None,
        now: datetime,
    ) -> list[int]:
        """Adds meetings; the first has `kind`, later ones of a series are follow-ups."""
        series_id: str | None = None
        if series is not None:
            _weekday, weeks, local_time = series
            series_id = f"s{self.world.next_id('series')}"
            self.world.coord.series[series_id] = SeriesRecord(
                series_id, case_id, weeks, local_time, None, now
            )
        ids = []
        for n, start in enumerate(starts):
            meeting = self.world.meeting(
                case_id,
                start,
                DEFAULT_MINUTES,
                place=None,
                link=remote_link,
                kind=kind if n == 0 else MeetingKind.FOLLOW_UP,
            )
            if series_id is not None:
                self.world.coord.meeting_series[meeting.id] = series_id
            ids.append(meeting.id)
        return ids

    def upcoming_meetings(self, case_id: int, now: datetime) -> Sequence[MeetingInfo]:
        """Meetings of a case that have not started, soonest first."""
        return [
            meeting_info(self.world, m)
            for m in self.world.meetings_of(case_id)
            if m.starts_at > now
        ]

    def agenda(self, case_id: int, now: datetime) -> Agenda:
        """What people shared before the next meeting (the sharing fake's agenda)."""
        if self.sharing is not None:
            return self.sharing.agenda(case_id, now)
        meeting = self.world.next_meeting(case_id, now)
        return Agenda(
            self.world.cases[case_id].reference,
            None if meeting is None else meeting_info(self.world, meeting),
            (),
        )

    # --- the plan ------------------------------------------------------------------------

    def owners(self, case_id: int) -> Sequence[Owner]:
        """Organisations, then professional, network and coordinator members, then the family."""
        owners = [Owner(OwnerKind.ORGANISATION, o.id, o.name) for o in self.organisations(case_id)]
        owners += [
            Owner(OwnerKind.PERSON, m.person_id, m.name)
            for m in self.members(case_id)
            if m.role in (Role.PROFESSIONAL, Role.NETWORK, Role.COORDINATOR)
        ]
        owners.append(Owner(OwnerKind.FAMILY, None, FAMILY_NAME))
        return owners

    def actions(
        self, case_id: int, viewer: int, with_history: bool = False
    ) -> Sequence[ActionItem]:
        """The plan of a case as this member may see it (rule 5), by due date."""
        self._require(viewer, case_id)
        return [self._item(a, with_history) for a in self._plan(case_id) if self._sees(viewer, a)]

    def family_plan(self, case_id: int, viewer: int) -> Sequence[ActionItem]:
        """The whole plan as the family sees it (no history); refused for anyone else."""
        if self._require(viewer, case_id) not in FAMILY_ROLES:
            raise AccessRefused("the family's plan view")
        return [
            self._item(a) for a in self._plan(case_id) if a.status is not ActionStatus.CANCELLED
        ]

    def action(self, action_id: int, viewer: int) -> ActionItem | None:
        """One action with its history; None when it does not exist for this member."""
        record = self.world.coord.actions.get(action_id)
        if record is None or not self.world.admitted(viewer, record.case_id):
            return None
        return self._item(record, True) if self._sees(viewer, record) else None

    def add_actions(
        self, case_id: int, actions: Sequence[NewAction], author_id: int, now: datetime
    ) -> list[int]:
        """Adds actions to the plan (coordinators only); their history starts empty."""
        require_coordinator(self.world, author_id, case_id, "plan.add")
        ids = []
        for new in actions:
            record = ActionRecord(
                self.world.next_id("action"),
                case_id,
                new.description,
                new.owner.kind,
                new.owner.id,
                new.due,
            )
            self.world.coord.actions[record.id] = record
            ids.append(record.id)
        return ids

    def change_action(
        self,
        action_id: int,
        author_id: int,
        now: datetime,
        *,
        description: str | None = None,
        owner: Owner | None = None,
    ) -> bool:
        """Edits or reassigns an action (coordinators only), kept in its history."""
        record = self.world.coord.actions.get(action_id)
        if record is None:
            return False
        change = "reassigned" if owner is not None else "edited"
        require_coordinator(self.world, author_id, record.case_id, f"plan.{change}")
        if description is not None:
            record.description = description
        if owner is not None:
            record.owner_kind, record.owner_id = owner.kind, owner.id
        record.history.append(ActionUpdateRecord(now, author_id, record.status))
        return True

    def record_update(
        self,
        action_id: int,
        author_id: int,
        status: ActionStatus,
        note: str | None,
        new_due: date | None,
        now: datetime,
    ) -> bool:
        """Adds a lägesrapport (an owner or a coordinator, rule 6); a new date moves the due."""
        record = self.world.coord.actions.get(action_id)
        if record is None:
            return False
        if not self.may_update(action_id, author_id):
            raise AccessRefused("only the action's owner or the case's coordinator may report")
        record.status = status
        if new_due is not None:
            record.due = new_due
        record.history.append(ActionUpdateRecord(now, author_id, status, note, new_due))
        return True

    def actions_owned_by(self, person_id: int) -> Sequence[ActionItem]:
        """Open actions this person owns, directly, through their organisation or family."""
        cases = {
            m.case_id
            for m in self.world.memberships_of(person_id)
            if self.world.admitted(person_id, m.case_id)
        }
        mine = [
            a
            for a in self.world.coord.actions.values()
            if a.case_id in cases and not a.status.is_closed and self._owns(person_id, a)
        ]
        return [self._item(a) for a in sorted(mine, key=lambda a: (a.due, a.id))]

    def may_update(self, action_id: int, person_id: int) -> bool:
        """True when this person owns the action, or coordinates its case."""
        record = self.world.coord.actions.get(action_id)
        if record is None or not self.world.admitted(person_id, record.case_id):
            return False
        return coordinates(self.world, person_id, record.case_id) or self._owns(person_id, record)

    def family_to_tell(self, action_id: int, author_id: int) -> Sequence[int]:
        """The admitted family members to hear of a change, never the author; empty unless
        the author may update the action."""
        record = self.world.coord.actions.get(action_id)
        if record is None or not self.may_update(action_id, author_id):
            return []
        return sorted(
            {
                m.person_id
                for m in self.world.members(record.case_id, FAMILY_ROLES)
                if m.person_id != author_id and self.world.admitted(m.person_id, record.case_id)
            }
        )

    # --- helpers -------------------------------------------------------------------------

    def _require(self, person_id: int, case_id: int) -> Role:
        """Rules 1-2: an admitted member's role in the case, or AccessRefused."""
        membership = self.world.membership(person_id, case_id)
        if membership is None or not self.world.admitted(person_id, case_id):
            raise AccessRefused("not an active member of this open case")
        return membership.role

    def _plan(self, case_id: int) -> list[ActionRecord]:
        """A case's actions by due date."""
        return sorted(
            (a for a in self.world.coord.actions.values() if a.case_id == case_id),
            key=lambda a: (a.due, a.id),
        )

    def _sees(self, person_id: int, record: ActionRecord) -> bool:
        """Rule 5: coordinators and professionals see the whole plan, others what they own."""
        membership = self.world.membership(person_id, record.case_id)
        if membership is None:
            return False
        return membership.role in PLAN_READERS or self._owns(person_id, record)

    def _owns(self, person_id: int, record: ActionRecord) -> bool:
        """The action is this person's: named for them, their organisation's (as its
        professional), or the family's (as a caregiver)."""
        membership = self.world.membership(person_id, record.case_id)
        if membership is None:
            return False
        if record.owner_kind is OwnerKind.PERSON:
            return record.owner_id == person_id
        if record.owner_kind is OwnerKind.ORGANISATION:
            return (
                membership.role is Role.PROFESSIONAL
                and membership.organisation_id == record.owner_id
            )
        return membership.role is Role.CAREGIVER

    def _item(self, record: ActionRecord, with_history: bool = False) -> ActionItem:
        """An action record as a domain value."""
        history = (
            tuple(
                ActionUpdateItem(
                    u.at,
                    None if u.author_id is None else self.world.people[u.author_id].name,
                    u.status,
                    u.note,
                    u.new_due,
                )
                for u in record.history
            )
            if with_history
            else ()
        )
        return ActionItem(
            id=record.id,
            case_id=record.case_id,
            case_reference=self.world.cases[record.case_id].reference,
            description=record.description,
            owner=self._owner(record),
            due=record.due,
            status=record.status,
            history=history,
        )

    def _owner(self, record: ActionRecord) -> Owner:
        """The owner of an action, named."""
        if record.owner_kind is OwnerKind.PERSON and record.owner_id is not None:
            return Owner(OwnerKind.PERSON, record.owner_id, self.world.people[record.owner_id].name)
        if record.owner_kind is OwnerKind.ORGANISATION and record.owner_id is not None:
            org = self.world.organisations[record.owner_id]
            return Owner(OwnerKind.ORGANISATION, org.id, org.name)
        return Owner(OwnerKind.FAMILY, None, FAMILY_NAME)

    def _organisation_name(self, organisation_id: int | None) -> str | None:
        """An organisation's name, or None."""
        return None if organisation_id is None else self.world.organisations[organisation_id].name
