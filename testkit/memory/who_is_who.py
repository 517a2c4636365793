"""WhoIsWhoPort in memory: the case's organisations (kind, description, contact) and people."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flows.domain import Role
from flows.family_domain import OrganisationKind
from flows.who_is_who import CaseOrganisationInfo, CasePerson, OrganisationContact
from testkit.memory.access import MemoryAccessRefused, roles
from testkit.memory.world import World


@dataclass
class CaseTexts:
    """What the coordinator set for one organisation in one case."""

    description: str | None = None
    contact: OrganisationContact | None = None


@dataclass
class MemoryWhoIsWho:
    """Who is who on the World (storage/who_is_who_repository.py)."""

    world: World
    texts: dict[tuple[int, int], CaseTexts] = field(default_factory=dict)

    def organisations(self, case_id: int, viewer: int) -> tuple[CaseOrganisationInfo, ...]:
        """The case's organisations, by name (any active member reads them)."""
        self._member(viewer, case_id)
        return tuple(sorted(self._of_case(case_id), key=lambda o: (o.name.casefold(), o.id)))

    def organisation(
        self, case_id: int, organisation_id: int, viewer: int
    ) -> CaseOrganisationInfo | None:
        """One organisation of the case, or None."""
        self._member(viewer, case_id)
        return next((o for o in self._of_case(case_id) if o.id == organisation_id), None)

    def people(self, case_id: int, viewer: int) -> tuple[CasePerson, ...]:
        """The case's admitted members by first name and role; none for a viewer not let in."""
        if not self.world.admitted(viewer, case_id):
            return ()
        people = []
        for m in self.world.members(case_id):
            if not self.world.admitted(m.person_id, case_id):
                continue
            staff = m.role in (Role.COORDINATOR, Role.PROFESSIONAL)
            organisation = (
                self.world.organisations[m.organisation_id].name
                if staff and m.organisation_id is not None
                else None
            )
            people.append(CasePerson(m.display_name.split()[0], m.role, organisation))
        return tuple(people)

    def set_kind(
        self, case_id: int, organisation_id: int, kind: OrganisationKind, author: int, now: datetime
    ) -> bool:
        """Sets an organisation's kind (a coordinator of the case)."""
        if not self._links(case_id, organisation_id, author):
            return False
        self.world.organisations[organisation_id].kind = kind.value
        return True

    def set_description(
        self, case_id: int, organisation_id: int, text: str | None, author: int, now: datetime
    ) -> bool:
        """Sets (None: clears to the default) the organisation's description in this case."""
        if not self._links(case_id, organisation_id, author):
            return False
        self.texts.setdefault((case_id, organisation_id), CaseTexts()).description = text
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
        if not self._links(case_id, organisation_id, author):
            return False
        self.texts.setdefault((case_id, organisation_id), CaseTexts()).contact = contact
        return True

    def _of_case(self, case_id: int) -> list[CaseOrganisationInfo]:
        """Organisations named for the case or of its active members, with the case's texts."""
        ids = list(self.world.cases[case_id].organisations)
        ids += [
            m.organisation_id
            for m in self.world.members(case_id)
            if m.organisation_id and m.organisation_id not in ids
        ]
        kinds = {k.value for k in OrganisationKind}
        found = []
        for org_id in ids:
            org = self.world.organisations[org_id]
            texts = self.texts.get((case_id, org_id), CaseTexts())
            kind = OrganisationKind(org.kind) if org.kind in kinds else OrganisationKind.OTHER
            found.append(
                CaseOrganisationInfo(
                    org.id, org.name, kind, texts.description or org.description, texts.contact
                )
            )
        return found

    def _member(self, viewer: int, case_id: int) -> None:
        """Any active member of the case (also one who has not agreed yet)."""
        if self.world.membership(viewer, case_id) is None:
            raise MemoryAccessRefused("not a member of this case")

    def _links(self, case_id: int, organisation_id: int, author: int) -> bool:
        """A coordinator of the case, about an organisation of the case."""
        if Role.COORDINATOR not in roles(self.world, author, case_id):
            raise MemoryAccessRefused("only the case's coordinator")
        return organisation_id in {o.id for o in self._of_case(case_id)}
