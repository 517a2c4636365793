"""Repositories of the coordinator side: cases, invites with guess limits, the plan, nudges."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flows.conversation import ConversationRef
from flows.coordination import (
    NO_CASE,
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
    Actor,
    Agenda,
    JoinOutcome,
    JoinResult,
    MeetingInfo,
    MeetingKind,
    Role,
)
from storage import models as m
from storage.access import (
    AccessDenied,
    AccessGate,
    ActionOwnership,
    DueAction,
    Purpose,
    SystemGrant,
    Who,
)
from storage.db import execute_core, in_chunks
from storage.email_repository import EmailRepository
from storage.invite_codes import hash_code, new_code
from storage.repositories import (
    AgendaRepository,
    AuditRepository,
    CaseAdminRepository,
    MembershipRepository,
    _meeting_info,
)

INVITE_VALID_FOR = timedelta(days=14)
COORDINATOR_INVITE_VALID_FOR = timedelta(days=7)
# The statuses of an action that is still to be done (reminded of, escalated).
OPEN_STATUSES = tuple(s.value for s in ActionStatus if not s.is_closed)


@dataclass(frozen=True, slots=True)
class GuessLimit:
    """How many wrong codes a chat may try in a window before it is locked out for a while."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=30)


class GuardedMembershipRepository(MembershipRepository):
    """Membership with coordinators (who may have no case yet) and a limit on code guessing."""

    def __init__(self, session: Session, limit: GuessLimit | None = None) -> None:
        super().__init__(session)
        self._limit = limit or GuessLimit()

    def actor_for(self, ref: ConversationRef) -> Actor | None:
        """The member behind a chat; a coordinator works in the case they chose last."""
        # One prepared statement on every message (it was three: person, coordinator row,
        # membership), answering all three questions the rules below need.
        row = execute_core(
            self._s, _GUARDED_ACTOR_FOR, {"platform": ref.platform, "user_id": ref.user_id}
        ).first()
        if row is None:
            return None
        if row.current_case_id is not None and row.coordinates_current:
            return Actor(
                row.person_id, row.current_case_id, Role.COORDINATOR, row.display_name, row.locale
            )
        if row.case_id is not None:
            return Actor(row.person_id, row.case_id, row.role, row.display_name, row.locale)
        if row.is_coordinator:
            return Actor(row.person_id, NO_CASE, Role.COORDINATOR, row.display_name, row.locale)
        return None

    def redeem_invite(self, ref: ConversationRef, code: str, now: datetime) -> JoinResult:
        """Uses a case or coordinator code, unless this chat is locked out for guessing."""
        guessing = self._guessing(ref, now)
        if guessing.locked_until is not None and guessing.locked_until > now:
            return JoinResult(JoinOutcome.LOCKED)
        result = self._redeem_coordinator(ref, code, now)
        if result is None and self._for_closed_case(code):
            # A closed case takes nobody in; the code is not used up by trying.
            result = JoinResult(JoinOutcome.EXPIRED)
        if result is None:
            result = super().redeem_invite(ref, code, now)
        if result.outcome is JoinOutcome.UNKNOWN:
            self._count_failure(guessing, now)
            if guessing.locked_until is not None and guessing.locked_until > now:
                return JoinResult(JoinOutcome.LOCKED)
        elif result.outcome is JoinOutcome.JOINED:
            guessing.failures, guessing.locked_until = 0, None
        self._s.flush()
        return result

    def _for_closed_case(self, code: str) -> bool:
        """True when the code is an invite to a case that has been closed."""
        status = self._s.scalar(
            select(m.Case.status)
            .join(m.Invite, m.Invite.case_id == m.Case.id)
            .where(m.Invite.code_hash == hash_code(code))
        )
        return status is not None and status != "open"

    def _redeem_coordinator(
        self, ref: ConversationRef, code: str, now: datetime
    ) -> JoinResult | None:
        """Uses an operator's coordinator code; None when the code is not one."""
        invite = self._s.scalar(
            select(m.CoordinatorInvite)
            .where(m.CoordinatorInvite.code_hash == hash_code(code))
            .with_for_update()
        )
        if invite is None:
            return None
        claimed = self._claim(invite, ref, now)
        if isinstance(claimed, JoinResult):
            return claimed
        person = claimed
        coordinator = self._s.get(m.Coordinator, person.id)
        if coordinator is None:
            self._s.add(m.Coordinator(person_id=person.id, may_open_cases=True, created_at=now))
        else:
            coordinator.may_open_cases = True
        invite.used_at, invite.used_by_person_id = now, person.id
        self._s.flush()
        return JoinResult(JoinOutcome.JOINED, self.actor_for(ref))

    def _guessing(self, ref: ConversationRef, now: datetime) -> m.InviteGuessing:
        """This chat's count of wrong codes (a fresh window when the last one is over)."""
        row = self._s.scalar(
            select(m.InviteGuessing).where(
                m.InviteGuessing.platform == ref.platform,
                m.InviteGuessing.chat_id == ref.chat_id,
            )
        )
        if row is None:
            row = m.InviteGuessing(
                platform=ref.platform, chat_id=ref.chat_id, failures=0, window_started_at=now
            )
            try:
                with self._s.begin_nested():
                    self._s.add(row)
            except IntegrityError:
                # Two processes saw the first wrong code of this chat at once; use theirs.
                return self._guessing(ref, now)
        return row

    def _count_failure(self, row: m.InviteGuessing, now: datetime) -> None:
        """Counts one wrong code; too many in the window lock the chat out."""
        if row.window_started_at + self._limit.window <= now:
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        if row.failures >= self._limit.max_failures:
            row.locked_until = now + self._limit.lockout
            row.failures, row.window_started_at = 0, now


