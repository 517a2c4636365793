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
   whose consent is in effect (a withdrawal stops sharing at once), and — for a viewer who
   is only a professional — a family author agreed to sharing between agencies (SIP).
   Coordinators convene the meeting and see what is shared with it without SIP consent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session

from flows.domain import ConsentScope, ConsentStatus, ItemKind, Role, ViewAspect
from storage import models as m

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
)


# The rows the gate's answers are made of; writing any of them makes remembered answers stale.
_GATE_INPUTS = (m.Membership, m.Consent, m.AgeStatement, m.Case, m.Person)


# Who is asked for consent: the young person and the people close to them. Professionals
# and coordinators use the bot in their work (their employer's legal basis, not consent).
CONSENTING_ROLES = frozenset({Role.YOUTH, Role.CAREGIVER, Role.NETWORK})


class AccessDenied(PermissionError):
    """The gate said no; the message names the rule, never the data."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """Someone the gate let into a case, with their roles there."""

    person_id: int
    case_id: int
    roles: frozenset[Role]


@dataclass(frozen=True, slots=True)
class VisibleItem:
    """One item a viewer may see."""

    kind: ItemKind
    id: int
    author_id: int
    text: str
    shared: bool
    aspect: ViewAspect | None = None


class AccessGate:
    """Decides who may see and change what in a case, and records it in the audit log."""

    def __init__(self, session: Session) -> None:
        self._s = session
        # Answers are remembered only until the session writes anything (a flush or an
        # UPDATE/DELETE statement), so a step that asks five times costs one query.
        self._roles: dict[tuple[int, int], frozenset[Role]] = {}
        self._consents: dict[tuple[int, int], ConsentStatus] = {}
        event.listen(session, "after_flush", self._forget_on_flush)
        event.listen(session, "do_orm_execute", self._forget_on_write)
        event.listen(session, "after_rollback", self._forget)

    def _forget(self, *_args: object) -> None:
        """Drops remembered answers: the data they came from may have changed."""
        self._roles.clear()
        self._consents.clear()

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
        """True when unflushed changes exist, so remembered answers must not be used."""
        return bool(self._s.new or self._s.dirty or self._s.deleted)

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
        return Viewer(person_id, case_id, roles)

    def roles(self, person_id: int, case_id: int) -> frozenset[Role]:
        """The person's active roles in an open case (empty: not a member)."""
        key = (person_id, case_id)
        if key in self._roles and not self._fresh():
            return self._roles[key]
        roles = frozenset(
            self._s.scalars(
                select(m.Membership.role)
                .join(m.Case, m.Case.id == m.Membership.case_id)
                .where(
                    m.Membership.person_id == person_id,
                    m.Membership.case_id == case_id,
                    m.Membership.active.is_(True),
                    m.Case.status == "open",
                )
            )
        )
        self._roles[key] = roles
        return roles

    def consent_in_effect(self, person_id: int, case_id: int, roles: frozenset[Role]) -> bool:
        """The family side needs consent; staff work under their employer's legal basis."""
        if not roles & CONSENTING_ROLES:
            return True
        return self.consent(person_id, case_id).effective

    def consent(self, person_id: int, case_id: int) -> ConsentStatus:
        """The person's consents in a case: the latest answer of each kind counts."""
        key = (person_id, case_id)
        if key in self._consents and not self._fresh():
            return self._consents[key]
        rows = self._s.execute(
            select(m.Consent.scope, m.Consent.given_by_id, m.Consent.given, m.Consent.revoked_at)
            .where(m.Consent.person_id == person_id, m.Consent.case_id == case_id)
            .order_by(m.Consent.recorded_at, m.Consent.id)
        ).all()
        latest: dict[tuple[str, bool], bool] = {}
        for scope, given_by, given, revoked_at in rows:
            # Later rows overwrite earlier ones: the newest answer of each kind wins.
            latest[(scope, given_by is not None)] = bool(given) and revoked_at is None
        age = self._s.get(m.AgeStatement, person_id)
        status = ConsentStatus(
            bot=latest.get((ConsentScope.BOT.value, False)),
            sip=latest.get((ConsentScope.SIP.value, False)),
            under_age_limit=age.under_limit if age is not None else None,
            guardian=latest.get((ConsentScope.BOT.value, True)),
        )
        self._consents[key] = status
        return status

    # --- what is seen --------------------------------------------------------------------

    def visible_items(self, viewer_id: int, case_id: int, now: datetime) -> list[VisibleItem]:
        """Every item of the case this viewer may see; the read is audited."""
        viewer = self.require(viewer_id, case_id, now, "read_items")
        return [item for item in self._case_items(case_id) if self._may_see(viewer, item)]

    def shared_with_meeting(self, case_id: int) -> list[VisibleItem]:
        """Items shared with the meeting (agenda), by authors whose consent is in effect."""
        meeting = Viewer(0, case_id, frozenset({Role.COORDINATOR}))
        return [item for item in self._case_items(case_id) if self._may_see(meeting, item)]

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
        only_professional = viewer.roles == frozenset({Role.PROFESSIONAL})
        if not only_professional or not author_roles & CONSENTING_ROLES:
            return True
        return self.consent(item.author_id, viewer.case_id).sip is True

    def _case_items(self, case_id: int) -> Iterable[VisibleItem]:
        """Every question, view and participation wish of a case, oldest first."""
        for q in self._s.scalars(
            select(m.Question).where(m.Question.case_id == case_id).order_by(m.Question.id)
        ):
            yield VisibleItem(ItemKind.QUESTION, q.id, q.author_id, q.text, q.shared)
        for v in self._s.scalars(
            select(m.View).where(m.View.case_id == case_id).order_by(m.View.id)
        ):
            yield VisibleItem(ItemKind.VIEW, v.id, v.author_id, v.text, v.shared, v.aspect)
        for p in self._s.scalars(
            select(m.Preference).where(m.Preference.case_id == case_id).order_by(m.Preference.id)
        ):
            yield VisibleItem(
                ItemKind.PREFERENCE, p.id, p.person_id, p.participation.value, p.shared
            )
