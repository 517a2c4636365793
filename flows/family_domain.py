"""Domain values of the families' side: the family list, meeting overview, shared picture."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flows.conversation import ConversationRef
from flows.domain import MeetingInfo, Role


class FamilyItemKind(StrEnum):
    """What an adult writes down before the meeting."""

    QUESTION = "question"
    OUR_VIEW = "our_view"
    WISH = "wish"
    # Things the adults want the professionals to know, but not to raise with the child present.
    NOT_WITH_CHILD = "not_with_child"


class Verdict(StrEnum):
    """An answer to the shared picture: stämmer / stämmer delvis / stämmer inte."""

    AGREE = "agree"
    PARTLY = "partly"
    DISAGREE = "disagree"


class OrganisationKind(StrEnum):
    """The common kinds of verksamhet; each has a default presentation in the catalogue."""

    BUP = "bup"
    SOCIALTJANST = "socialtjanst"
    SKOLA = "skola"
    ELEVHALSA = "elevhalsa"
    FORSAKRINGSKASSAN = "forsakringskassan"
    ARBETSFORMEDLINGEN = "arbetsformedlingen"
    VARDCENTRAL = "vardcentral"
    VUXENPSYKIATRI = "vuxenpsykiatri"
    BEROENDEVARD = "beroendevard"
    KRIMINALVARDEN = "kriminalvarden"
    SIS = "sis"
    TROSSAMFUND = "trossamfund"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class FamilyItem:
    """One thing an adult wrote: who wrote it, what, and who may see it."""

    id: int
    author_id: int
    author_name: str
    kind: FamilyItemKind
    text: str
    # Seen by the other adults of the case (always so for what is written in a group chat).
    in_family_list: bool
    # Shared with the meeting (the coordinator's agenda).
    shared: bool


@dataclass(frozen=True, slots=True)
class Invitee:
    """Someone invited to the meeting, by role and organisation, never by private detail."""

    role: Role
    organisation: str | None


@dataclass(frozen=True, slots=True)
class OrganisationInfo:
    """A verksamhet in the case, with its own description if the coordinator wrote one."""

    id: int
    name: str
    kind: str
    description: str | None


@dataclass(frozen=True, slots=True)
class MeetingOverview:
    """Everything "när är mötet?" answers."""

    meeting: MeetingInfo
    invitees: tuple[Invitee, ...]


@dataclass(frozen=True, slots=True)
class PictureInfo:
    """One published version of the gemensam bild."""

    id: int
    version: int
    text: str
    published_at: datetime


@dataclass(frozen=True, slots=True)
class PictureAnswer:
    """Someone's answer to one version of the shared picture."""

    id: int
    verdict: Verdict
    comment: str | None
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class MeetingRequestInfo:
    """A request for a new meeting, open until the coordinator answers."""

    id: int
    reason: str | None
    created_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Recipients:
    """Where to reach a set of members: privately by person id, or once per group chat."""

    person_ids: tuple[int, ...]
    group_chats: tuple[ConversationRef, ...]


@dataclass(frozen=True, slots=True)
class PublishedPicture:
    """A new version of the shared picture, and who should be asked to answer it."""

    picture: PictureInfo
    case_reference: str
    recipients: Recipients
