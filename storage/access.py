"""The one access gate for case data: active membership + role + consent + sharing state.

Every read or write of what people wrote in a case goes through `AccessGate`. Repositories
that touch case-data tables take a gate and call it first; tests/test_access_gate.py checks
by static analysis that no other code queries those tables (see CASE_DATA_MODELS).

Rules, in the order they are checked:
1. The viewer is an active member of the case, and the case is open.
2. The viewer's consent is in effect (a child under the age limit also needs a caregiver's);
   professionals and coordinators work under their employer's legal basis, not consent.
3. Everyone sees their own items.
4. Someone else's item is seen only if it is shared, its author is still an active member
   whose consent is in effect (a withdrawal stops sharing at once), and the viewer is among
   its readers (flows/sharing.py): the owner chose the coordinator only, everyone in the
   meeting, or chosen organisations; with no choice, the owner's first-contact answer (SIP)
   decides (yes: everyone, else the coordinator only). Coordinators convene the meeting and
   read everything shared. A professional reads a family author's item only through an
   organisation they work for in the case, and only while that author's samtycke till
   informationsutbyte with the organisation is in effect (the newest answer for that
   organisation; with none, the SIP answer). A withdrawal takes effect at once.

The plan (PlanAction, ActionUpdate):
5. Coordinators and professionals of the case see its whole plan; anyone else (youth,
   caregivers, network) sees only the actions they own. A person owns an action named for
   them, an organisation's action when they are that organisation's professional in the
   case, and the family's action when they are a caregiver in the case.
   The family (youth, caregiver, network), let in by rules 1 and 2, also reads the plan as
   the family sees it (`family_plan_viewer`): every action's what, who, by when and status,
   since the plan is agreed with them at the meeting, but never the lägesrapporter (their
   notes may be one agency's working words).
6. Only an owner or a coordinator of the case reports on an action (status, note, new date);
   only a coordinator adds, edits or reassigns actions.

The family's items (FamilyItem), written by caregivers and network members:
7. The author sees their own item; the family list (`in_family_list`) is seen by the case's
   other adult family members (caregiver, network); an item shared with the meeting is seen
   by rule 4 (SIP for professionals). The author must still be an admitted adult of the case.
   Nobody but the author changes or deletes an item.

The shared picture (SharedPicture, PictureResponse) and meeting requests (MeetingRequest):
8. A coordinator of the case publishes a picture; every admitted member reads the latest;
   family members (youth, caregiver, network) answer it; each reads their own answer and
   coordinators read everyone's.
9. Family members ask for a meeting and read their own open request; coordinators read the
   case's open requests and answer them. Likewise the young person and caregivers suggest
   someone who matters (SuggestedPerson); coordinators read the suggestions and decide.

Meeting needs (MeetingNeed: interpreter and language, other needs):
10. A family member (youth, caregiver, network) writes and reads their own; the agenda (the
    coordinator's, and its report) reads those of the case's admitted members.

Nobody is let into another case: every check starts with rules 1 and 2 for that case.

System reads (the scheduler's due-sources, report files, the operator's CLI) carry a
`SystemGrant` from `for_system(purpose)` instead of a person; each purpose reads only what it
needs, and only of open cases:
- NUDGE: open actions due by a date, with the ids of their admitted owners;
- ESCALATION: open overdue actions, with the ids of the case's coordinators;
- REPORT: one case's plan with history, latest picture and answers, open requests (the
  agenda and follow-up report its coordinators get);
- PICTURE_REMINDER: who (ids) has not answered the latest picture;
- OPERATOR: the operator's CLI (case overview, report, publishing, answering requests).
A grant for one purpose is refused everything else.

Audit, as for questions and views: every change is audited (who, what, which object, never
content); reads are audited where a whole case is read on purpose (`visible_items`) and where
a system path discloses case data (a nudge or escalation marked sent, a report file made),
not on every per-message read, which would write a row per chat message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import and_, bindparam, event, join, select
from sqlalchemy.orm import ORMExecuteState, Session

from flows.domain import (
    CONSENTING_ROLES,
    FAMILY_ROLES,
    AccessRefused,
    ConsentScope,
    ConsentStatus,
    ItemKind,
    Role,
    ViewAspect,
)
from flows.sharing import Readers, ReaderScope, default_readers
from storage import models as m
from storage.db import execute_core, in_chunks

# Tables holding what people write in a case. Only modules in tests/test_access_gate.py's
# allow-list may name these models, and there every function doing so must call the gate.
CASE_DATA_MODELS = (
    "Question",
    "View",
    "Preference",
    "SharedPicture",
    "PictureResponse",
    "PlanAction",
    "ActionUpdate",
    "MeetingRequest",
    "FamilyItem",
    "MeetingNeed",
    "MeetingNote",
    "SuggestedPerson",
)


# The rows the gate's answers are made of; writing any of them makes remembered answers stale.
_GATE_INPUTS = (
    m.Membership,
    m.Consent,
    m.AgeStatement,
    m.Case,
    m.Person,
    m.OrganisationConsent,
)


# Who is asked for consent is flows.domain.CONSENTING_ROLES, the set the consent flow reads.
# The family side (who answers the shared picture and may ask for a meeting) is
# flows.domain.FAMILY_ROLES: the flows read the same set to open those steps only for them.
# The adults of the family: who writes the family list and reads it.
FAMILY_ADULT_ROLES = frozenset({Role.CAREGIVER, Role.NETWORK})
# Who sees a case's whole plan (rule 5).
PLAN_READERS = frozenset({Role.COORDINATOR, Role.PROFESSIONAL})


class AccessDenied(AccessRefused):
    """The gate said no; the message names the rule, never the data."""


class Purpose(StrEnum):
    """Why the system (not a person) reads case data; each purpose reads only what it needs."""

    NUDGE = "nudge"
    ESCALATION = "escalation"
    REPORT = "report"
    PICTURE_REMINDER = "picture_reminder"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class SystemGrant:
    """A system read for one purpose; made only by `AccessGate.for_system`."""

    purpose: Purpose
    _token: object = field(repr=False, compare=False)


# Only grants carrying this object are honoured: a grant cannot be made around the gate.
_GRANT_TOKEN = object()

# Everything the gate asks about a person in one case, in one prepared statement (it was
# two, on every message): their active roles in the case if it is open (with the organisation
# of each), their consent rows there oldest first, and their age statement (NULL when none).
# The person's row is the root so the age comes back with no membership or consent at all;
# a person has a role or two and a few consents in a case, so the rows multiply only a little,
# and a repeated row changes no answer (a set of roles; the newest consent still comes last).
_OPEN_MEMBERSHIP = join(
    m.Membership, m.Case, and_(m.Case.id == m.Membership.case_id, m.Case.status == "open")
)
_ADMISSION = (
    select(
        select(m.AgeStatement.under_limit)
        .where(m.AgeStatement.person_id == m.Person.id)
        .correlate(m.Person)
        .scalar_subquery()
        .label("under_limit"),
        m.Membership.role,
        m.Membership.organisation_id,
        m.Consent.scope,
        m.Consent.given_by_id,
        m.Consent.given,
        m.Consent.revoked_at,
    )
    .select_from(m.Person)
    .outerjoin(
        _OPEN_MEMBERSHIP,
        and_(
            m.Membership.person_id == m.Person.id,
            m.Membership.case_id == bindparam("case_id"),
            m.Membership.active.is_(True),
        ),
    )
    .outerjoin(
        m.Consent,
        and_(m.Consent.person_id == m.Person.id, m.Consent.case_id == bindparam("case_id")),
    )
    .where(m.Person.id == bindparam("person_id"))
    .order_by(m.Consent.recorded_at, m.Consent.id)
)

# Who asks: a person (their id) or the system for a purpose.
Who = int | SystemGrant


@dataclass(frozen=True, slots=True)
class Viewer:
    """Someone the gate let into a case, with their roles there."""

    person_id: int
    case_id: int
    roles: frozenset[Role]
    # Organisations the person is a professional of in this case (owns their actions).
    organisations: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class ActionOwnership:
    """Who owns a plan action: a person, an organisation, or the family (rule 5)."""

    person_id: int | None
    organisation_id: int | None
    family: bool


@dataclass(frozen=True, slots=True)
class FamilyItemState:
    """What the gate needs to know of a family item: its case, author and sharing state."""

    case_id: int
    author_id: int
    in_family_list: bool
    shared: bool
    readers: Readers | None = None


@dataclass(frozen=True, slots=True)
class DueAction:
    """An open action as a nudge or escalation needs it, with who is to be told."""

    id: int
    case_id: int
    reference: str
    description: str
    due_date: date
    recipients: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class VisibleItem:
    """One item a viewer may see."""

    kind: ItemKind
    id: int
    author_id: int
    text: str
    shared: bool
    aspect: ViewAspect | None = None
    readers: Readers | None = None


class AccessGate:
    """Decides who may see and change what in a case, and records it in the audit log."""

    def __init__(self, session: Session) -> None:
        self._s = session
        # Answers are remembered only until the session writes anything (a flush or an
        # UPDATE/DELETE statement), so a step that asks five times costs one query.
        self._members: dict[tuple[int, int], tuple[frozenset[Role], frozenset[int]]] = {}
        self._consents: dict[tuple[int, int], ConsentStatus] = {}
        self._org_consents: dict[tuple[int, int], dict[int, bool]] = {}
        event.listen(session, "after_flush", self._forget_on_flush)
        event.listen(session, "do_orm_execute", self._forget_on_write)
        event.listen(session, "after_rollback", self._forget)

    def _forget(self, *_args: object) -> None:
        """Drops remembered answers: the data they came from may have changed."""
        self._members.clear()
        self._consents.clear()
        self._org_consents.clear()

    def _forget_on_flush(self, session: Session, _context: object) -> None:
        """A flush that wrote memberships, consents, ages or cases makes answers stale."""
        written = (*session.new, *session.dirty, *session.deleted)
        if any(isinstance(obj, _GATE_INPUTS) for obj in written):
            self._forget()

    def _forget_on_write(self, state: ORMExecuteState) -> None:
        """An UPDATE or DELETE through the session may change memberships or consents."""
        if not state.is_select:
            self._forget()

    def _fresh(self) -> bool:
        """True when unflushed changes to what the gate reads exist, so remembered answers
        must not be used (the read flushes them first). Other pending rows, such as the
        audit row of the read just made, change no answer and cost no second read."""
        pending = (*self._s.new, *self._s.dirty, *self._s.deleted)
        return any(isinstance(obj, _GATE_INPUTS) for obj in pending)

    # --- who is let in -----------------------------------------------------------------

    def require(
        self, person_id: int, case_id: int, now: datetime | None = None, action: str = ""
    ) -> Viewer:
        """Lets an active, consenting member into their case, or raises AccessDenied."""
        roles = self.roles(person_id, case_id)
        if not roles:
            raise AccessDenied("not an active member of this open case")
        if not self.consent_in_effect(person_id, case_id, roles):
            raise AccessDenied("no consent in effect")
        if now is not None and action:
            self.audit(now, person_id, case_id, action, "case", case_id)
        return Viewer(person_id, case_id, roles, self._membership(person_id, case_id)[1])

    def require_role(
        self, person_id: int, case_id: int, roles: frozenset[Role], rule: str
    ) -> Viewer:
        """Lets in an admitted member holding one of these roles, or raises AccessDenied."""
        viewer = self.require(person_id, case_id)
        if not viewer.roles & roles:
            raise AccessDenied(rule)
        return viewer

    def admitted(self, person_id: int, case_id: int) -> bool:
        """True for an active member of the open case whose consent is in effect."""
        roles = self.roles(person_id, case_id)
        return bool(roles) and self.consent_in_effect(person_id, case_id, roles)

    def roles(self, person_id: int, case_id: int) -> frozenset[Role]:
        """The person's active roles in an open case (empty: not a member)."""
        return self._membership(person_id, case_id)[0]

    def _membership(self, person_id: int, case_id: int) -> tuple[frozenset[Role], frozenset[int]]:
        """Active roles in an open case, and the organisations they are a professional of."""
        key = (person_id, case_id)
        if key not in self._members or self._fresh():
            self._admission(person_id, case_id)
        return self._members[key]

    def _admission(self, person_id: int, case_id: int) -> None:
        """Reads the person's roles and consents in the case in one statement, and remembers
        both answers: the gate asks for both on nearly every message."""
        rows = execute_core(self._s, _ADMISSION, {"person_id": person_id, "case_id": case_id}).all()
        roles = {(row.role, row.organisation_id) for row in rows if row.role is not None}
        self._members[(person_id, case_id)] = (
            frozenset(role for role, _ in roles),
            frozenset(org for role, org in roles if role is Role.PROFESSIONAL and org is not None),
        )
        latest: dict[tuple[str, bool], bool] = {}
        under_limit: bool | None = None
        for row in rows:
            under_limit = None if row.under_limit is None else bool(row.under_limit)
            if row.scope is None:
                continue  # the person's row with no consent joined: none recorded here
            # Later rows overwrite earlier ones: the newest answer of each kind wins.
            latest[(row.scope, row.given_by_id is not None)] = (
                bool(row.given) and row.revoked_at is None
            )
        self._consents[(person_id, case_id)] = ConsentStatus(
            bot=latest.get((ConsentScope.BOT.value, False)),
            sip=latest.get((ConsentScope.SIP.value, False)),
            under_age_limit=under_limit,
            guardian=latest.get((ConsentScope.BOT.value, True)),
        )

    # --- the system's own reads ------------------------------------------------------------

    def for_system(self, purpose: Purpose) -> SystemGrant:
        """A grant for one system purpose (scheduler, report files, operator CLI)."""
        return SystemGrant(purpose, _GRANT_TOKEN)

    def require_purpose(self, grant: SystemGrant, *allowed: Purpose) -> None:
        """Refuses a grant made around the gate, or one for another purpose."""
        if grant._token is not _GRANT_TOKEN:
            raise AccessDenied("a system grant must come from the gate")
        if grant.purpose not in allowed:
            raise AccessDenied(f"the {grant.purpose.value} purpose may not read this")

    def _system_viewer(self, grant: SystemGrant, case_id: int, *allowed: Purpose) -> Viewer:
        """The system reading one open case for an allowed purpose, as the meeting sees it."""
        self.require_purpose(grant, *allowed)
        case = self._s.get(m.Case, case_id)
        if case is None or case.status != "open":
            raise AccessDenied("the system reads open cases only")
        return Viewer(0, case_id, frozenset({Role.COORDINATOR}))

    def _viewer(self, who: Who, case_id: int, *allowed: Purpose) -> Viewer:
        """A person let in by rules 1-2, or the system for one of the allowed purposes."""
        if isinstance(who, SystemGrant):
            return self._system_viewer(who, case_id, *allowed)
        return self.require(who, case_id)

    # --- the plan (rules 5 and 6) --------------------------------------------------------

    def plan_viewer(self, who: Who, case_id: int) -> Viewer:
        """Who reads a case's plan: a member (filtered by `sees_action`) or a report."""
        return self._viewer(who, case_id, Purpose.REPORT, Purpose.OPERATOR)

    def sees_action(self, viewer: Viewer, owner: ActionOwnership) -> bool:
        """Rule 5: coordinators and professionals see the whole plan, others what they own."""
        return bool(viewer.roles & PLAN_READERS) or self.owns(viewer, owner)

    def family_plan_viewer(self, person_id: int, case_id: int) -> Viewer:
        """Rule 5, the family's view: an admitted youth, caregiver or network member."""
        return self.require_role(person_id, case_id, FAMILY_ROLES, "the family's plan view")

    def owns(self, viewer: Viewer, owner: ActionOwnership) -> bool:
        """True when the action is the viewer's to answer for as its owner."""
        if owner.person_id is not None:
            return owner.person_id == viewer.person_id
        if owner.organisation_id is not None:
            return owner.organisation_id in viewer.organisations
        return owner.family and Role.CAREGIVER in viewer.roles

    def may_update_action(self, person_id: int, case_id: int, owner: ActionOwnership) -> bool:
        """Rule 6: an admitted owner, or a coordinator of the case."""
        try:
            viewer = self.require(person_id, case_id)
        except AccessDenied:
            return False
        return Role.COORDINATOR in viewer.roles or self.owns(viewer, owner)

    def require_action_update(
        self, person_id: int, case_id: int, owner: ActionOwnership, now: datetime, action_id: int
    ) -> None:
        """Rule 6 for a status report, audited; raises AccessDenied for anyone else."""
        if not self.may_update_action(person_id, case_id, owner):
            raise AccessDenied("only the action's owner or the case's coordinator may report")
        self.audit(now, person_id, case_id, "plan.update", "plan_action", action_id)

    def require_coordinator(
        self,
        person_id: int,
        case_id: int,
        now: datetime,
        action: str,
        object_type: str,
        object_id: int | None,
    ) -> Viewer:
        """Only a coordinator of the case does this (plan, picture, requests); audited."""
        viewer = self.require_role(
            person_id, case_id, frozenset({Role.COORDINATOR}), "only the case's coordinator"
        )
        self.audit(now, person_id, case_id, action, object_type, object_id)
        return viewer

    def owners_to_remind(
        self, case_id: int, owner: ActionOwnership, members: Sequence[tuple[int, Role, int | None]]
    ) -> tuple[int, ...]:
        """The admitted owners of an action among the case's active (person, role, organisation)
        memberships: the person, the organisation's professionals, or the caregivers for the
        family (a young person is never nagged about a plan)."""
        if owner.person_id is not None:
            wanted = {owner.person_id}
        elif owner.organisation_id is not None:
            wanted = {
                pid
                for pid, role, org in members
                if role is Role.PROFESSIONAL and org == owner.organisation_id
            }
        elif owner.family:
            wanted = {pid for pid, role, _ in members if role is Role.CAREGIVER}
        else:
            wanted = set()
        return tuple(sorted(p for p in wanted if self.admitted(p, case_id)))

    # --- the family's items (rule 7) -----------------------------------------------------

    def sees_family_item(self, viewer: Viewer, item: FamilyItemState) -> bool:
        """Rule 7: own items; the family list for the family's adults; shared by rule 4."""
        if item.author_id == viewer.person_id:
            return True
        author_roles = self.roles(item.author_id, item.case_id)
        if not author_roles & FAMILY_ADULT_ROLES:
            return False
        if not self.consent_in_effect(item.author_id, item.case_id, author_roles):
            return False
        if item.in_family_list and viewer.roles & FAMILY_ADULT_ROLES:
            return True
        return item.shared and self.reads_shared(viewer, item.author_id, author_roles, item.readers)

    def family_reader(self, who: Who, case_id: int) -> Viewer:
        """Who reads a case's family items (each then filtered by `sees_family_item`)."""
        return self._viewer(who, case_id, Purpose.REPORT, Purpose.OPERATOR)

    def require_family_author(
        self, person_id: int, item: FamilyItemState, now: datetime, action: str, item_id: int | None
    ) -> None:
        """Only an adult of the family writes items, and only the author changes one; audited."""
        self.require_role(
            person_id, item.case_id, FAMILY_ADULT_ROLES, "only the family's adults write here"
        )
        if item.author_id != person_id:
            raise AccessDenied("only the author may change an item")
        self.audit(now, person_id, item.case_id, action, "family_item", item_id)

    # --- the shared picture and meeting requests (rules 8 and 9) --------------------------

    def picture_reader(self, who: Who, case_id: int) -> Viewer:
        """Rule 8: every admitted member reads the case's latest picture; so does a report."""
        return self._viewer(who, case_id, Purpose.REPORT, Purpose.OPERATOR)

    def answers_reader(self, who: Who, case_id: int) -> Viewer:
        """Rule 8: everyone's answers are read by the case's coordinators and its reports."""
        viewer = self._viewer(who, case_id, Purpose.REPORT, Purpose.OPERATOR)
        if Role.COORDINATOR not in viewer.roles:
            raise AccessDenied("only the case's coordinator reads everyone's answers")
        return viewer

    def require_family_member(
        self, person_id: int, case_id: int, now: datetime, action: str, object_type: str
    ) -> Viewer:
        """Rules 8 and 9: the family answers the picture and asks for meetings; audited."""
        viewer = self.require_role(person_id, case_id, FAMILY_ROLES, "only the family does this")
        self.audit(now, person_id, case_id, action, object_type, None)
        return viewer

    def coordinator_or_operator(
        self, who: Who, case_id: int, now: datetime, action: str, object_type: str, obj: int | None
    ) -> None:
        """A coordinator of the case, or the operator's CLI, acts for the case; audited."""
        if isinstance(who, SystemGrant):
            self._system_viewer(who, case_id, Purpose.OPERATOR)
            self.audit(now, None, case_id, f"{Purpose.OPERATOR.value}.{action}", object_type, obj)
            return
        self.require_coordinator(who, case_id, now, action, object_type, obj)

    def requests_reader(self, who: Who, case_id: int) -> Viewer:
        """Rule 9: a case's open requests are read by its coordinators and its reports."""
        viewer = self._viewer(who, case_id, Purpose.REPORT, Purpose.OPERATOR)
        if Role.COORDINATOR not in viewer.roles:
            raise AccessDenied("only the case's coordinator reads the requests")
        return viewer

    def audit_system(
        self, grant: SystemGrant, now: datetime, case_id: int, object_type: str, obj: int | None
    ) -> None:
        """One audit row for case data a system purpose disclosed (never content)."""
        self.require_purpose(grant, *Purpose)
        self.audit(now, None, case_id, f"system.{grant.purpose.value}", object_type, obj)

    def consent_in_effect(self, person_id: int, case_id: int, roles: frozenset[Role]) -> bool:
        """The family side needs consent; staff work under their employer's legal basis."""
        if not roles & CONSENTING_ROLES:
            return True
        return self.consent(person_id, case_id).effective

    def reachable(self, members: Iterable[tuple[int, int, Role]]) -> set[tuple[int, int]]:
        """Of (case, person, role) memberships, the (case, person) a reminder may reach: staff,
        and the family side with consent in effect (rule 2). Someone who said no, or whose
        caregiver has not said yes, is not messaged. In bulk, for a tick's many meetings."""
        members = list(members)
        reached = {(c, p) for c, p, role in members if role not in CONSENTING_ROLES}
        family = {(c, p) for c, p, role in members if role in CONSENTING_ROLES}
        people = sorted({p for _, p in family})
        # Per (case, person, answered by someone else): the newest answer to using the bot.
        latest: dict[tuple[int | None, int, bool], bool] = {}
        under: set[int] = set()
        for chunk in in_chunks(people):
            for case_id, person_id, given_by, given, revoked_at in self._s.execute(
                select(
                    m.Consent.case_id,
                    m.Consent.person_id,
                    m.Consent.given_by_id,
                    m.Consent.given,
                    m.Consent.revoked_at,
                )
                .where(m.Consent.person_id.in_(chunk), m.Consent.scope == ConsentScope.BOT.value)
                .order_by(m.Consent.recorded_at, m.Consent.id)
            ):
                latest[(case_id, person_id, given_by is not None)] = (
                    bool(given) and revoked_at is None
                )
            under.update(
                self._s.scalars(
                    select(m.AgeStatement.person_id).where(
                        m.AgeStatement.person_id.in_(chunk), m.AgeStatement.under_limit.is_(True)
                    )
                )
            )
        for case_id, person_id in family:
            status = ConsentStatus(
                bot=latest.get((case_id, person_id, False)),
                sip=None,
                under_age_limit=person_id in under,
                guardian=latest.get((case_id, person_id, True)),
            )
            if status.effective:
                reached.add((case_id, person_id))
        return reached

    def consent(self, person_id: int, case_id: int) -> ConsentStatus:
        """The person's consents in a case: the latest answer of each kind counts."""
        key = (person_id, case_id)
        if key not in self._consents or self._fresh():
            self._admission(person_id, case_id)
        return self._consents[key]

    # --- what is seen --------------------------------------------------------------------

    def visible_items(self, viewer_id: int, case_id: int, now: datetime) -> list[VisibleItem]:
        """Every item of the case this viewer may see; the read is audited."""
        viewer = self.require(viewer_id, case_id, now, "read_items")
        return [item for item in self._case_items(case_id) if self._may_see(viewer, item)]

    def shared_with_meeting(self, case_id: int) -> list[VisibleItem]:
        """Items shared with the meeting (agenda), by authors whose consent is in effect."""
        meeting = Viewer(0, case_id, frozenset({Role.COORDINATOR}))
        return [item for item in self._case_items(case_id) if self._may_see(meeting, item)]

    def shared_with_reader(self, reader_id: int, case_id: int, now: datetime) -> list[VisibleItem]:
        """What others shared that this member may read (their agenda); the read is audited."""
        viewer = self.require(reader_id, case_id, now, "read_agenda")
        return [
            item
            for item in self._case_items(case_id)
            if item.author_id != reader_id and item.shared and self._may_see(viewer, item)
        ]

    def own_items(self, person_id: int, case_id: int) -> list[VisibleItem]:
        """A member's own items (their own preparation)."""
        self.require(person_id, case_id)
        return [i for i in self._case_items(case_id) if i.author_id == person_id]

    def may_change(self, person_id: int, case_id: int, author_id: int, now: datetime) -> None:
        """Only the author changes an item, and only while let into the case; audited."""
        self.require(person_id, case_id)
        if author_id != person_id:
            raise AccessDenied("only the author may change an item")
        self.audit(now, person_id, case_id, "change_item", "item", None)

    def audit(
        self,
        now: datetime,
        person_id: int | None,
        case_id: int | None,
        action: str,
        object_type: str,
        object_id: int | None,
    ) -> None:
        """One audit row: who, what, when; never content."""
        self._s.add(
            m.AuditEvent(
                at=now,
                actor_person_id=person_id,
                case_id=case_id,
                action=action,
                object_type=object_type,
                object_id=object_id,
            )
        )

    def _may_see(self, viewer: Viewer, item: VisibleItem) -> bool:
        """Rules 3 and 4 of the module docstring."""
        if item.author_id == viewer.person_id:
            return True
        if not item.shared:
            return False
        author_roles = self.roles(item.author_id, viewer.case_id)
        if not author_roles:
            return False
        if not self.consent_in_effect(item.author_id, viewer.case_id, author_roles):
            return False
        return self.reads_shared(viewer, item.author_id, author_roles, item.readers)

    def readers_of(
        self, author_id: int, case_id: int, chosen: Readers | None, author_roles: frozenset[Role]
    ) -> Readers:
        """An item's readers: the owner's choice, else their first-contact answer (staff: all)."""
        if chosen is not None:
            return chosen
        if not author_roles & CONSENTING_ROLES:
            return default_readers(True)
        return default_readers(self.consent(author_id, case_id).sip)

    def reads_shared(
        self,
        viewer: Viewer,
        author_id: int,
        author_roles: frozenset[Role],
        chosen: Readers | None,
    ) -> bool:
        """Rule 4's last part: the viewer is among the shared item's readers."""
        if Role.COORDINATOR in viewer.roles:
            return True
        readers = self.readers_of(author_id, viewer.case_id, chosen, author_roles)
        family_author = bool(author_roles & CONSENTING_ROLES)
        if readers.scope is ReaderScope.COORDINATOR:
            return False
        if readers.scope is ReaderScope.ORGANISATIONS:
            orgs = readers.organisations & viewer.organisations
            return any(
                not family_author or self.exchange_allowed(author_id, viewer.case_id, org)
                for org in orgs
            )
        # Everyone in the meeting: the family and network read it; a viewer who is only a
        # professional reads it through an organisation the author agreed to share with.
        if viewer.roles != frozenset({Role.PROFESSIONAL}) or not family_author:
            return True
        if not viewer.organisations:
            return self.consent(author_id, viewer.case_id).sip is True
        return any(
            self.exchange_allowed(author_id, viewer.case_id, o) for o in viewer.organisations
        )

    def exchange_allowed(self, person_id: int, case_id: int, organisation_id: int) -> bool:
        """The person's samtycke till informationsutbyte with one organisation is in effect:
        their newest answer for it, or with none, their answer about sharing between agencies."""
        answers = self.organisation_consents(person_id, case_id)
        if organisation_id in answers:
            return answers[organisation_id]
        return self.consent(person_id, case_id).sip is True

    def organisation_consents(self, person_id: int, case_id: int) -> dict[int, bool]:
        """The person's newest answer per organisation of the case (none: not asked)."""
        key = (person_id, case_id)
        if key in self._org_consents and not self._fresh():
            return self._org_consents[key]
        answers: dict[int, bool] = {}
        for org, given in self._s.execute(
            select(m.OrganisationConsent.organisation_id, m.OrganisationConsent.given)
            .where(
                m.OrganisationConsent.person_id == person_id,
                m.OrganisationConsent.case_id == case_id,
            )
            .order_by(m.OrganisationConsent.recorded_at, m.OrganisationConsent.id)
        ):
            answers[org] = bool(given)
        self._org_consents[key] = answers
        return answers

    def _case_items(self, case_id: int) -> Iterable[VisibleItem]:
        """Every question, view and participation wish of a case, oldest first."""
        for q in self._s.scalars(
            select(m.Question).where(m.Question.case_id == case_id).order_by(m.Question.id)
        ):
            yield VisibleItem(
                ItemKind.QUESTION,
                q.id,
                q.author_id,
                q.text,
                q.shared,
                readers=Readers.decode(q.readers),
            )
        for v in self._s.scalars(
            select(m.View).where(m.View.case_id == case_id).order_by(m.View.id)
        ):
            yield VisibleItem(
                ItemKind.VIEW,
                v.id,
                v.author_id,
                v.text,
                v.shared,
                v.aspect,
                Readers.decode(v.readers),
            )
        for p in self._s.scalars(
            select(m.Preference).where(m.Preference.case_id == case_id).order_by(m.Preference.id)
        ):
            yield VisibleItem(
                ItemKind.PREFERENCE,
                p.id,
                p.person_id,
                p.participation.value,
                p.shared,
                readers=Readers.decode(p.readers),
            )
