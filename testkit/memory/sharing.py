"""SharingPort in memory: readers per shared item, consent per organisation, the agenda."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from flows.domain import (
    FAMILY_ROLES,
    Agenda,
    ItemKind,
    MeetingNeedItem,
    Participation,
    Role,
    SharedContribution,
    ViewAspect,
)
from flows.sharing import ExchangeConsent, Readers, ReaderScope, SharedNote, ShareTarget
from testkit.memory.access import exchange_allowed, readers_of, reads_shared, require
from testkit.memory.families import MemoryFamilies
from testkit.memory.needs import MemoryMeetingNeeds
from testkit.memory.preparation import MemoryPreparation, OwnItem
from testkit.memory.world import World

_KINDS = {
    ShareTarget.QUESTION: ItemKind.QUESTION,
    ShareTarget.VIEW: ItemKind.VIEW,
    ShareTarget.PREFERENCE: ItemKind.PREFERENCE,
}


@dataclass
class MemorySharing:
    """Sharing per reader over the preparation and family items (storage/sharing_repository)."""

    world: World
    preparation: MemoryPreparation
    families: MemoryFamilies
    needs: MemoryMeetingNeeds

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
            stored = self.families.items.get(item_id)
            if stored is None or stored.item.author_id != person_id:
                return False
            require(self.world, person_id, stored.case_id)
            item = replace(stored.item, shared=readers is not None)
            self.families.items[item_id] = replace(stored, item=item, readers=readers)
            case_id = stored.case_id
        else:
            own = self.preparation.items.get(item_id)
            if own is None or own.owner != person_id or own.kind is not _KINDS[target]:
                return False
            require(self.world, person_id, own.case_id)
            self.preparation.items[item_id] = replace(
                own, shared=readers is not None, readers=readers
            )
            case_id = own.case_id
        if readers is not None:
            self._consent_by_choice(person_id, case_id, readers, now)
        return True

    def chosen_readers(self, target: ShareTarget, item_id: int, person_id: int) -> Readers | None:
        """The readers the owner chose for an own shared item (None: not shared or default)."""
        if target is ShareTarget.FAMILY:
            stored = self.families.items.get(item_id)
            if stored is None or stored.item.author_id != person_id:
                return None
            return stored.readers if stored.item.shared else None
        own = self.preparation.items.get(item_id)
        if own is None or own.owner != person_id:
            return None
        return own.readers if own.shared else None

    def default_readers(self, person_id: int, case_id: int) -> Readers:
        """The readers of the person's items when they choose none (first-contact answer)."""
        return readers_of(self.world, person_id, case_id, None)

    def organisations(self, case_id: int) -> tuple[tuple[int, str], ...]:
        """The organisations of a case (id, name), by name."""
        ids = set(self.world.cases[case_id].organisations) | {
            m.organisation_id for m in self.world.members(case_id) if m.organisation_id
        }
        found = [(o, self.world.organisations[o].name) for o in ids]
        return tuple(sorted(found, key=lambda o: (o[1].casefold(), o[0])))

    def exchange_consents(self, person_id: int, case_id: int) -> Sequence[ExchangeConsent]:
        """The person's consent to information exchange with each organisation of the case."""
        require(self.world, person_id, case_id)
        return [
            ExchangeConsent(o, name, exchange_allowed(self.world, person_id, case_id, o))
            for o, name in self.organisations(case_id)
        ]

    def exchange_consents_of_case(
        self, coordinator_id: int, case_id: int
    ) -> Sequence[tuple[str, Sequence[ExchangeConsent]]]:
        """For the coordinator: each family member's consent per organisation."""
        require(self.world, coordinator_id, case_id)
        family = {m.person_id: m.display_name for m in self.world.members(case_id, FAMILY_ROLES)}
        orgs = self.organisations(case_id)
        return [
            (
                name,
                [
                    ExchangeConsent(o, n, exchange_allowed(self.world, p, case_id, o))
                    for o, n in orgs
                ],
            )
            for p, name in family.items()
        ]

    def set_exchange_consent(
        self, person_id: int, case_id: int, organisation_id: int, given: bool, now: datetime
    ) -> None:
        """Records a yes or a withdrawal for one organisation; it counts at once."""
        require(self.world, person_id, case_id)
        self.world.exchange_consents.setdefault((person_id, case_id), {})[organisation_id] = given

    def agenda(self, case_id: int, now: datetime, reader: int | None = None) -> Agenda:
        """The next meeting's agenda as one reader may read it (None: everything shared)."""
        if reader is not None:
            require(self.world, reader, case_id)
        names = dict(self.organisations(case_id))
        contributions: list[SharedContribution] = []
        seen: set[int] = set()
        for member in self.world.members(case_id):
            author = member.person_id
            if author in seen or author == reader or not self.world.admitted(author, case_id):
                continue
            seen.add(author)
            own = [
                i
                for i in self.preparation.items.values()
                if (i.case_id, i.owner) == (case_id, author)
                and i.shared
                and self._reads(reader, author, case_id, i.readers)
            ]
            notes = tuple(
                SharedNote(
                    s.item.kind.value, s.item.text, self._named(author, case_id, s.readers, names)
                )
                for s in sorted(self.families.items.values(), key=lambda s: s.item.id)
                if s.case_id == case_id
                and s.item.author_id == author
                and s.item.shared
                and self._reads(reader, author, case_id, s.readers)
            )
            contribution = self._contribution(
                member.display_name, member.role, author, own, notes, names
            )
            if contribution.questions or contribution.views or contribution.participation or notes:
                contributions.append(contribution)
        meeting = self.world.next_meeting(case_id, now)
        return Agenda(
            case_reference=self.world.cases[case_id].reference,
            meeting=meeting.info() if meeting else None,
            contributions=tuple(contributions),
            needs=self._needs(case_id) if reader is None else (),
        )

    def _reads(self, reader: int | None, author: int, case_id: int, chosen: Readers | None) -> bool:
        """True when the reader (None: the meeting's coordinator and report) reads the item."""
        return reader is None or reads_shared(self.world, reader, author, case_id, chosen)

    def _contribution(
        self,
        name: str,
        role: Role,
        author: int,
        own: list[OwnItem],
        notes: tuple[SharedNote, ...],
        names: dict[int, str],
    ) -> SharedContribution:
        """What one person shared, with the readers of each item."""
        case_id = own[0].case_id if own else 0
        order = list(ViewAspect)
        questions = [i for i in own if i.kind is ItemKind.QUESTION]
        views = sorted(
            (i for i in own if i.kind is ItemKind.VIEW and i.aspect),
            key=lambda i: order.index(i.aspect) if i.aspect else 0,
        )
        preference = next((i for i in own if i.kind is ItemKind.PREFERENCE), None)
        return SharedContribution(
            person_id=author,
            display_name=name,
            role=role,
            questions=tuple(q.text for q in questions),
            views=tuple((v.aspect, v.text) for v in views if v.aspect),
            participation=Participation(preference.text) if preference else None,
            question_readers=tuple(
                self._named(author, case_id, q.readers, names) for q in questions
            ),
            view_readers=tuple(self._named(author, case_id, v.readers, names) for v in views),
            participation_readers=self._named(author, case_id, preference.readers, names)
            if preference
            else None,
            notes=notes,
        )

    def _named(
        self, author: int, case_id: int, chosen: Readers | None, names: dict[int, str]
    ) -> Readers:
        """The item's readers with the chosen organisations' names, for a document."""
        readers = readers_of(self.world, author, case_id, chosen)
        if readers.scope is not ReaderScope.ORGANISATIONS:
            return readers
        return Readers(
            readers.scope,
            readers.organisations,
            tuple(names[o] for o in sorted(readers.organisations) if o in names),
        )

    def _needs(self, case_id: int) -> tuple[MeetingNeedItem, ...]:
        """Every admitted member's needs that ask for something, in the order they joined."""
        items: list[MeetingNeedItem] = []
        for member in self.world.members(case_id):
            need = self.needs.needs.get((case_id, member.person_id))
            if need is None or not self.world.admitted(member.person_id, case_id):
                continue
            if need.interpreter or need.other:
                items.append(
                    MeetingNeedItem(
                        member.person_id,
                        member.display_name,
                        member.role,
                        need.interpreter,
                        need.language,
                        need.other,
                    )
                )
        return tuple(items)

    def _consent_by_choice(
        self, person_id: int, case_id: int, readers: Readers, now: datetime
    ) -> None:
        """Choosing organisations is consent to exchange with them; choosing everyone agrees
        with those not yet answered (a withdrawal is never undone silently)."""
        if readers.scope is ReaderScope.ORGANISATIONS:
            orgs = readers.organisations
        elif readers.scope is ReaderScope.MEETING:
            answered = self.world.exchange_consents.get((person_id, case_id), {})
            orgs = frozenset(o for o, _ in self.organisations(case_id) if o not in answered)
        else:
            return
        for org in sorted(orgs):
            self.set_exchange_consent(person_id, case_id, org, True, now)
