"""The access gate of the in-memory ports, in small: who may read or change what.

A simplified, honest copy of storage/access.py's rules, so a fake never shows what the real
gate would refuse: an admitted member (active, consent in effect when asked for it) reads the
case; a shared item is read by the readers its owner chose.
"""

from __future__ import annotations

from flows.domain import CONSENTING_ROLES, AccessRefused, Role
from flows.sharing import Readers, ReaderScope, default_readers
from testkit.memory.world import World


class MemoryAccessRefused(AccessRefused):
    """The in-memory gate refused (as storage's AccessDenied)."""


def require(world: World, person_id: int, case_id: int) -> None:
    """Raises unless the person is admitted to the case."""
    if not world.admitted(person_id, case_id):
        raise MemoryAccessRefused("not admitted to this case")


def roles(world: World, person_id: int, case_id: int) -> frozenset[Role]:
    """The person's active roles in a case."""
    return frozenset(m.role for m in world.members(case_id) if m.person_id == person_id)


def organisations_of(world: World, person_id: int, case_id: int) -> frozenset[int]:
    """The organisations a member of a case acts for."""
    return frozenset(
        m.organisation_id
        for m in world.members(case_id)
        if m.person_id == person_id and m.organisation_id is not None
    )


def readers_of(world: World, author_id: int, case_id: int, chosen: Readers | None) -> Readers:
    """An item's readers: the owner's choice, else the first-contact answer (staff: all)."""
    if chosen is not None:
        return chosen
    if not roles(world, author_id, case_id) & CONSENTING_ROLES:
        return default_readers(True)
    return default_readers(world.consent_status(author_id, case_id).sip)


def exchange_allowed(world: World, person_id: int, case_id: int, organisation_id: int) -> bool:
    """Samtycke till informationsutbyte with one organisation: the newest answer, else SIP."""
    answers = world.exchange_consents.get((person_id, case_id), {})
    if organisation_id in answers:
        return answers[organisation_id]
    return world.consent_status(person_id, case_id).sip is True


def reads_shared(
    world: World, reader_id: int, author_id: int, case_id: int, chosen: Readers | None
) -> bool:
    """True when the reader may read what the author shared (storage/access.py rule 4)."""
    if reader_id == author_id:
        return True
    if not world.admitted(reader_id, case_id) or not world.admitted(author_id, case_id):
        return False
    viewer_roles = roles(world, reader_id, case_id)
    if Role.COORDINATOR in viewer_roles:
        return True
    readers = readers_of(world, author_id, case_id, chosen)
    family_author = bool(roles(world, author_id, case_id) & CONSENTING_ROLES)
    viewer_orgs = organisations_of(world, reader_id, case_id)
    if readers.scope is ReaderScope.COORDINATOR:
        return False
    if readers.scope is ReaderScope.ORGANISATIONS:
        return any(
            not family_author or exchange_allowed(world, author_id, case_id, org)
            for org in readers.organisations & viewer_orgs
        )
    if viewer_roles != frozenset({Role.PROFESSIONAL}) or not family_author:
        return True
    if not viewer_orgs:
        return world.consent_status(author_id, case_id).sip is True
    return any(exchange_allowed(world, author_id, case_id, o) for o in viewer_orgs)
