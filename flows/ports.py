"""The ports flows talk through; storage implements them, tests may fake them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from flows.conversation import ConversationRef
from flows.domain import (
    Actor,
    Agenda,
    ConsentScope,
    ConsentStatus,
    DataSummary,
    GuardianConsent,
    GuardianRequest,
    ItemKind,
    JoinResult,
    MeetingInfo,
    Participation,
    Preparation,
    QuestionItem,
    ViewAspect,
)
from flows.family_ports import FamiliesPort
from flows.sharing_port import SharingPort

if TYPE_CHECKING:
    # These modules import the engine, which imports these ports: typing them here only.
    from flows.convening_port import ConveningPort
    from flows.coordination import CoordinationPort
    from flows.email_switch import EmailSwitchPort
    from flows.loop_ports import LoopPort
    from flows.meeting_changes import MeetingChangesSource
    from flows.meeting_needs import MeetingNeedsPort
    from flows.meeting_notes_ports import MeetingNotesPort
    from flows.who_is_who import WhoIsWhoPort


class MembershipPort(Protocol):
    """Who is behind a conversation, and joining cases with invite codes."""

    def actor_for(self, ref: ConversationRef) -> Actor | None:
        """The active member behind this conversation, or None for a stranger."""
        ...

    def former_member(self, ref: ConversationRef) -> Actor | None:
        """Someone stored behind this chat with no active membership of an open case (the
        case closed, or they left it), in their latest case; None when nobody is stored."""
        ...

    def redeem_invite(self, ref: ConversationRef, code: str, now: datetime) -> JoinResult:
        """Uses an invite code for this conversation's user."""
        ...

    def next_meeting(self, case_id: int, now: datetime) -> MeetingInfo | None:
        """The next meeting of a case that has not started yet."""
        ...


class PreparationPort(Protocol):
    """A person's own preparation: questions, view, participation, sharing."""

    def preparation(self, case_id: int, person_id: int) -> Preparation:
        """Everything this person has prepared for this case."""
        ...

    def add_question(self, case_id: int, person_id: int, text: str, now: datetime) -> int:
        """Stores a new, unshared question and returns its id."""
        ...

    def question(self, question_id: int, person_id: int) -> QuestionItem | None:
        """One of this person's own questions."""
        ...

    def edit_question(self, question_id: int, person_id: int, text: str, now: datetime) -> bool:
        """Changes the text of one of this person's questions."""
        ...

    def delete_question(self, question_id: int, person_id: int) -> bool:
        """Deletes one of this person's questions."""
        ...

    def set_view(
        self, case_id: int, person_id: int, aspect: ViewAspect, text: str, now: datetime
    ) -> None:
        """Writes (or rewrites) one part of this person's view."""
        ...

    def set_participation(
        self, case_id: int, person_id: int, participation: Participation, now: datetime
    ) -> None:
        """Records how this person wants to take part."""
        ...

    def set_shared(
        self, kind: ItemKind, item_id: int, person_id: int, shared: bool, now: datetime
    ) -> bool:
        """Shares or unshares one of this person's own items."""
        ...


class AgendaPort(Protocol):
    """Read side for the coordinator's agenda: shared items only."""

    def agenda(self, case_id: int, now: datetime) -> Agenda:
        """What people chose to share before the next meeting of a case."""
        ...


class PrivacyPort(Protocol):
    """Consent, the age question, export and erasure of one person's data."""

    def consent(self, person_id: int, case_id: int) -> ConsentStatus:
        """Where this person's consents stand in this case."""
        ...

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
        """Records a consent given or declined (given_by: a caregiver consenting for a child)."""
        ...

    def record_age(self, person_id: int, under_limit: bool, age_limit: int, now: datetime) -> None:
        """Records only whether the person is under the consent age."""
        ...

    def withdraw(self, person_id: int, case_id: int, now: datetime) -> int:
        """Revokes the person's consents and stops sharing at once; returns items unshared."""
        ...

    def guardian_requests(self, caregiver_id: int, case_id: int) -> tuple[GuardianRequest, ...]:
        """Children in this case who wait for this caregiver's consent."""
        ...

    def guardian_consents(self, caregiver_id: int, case_id: int) -> tuple[GuardianConsent, ...]:
        """Children in this case under the age limit who said yes, with a caregiver's answer
        (none unless this person is a caregiver in the case)."""
        ...

    def withdraw_guardian_consent(
        self, youth_id: int, case_id: int, caregiver_id: int, now: datetime
    ) -> int:
        """A caregiver takes back the yes for a child: the child's sharing stops at once;
        returns the items unshared."""
        ...

    def caregivers(self, case_id: int) -> tuple[int, ...]:
        """Person ids of the active caregivers of a case."""
        ...

    def data_summary(self, person_id: int) -> DataSummary:
        """How much is stored about a person (for the export and before erasure)."""
        ...

    def erase(self, person_id: int, now: datetime) -> DataSummary:
        """Erases everything about the person; returns what was removed."""
        ...


class Ports(Protocol):
    """Everything a flow step may use, bound to one transaction."""

    @property
    def members(self) -> MembershipPort:
        """Membership and invites."""
        ...

    @property
    def preparation(self) -> PreparationPort:
        """A person's preparation."""
        ...

    @property
    def families(self) -> FamiliesPort:
        """The families' side: family list, meeting info, shared picture, requests, language."""
        ...

    @property
    def privacy(self) -> PrivacyPort:
        """Consent, export and erasure."""
        ...

    @property
    def sharing(self) -> SharingPort:
        """Who reads what is shared, the agenda per reader, consent per organisation."""
        ...

    @property
    def coordination(self) -> CoordinationPort:
        """The coordinators' work on cases (flows/coordinator/)."""
        ...

    @property
    def meeting_changes(self) -> MeetingChangesSource:
        """Meetings booked, moved and cancelled, and series kept ahead."""
        ...

    @property
    def convening(self) -> ConveningPort:
        """Meeting requests answered in the chat and people the family suggests."""
        ...

    @property
    def who_is_who(self) -> WhoIsWhoPort:
        """The case's organisations and people as "Vem är vem?" shows them."""
        ...

    @property
    def meeting_needs(self) -> MeetingNeedsPort:
        """Interpreter and other needs for the meeting."""
        ...

    @property
    def email(self) -> EmailSwitchPort:
        """E-mail addresses behind their chats (the switch to e-mail and back)."""
        ...

    @property
    def meeting_notes(self) -> MeetingNotesPort:
        """Notes from the meetings and the marks of shared questions."""
        ...

    @property
    def loop(self) -> LoopPort:
        """The check-in's answers and answers to comments on the picture."""
        ...
