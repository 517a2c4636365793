"""The port the families' flows talk through; storage/families_repository.py implements it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from flows.conversation import ConversationRef
from flows.domain import Actor
from flows.family_domain import (
    FamilyItem,
    FamilyItemKind,
    MeetingOverview,
    MeetingRequestInfo,
    OrganisationInfo,
    PictureAnswer,
    PictureInfo,
    PublishedPicture,
    Verdict,
)


class FamiliesPort(Protocol):
    """The family list, meeting info, the shared picture, meeting requests and language."""

    def note_chat(self, actor: Actor, ref: ConversationRef, now: datetime) -> None:
        """Remembers where a member can be reached: a private chat, or a family group chat."""
        ...

    def family_items(self, case_id: int, viewer_id: int) -> tuple[FamilyItem, ...]:
        """What an adult may see: their own items and the family list of the case's adults."""
        ...

    def family_item(self, item_id: int, author_id: int) -> FamilyItem | None:
        """One of this adult's own items; someone else's is None."""
        ...

    def add_family_item(
        self,
        case_id: int,
        author_id: int,
        kind: FamilyItemKind,
        text: str,
        in_family_list: bool,
        now: datetime,
    ) -> int:
        """Stores a new item, not shared with the meeting, and returns its id."""
        ...

    def edit_family_item(self, item_id: int, author_id: int, text: str, now: datetime) -> bool:
        """Changes the text of one of this adult's own items."""
        ...

    def delete_family_item(self, item_id: int, author_id: int, now: datetime) -> bool:
        """Deletes one of this adult's own items."""
        ...

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
        ...

    def meeting_overview(self, case_id: int, now: datetime) -> MeetingOverview | None:
        """The next meeting with who is invited, or None when none is booked."""
        ...

    def organisations(self, case_id: int) -> tuple[OrganisationInfo, ...]:
        """The verksamheter taking part in a case."""
        ...

    def latest_picture(self, case_id: int, viewer: int) -> PictureInfo | None:
        """The newest published version of the shared picture, read by a member."""
        ...

    def publish(self, case_id: int, author: int, text: str, now: datetime) -> PublishedPicture:
        """Stores a new version and says who should be asked to answer it."""
        ...

    def picture_answer(self, picture_id: int, person_id: int) -> PictureAnswer | None:
        """This person's answer to one version, if they answered."""
        ...

    def answer_picture(
        self, picture_id: int, person_id: int, verdict: Verdict, comment: str | None, now: datetime
    ) -> int:
        """Stores (or changes) this person's answer; returns the answer's id."""
        ...

    def coordinators(self, case_id: int) -> tuple[int, ...]:
        """Person ids of the case's coordinators, who get told what needs attention."""
        ...

    def case_reference(self, case_id: int) -> str:
        """The case's reference (K-7): a neutral way to name it in a notice."""
        ...

    def open_request(self, case_id: int, person_id: int) -> MeetingRequestInfo | None:
        """This person's newest unanswered request for a meeting."""
        ...

    def request_meeting(self, case_id: int, person_id: int, reason: str, now: datetime) -> int:
        """Stores a request for a new meeting; returns its id."""
        ...

    def set_locale(self, person_id: int, locale: str) -> None:
        """Stores the language a person chose."""
        ...
