"""In-memory ports: the flows run on these with no database at all (pure flow tests)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flows.conversation import ConversationRef
from flows.domain import (
    Actor,
    ItemKind,
    JoinOutcome,
    JoinResult,
    MeetingInfo,
    Participation,
    PreferenceItem,
    Preparation,
    QuestionItem,
    Role,
    ViewAspect,
    ViewItem,
)


@dataclass
class MemoryMembers:
    """Members by chat user; invite codes are plain strings here."""

    actors: dict[str, Actor] = field(default_factory=dict)
    invites: dict[str, tuple[Role, str]] = field(default_factory=dict)
    meeting: MeetingInfo | None = None

    def actor_for(self, ref: ConversationRef) -> Actor | None:
        return self.actors.get(ref.user_id)

    def redeem_invite(self, ref: ConversationRef, code: str, now: datetime) -> JoinResult:
        if code not in self.invites:
            return JoinResult(JoinOutcome.UNKNOWN)
        role, name = self.invites.pop(code)
        actor = Actor(len(self.actors) + 1, 1, role, name, "sv")
        self.actors[ref.user_id] = actor
        return JoinResult(JoinOutcome.JOINED, actor)

    def next_meeting(self, case_id: int, now: datetime) -> MeetingInfo | None:
        return self.meeting if self.meeting and self.meeting.starts_at > now else None


@dataclass
class MemoryPreparation:
    """One person's items in dicts."""

    questions: dict[int, tuple[int, QuestionItem]] = field(default_factory=dict)
    views: dict[tuple[int, ViewAspect], ViewItem] = field(default_factory=dict)
    preferences: dict[int, PreferenceItem] = field(default_factory=dict)
    next_id: int = 1

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def preparation(self, case_id: int, person_id: int) -> Preparation:
        return Preparation(
            questions=tuple(q for owner, q in self.questions.values() if owner == person_id),
            views=tuple(v for (owner, _), v in self.views.items() if owner == person_id),
            preference=self.preferences.get(person_id),
        )

    def add_question(self, case_id: int, person_id: int, text: str, now: datetime) -> int:
        qid = self._id()
        self.questions[qid] = (person_id, QuestionItem(qid, text, False))
        return qid

    def question(self, question_id: int, person_id: int) -> QuestionItem | None:
        owner, q = self.questions.get(question_id, (None, None))
        return q if owner == person_id else None

    def edit_question(self, question_id: int, person_id: int, text: str, now: datetime) -> bool:
        q = self.question(question_id, person_id)
        if q is None:
            return False
        self.questions[question_id] = (person_id, replace(q, text=text))
        return True

    def delete_question(self, question_id: int, person_id: int) -> bool:
        return self.question(question_id, person_id) is not None and bool(
            self.questions.pop(question_id)
        )

    def set_view(
        self, case_id: int, person_id: int, aspect: ViewAspect, text: str, now: datetime
    ) -> None:
        old = self.views.get((person_id, aspect))
        self.views[(person_id, aspect)] = ViewItem(
            old.id if old else self._id(), aspect, text, old.shared if old else False
        )

    def set_participation(
        self, case_id: int, person_id: int, participation: Participation, now: datetime
    ) -> None:
        old = self.preferences.get(person_id)
        self.preferences[person_id] = PreferenceItem(
            old.id if old else self._id(), participation, old.shared if old else False
        )

    def set_shared(
        self, kind: ItemKind, item_id: int, person_id: int, shared: bool, now: datetime
    ) -> bool:
        if kind is ItemKind.QUESTION and (q := self.question(item_id, person_id)):
            self.questions[item_id] = (person_id, replace(q, shared=shared))
            return True
        if kind is ItemKind.VIEW:
            for key, v in self.views.items():
                if v.id == item_id and key[0] == person_id:
                    self.views[key] = replace(v, shared=shared)
                    return True
        if kind is ItemKind.PREFERENCE and (p := self.preferences.get(person_id)):
            self.preferences[person_id] = replace(p, shared=shared)
            return True
        return False


@dataclass
class MemoryPorts:
    """Everything a flow step may use, in memory."""

    members: MemoryMembers = field(default_factory=MemoryMembers)
    preparation: MemoryPreparation = field(default_factory=MemoryPreparation)