# The latest-joined active membership in an open case (as MembershipRepository.actor_for),
# whether the person is a coordinator, and whether they still actively coordinate the open
# case they chose last: correlated on the person, so the whole look-up is one round trip.
_LATEST_MEMBERSHIP = (
    select(m.Membership.id)
    .join(m.Case, m.Case.id == m.Membership.case_id)
    .where(
        m.Membership.person_id == m.Person.id,
        m.Membership.active.is_(True),
        m.Case.status == "open",
    )
    .order_by(m.Membership.joined_at.desc(), m.Membership.id.desc())
    .limit(1)
    .correlate(m.Person)
    .scalar_subquery()
)
_COORDINATES_CURRENT = (
    select(m.Membership.id)
    .join(m.Case, m.Case.id == m.Membership.case_id)
    .where(
        m.Membership.case_id == m.Coordinator.current_case_id,
        m.Membership.person_id == m.Person.id,
        m.Membership.role == Role.COORDINATOR,
        m.Membership.active.is_(True),
        m.Case.status == "open",
    )
    .correlate(m.Person, m.Coordinator)
    .exists()
)
_GUARDED_ACTOR_FOR = (
    select(
        m.Person.id.label("person_id"),
        m.Person.display_name,
        m.Person.locale,
        m.Coordinator.person_id.is_not(None).label("is_coordinator"),
        m.Coordinator.current_case_id,
        _COORDINATES_CURRENT.label("coordinates_current"),
        m.Membership.case_id,
        m.Membership.role,
    )
    .select_from(m.Person)
    .join(m.ChatIdentity, m.ChatIdentity.person_id == m.Person.id)
    .outerjoin(m.Coordinator, m.Coordinator.person_id == m.Person.id)
    .outerjoin(m.Membership, m.Membership.id == _LATEST_MEMBERSHIP)
    .where(
        m.ChatIdentity.platform == bindparam("platform"),
        m.ChatIdentity.external_user_id == bindparam("user_id"),
    )
)


def _coordinates(session: Session, person_id: int, case_id: int) -> bool:
    """True when the person is an active coordinator of this open case."""
    found = session.scalar(
        select(m.Membership.id)
        .join(m.Case, m.Case.id == m.Membership.case_id)
        .where(
            m.Membership.case_id == case_id,
            m.Membership.person_id == person_id,
            m.Membership.role == Role.COORDINATOR,
            m.Membership.active.is_(True),
            m.Case.status == "open",
        )
    )
    return found is not None


