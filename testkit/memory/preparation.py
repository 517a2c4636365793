"""PreparationPort in memory: a person's own questions, view and participation."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flows.domain import (
    ItemKind,
    Participation,
    PreferenceItem,
    Preparation,
    QuestionItem,
    ViewAspect,
    ViewItem,
)
from flows.sharing import Readers
from testkit.memory.access import require
from testkit.memory.world import World


@dataclass(frozen=True)
class OwnItem:
    """One item a young person (or anyone preparing) wrote: a question, a view part, a wish."""

    id: int
    case_id: int
    owner: int
    kind: ItemKind
    text: str
    aspect: ViewAspect | None = None
    shared: bool = False
    readers: Readers | None = None
    created_at: datetime | None = None


@dataclass
class MemoryPreparation:
    """Everyone's own items in one list; a person reads and changes only their own."""

    world: World
    items: dict[int, OwnItem] = field(default_factory=dict)

    def preparation(self, case_id: int, person_id: int) -> Preparation:
        """Everything this person prepared for this case, oldest first."""
        require(self.world, person_id, case_id)
        own = [i for i in self.items.values() if (i.case_id, i.owner) == (case_id, person_id)]
        preference = next((i for i in own if i.kind is ItemKind.PREFERENCE), None)
        return Preparation(
            questions=tuple(
                QuestionItem(i.id, i.text, i.shared) for i in own if i.kind is ItemKind.QUESTION
            ),
            views=tuple(
                ViewItem(i.id, i.aspect, i.text, i.shared)
                for i in own
                if i.kind is ItemKind.VIEW and i.aspect is not None
            ),
            preference=PreferenceItem(
                preference.id, Participation(preference.text), preference.shared
            )
            if preference
            else None,
        )

    def add_question(self, case_id: int, person_id: int, text: str, now: datetime) -> int:
        """Stores a new question, not shared."""
        require(self.world, person_id, case_id)
        item = OwnItem(self.world.next_id("item"), case_id, person_id, ItemKind.QUESTION, text)
        self.items[item.id] = replace(item, created_at=now)
        return item.id

    def question(self, question_id: int, person_id: int) -> QuestionItem | None:
        """One of this person's own questions; someone else's is None."""
        item = self._own(question_id, person_id, ItemKind.QUESTION)
        return QuestionItem(item.id, item.text, item.shared) if item else None

    def edit_question(self, question_id: int, person_id: int, text: str, now: datetime) -> bool:
        """Changes the text of one of this person's questions."""
        item = self._own(question_id, person_id, ItemKind.QUESTION)
        if item is not None:
            self.items[item.id] = replace(item, text=text)
        return item is not None

    def delete_question(self, question_id: int, person_id: int) -> bool:
        """Deletes one of this person's questions."""
        item = self._own(question_id, person_id, ItemKind.QUESTION)
        if item is not None:
            del self.items[item.id]
        return item is not None

    def set_view(
        self, case_id: int, person_id: int, aspect: ViewAspect, text: str, now: datetime
    ) -> None:
        """Writes (or rewrites) one part of this person's view; sharing is kept."""
        require(self.world, person_id, case_id)
        old = next(
            (
                i
                for i in self.items.values()
                if (i.case_id, i.owner, i.kind, i.aspect)
                == (case_id, person_id, ItemKind.VIEW, aspect)
            ),
            None,
        )
        if old is not None:
            self.items[old.id] = replace(old, text=text)
            return
        item = OwnItem(self.world.next_id("item"), case_id, person_id, ItemKind.VIEW, text, aspect)
        self.items[item.id] = replace(item, created_at=now)

    def set_participation(
        self, case_id: int, person_id: int, participation: Participation, now: datetime
    ) -> None:
        """Records how this person wants to take part; sharing is kept."""
        require(self.world, person_id, case_id)
        old = next(
            (
                i
                for i in self.items.values()
                if (i.case_id, i.owner, i.kind) == (case_id, person_id, ItemKind.PREFERENCE)
            ),
            None,
        )
        if old is not None:
            self.items[old.id] = replace(old, text=participation.value)
            return
        item = OwnItem(
            self.world.next_id("item"), case_id, person_id, ItemKind.PREFERENCE, participation
        )
        self.items[item.id] = replace(item, text=participation.value, created_at=now)

    def set_shared(
        self, kind: ItemKind, item_id: int, person_id: int, shared: bool, now: datetime
    ) -> bool:
        """Shares or unshares one of this person's own items (chosen readers are kept)."""
        item = self._own(item_id, person_id, kind)
        if item is None:
            return False
        self.items[item.id] = replace(item, shared=shared)
        return True

    def _own(self, item_id: int, person_id: int, kind: ItemKind) -> OwnItem | None:
        """An item of this kind when this person owns it (and may still change it)."""
        item = self.items.get(item_id)
        if item is None or item.owner != person_id or item.kind is not kind:
            return None
        require(self.world, person_id, item.case_id)
        return item
