"""Sharing per reader: who reads each shared item, the agenda as each reader may read it, and
the family's samtycke till informationsutbyte per organisation. Everything through the gate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from flows.domain import (
    Agenda,
    ItemKind,
    Participation,
    Role,
    SharedContribution,
    ViewAspect,
)
from flows.sharing import (
    ExchangeConsent,
    Readers,
    ReaderScope,
    SharedNote,
    ShareTarget,
)
from storage import models as m
from storage import question_marks
from storage.access import AccessGate, FamilyItemState, Viewer, VisibleItem
from storage.meeting_needs_repository import MeetingNeedsRepository

# The youth-side tables by what is shared, with the column naming the owner.
_YouthModel = type[m.Question] | type[m.View] | type[m.Preference]
_YOUTH_TABLES: dict[ShareTarget, tuple[_YouthModel, InstrumentedAttribute[int]]] = {
    ShareTarget.QUESTION: (m.Question, m.Question.author_id),
    ShareTarget.VIEW: (m.View, m.View.author_id),
    ShareTarget.PREFERENCE: (m.Preference, m.Preference.person_id),
}


class SharingRepository:
    """Shares items with chosen readers and builds the agenda per reader, behind the gate."""

    def __init__(self, session: Session, gate: AccessGate) -> None:
        self._s = session
        self._gate = gate

    # --- sharing ------------------------------------------------------------------------

    def share(
        self,
        target: ShareTarget,
        item_id: int,
        person_id: int,
        readers: Readers | None,
        now: datetime,
    ) -> bool:
        """Shares an own item with these readers (None: stops sharing it); others' untouched."""
        if target is ShareTarget.FAMILY:
            row = self._s.get(m.FamilyItem, item_id)
            if row is None or row.author_id != person_id:
                return False
            state = FamilyItemState(row.case_id, row.author_id, row.in_family_list, row.shared)
            self._gate.require_family_author(person_id, state, now, "family.share", item_id)
            case_id = row.case_id
            stmt = (
                update(m.FamilyItem)
                .where(m.FamilyItem.id == item_id, m.FamilyItem.author_id == person_id)
                .values(shared=readers is not None, readers=_encoded(readers), updated_at=now)
            )
        else:
            model, owner = _YOUTH_TABLES[target]
            found = self._s.scalar(select(model.case_id).where(model.id == item_id))
            if found is None:
                return False
            case_id = found
            self._gate.may_change(person_id, case_id, person_id, now)
            stmt = (
                update(model)
                .where(model.id == item_id, owner == person_id)
                .values(shared=readers is not None, readers=_encoded(readers), updated_at=now)
            )
        changed = bool(getattr(self._s.execute(stmt), "rowcount", 0))
        if changed and readers is not None:
            self._consent_by_choice(person_id, case_id, readers, now)
        return changed

    def _consent_by_choice(
        self, person_id: int, case_id: int, readers: Readers, now: datetime
    ) -> None:
        """Choosing organisations as readers is consent to exchange with them; choosing
        everyone agrees with those not yet answered (a withdrawal is never undone silently)."""
        if readers.scope is ReaderScope.ORGANISATIONS:
            orgs = readers.organisations
        elif readers.scope is ReaderScope.MEETING:
            answered = self._gate.organisation_consents(person_id, case_id)
            orgs = frozenset(o for o, _ in self._organisations(case_id) if o not in answered)
        else:
            return
        for org in sorted(orgs):
            self.set_exchange_consent(person_id, case_id, org, True, now)

    def chosen_readers(self, target: ShareTarget, item_id: int, person_id: int) -> Readers | None:
        """The readers the owner chose for an own shared item (None: not shared or default)."""
        if target is ShareTarget.FAMILY:
            row = self._s.get(m.FamilyItem, item_id)
            if row is None or row.author_id != person_id:
                return None
            self._gate.require(person_id, row.case_id)
            return Readers.decode(row.readers) if row.shared else None
        model, owner = _YOUTH_TABLES[target]
        found = self._s.execute(
            select(model.case_id, model.readers, model.shared).where(
                model.id == item_id, owner == person_id
            )
        ).first()
        if found is None:
            return None
        self._gate.require(person_id, found[0])
        return Readers.decode(found[1]) if found[2] else None

    def default_readers(self, person_id: int, case_id: int) -> Readers:
        """The readers of the person's items when they choose none (first-contact answer)."""
        return self._gate.readers_of(person_id, case_id, None, self._gate.roles(person_id, case_id))

    # --- consent to information exchange, per organisation -------------------------------

    def organisations(self, case_id: int) -> tuple[tuple[int, str], ...]:
        """The organisations of a case (id, name), by name: who an owner may choose."""
        return self._organisations(case_id)

    def _organisations(self, case_id: int) -> tuple[tuple[int, str], ...]:
        """Organisations named for the case or of its active members."""
        rows = self._s.scalars(
            select(m.Organisation).where(
                or_(
                    m.Organisation.id.in_(
                        select(m.CaseOrganisation.organisation_id).where(
                            m.CaseOrganisation.case_id == case_id
                        )
                    ),
                    m.Organisation.id.in_(
                        select(m.Membership.organisation_id).where(
                            m.Membership.case_id == case_id, m.Membership.active.is_(True)
                        )
                    ),
                )
            )
        )
        return tuple(sorted(((o.id, o.name) for o in rows), key=lambda o: (o[1].casefold(), o[0])))

    def exchange_consents(self, person_id: int, case_id: int) -> Sequence[ExchangeConsent]:
        """The person's samtycke till informationsutbyte with each organisation of the case."""
        self._gate.require(person_id, case_id)
        return [
            ExchangeConsent(org, name, self._gate.exchange_allowed(person_id, case_id, org))
            for org, name in self._organisations(case_id)
        ]

    def exchange_consents_of_case(
        self, coordinator_id: int, case_id: int
    ) -> Sequence[tuple[str, Sequence[ExchangeConsent]]]:
        """For the coordinator: each family member's consent per organisation, by name."""
        self._gate.require_role(
            coordinator_id, case_id, frozenset({Role.COORDINATOR}), "only the coordinator"
        )
        # Ordered by when each joined; a person with two family roles is listed once (dict).
        family = self._s.execute(
            select(m.Person.id, m.Person.display_name)
            .join(m.Membership, m.Membership.person_id == m.Person.id)
            .where(
                m.Membership.case_id == case_id,
                m.Membership.active.is_(True),
                m.Membership.role.in_([Role.YOUTH, Role.CAREGIVER, Role.NETWORK]),
            )
            .order_by(m.Membership.joined_at, m.Person.id)
        ).all()
        orgs = self._organisations(case_id)
        return [
            (
                name,
                [
                    ExchangeConsent(o, n, self._gate.exchange_allowed(pid, case_id, o))
                    for o, n in orgs
                ],
            )
            for pid, name in dict(family).items()
        ]

    def set_exchange_consent(
        self, person_id: int, case_id: int, organisation_id: int, given: bool, now: datetime
    ) -> None:
        """Records a yes or a withdrawal for one organisation; it counts at once."""
        self._gate.require(person_id, case_id)
        self._s.add(
            m.OrganisationConsent(
                case_id=case_id,
                person_id=person_id,
                organisation_id=organisation_id,
                given=given,
                recorded_at=now,
            )
        )
        self._gate.audit(
            now, person_id, case_id, "consent.exchange", "organisation", organisation_id
        )
        self._s.flush()

    # --- the agenda per reader --------------------------------------------------------------

    def agenda(self, case_id: int, now: datetime, reader: int | None = None) -> Agenda:
        """The next meeting's agenda as one reader may read it (None: the meeting's coordinator
        and the report, who read everything shared, each item with its readers)."""
        from storage.repositories import MembershipRepository  # the agenda's meeting line

        case = self._s.get_one(m.Case, case_id)
        if reader is None:
            viewer = Viewer(0, case_id, frozenset({Role.COORDINATOR}))
            items = self._gate.shared_with_meeting(case_id)
        else:
            viewer = self._gate.require(reader, case_id, now, "read_agenda")
            items = self._gate.shared_with_reader(reader, case_id, now)
        # After a meeting: answered questions are dropped, those to follow up carried over.
        kept, carried = question_marks.carried_over(self._s, list(items))
        names = dict(self._organisations(case_id))
        family = self._family_notes(case_id, viewer, reader, names)
        members = self._s.execute(
            select(m.Person, m.Membership.role)
            .join(m.Membership, m.Membership.person_id == m.Person.id)
            .where(m.Membership.case_id == case_id, m.Membership.active.is_(True))
            .order_by(m.Membership.joined_at, m.Person.id)
        ).all()
        contributions: list[SharedContribution] = []
        seen: set[int] = set()
        for person, role in members:
            if person.id in seen:
                continue
            seen.add(person.id)
            roles = self._gate.roles(person.id, case_id)
            contribution = self._shared_by(
                [i for i in kept if i.author_id == person.id],
                family.get(person.id, ()),
                person,
                role,
                roles,
                names,
                case_id,
                carried,
            )
            if (
                contribution.questions
                or contribution.views
                or contribution.participation
                or contribution.notes
            ):
                contributions.append(contribution)
        return Agenda(
            case_reference=case.reference,
            meeting=MembershipRepository(self._s).next_meeting(case_id, now),
            contributions=tuple(contributions),
            # Interpreter and other needs are for the one who runs the meeting (and the report).
            needs=MeetingNeedsRepository(self._s, self._gate).for_agenda(case_id)
            if reader is None
            else (),
        )

    def _family_notes(
        self, case_id: int, viewer: Viewer, reader: int | None, names: dict[int, str]
    ) -> dict[int, tuple[SharedNote, ...]]:
        """What the family's adults shared, by author, as far as the viewer reads it."""
        notes: dict[int, list[SharedNote]] = {}
        for row in self._s.scalars(
            select(m.FamilyItem)
            .where(m.FamilyItem.case_id == case_id, m.FamilyItem.shared.is_(True))
            .order_by(m.FamilyItem.id)
        ):
            if row.author_id == reader:
                continue
            chosen = Readers.decode(row.readers)
            state = FamilyItemState(
                row.case_id, row.author_id, row.in_family_list, row.shared, chosen
            )
            # Shared, not merely on the family list: the agenda is what the meeting reads.
            if not self._gate.sees_family_item(viewer, state):
                continue
            if reader is not None and Role.COORDINATOR not in viewer.roles:
                author_roles = self._gate.roles(row.author_id, case_id)
                readers = self._gate.readers_of(row.author_id, case_id, chosen, author_roles)
                if not self._gate.reads_shared(viewer, row.author_id, author_roles, chosen):
                    continue
            else:
                readers = self._gate.readers_of(
                    row.author_id, case_id, chosen, self._gate.roles(row.author_id, case_id)
                )
            notes.setdefault(row.author_id, []).append(
                SharedNote(row.kind.value, row.text, _named(readers, names))
            )
        return {author: tuple(n) for author, n in notes.items()}

    def _shared_by(
        self,
        items: list[VisibleItem],
        notes: tuple[SharedNote, ...],
        person: m.Person,
        role: Role,
        roles: frozenset[Role],
        names: dict[int, str],
        case_id: int,
        carried: frozenset[int] = frozenset(),
    ) -> SharedContribution:
        """What one person shared, from the items the gate let through, with their readers
        (`carried`: questions carried over from an earlier meeting)."""
        order = list(ViewAspect)

        def readers(item: VisibleItem) -> Readers:
            """The item's readers, with the organisations named."""
            return _named(self._gate.readers_of(person.id, case_id, item.readers, roles), names)

        questions = [i for i in items if i.kind is ItemKind.QUESTION]
        views = sorted(
            (v for v in items if v.kind is ItemKind.VIEW and v.aspect),
            key=lambda v: order.index(v.aspect) if v.aspect else 0,
        )
        preference = next((i for i in items if i.kind is ItemKind.PREFERENCE), None)
        return SharedContribution(
            person_id=person.id,
            display_name=person.display_name,
            role=role,
            questions=tuple(q.text for q in questions),
            carried_over=tuple(q.text for q in questions if q.id in carried),
            views=tuple((v.aspect, v.text) for v in views if v.aspect),
            participation=Participation(preference.text) if preference else None,
            question_readers=tuple(readers(q) for q in questions),
            view_readers=tuple(readers(v) for v in views),
            participation_readers=readers(preference) if preference else None,
            notes=notes,
        )


def _encoded(readers: Readers | None) -> str | None:
    """The stored form of a choice of readers (None when not shared)."""
    return readers.encode() if readers is not None else None


def _named(readers: Readers, names: dict[int, str]) -> Readers:
    """The readers with their organisations' names, for a document."""
    if readers.scope is not ReaderScope.ORGANISATIONS:
        return readers
    return Readers(
        readers.scope,
        readers.organisations,
        tuple(sorted(names.get(o, "?") for o in readers.organisations)),
    )