class CoordinationRepository:
    """Implements the coordination port: cases, organisations, invites, meetings, the plan
    (the plan behind the access gate, rules 5 and 6 of storage/access.py)."""

    def __init__(self, session: Session, gate: AccessGate | None = None) -> None:
        self._s = session
        self._gate = gate or AccessGate(session)

    # --- coordinators and cases ---------------------------------------------------------

    def create_coordinator_invite(
        self, display_name: str, now: datetime, valid_for: timedelta = COORDINATOR_INVITE_VALID_FOR
    ) -> str:
        """A one-time code for a new coordinator (operators); only its hash is kept."""
        code = new_code()
        self._s.add(
            m.CoordinatorInvite(
                display_name=display_name,
                code_hash=hash_code(code),
                created_at=now,
                expires_at=now + valid_for,
            )
        )
        self._s.flush()
        return code

    def may_open_cases(self, person_id: int) -> bool:
        """True for coordinators an operator created."""
        coordinator = self._s.get(m.Coordinator, person_id)
        return coordinator is not None and coordinator.may_open_cases

    def open_case(self, person_id: int, youth_name: str, now: datetime) -> CaseSummary:
        """Opens a case (K-n) with this person as coordinator and makes it their current case."""
        # The one way a case and its reference (K-n) are made, also by `samverkan case create`.
        case = CaseAdminRepository(self._s).create_case(now)
        self._s.add(m.CaseProfile(case_id=case.id, youth_name=youth_name, opened_by_id=person_id))
        self._s.add(
            m.Membership(
                case_id=case.id,
                person_id=person_id,
                role=Role.COORDINATOR,
                active=True,
                joined_at=now,
            )
        )
        self._s.flush()
        self.select_case(person_id, case.id, now)
        self._audit(now, person_id, case.id, "case.open", "case", case.id)
        return CaseSummary(case.id, case.reference, youth_name, True)

    def cases_of(self, person_id: int) -> Sequence[CaseSummary]:
        """Open cases this person coordinates, oldest first."""
        ids = self._s.scalars(
            select(m.Membership.case_id)
            .join(m.Case, m.Case.id == m.Membership.case_id)
            .where(
                m.Membership.person_id == person_id,
                m.Membership.role == Role.COORDINATOR,
                m.Membership.active.is_(True),
                m.Case.status == "open",
            )
            .order_by(m.Case.id)
        ).all()
        return [c for c in (self.case(i) for i in ids) if c is not None]

    def select_case(self, person_id: int, case_id: int, now: datetime) -> bool:
        """Makes a case this person coordinates their current one."""
        if not _coordinates(self._s, person_id, case_id):
            return False
        coordinator = self._s.get(m.Coordinator, person_id)
        if coordinator is None:
            coordinator = m.Coordinator(person_id=person_id, may_open_cases=False, created_at=now)
            self._s.add(coordinator)
        coordinator.current_case_id = case_id
        self._s.flush()
        return True

    def case(self, case_id: int) -> CaseSummary | None:
        """One case with its young person's name."""
        case = self._s.get(m.Case, case_id)
        if case is None:
            return None
        profile = self._s.get(m.CaseProfile, case_id)
        name = profile.youth_name if profile else self._youth_name(case_id)
        return CaseSummary(case.id, case.reference, name, case.status == "open")

    def _youth_name(self, case_id: int) -> str:
        """The name of the young person who joined, for cases opened outside the chat."""
        name = self._s.scalar(
            select(m.Person.display_name)
            .join(m.Membership, m.Membership.person_id == m.Person.id)
            .where(m.Membership.case_id == case_id, m.Membership.role == Role.YOUTH)
            .limit(1)
        )
        return name or "–"

    def close_case(self, case_id: int, person_id: int, now: datetime) -> None:
        """Closes the case; its reminders stop because only open cases are looked at."""
        case = self._s.get_one(m.Case, case_id)
        case.status, case.closed_at = "closed", now
        self._audit(now, person_id, case_id, "case.close", "case", case_id)
        self._s.flush()

    def all_cases(self) -> Sequence[tuple[CaseSummary, datetime, int]]:
        """Every case with when it was opened and how many members it has (operators)."""
        result = []
        for case in self._s.scalars(select(m.Case).order_by(m.Case.id)):
            summary = self.case(case.id)
            assert summary is not None
            count = len(self.members(case.id))
            result.append((summary, case.created_at, count))
        return result

    # --- organisations, members, invites -------------------------------------------------

    def organisations(self, case_id: int) -> Sequence[OrganisationItem]:
        """The organisations of a case, in the order they were added."""
        rows = self._s.execute(
            select(m.Organisation.id, m.Organisation.name)
            .join(m.CaseOrganisation, m.CaseOrganisation.organisation_id == m.Organisation.id)
            .where(m.CaseOrganisation.case_id == case_id)
            .order_by(m.CaseOrganisation.id)
        ).all()
        return [OrganisationItem(i, n) for i, n in rows]

    def add_organisation(self, case_id: int, name: str) -> OrganisationItem:
        """Adds an organisation to the case; one with the same name is reused."""
        existing = next(
            (
                o
                for o in self._s.scalars(select(m.Organisation))
                if o.name.casefold() == name.casefold()
            ),
            None,
        )
        if existing is None:
            existing = m.Organisation(name=name, kind="other")
            self._s.add(existing)
            self._s.flush()
        self.link_organisation(case_id, existing.id)
        return OrganisationItem(existing.id, existing.name)

    def link_organisation(self, case_id: int, organisation_id: int) -> None:
        """Makes an existing organisation one of the case's (it can then own actions)."""
        linked = self._s.scalar(
            select(m.CaseOrganisation.id).where(
                m.CaseOrganisation.case_id == case_id,
                m.CaseOrganisation.organisation_id == organisation_id,
            )
        )
        if linked is None:
            self._s.add(m.CaseOrganisation(case_id=case_id, organisation_id=organisation_id))
            self._s.flush()

    def members(self, case_id: int) -> Sequence[MemberItem]:
        """Active members of a case, in the order they joined."""
        rows = self._s.execute(
            select(m.Person.id, m.Person.display_name, m.Membership.role, m.Organisation.name)
            .join(m.Membership, m.Membership.person_id == m.Person.id)
            .outerjoin(m.Organisation, m.Organisation.id == m.Membership.organisation_id)
            .where(m.Membership.case_id == case_id, m.Membership.active.is_(True))
            .order_by(m.Membership.joined_at, m.Membership.id)
        ).all()
        return [MemberItem(pid, name, role, org) for pid, name, role, org in rows]

    def open_invites(self, case_id: int, now: datetime) -> Sequence[InviteItem]:
        """Invites of a case not yet used and still valid."""
        rows = self._s.execute(
            select(m.Invite, m.Organisation.name)
            .outerjoin(m.Organisation, m.Organisation.id == m.Invite.organisation_id)
            .where(
                m.Invite.case_id == case_id,
                m.Invite.used_at.is_(None),
                m.Invite.expires_at > now,
            )
            .order_by(m.Invite.id)
        ).all()
        return [InviteItem(i.display_name, i.role, org, i.expires_at) for i, org in rows]

    def create_invite(
        self,
        case_id: int,
        role: Role,
        name: str,
        organisation_id: int | None,
        created_by: int | None,
        now: datetime,
        valid_for: timedelta = INVITE_VALID_FOR,
    ) -> str:
        """A single-use code bound to this case and role; only its hash is stored.
        `created_by` is None for an operator (`samverkan invite create`)."""
        code = new_code()
        invite = m.Invite(
            case_id=case_id,
            role=role,
            display_name=name,
            organisation_id=organisation_id,
            code_hash=hash_code(code),
            created_at=now,
            expires_at=now + valid_for,
        )
        self._s.add(invite)
        self._s.flush()
        self._audit(now, created_by, case_id, "invite.create", "invite", invite.id)
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
        """A professional's invite whose code goes to an address, kept encrypted behind a key."""
        code = self.create_invite(
            case_id, Role.PROFESSIONAL, name, organisation_id, created_by, now
        )
        return EmailInvite(code, EmailRepository(self._s).add_for_invite(address, code, now))

    # --- meetings and agenda ---------------------------------------------------------------

    def schedule_meetings(
        self,
        case_id: int,
        kind: MeetingKind,
        starts: Sequence[datetime],
        remote_link: str | None,
        series: tuple[int, int, str] | None,
        now: datetime,
    ) -> list[int]:
        """Adds the meetings; the first has `kind`, later ones of a series are follow-ups."""
        series_id: str | None = None
        if series is not None:
            series_id = uuid.uuid4().hex
            weekday, weeks, local_time = series
            self._s.add(
                m.MeetingSeries(
                    id=series_id,
                    case_id=case_id,
                    weekday=weekday,
                    interval_weeks=weeks,
                    local_time=local_time,
                    created_at=now,
                )
            )
        rows = [
            m.Meeting(
                case_id=case_id,
                kind=kind if n == 0 else MeetingKind.FOLLOW_UP,
                starts_at=start,
                duration_minutes=90,
                remote_link=remote_link,
                series_id=series_id,
            )
            for n, start in enumerate(starts)
        ]
        self._s.add_all(rows)
        self._s.flush()
        return [r.id for r in rows]

    def upcoming_meetings(self, case_id: int, now: datetime) -> Sequence[MeetingInfo]:
        """Meetings that have not started, soonest first."""
        rows = self._s.scalars(
            select(m.Meeting)
            .where(m.Meeting.case_id == case_id, m.Meeting.starts_at > now)
            .order_by(m.Meeting.starts_at)
        )
        return [_meeting_info(r) for r in rows]

    def agenda(self, case_id: int, now: datetime) -> Agenda:
        """The shared agenda of the next meeting."""
        return AgendaRepository(self._s).agenda(case_id, now)

    # --- the plan ----------------------------------------------------------------------------

    def owners(self, case_id: int) -> Sequence[Owner]:
        """Organisations, then professional and network members, then the family."""
        owners = [Owner(OwnerKind.ORGANISATION, o.id, o.name) for o in self.organisations(case_id)]
        owners += [
            Owner(OwnerKind.PERSON, mem.person_id, mem.name)
            for mem in self.members(case_id)
            if mem.role in (Role.PROFESSIONAL, Role.NETWORK, Role.COORDINATOR)
        ]
        owners.append(Owner(OwnerKind.FAMILY, None, _FAMILY_NAME))
        return owners

    def actions(
        self, case_id: int, viewer: Who, with_history: bool = False
    ) -> Sequence[ActionItem]:
        """The plan of a case as this viewer may see it (rule 5), by due date."""
        reader = self._gate.plan_viewer(viewer, case_id)
        rows = self._s.scalars(
            select(m.PlanAction)
            .where(m.PlanAction.case_id == case_id)
            .order_by(m.PlanAction.due_date, m.PlanAction.id)
        ).all()
        owners = self._ownerships(rows)
        return [
            self._item(r, owners[r.id], with_history)
            for r in rows
            if self._gate.sees_action(reader, owners[r.id])
        ]

    def family_plan(self, case_id: int, viewer: int) -> Sequence[ActionItem]:
        """The whole plan as the family sees it (rule 5): no history, by due date."""
        self._gate.family_plan_viewer(viewer, case_id)
        rows = self._s.scalars(
            select(m.PlanAction)
            .where(
                m.PlanAction.case_id == case_id,
                m.PlanAction.status != ActionStatus.CANCELLED.value,
            )
            .order_by(m.PlanAction.due_date, m.PlanAction.id)
        ).all()
        owners = self._ownerships(rows)
        return [self._item(r, owners[r.id]) for r in rows]

    def action(self, action_id: int, viewer: int) -> ActionItem | None:
        """One action with its history; None when it does not exist for this viewer."""
        row = self._s.get(m.PlanAction, action_id)
        if row is None:
            return None
        try:
            reader = self._gate.plan_viewer(viewer, row.case_id)
        except AccessDenied:
            # Another case's action does not exist for this person (not even its id).
            return None
        owner = self._ownerships([row])[row.id]
        return self._item(row, owner, True) if self._gate.sees_action(reader, owner) else None

    def add_actions(
        self, case_id: int, actions: Sequence[NewAction], author_id: int, now: datetime
    ) -> list[int]:
        """Adds actions to the plan (coordinators only), each with an opening entry."""
        self._gate.require_coordinator(author_id, case_id, now, "plan.add", "plan_action", None)
        ids = []
        for new in actions:
            row = m.PlanAction(
                case_id=case_id,
                description=new.description,
                due_date=new.due,
                status=ActionStatus.OPEN.value,
                created_at=now,
                updated_at=now,
            )
            self._set_owner(row, new.owner)
            self._s.add(row)
            self._s.flush()
            if new.owner.kind is OwnerKind.FAMILY:
                self._s.add(m.ActionOwnerFamily(action_id=row.id))
            ids.append(row.id)
        self._s.flush()
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
        """Edits or reassigns an action (coordinators only); kept as a note in its history."""
        row = self._s.get(m.PlanAction, action_id)
        if row is None:
            return False
        change = "reassigned" if owner is not None else "edited"
        self._gate.require_coordinator(
            author_id, row.case_id, now, f"plan.{change}", "plan_action", action_id
        )
        if description is not None:
            row.description = description
        if owner is not None:
            family = self._s.get(m.ActionOwnerFamily, action_id)
            if family is not None:
                self._s.delete(family)
            self._set_owner(row, owner)
            if owner.kind is OwnerKind.FAMILY:
                self._s.add(m.ActionOwnerFamily(action_id=action_id))
        row.updated_at = now
        self._s.add(
            m.ActionUpdate(
                action_id=action_id,
                author_id=author_id,
                status=row.status,
                note=None,
                new_due_date=None,
                created_at=now,
            )
        )
        self._s.flush()
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
        """Adds a lägesrapport (an owner or a coordinator, rule 6); the action takes its status."""
        row = self._s.get(m.PlanAction, action_id)
        if row is None:
            return False
        owner = self._ownerships([row])[row.id]
        self._gate.require_action_update(author_id, row.case_id, owner, now, action_id)
        row.status, row.updated_at = status.value, now
        if new_due is not None:
            row.due_date = new_due
        self._s.add(
            m.ActionUpdate(
                action_id=action_id,
                author_id=author_id,
                status=status.value,
                note=note,
                new_due_date=new_due,
                created_at=now,
            )
        )
        self._s.flush()
        return True

    def actions_owned_by(self, person_id: int) -> Sequence[ActionItem]:
        """Open actions this person owns in the open cases they are let into, soonest first."""
        cases = self._s.scalars(
            select(m.Membership.case_id)
            .where(m.Membership.person_id == person_id, m.Membership.active.is_(True))
            .distinct()
        ).all()
        readers = {
            case_id: self._gate.require(person_id, case_id)
            for case_id in cases
            if self._gate.admitted(person_id, case_id)
        }
        if not readers:
            return []
        rows = self._s.scalars(
            select(m.PlanAction)
            .where(
                m.PlanAction.case_id.in_(readers),
                m.PlanAction.status.not_in([ActionStatus.DONE.value, ActionStatus.CANCELLED.value]),
            )
            .order_by(m.PlanAction.due_date, m.PlanAction.id)
        ).all()
        owners = self._ownerships(rows)
        return [
            self._item(r, owners[r.id])
            for r in rows
            if self._gate.owns(readers[r.case_id], owners[r.id])
        ]

    def may_update(self, action_id: int, person_id: int) -> bool:
        """Rule 6 of the gate: an owner, or a coordinator of the action's case."""
        row = self._s.get(m.PlanAction, action_id)
        if row is None:
            return False
        owner = self._ownerships([row])[row.id]
        return self._gate.may_update_action(person_id, row.case_id, owner)

    def family_to_tell(self, action_id: int, author_id: int) -> Sequence[int]:
        """Who of the family hears of a new status (rule 6 first): the case's youth, caregivers
        and network members with consent in effect, the author left out."""
        row = self._s.get(m.PlanAction, action_id)
        if row is None:
            return []
        owner = self._ownerships([row])[row.id]
        if not self._gate.may_update_action(author_id, row.case_id, owner):
            return []
        members = self._s.execute(
            select(m.Membership.case_id, m.Membership.person_id, m.Membership.role).where(
                m.Membership.case_id == row.case_id,
                m.Membership.active.is_(True),
                m.Membership.role.in_(sorted(FAMILY_ROLES)),
            )
        ).all()
        reached = self._gate.reachable((c, p, r) for c, p, r in members)
        return sorted({p for _, p in reached if p != author_id})

    def due_actions(self, grant: SystemGrant, due_by: date) -> list[DueAction]:
        """Open actions of open cases due by a date, with whom the grant's purpose tells:
        their admitted owners (NUDGE) or the case's coordinators (ESCALATION)."""
        self._gate.require_purpose(grant, Purpose.NUDGE, Purpose.ESCALATION)
        # The case is looked up per due action, by its primary key, in subqueries rather than
        # a join: with statistics (ANALYZE), SQLite's planner expected more due actions than
        # cases and built a Bloom filter of every open case first, a scan of case_file that
        # made the tick grow with the number of cases (1.1 ms at 20,000, 0.1 at 200). The few
        # due actions are found first, by index ranges per open status on
        # ix_plan_action_status_due (by name, not "not done or cancelled": SQLite's
        # skip-scan over every status read each done action of the past, 8 ms at 100,000).
        case_open = (
            select(m.Case.id)
            .where(m.Case.id == m.PlanAction.case_id, m.Case.status == "open")
            .exists()
        )
        reference = (
            select(m.Case.reference)
            .where(m.Case.id == m.PlanAction.case_id)
            .scalar_subquery()
            .label("reference")
        )
        due = (
            select(m.PlanAction, reference)
            .where(
                m.PlanAction.status.in_(OPEN_STATUSES),
                m.PlanAction.due_date <= due_by,
                case_open,
            )
            .order_by(m.PlanAction.due_date, m.PlanAction.id)
        )
        rows = self._s.execute(due).all()
        if not rows:
            return []
        # Everyone who could be told, one query per chunk of cases (not one per action).
        members: dict[int, list[tuple[int, Role, int | None]]] = {}
        for chunk in in_chunks(sorted({row.case_id for row, _ in rows})):
            for case_id, person_id, role, org in self._s.execute(
                select(
                    m.Membership.case_id,
                    m.Membership.person_id,
                    m.Membership.role,
                    m.Membership.organisation_id,
                ).where(m.Membership.active.is_(True), m.Membership.case_id.in_(chunk))
            ):
                members.setdefault(case_id, []).append((person_id, role, org))
        owners = self._ownerships([row for row, _ in rows])
        result = []
        for row, reference in rows:
            in_case = members.get(row.case_id, [])
            if grant.purpose is Purpose.NUDGE:
                told = self._gate.owners_to_remind(row.case_id, owners[row.id], in_case)
            else:
                told = tuple(sorted({p for p, role, _ in in_case if role is Role.COORDINATOR}))
            if told:
                result.append(
                    DueAction(row.id, row.case_id, reference, row.description, row.due_date, told)
                )
        return result

    def _ownerships(self, rows: Sequence[m.PlanAction]) -> dict[int, ActionOwnership]:
        """Who owns each action row, with one query for the family-owned ones."""
        ids = [r.id for r in rows]
        family: set[int] = set()
        if any(r.owner_person_id is None and r.owner_organisation_id is None for r in rows):
            family = set(
                self._s.scalars(
                    select(m.ActionOwnerFamily.action_id).where(
                        m.ActionOwnerFamily.action_id.in_(ids)
                    )
                )
            )
        return {
            r.id: ActionOwnership(r.owner_person_id, r.owner_organisation_id, r.id in family)
            for r in rows
        }

    def _set_owner(self, row: m.PlanAction, owner: Owner) -> None:
        """Points the action's owner columns at a person, an organisation or nobody (family)."""
        row.owner_person_id = owner.id if owner.kind is OwnerKind.PERSON else None
        row.owner_organisation_id = owner.id if owner.kind is OwnerKind.ORGANISATION else None

    def _item(
        self, row: m.PlanAction, ownership: ActionOwnership, with_history: bool = False
    ) -> ActionItem:
        """A plan action row as a domain value."""
        case = self._s.get_one(m.Case, row.case_id)
        history: tuple[ActionUpdateItem, ...] = ()
        if with_history:
            updates = self._s.execute(
                select(m.ActionUpdate, m.Person.display_name)
                .outerjoin(m.Person, m.Person.id == m.ActionUpdate.author_id)
                .where(m.ActionUpdate.action_id == row.id)
                .order_by(m.ActionUpdate.created_at, m.ActionUpdate.id)
            ).all()
            history = tuple(
                ActionUpdateItem(u.created_at, name, ActionStatus(u.status), u.note, u.new_due_date)
                for u, name in updates
            )
        return ActionItem(
            id=row.id,
            case_id=row.case_id,
            case_reference=case.reference,
            description=row.description,
            owner=self._owner_of(ownership),
            due=row.due_date,
            status=ActionStatus(row.status),
            history=history,
        )

    def _owner_of(self, ownership: ActionOwnership) -> Owner:
        """The owner of an action, named."""
        if ownership.person_id is not None:
            person = self._s.get_one(m.Person, ownership.person_id)
            return Owner(OwnerKind.PERSON, person.id, person.display_name)
        if ownership.organisation_id is not None:
            org = self._s.get_one(m.Organisation, ownership.organisation_id)
            return Owner(OwnerKind.ORGANISATION, org.id, org.name)
        return Owner(OwnerKind.FAMILY, None, _FAMILY_NAME)

    def _audit(
        self,
        now: datetime,
        actor: int | None,
        case_id: int | None,
        action: str,
        object_type: str,
        object_id: int | None,
    ) -> None:
        """One audit row (never content), through the one audit repository."""
        AuditRepository(self._s).record(now, actor, case_id, action, object_type, object_id)


# The family as an owner has no name of its own: texts show the catalogue's word for it.
_FAMILY_NAME = ""
