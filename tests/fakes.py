"""In-memory ports: the flows run on these with no database at all (pure flow tests)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flows.conversation import ConversationRef
from flows.domain import (
    Actor,
    ConsentScope,
    ConsentStatus,
    DataSummary,
    GuardianConsent,
    GuardianRequest,
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
from flows.family_domain import (
    FamilyItem,
    FamilyItemKind,
    MeetingOverview,
    MeetingRequestInfo,
    OrganisationInfo,
    PictureAnswer,
    PictureInfo,
    Verdict,
)
from flows.meeting_notes_ports import MeetingNotes


@dataclass
class MemoryMembers:
    """Members by chat user; invite codes are plain strings here."""

    actors: dict[str, Actor] = field(default_factory=dict)
    invites: dict[str, tuple[Role, str]] = field(default_factory=dict)
    meeting: MeetingInfo | None = None

    def actor_for(self, ref: ConversationRef) -> Actor | None:
        return self.actors.get(ref.user_id)

    def former_member(self, ref: ConversationRef) -> Actor | None:
        return None

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
class MemoryFamilies:
    """The families' port in memory: family list, shared picture, requests, languages."""

    items: dict[int, tuple[int, FamilyItem]] = field(default_factory=dict)
    pictures: list[PictureInfo] = field(default_factory=list)
    answers: dict[tuple[int, int], PictureAnswer] = field(default_factory=dict)
    requests: dict[int, tuple[int, int, MeetingRequestInfo]] = field(default_factory=dict)
    overview: MeetingOverview | None = None
    orgs: tuple[OrganisationInfo, ...] = ()
    coordinator_ids: tuple[int, ...] = ()
    locales: dict[int, str] = field(default_factory=dict)
    chats: list[tuple[int, ConversationRef]] = field(default_factory=list)
    next_id: int = 1

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def note_chat(self, actor: Actor, ref: ConversationRef, now: datetime) -> None:
        if (actor.person_id, ref) not in self.chats:
            self.chats.append((actor.person_id, ref))

    def family_items(self, case_id: int, viewer_id: int) -> tuple[FamilyItem, ...]:
        return tuple(
            item
            for case, item in self.items.values()
            if case == case_id and (item.author_id == viewer_id or item.in_family_list)
        )

    def family_item(self, item_id: int, author_id: int) -> FamilyItem | None:
        _, item = self.items.get(item_id, (0, None))
        return item if item is not None and item.author_id == author_id else None

    def add_family_item(
        self,
        case_id: int,
        author_id: int,
        kind: FamilyItemKind,
        text: str,
        in_family_list: bool,
        now: datetime,
    ) -> int:
        item_id = self._id()
        item = FamilyItem(
            item_id, author_id, f"person {author_id}", kind, text, in_family_list, False
        )
        self.items[item_id] = (case_id, item)
        return item_id

    def edit_family_item(self, item_id: int, author_id: int, text: str, now: datetime) -> bool:
        item = self.family_item(item_id, author_id)
        if item is not None:
            self.items[item_id] = (self.items[item_id][0], replace(item, text=text))
        return item is not None

    def delete_family_item(self, item_id: int, author_id: int, now: datetime) -> bool:
        return self.family_item(item_id, author_id) is not None and bool(self.items.pop(item_id))

    def set_family_item_flags(
        self,
        item_id: int,
        author_id: int,
        now: datetime,
        *,
        in_family_list: bool | None = None,
        shared: bool | None = None,
    ) -> bool:
        item = self.family_item(item_id, author_id)
        if item is None:
            return False
        if in_family_list is not None:
            item = replace(item, in_family_list=in_family_list)
        if shared is not None:
            item = replace(item, shared=shared)
        self.items[item_id] = (self.items[item_id][0], item)
        return True

    def meeting_overview(self, case_id: int, now: datetime) -> MeetingOverview | None:
        return self.overview

    def organisations(self, case_id: int) -> tuple[OrganisationInfo, ...]:
        return self.orgs

    def latest_picture(self, case_id: int, viewer: int) -> PictureInfo | None:
        return self.pictures[-1] if self.pictures else None

    def picture_answer(self, picture_id: int, person_id: int) -> PictureAnswer | None:
        return self.answers.get((picture_id, person_id))

    def answer_picture(
        self, picture_id: int, person_id: int, verdict: Verdict, comment: str | None, now: datetime
    ) -> int:
        answer_id = self._id()
        self.answers[(picture_id, person_id)] = PictureAnswer(answer_id, verdict, comment, now)
        return answer_id

    def coordinators(self, case_id: int) -> tuple[int, ...]:
        return self.coordinator_ids

    def case_reference(self, case_id: int) -> str:
        return f"K-{case_id}"

    def open_request(self, case_id: int, person_id: int) -> MeetingRequestInfo | None:
        found = [r for c, p, r in self.requests.values() if (c, p) == (case_id, person_id)]
        return found[-1] if found and found[-1].answered_at is None else None

    def request_meeting(self, case_id: int, person_id: int, reason: str, now: datetime) -> int:
        request_id = self._id()
        self.requests[request_id] = (
            case_id,
            person_id,
            MeetingRequestInfo(request_id, reason, now, None),
        )
        return request_id

    def set_locale(self, person_id: int, locale: str) -> None:
        self.locales[person_id] = locale


