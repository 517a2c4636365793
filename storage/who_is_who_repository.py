"""Who is who (flows/who_is_who.py) on the database, behind the access gate.

A case's organisations are those linked to it (case_organisation, what the coordinator added)
and those its active members come from. The description and contact person the coordinator
writes belong to the case's link; the kind belongs to the organisation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.domain import Role
from flows.family_domain import OrganisationKind
from flows.who_is_who import (
    CaseOrganisationInfo,
    CasePerson,
    OrganisationContact,
    first_name,
    organisations_by_name,
)
from storage import models as m
from storage.access import AccessDenied, AccessGate


class WhoIsWhoRepository:
    """Implements flows.who_is_who.WhoIsWhoPort."""

    def __init__(self, session: Session, gate: AccessGate) -> None:
        self._s = session
        self._gate = gate

    def organisations(self, case_id: int, viewer: int) -> tuple[CaseOrganisationInfo, ...]:
        """The case's organisations, by name: any active member reads them (also one who has
        not agreed yet: who the services are is no one's private data)."""
        self._member(viewer, case_id)
        return organisations_by_name(self._case_organisations(case_id))

    def organisation(
        self, case_id: int, organisation_id: int, viewer: int
    ) -> CaseOrganisationInfo | None:
        """One organisation of the case, or None."""
        self._member(viewer, case_id)
        return next((o for o in self._case_organisations(case_id) if o.id == organisation_id), None)

    def people(self, case_id: int, viewer: int) -> tuple[CasePerson, ...]:
        """The case's members by first name and role: only those let in (rules 1 and 2), so
        someone who has not agreed, or withdrew their consent, is not named to the others,
        and a viewer who is not let in (no consent in effect) is shown no names."""
        if not self._gate.admitted(viewer, case_id):
            return ()
        rows = self._s.execute(
            select(m.Person.id, m.Person.display_name, m.Membership.role, m.Organisation.name)
            .join(m.Membership, m.Membership.person_id == m.Person.id)
            .outerjoin(m.Organisation, m.Organisation.id == m.Membership.organisation_id)
            .where(m.Membership.case_id == case_id, m.Membership.active.is_(True))
            .order_by(m.Membership.joined_at, m.Membership.id)
        ).all()
        people: list[CasePerson] = []
        for person_id, name, role, organisation in rows:
            if not self._gate.admitted(person_id, case_id):
                continue
            staff = role in (Role.COORDINATOR, Role.PROFESSIONAL)
            people.append(CasePerson(first_name(name), role, organisation if staff else None))
        return tuple(people)

    def set_kind(
        self, case_id: int, organisation_id: int, kind: OrganisationKind, author: int, now: datetime
    ) -> bool:
        """Sets an organisation's kind (a coordinator of the case)."""
        self._gate.require_coordinator(
            author, case_id, now, "organisation.kind", "organisation", organisation_id
        )
        link = self._link(case_id, organisation_id)
        if link is None:
            return False
        self._s.get_one(m.Organisation, organisation_id).kind = kind.value
        self._s.flush()
        return True

    def set_description(
        self, case_id: int, organisation_id: int, text: str | None, author: int, now: datetime
    ) -> bool:
        """Sets (None: clears to the default) the organisation's description in this case."""
        self._gate.require_coordinator(
            author, case_id, now, "organisation.description", "organisation", organisation_id
        )
        link = self._link(case_id, organisation_id)
        if link is None:
            return False
        link.description = text
        self._s.flush()
        return True

    def set_contact(
        self,
        case_id: int,
        organisation_id: int,
        contact: OrganisationContact | None,
        author: int,
        now: datetime,
    ) -> bool:
        """Sets (None: removes) the organisation's contact person in this case."""
        self._gate.require_coordinator(
            author, case_id, now, "organisation.contact", "organisation", organisation_id
        )
        link = self._link(case_id, organisation_id)
        if link is None:
            return False
        link.contact_name = contact.name if contact else None
        link.contact_role = contact.role if contact else None
        link.contact_reach = contact.reach if contact else None
        self._s.flush()
        return True

    def _member(self, viewer: int, case_id: int) -> None:
        """Refuses anyone who is not an active member of the open case (rule 1)."""
        if not self._gate.roles(viewer, case_id):
            raise AccessDenied("not an active member of this open case")

    def _link(self, case_id: int, organisation_id: int) -> m.CaseOrganisation | None:
        """The case's link to one of its organisations; made for a member's organisation."""
        link = self._s.scalar(
            select(m.CaseOrganisation).where(
                m.CaseOrganisation.case_id == case_id,
                m.CaseOrganisation.organisation_id == organisation_id,
            )
        )
        if link is not None:
            return link
        if organisation_id not in {o.id for o in self._case_organisations(case_id)}:
            return None
        link = m.CaseOrganisation(case_id=case_id, organisation_id=organisation_id)
        self._s.add(link)
        self._s.flush()
        return link

    def _case_organisations(self, case_id: int) -> list[CaseOrganisationInfo]:
        """Linked organisations and those the case's active members come from."""
        linked: dict[int, tuple[m.Organisation, m.CaseOrganisation | None]] = {
            org.id: (org, link)
            for org, link in self._s.execute(
                select(m.Organisation, m.CaseOrganisation)
                .join(m.CaseOrganisation, m.CaseOrganisation.organisation_id == m.Organisation.id)
                .where(m.CaseOrganisation.case_id == case_id)
            ).all()
        }
        members = self._s.scalars(
            select(m.Organisation)
            .join(m.Membership, m.Membership.organisation_id == m.Organisation.id)
            .where(m.Membership.case_id == case_id, m.Membership.active.is_(True))
            .distinct()
        )
        for org in members:
            linked.setdefault(org.id, (org, None))
        return [_info(org, link) for org, link in linked.values()]


def _info(org: m.Organisation, link: m.CaseOrganisation | None) -> CaseOrganisationInfo:
    """An organisation with the case's own texts (when linked) as a domain value."""
    kinds = {k.value for k in OrganisationKind}
    kind = OrganisationKind(org.kind) if org.kind in kinds else OrganisationKind.OTHER
    contact = None
    if link is not None and link.contact_name:
        contact = OrganisationContact(link.contact_name, link.contact_role, link.contact_reach)
    own = link.description if link is not None else None
    return CaseOrganisationInfo(org.id, org.name, kind, own or org.description, contact)
