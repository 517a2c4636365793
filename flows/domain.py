"""Domain words of DESIGN.md §3 as plain typed values that flows and storage share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flows.sharing import Readers, SharedNote


class Role(StrEnum):
    """How a person takes part in a case (deltagare)."""

    YOUTH = "youth"
    CAREGIVER = "caregiver"
    PROFESSIONAL = "professional"
    COORDINATOR = "coordinator"
    NETWORK = "network"


# The family side: the young person and the people close to them. They answer the shared
# picture and may ask for a meeting (storage/access.py rules 8 and 9 use this same set).
FAMILY_ROLES = frozenset({Role.YOUTH, Role.CAREGIVER, Role.NETWORK})
# Who is asked whether the shared picture matches their view (the family), in a fixed order.
PICTURE_ROLES = tuple(r for r in Role if r in FAMILY_ROLES)
# Who is asked for consent: the young person and the people close to them. Professionals and
# coordinators use the bot in their work, under their employer's legal basis, not consent;
# they can still see (/minadata) and erase (/glommig) what is stored about them. The consent
# flow (flows/consent/) and the access gate (storage/access.py) both read this one set.
CONSENTING_ROLES = frozenset({Role.YOUTH, Role.CAREGIVER, Role.NETWORK})


class ViewAspect(StrEnum):
    """The three parts of "min bild"."""

    WORKS = "works"
    HARD = "hard"
    HELP = "help"


class Participation(StrEnum):
    """How a person wants to take part in the meeting."""

    WHOLE = "whole"
    PART = "part"
    REMOTE = "remote"
    NOT_AT_ALL = "not_at_all"


class ItemKind(StrEnum):
    """Kinds of things a person writes and may choose to share."""

    QUESTION = "question"
    VIEW = "view"
    PREFERENCE = "preference"


class MeetingKind(StrEnum):
    """First meeting, follow-up or a meeting the family asked for."""

    FIRST = "first"
    FOLLOW_UP = "follow_up"
    REQUESTED = "requested"


class JoinOutcome(StrEnum):
    """What happened when someone tried an invite code."""

    JOINED = "joined"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    ALREADY_MEMBER = "already_member"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind a conversation, in the case the conversation is about."""

    person_id: int
    case_id: int
    role: Role
    display_name: str
    locale: str
    # No longer in an open case (it closed, or they left it) while their data is still
    # stored: only their rights (export, erasure, consent) work for them.
    former: bool = False


@dataclass(frozen=True, slots=True)
class QuestionItem:
    """A question someone wants to bring to the meeting."""

    id: int
    text: str
    shared: bool


@dataclass(frozen=True, slots=True)
class ViewItem:
    """One part of a person's own picture of the situation."""

    id: int
    aspect: ViewAspect
    text: str
    shared: bool


@dataclass(frozen=True, slots=True)
class PreferenceItem:
    """How a person wants to take part."""

    id: int
    participation: Participation
    shared: bool


@dataclass(frozen=True, slots=True)
class Preparation:
    """Everything one person prepared for one case."""

    questions: tuple[QuestionItem, ...]
    views: tuple[ViewItem, ...]
    preference: PreferenceItem | None

    def view(self, aspect: ViewAspect) -> ViewItem | None:
        """The part of the view for one aspect, if written."""
        return next((v for v in self.views if v.aspect is aspect), None)


@dataclass(frozen=True, slots=True)
class MeetingInfo:
    """When and where a meeting is."""

    id: int
    kind: MeetingKind
    starts_at: datetime
    duration_minutes: int
    place: str | None
    remote_link: str | None
    # Changes since booking: the calendar file's SEQUENCE (bot/ics.py).
    sequence: int = 0
    series_id: str | None = None


@dataclass(frozen=True, slots=True)
class JoinResult:
    """The outcome of redeeming an invite code."""

    outcome: JoinOutcome
    actor: Actor | None = None


@dataclass(frozen=True, slots=True)
class SharedContribution:
    """What one person chose to share with the meeting."""

    person_id: int
    display_name: str
    role: Role
    questions: tuple[str, ...]
    views: tuple[tuple[ViewAspect, str], ...]
    participation: Participation | None
    # Of `questions`, those marked "to follow up" at an earlier meeting (carried over).
    carried_over: tuple[str, ...] = ()
    # Who reads each item, in the order of questions, views and notes (sharing per reader).
    question_readers: tuple[Readers, ...] = ()
    view_readers: tuple[Readers, ...] = ()
    participation_readers: Readers | None = None
    # What an adult of the family shared (a caregiver's question, picture, wish).
    notes: tuple[SharedNote, ...] = ()


@dataclass(frozen=True, slots=True)
class MeetingNeedItem:
    """What one family member needs at the meeting: an interpreter (language), other needs."""

    person_id: int
    display_name: str
    role: Role
    interpreter: bool
    language: str | None
    other: str | None


@dataclass(frozen=True, slots=True)
class Agenda:
    """The agenda of a case's next meeting: only what people chose to share."""

    case_reference: str
    meeting: MeetingInfo | None
    contributions: tuple[SharedContribution, ...]
    # Interpreter and other needs for the meeting (flows/meeting_needs.py): told to the
    # coordinator so they can arrange them; a section of its own on the agenda.
    needs: tuple[MeetingNeedItem, ...] = ()


class ConsentScope(StrEnum):
    """What a consent is for: using the bot at all, or sharing between agencies (SIP)."""

    BOT = "bot"
    SIP = "sip"


@dataclass(frozen=True, slots=True)
class ConsentStatus:
    """Where one person's consents stand in one case."""

    bot: bool | None  # None: never asked; False: declined or withdrawn
    sip: bool | None
    under_age_limit: bool | None  # None: never asked (adults and professionals are not)
    guardian: bool | None  # a caregiver's answer, for a child under the age limit

    @property
    def effective(self) -> bool:
        """True when the person may use the bot and their shared items may be seen."""
        if self.bot is not True:
            return False
        return self.under_age_limit is not True or self.guardian is True


@dataclass(frozen=True, slots=True)
class GuardianRequest:
    """A child of the case who waits for a caregiver's consent."""

    youth_person_id: int
    youth_name: str


@dataclass(frozen=True, slots=True)
class GuardianConsent:
    """A child of the case under the age limit who said yes, and where a caregiver's answer
    stands: None (nobody has answered), True (a caregiver said yes), False (no, or taken back)."""

    youth_person_id: int
    youth_name: str
    given: bool | None


@dataclass(frozen=True, slots=True)
class DataSummary:
    """How many things of each kind are stored about a person (kind → count)."""

    counts: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        """Everything counted."""
        return sum(n for _, n in self.counts)


class AccessRefused(PermissionError):
    """A port refused: this person may not see or change that; the flow explains, never crashes.

    Storage's AccessGate raises a subclass; flows catch this one (they never import storage).
    """