@dataclass
class MemoryPrivacy:
    """Consent answers in a list. Engine-mechanics tests start with consent given
    (`assume_consent`); consent tests turn that off and walk the consent flow."""

    assume_consent: bool = True
    answers: list[tuple[int, int, ConsentScope, bool, int | None]] = field(default_factory=list)
    under_age: dict[int, bool] = field(default_factory=dict)
    caregiver_ids: tuple[int, ...] = ()

    def consent(self, person_id: int, case_id: int) -> ConsentStatus:
        latest: dict[tuple[ConsentScope, bool], bool] = {}
        for person, case, scope, given, given_by in self.answers:
            if (person, case) == (person_id, case_id):
                latest[(scope, given_by is not None)] = given
        if self.assume_consent and not latest:
            return ConsentStatus(bot=True, sip=True, under_age_limit=None, guardian=None)
        return ConsentStatus(
            bot=latest.get((ConsentScope.BOT, False)),
            sip=latest.get((ConsentScope.SIP, False)),
            under_age_limit=self.under_age.get(person_id),
            guardian=latest.get((ConsentScope.BOT, True)),
        )

    def record_consent(
        self,
        person_id: int,
        case_id: int,
        scope: ConsentScope,
        given: bool,
        text_version: str,
        now: datetime,
        given_by: int | None = None,
    ) -> None:
        self.answers.append((person_id, case_id, scope, given, given_by))

    def record_age(self, person_id: int, under_limit: bool, age_limit: int, now: datetime) -> None:
        self.under_age[person_id] = under_limit

    def withdraw(self, person_id: int, case_id: int, now: datetime) -> int:
        for scope in ConsentScope:
            self.answers.append((person_id, case_id, scope, False, None))
        return 0

    def guardian_requests(self, caregiver_id: int, case_id: int) -> tuple[GuardianRequest, ...]:
        return ()

    def guardian_consents(self, caregiver_id: int, case_id: int) -> tuple[GuardianConsent, ...]:
        return ()

    def withdraw_guardian_consent(
        self, youth_id: int, case_id: int, caregiver_id: int, now: datetime
    ) -> int:
        self.answers.append((youth_id, case_id, ConsentScope.BOT, False, caregiver_id))
        return 0

    def caregivers(self, case_id: int) -> tuple[int, ...]:
        return self.caregiver_ids

    def data_summary(self, person_id: int) -> DataSummary:
        return DataSummary(())

    def erase(self, person_id: int, now: datetime) -> DataSummary:
        return DataSummary(())


@dataclass
class MemoryMeetingNotes:
    """The meeting notes port in memory: no meeting has notes yet (flows/meeting_notes.py)."""

    def notes_for(self, case_id: int, person_id: int) -> MeetingNotes | None:
        return None


@dataclass
class MemoryPorts:
    """Everything a flow step may use, in memory."""

    members: MemoryMembers = field(default_factory=MemoryMembers)
    preparation: MemoryPreparation = field(default_factory=MemoryPreparation)
    families: MemoryFamilies = field(default_factory=MemoryFamilies)
    privacy: MemoryPrivacy = field(default_factory=MemoryPrivacy)
    meeting_notes: MemoryMeetingNotes = field(default_factory=MemoryMeetingNotes)
