"""Sharing per reader: who may read what its owner shared with the meeting.

An owner shares an item with one of three reader sets: the coordinator only ("bara den som
håller i mötet"), everyone in the meeting, or chosen organisations of the case. An item with
no choice of its own follows its owner's first-contact answer (consent.sip): yes means
everyone in the meeting, anything else the coordinator only. Coordinators always read what is
shared, since they run the meeting; storage/access.py applies the rest (and the family's
samtycke till informationsutbyte per organisation, which a withdrawal ends at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ShareTarget(StrEnum):
    """What kind of item is shared: the young person's three kinds, or a family item."""

    QUESTION = "question"
    VIEW = "view"
    PREFERENCE = "preference"
    FAMILY = "family"


class ReaderScope(StrEnum):
    """Who reads a shared item besides the coordinator."""

    COORDINATOR = "coordinator"
    MEETING = "meeting"
    ORGANISATIONS = "organisations"


@dataclass(frozen=True, slots=True)
class Readers:
    """The readers an owner chose for one shared item (organisation ids for ORGANISATIONS)."""

    scope: ReaderScope
    organisations: frozenset[int] = frozenset()
    # The organisations' names, filled in where a document shows them (the agenda).
    names: tuple[str, ...] = ()

    def encode(self) -> str:
        """The stored form: the scope, and for chosen organisations their ids."""
        if self.scope is ReaderScope.ORGANISATIONS:
            ids = ",".join(str(i) for i in sorted(self.organisations))
            return f"{self.scope.value}:{ids}"
        return self.scope.value

    @staticmethod
    def decode(stored: str | None) -> Readers | None:
        """The readers from their stored form; None when the owner chose none (the default)."""
        if not stored:
            return None
        scope, _, ids = stored.partition(":")
        orgs = frozenset(int(i) for i in ids.split(",") if i)
        return Readers(
            ReaderScope(scope), orgs if scope == ReaderScope.ORGANISATIONS else frozenset()
        )

    @property
    def coordinator_only(self) -> bool:
        """True when nobody but the coordinator reads the item."""
        return self.scope is ReaderScope.COORDINATOR or (
            self.scope is ReaderScope.ORGANISATIONS and not self.organisations
        )


COORDINATOR_ONLY = Readers(ReaderScope.COORDINATOR)
EVERYONE = Readers(ReaderScope.MEETING)


def default_readers(first_contact_yes: bool | None) -> Readers:
    """The readers of an item whose owner chose none: the first-contact answer decides."""
    return EVERYONE if first_contact_yes is True else COORDINATOR_ONLY


def chosen_organisations(organisations: frozenset[int]) -> Readers:
    """Readers for chosen organisations of the case (none chosen: the coordinator only)."""
    if not organisations:
        return COORDINATOR_ONLY
    return Readers(ReaderScope.ORGANISATIONS, organisations)


@dataclass(frozen=True, slots=True)
class SharedNote:
    """One family item on the agenda: its kind (a FamilyItemKind value), text and readers."""

    kind: str
    text: str
    readers: Readers


@dataclass(frozen=True, slots=True)
class ExchangeConsent:
    """The family member's samtycke till informationsutbyte with one organisation of the case."""

    organisation_id: int
    name: str
    in_effect: bool
