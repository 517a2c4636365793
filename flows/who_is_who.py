"""Who is who: the case's organisations (kind, plain description, contact person) and its people.

"Vem är vem?" (opened from the meeting info, flows/meeting_info.py) shows each organisation of
the case with its description — the coordinator's own text for this case, else the operator's,
else the catalogue's default for its kind — and its contact person (whom the young person can
reach between meetings), then the case's people by first name and role. The coordinator sets
the kind, the description and the contact person in the chat (flows/coordinator/who.py).

Reads go through the access gate (storage/who_is_who_repository.py): only an admitted member
of the case sees the list, and only admitted members are named in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flows.domain import Role
from flows.engine import StepContext
from flows.family_domain import OrganisationKind
from flows.replies import Choice, ParamValue, Reply, say, to_family

# Kinds the catalogue has a default text for (org_default.<kind>).
DESCRIBED_KINDS = frozenset(k.value for k in OrganisationKind if k is not OrganisationKind.OTHER)
# The order people are listed in: the young person first, then the family, then the staff.
PEOPLE_ORDER = (Role.YOUTH, Role.CAREGIVER, Role.NETWORK, Role.COORDINATOR, Role.PROFESSIONAL)


@dataclass(frozen=True, slots=True)
class OrganisationContact:
    """Whom to contact at an organisation between meetings."""

    name: str
    role: str | None
    reach: str | None


@dataclass(frozen=True, slots=True)
class CaseOrganisationInfo:
    """An organisation as the case presents it."""

    id: int
    name: str
    kind: OrganisationKind
    # The case's own text, else the operator's; None: the catalogue's default for the kind.
    description: str | None
    contact: OrganisationContact | None


@dataclass(frozen=True, slots=True)
class CasePerson:
    """Someone in the case, by first name and role (and organisation for the staff)."""

    first_name: str
    role: Role
    organisation: str | None


class WhoIsWhoPort(Protocol):
    """Reads and writes of who is who, behind the access gate."""

    def organisations(self, case_id: int, viewer: int) -> tuple[CaseOrganisationInfo, ...]:
        """The case's organisations, by name (an admitted member reads them)."""
        ...

    def organisation(
        self, case_id: int, organisation_id: int, viewer: int
    ) -> CaseOrganisationInfo | None:
        """One organisation of the case, or None."""
        ...

    def people(self, case_id: int, viewer: int) -> tuple[CasePerson, ...]:
        """The case's admitted members by first name and role."""
        ...

    def set_kind(
        self, case_id: int, organisation_id: int, kind: OrganisationKind, author: int, now: datetime
    ) -> bool:
        """Sets an organisation's kind (a coordinator of the case)."""
        ...

    def set_description(
        self, case_id: int, organisation_id: int, text: str | None, author: int, now: datetime
    ) -> bool:
        """Sets (None: clears to the default) the organisation's description in this case."""
        ...

    def set_contact(
        self,
        case_id: int,
        organisation_id: int,
        contact: OrganisationContact | None,
        author: int,
        now: datetime,
    ) -> bool:
        """Sets (None: removes) the organisation's contact person in this case."""
        ...


def who_is_who(ctx: StepContext) -> WhoIsWhoPort:
    """The who-is-who port of this step's transaction."""
    return ctx.ports.who_is_who


def organisation_params(org: CaseOrganisationInfo) -> dict[str, ParamValue]:
    """An organisation as a template reads it: name, own text or kind for the default, contact."""
    contact = org.contact
    return {
        "name": org.name,
        "description": org.description,
        "default_kind": org.kind.value if org.kind.value in DESCRIBED_KINDS else None,
        "contact": contact.name if contact else None,
        "contact_role": contact.role if contact else None,
        "contact_reach": contact.reach if contact else None,
    }


def who_reply(ctx: StepContext, *choices: Choice) -> Reply:
    """ "Vem är vem?": each organisation with its description and contact, and the people."""
    port = who_is_who(ctx)
    case_id, viewer = ctx.actor.case_id, ctx.actor.person_id
    organisations: list[ParamValue] = [
        organisation_params(o) for o in port.organisations(case_id, viewer)
    ]
    people: list[ParamValue] = [
        {"name": p.first_name, "role": p.role.value, "org": p.organisation}
        for p in sorted(port.people(case_id, viewer), key=lambda p: PEOPLE_ORDER.index(p.role))
    ]
    # Who is in the case is for the family together: a family group chat may read it.
    return to_family(say("meeting.who", *choices, orgs_info=organisations, people_info=people))


def first_name(display_name: str) -> str:
    """The first word of a name: the people list says "Jonas", not a full name."""
    words = display_name.split()
    return words[0] if words else display_name


def organisations_by_name(
    organisations: Sequence[CaseOrganisationInfo],
) -> tuple[CaseOrganisationInfo, ...]:
    """Organisations in the order of their names, case ignored."""
    return tuple(sorted(organisations, key=lambda o: (o.name.casefold(), o.id)))
