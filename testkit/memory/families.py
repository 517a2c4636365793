"""FamiliesPort in memory: the family list, meeting info, the shared picture, requests, language."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flows.conversation import ConversationRef
from flows.domain import FAMILY_ROLES, Actor, Role
from flows.family_domain import (
    FamilyItem,
    FamilyItemKind,
    Invitee,
    MeetingOverview,
    MeetingRequestInfo,
    OrganisationInfo,
    PictureAnswer,
    PictureInfo,
    PublishedPicture,
    Recipients,
    Verdict,
)
from flows.sharing import Readers
from testkit.memory.access import MemoryAccessRefused, reads_shared, require, roles
from testkit.memory.coord_facts import RequestRecord
from testkit.memory.world import World

# The family's adults: they write family items and read the family list (storage/access.py).
FAMILY_ADULT_ROLES = frozenset({Role.CAREGIVER, Role.NETWORK})


@dataclass(frozen=True)
class StoredFamilyItem:
    """A family item as stored: its case, and the readers chosen when it is shared."""

    case_id: int
    item: FamilyItem
    readers: Readers | None = None


@dataclass(frozen=True)
class StoredPicture:
    """One published version of a case's shared picture."""

    case_id: int
    picture: PictureInfo


@dataclass
class MemoryFamilies:
    """The families' side on the shared World (storage/families_repository.py)."""

    world: World
    items: dict[int, StoredFamilyItem] = field(default_factory=dict)
    pictures: list[StoredPicture] = field(default_factory=list)
    answers: dict[tuple[int, int], PictureAnswer] = field(default_factory=dict)

    def note_chat(self, actor: Actor, ref: ConversationRef, now: datetime) -> None:
        """Records a chat the member writes in (a group chat, or their private chat)."""
        if (actor.person_id, ref) not in self.world.chats:
            self.world.chats.append((actor.person_id, ref))

    def family_items(self, case_id: int, viewer_id: int) -> tuple[FamilyItem, ...]:
        """Own items and the family list, as far as the gate lets this viewer see them."""
        require(self.world, viewer_id, case_id)
        return tuple(
            stored.item
            for stored in sorted(self.items.values(), key=lambda s: s.item.id)
            if stored.case_id == case_id
            and (stored.item.author_id == viewer_id or stored.item.in_family_list)
            and self.sees(viewer_id, stored)
        )

    def sees(self, viewer_id: int, stored: StoredFamilyItem) -> bool:
        """Rule 7: own items; the family list for the family's adults; shared to its readers."""
        item, case_id = stored.item, stored.case_id
        if item.author_id == viewer_id:
            return True
        if not roles(self.world, item.author_id, case_id) & FAMILY_ADULT_ROLES:
            return False
        if not self.world.admitted(item.author_id, case_id):
            return False
        if item.in_family_list and roles(self.world, viewer_id, case_id) & FAMILY_ADULT_ROLES:
            return True
        return item.shared and reads_shared(
            self.world, viewer_id, item.author_id, case_id, stored.readers
        )

    def family_item(self, item_id: int, author_id: int) -> FamilyItem | None:
        """One of this adult's own items; someone else's is None."""
        stored = self.items.get(item_id)
        if stored is None or stored.item.author_id != author_id:
            return None
        require(self.world, author_id, stored.case_id)
        return stored.item

    def add_family_item(
        self,
        case_id: int,
        author_id: int,
        kind: FamilyItemKind,
        text: str,
        in_family_list: bool,
        now: datetime,
    ) -> int:
        """Stores a new item of one of the family's adults, not shared with the meeting."""
        self._require_adult(author_id, case_id)
        item_id = self.world.next_id("family_item")
        name = self.world.name(author_id, case_id)
        item = FamilyItem(item_id, author_id, name, kind, text, in_family_list, False)
        self.items[item_id] = StoredFamilyItem(case_id, item)
        return item_id

    def edit_family_item(self, item_id: int, author_id: int, text: str, now: datetime) -> bool:
        """Changes the text of one of this adult's own items."""
        item = self.family_item(item_id, author_id)
        if item is not None:
            self._put(item_id, replace(item, text=text))
        return item is not None

    def delete_family_item(self, item_id: int, author_id: int, now: datetime) -> bool:
        """Deletes one of this adult's own items."""
        item = self.family_item(item_id, author_id)
        if item is not None:
            del self.items[item_id]
        return item is not None

    def set_family_item_flags(
        self,
        item_id: int,
        author_id: int,
        now: datetime,
        *,
        in_family_list: bool | None = None,
        shared: bool | None = None,
    ) -> bool:
        """Moves an own item to or from the family list, or shares it with the meeting."""
        item = self.family_item(item_id, author_id)
        if item is None:
            return False
        if in_family_list is not None:
            item = replace(item, in_family_list=in_family_list)
        if shared is not None:
            item = replace(item, shared=shared)
        self._put(item_id, item)
        return True

    def meeting_overview(self, case_id: int, now: datetime) -> MeetingOverview | None:
        """The next meeting and who is invited (roles and organisations, no names)."""
        meeting = self.world.next_meeting(case_id, now)
        if meeting is None:
            return None
        order = list(Role)
        invitees = sorted(
            {
                Invitee(
                    m.role,
                    self.world.organisations[m.organisation_id].name
                    if m.organisation_id is not None
                    else None,
                )
                for m in self.world.members(case_id)
            },
            key=lambda i: (order.index(i.role), i.organisation or ""),
        )
        return MeetingOverview(meeting.info(), tuple(invitees))

    def organisations(self, case_id: int) -> tuple[OrganisationInfo, ...]:
        """The verksamheter taking part in a case, by name."""
        found = [self.world.organisations[o] for o in self.world.cases[case_id].organisations]
        return tuple(
            OrganisationInfo(o.id, o.name, o.kind, o.description)
            for o in sorted(found, key=lambda o: o.name.casefold())
        )

    def latest_picture(self, case_id: int, viewer: int) -> PictureInfo | None:
        """The newest version of the case's shared picture (every admitted member reads it)."""
        require(self.world, viewer, case_id)
        versions = [p.picture for p in self.pictures if p.case_id == case_id]
        return max(versions, key=lambda p: p.version) if versions else None

    def publish(self, case_id: int, author: int, text: str, now: datetime) -> PublishedPicture:
        """Stores a new version (a coordinator) and says who should be asked to answer it."""
        if Role.COORDINATOR not in roles(self.world, author, case_id):
            raise MemoryAccessRefused("only a coordinator publishes the picture")
        latest = self.latest_picture(case_id, author)
        picture = PictureInfo(
            self.world.next_id("picture"), (latest.version if latest else 0) + 1, text, now
        )
        self.pictures.append(StoredPicture(case_id, picture))
        family = sorted(
            {m.person_id for m in self.world.members(case_id, FAMILY_ROLES)}
            & {p for p in self.world.people if self.world.admitted(p, case_id)}
        )
        return PublishedPicture(
            picture, self.case_reference(case_id), Recipients(tuple(family), ())
        )

    def picture_answer(self, picture_id: int, person_id: int) -> PictureAnswer | None:
        """This person's answer to one version, if they answered."""
        return self.answers.get((picture_id, person_id))

    def answer_picture(
        self, picture_id: int, person_id: int, verdict: Verdict, comment: str | None, now: datetime
    ) -> int:
        """Stores (or changes) this person's answer; returns the answer's id."""
        stored = next((p for p in self.pictures if p.picture.id == picture_id), None)
        if stored is not None:
            require(self.world, person_id, stored.case_id)
        old = self.answers.get((picture_id, person_id))
        answer_id = old.id if old else self.world.next_id("picture_answer")
        self.answers[(picture_id, person_id)] = PictureAnswer(answer_id, verdict, comment, now)
        return answer_id

    def coordinators(self, case_id: int) -> tuple[int, ...]:
        """Person ids of the case's active coordinators."""
        return tuple(
            sorted(
                {m.person_id for m in self.world.members(case_id, frozenset({Role.COORDINATOR}))}
            )
        )

    def case_reference(self, case_id: int) -> str:
        """The case's reference (K-7): a neutral way to name it in a notice."""
        return self.world.cases[case_id].reference

    def open_request(self, case_id: int, person_id: int) -> MeetingRequestInfo | None:
        """This person's newest unanswered request for a meeting."""
        # One store with the convening port (World.coord.requests): what she asks, the
        # coordinator reads and answers.
        found = [
            MeetingRequestInfo(r.id, r.reason, r.created_at, r.answered_at)
            for r in self.world.coord.requests.values()
            if (r.case_id, r.requested_by) == (case_id, person_id)
        ]
        return found[-1] if found and found[-1].answered_at is None else None

    def request_meeting(self, case_id: int, person_id: int, reason: str, now: datetime) -> int:
        """Stores a request for a new meeting; returns its id."""
        require(self.world, person_id, case_id)
        request_id = self.world.next_id("meeting_request")
        self.world.coord.requests[request_id] = RequestRecord(
            request_id, case_id, person_id, reason, now
        )
        return request_id

    def set_locale(self, person_id: int, locale: str) -> None:
        """Stores the language a person chose: every port reads it from the World."""
        self.world.people[person_id].locale = locale

    def _put(self, item_id: int, item: FamilyItem) -> None:
        """Replaces a stored item's values, keeping its case and readers."""
        self.items[item_id] = replace(self.items[item_id], item=item)

    def _require_adult(self, person_id: int, case_id: int) -> None:
        """Only an admitted adult of the family writes family items."""
        require(self.world, person_id, case_id)
        if not roles(self.world, person_id, case_id) & FAMILY_ADULT_ROLES:
            raise MemoryAccessRefused("only the family's adults write here")
