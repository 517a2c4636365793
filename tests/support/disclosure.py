"""A family case driven through the real handler, storage and deliverer, with every message and
file recorded per chat, and the rules of who may read a family member's words.

This is the harness of tests/test_disclosure_property.py. Every free text a young person or an
adult of the family writes is a unique canary ("Kanarie007abcd"). The harness follows what
its writer then does with it (the choices they tap and what the bot answered) and, after
every event, checks every message and file delivered to any chat against `may_read`: the
privacy model of DESIGN.md §5, written down here, not read from the code under test.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedFile, RenderedMessage
from bot.clock import Clock
from bot.connector import PLAIN_TEXT, Capabilities
from bot.delivery import Deliverer, Outgoing
from bot.followup_report import TimelinePngFile, build_followup
from bot.followup_report import file_makers as report_file_makers
from bot.handler import EventHandler
from bot.ics import meeting_file_makers
from bot.one_message import message_ids
from bot.privacy_files import PersonalDataFile
from flows.conversation import (
    ChoiceMade,
    ConversationRef,
    Event,
    Inbound,
    TextMessage,
    parse_text,
)
from flows.domain import AccessRefused, Role
from flows.replies import Choice, Params, Reply
from flows.wiring import default_engine
from storage import models as m
from storage.access import Purpose
from storage.db import make_engine, session_factory
from storage.outbox_repository import PendingMessage
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM
from tests.conftest import FakeClock
from tests.family_seed import FamilyCase, publish, seed_family_case

GROUP = "family"
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
CANARY = re.compile(r"Kanarie(\d{3})")
TOKEN = re.compile(r"Kanarie(\d{3})[a-z]{4}")
# Professionals may, by DESIGN.md §2 and the access gate's rule 4, one day read what the family
# shared "with the meeting" when its author agreed to sharing between agencies (SIP). No flow
# shows it to them today, and the brief of issue 19 says a young person's words never reach a
# professional: conservative, so off. Turn on (and require SIP) once a flow shows them.
PROFESSIONALS_READ_SHARED = False
# A picture comment or a reason for a new meeting goes to the coordinator by design (access
# rules 8 and 9, which do not ask for the writer's consent). After the writer withdraws their
# consent, main still shows them in the coordinator's follow-up report; DESIGN.md §5 says a
# withdrawal stops sharing, and the brief says be conservative: so they may not reach the
# coordinator anew after a withdrawal. For the lead to decide: True keeps rules 8 and 9 as
# they are written.
ANSWERS_OUTLIVE_WITHDRAWAL = False


@dataclass(frozen=True, slots=True)
class Member:
    """One person of the cast: their chat key (private chat id and user id) and role."""

    key: str
    role: Role

    @property
    def private(self) -> ConversationRef:
        """Their private chat with the bot."""
        return ConversationRef(PLATFORM, self.key, self.key)

    @property
    def in_group(self) -> ConversationRef:
        """Their voice in the family group chat."""
        return ConversationRef(PLATFORM, GROUP, self.key)


ALEX = Member("alex", Role.YOUTH)
KIM = Member("kim", Role.CAREGIVER)
ROBIN = Member("robin", Role.CAREGIVER)
EVA = Member("eva", Role.NETWORK)
SARA = Member("sara", Role.COORDINATOR)
JONAS = Member("jonas", Role.PROFESSIONAL)
CAST = (ALEX, KIM, ROBIN, EVA, SARA, JONAS)
BY_KEY = {member.key: member for member in CAST}
FAMILY = (ALEX, KIM, ROBIN, EVA)
FAMILY_ADULTS = frozenset({Role.CAREGIVER, Role.NETWORK})


class Kind(StrEnum):
    """What became of a canary, as its writer was told."""

    UNSTORED = "not stored"
    YOUTH_ITEM = "young person's question or view"
    FAMILY_ITEM = "adult's list item"
    PICTURE_COMMENT = "comment on the shared picture"
    MEETING_REASON = "reason for a new meeting"
    # Written for the one who runs the meeting (issues 22, 23): why one cannot come, someone
    # who matters (name, relation), an interpreter's language and other needs, the words of
    # the day-after check-in. Like a meeting reason: to the coordinator by design.
    TO_COORDINATOR = "written for the coordinator"


# The bot's answer to a text that is kept for the coordinator (Kind.TO_COORDINATOR): "jag kan
# inte komma" sent, a suggested person's name (the relation is asked next) and relation
# (sent), an interpreter's language (other needs asked next) and the other needs (saved), and
# the check-in's words (thanks).
TO_COORDINATOR_ANSWERS = (
    "absent.sent",
    "matter.ask_relation",
    "matter.sent",
    "needs.other_ask",
    "needs.saved",
    "meeting.checkin.thanks",
)


@dataclass
class Canary:
    """One text a family member wrote, and what its writer did with it since."""

    number: int
    writer: Member
    chat: str
    kind: Kind = Kind.UNSTORED
    # A young person's item, or an adult's item "shared with the meeting".
    shared: bool = False
    # An adult's item on the family list ("Visa för de andra vuxna", or written in the group).
    family: bool = False
    # An adult's item "inte inför barnet": never in a group chat, where the child may read.
    not_with_child: bool = False

    @property
    def token(self) -> str:
        """The text itself: unique, and found again by `CANARY` whatever surrounds it."""
        letters = "".join(chr(97 + (self.number * 7 + i * 11) % 26) for i in range(4))
        return f"Kanarie{self.number:03d}{letters}"

    def describe(self) -> str:
        """Who wrote it, where, and what it became (for a failure message)."""
        flags = [
            name
            for name, on in (
                ("shared", self.shared),
                ("on the family list", self.family),
                ("not in front of the child", self.not_with_child),
            )
            if on
        ]
        state = f" ({', '.join(flags)})" if flags else ""
        return (
            f"{self.token!r} written by {self.writer.key} ({self.writer.role.value}) in chat "
            f"{self.chat!r}: {self.kind.value}{state}"
        )


@dataclass(frozen=True, slots=True)
class JoinPlan:
    """How a family member answers the consent questions when they join, privately."""

    consents: bool = True
    under_age: bool = False
    sip: bool = True


@dataclass(frozen=True, slots=True)
class Delivered:
    """One message the transport was asked to send, with the outbox row's message id."""

    chat_id: str
    message_id: str
    rendered: RenderedMessage

    def haystack(self) -> str:
        """Everything a reader of the chat gets: the text, the button labels, the file."""
        parts = [self.rendered.text, *(c.label for c in self.rendered.choices)]
        if self.rendered.file is not None:
            parts.append(self.rendered.file.data.decode("utf-8", errors="replace"))
        return "\n".join(parts)


class Leak(AssertionError):
    """A canary reached a chat the rules do not allow."""


@dataclass
class RecordingTransport:
    """Records every rendered message (files included) in the order it was sent."""

    platform: str = PLATFORM
    capabilities: Capabilities = PLAIN_TEXT
    sent: list[tuple[str, str, RenderedMessage]] = field(default_factory=list)

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Records one message."""
        self.sent.append((chat_id, idempotency_key, message))


@dataclass(slots=True)
class TimelineWords:
    """Stands in for the plan timeline picture: the same data, read the same way, with the
    words it would draw (each action and its owner) as text, so they are checked like any
    file's. (The PNG takes matplotlib a tenth of a second, and no text can be found in it.)"""

    clock: Clock
    kind: str = TimelinePngFile().kind

    def make(
        self, uow: UnitOfWork, params: Params, locale: str, catalogue: Catalogue
    ) -> RenderedFile:
        """The actions of the case's plan, one a line."""
        case_id = params.get("case_id")
        assert isinstance(case_id, int)
        report = build_followup(uow, case_id, self.clock(), uow.gate.for_system(Purpose.REPORT))
        lines = [f"{a.description} ({a.owner.name})" for a in report.actions]
        name = f"plan-{report.case_reference}.png"
        return RenderedFile(name, "image/png", "\n".join(lines).encode())


def migrated_template(directory: Path) -> Path:
    """A migrated, empty SQLite file to copy for each example (migrating costs a second)."""
    path = directory / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    return path


class FamilyWorld:
    """One case, six people, private chats and the family group, and the rules' bookkeeping."""

    def __init__(self, sessions: sessionmaker[Session], catalogue: Catalogue) -> None:
        self.clock = FakeClock(START)
        self._sessions = sessions
        self._handler = EventHandler(sessions, default_engine(), clock=self.clock)
        self._transport = RecordingTransport()
        self._deliverer = Deliverer(
            sessions,
            catalogue,
            {PLATFORM: self._transport},
            clock=self.clock,
            file_makers={
                PersonalDataFile.kind: PersonalDataFile(),
                **meeting_file_makers(),
                **report_file_makers(self.clock),
                TimelinePngFile().kind: TimelineWords(self.clock),
            },
        )
        self._loop = asyncio.new_event_loop()
        self.case: FamilyCase = seed_family_case(sessions, self.clock.now)
        self.person_ids: dict[str, int] = {SARA.key: self.case.coordinator_id}
        with UnitOfWork(sessions) as uow:
            jonas = uow.session.scalar(
                select(m.Membership.person_id).where(
                    m.Membership.case_id == self.case.case_id,
                    m.Membership.role == Role.PROFESSIONAL,
                )
            )
            assert jonas is not None
            # The seed adds Jonas without a chat; here he has one, as a professional would.
            uow.cases.link_identity(jonas, JONAS.private)
            uow.commit()
        self.person_ids[JONAS.key] = jonas
        self.erased: set[str] = set()
        self.canaries: dict[int, Canary] = {}
        # Per conversation: the last reply that had choices (what a tap or a number answers).
        self.offered: dict[ConversationRef, Reply] = {}
        # Per chat: the buttons of the newest notice with buttons (the picture's "Läs och svara").
        self.notice_buttons: dict[str, tuple[Choice, ...]] = {}
        # Per conversation: the message ids of its last turn.
        self.last_turn: dict[ConversationRef, tuple[str, ...]] = {}
        self.transcript: list[str] = []
        self._texts = 0
        self._publications = 0
        self._refused = 0

    def close(self) -> None:
        """Closes the event loop of the deliverer."""
        self._loop.close()

    # --- what people do --------------------------------------------------------------

    def join(self, member: Member, plan: JoinPlan) -> None:
        """A family member joins with their invite code, privately, answering consent by plan."""
        code = {
            ALEX.key: self.case.youth_code,
            KIM.key: self.case.caregiver_codes[0],
            ROBIN.key: self.case.caregiver_codes[1],
            EVA.key: self.case.network_code,
        }[member.key]
        ref = member.private
        self.step(member, ref, parse_text(f"/start {code}"), "/start CODE")
        with UnitOfWork(self._sessions) as uow:
            actor = uow.members.actor_for(ref)
            assert actor is not None, f"{member.key} could not join"
            self.person_ids[member.key] = actor.person_id
        if not self._asked("consent.explain", ref):
            return
        self.tap(member, ref, "yes" if plan.consents else "no")
        if self._asked("consent.age", ref):
            self.step(member, ref, parse_text("11" if plan.under_age else "15"), "(age)")
        if self._asked("consent.sip", ref):
            self.tap(member, ref, "yes" if plan.sip else "no")

    def tap(self, member: Member, ref: ConversationRef, choice_id: str) -> None:
        """Taps a button by its id, as Telegram sends it."""
        choice = next((c for c in self.buttons(ref) if c.id == choice_id), Choice(choice_id, ""))
        self.step(member, ref, ChoiceMade(choice_id), f"[{choice.label or choice_id}]", choice)

    def type_number(self, member: Member, ref: ConversationRef, choice_id: str) -> None:
        """Types the number of one of the choices the conversation offers, as in a terminal."""
        offered = self.offered[ref].choices
        number = next(n for n, c in enumerate(offered, start=1) if c.id == choice_id)
        choice = offered[number - 1]
        self.step(member, ref, parse_text(str(number)), f"{number} [{choice.label}]", choice)

    def write(self, member: Member, ref: ConversationRef) -> None:
        """Writes free text: a fresh canary from the family, a work note from the others."""
        self._texts += 1
        if member.role in FAMILY_ADULTS or member.role is Role.YOUTH:
            canary = Canary(self._texts, member, ref.chat_id)
            self.canaries[canary.number] = canary
            text = canary.token
        else:
            # Coordinators' and professionals' words (plan, picture, notes, names) are their
            # work, not the family's privacy: not canaries, and written so none is mistaken
            # for one.
            text = f"Arbetsanteckning nummer {self._texts}"
        self.step(member, ref, parse_text(text), text)

    def command(self, member: Member, ref: ConversationRef, command: str) -> None:
        """Sends a command such as /minadata."""
        self.step(member, ref, parse_text(command), command)

    def publish_picture(self) -> None:
        """The coordinator publishes a new version of the shared picture (notices to all)."""
        self._publications += 1
        publish(self._sessions, self.case, f"Gemensam bild {self._publications}", self.clock.now)
        self.transcript.append(f"(the coordinator publishes picture {self._publications})")
        self._deliver_and_check(Outgoing(), everything=True)

    def numbered(self, ref: ConversationRef, leave_out: frozenset[str]) -> list[Choice]:
        """The conversation's own choices (what a typed number means), but these."""
        offered = self.offered.get(ref)
        return [c for c in (offered.choices if offered else ()) if c.id not in leave_out]

    def finish(self) -> None:
        """Delivers whatever is still pending (a retried row), and checks it."""
        self._deliver_and_check(Outgoing(), everything=True)

    def buttons(self, ref: ConversationRef) -> tuple[Choice, ...]:
        """Buttons the person can tap in this chat: the conversation's, then a notice's."""
        own = self.offered.get(ref)
        choices = own.choices if own is not None else ()
        ids = {c.id for c in choices}
        return (*choices, *(c for c in self.notice_buttons.get(ref.chat_id, ()) if c.id not in ids))

    # --- one event ------------------------------------------------------------------

    def step(
        self,
        member: Member,
        ref: ConversationRef,
        event: Event,
        shown: str,
        tapped: Choice | None = None,
    ) -> None:
        """Handles one event, follows what it did to the writer's words, delivers, checks."""
        self.clock.advance(minutes=1)
        try:
            outgoing = self._handler.handle(Inbound(ref, event))
        except AccessRefused:
            # Another role's command that ends in AccessDenied (issue 19, finding 2) rolls
            # back and says nothing: not a disclosure; the roles × commands test owns it.
            self._refused += 1
            self.transcript.append(f"{ref.user_id}@{ref.chat_id}: {shown} → AccessRefused")
            return
        turn = tuple(p.reply for p in outgoing.claimed)
        self.transcript.append(
            f"{ref.user_id}@{ref.chat_id}: {shown} → {', '.join(r.message for r in turn)}"
        )
        self.last_turn[ref] = tuple(message for r in turn for message in message_ids(r))
        before = self.offered.get(ref)
        self._follow(member, ref, event, turn, before, tapped)
        with_choices = [r for r in turn if r.choices]
        if with_choices:
            self.offered[ref] = with_choices[-1]
        else:
            self.offered.pop(ref, None)
        self._deliver_and_check(outgoing)

    def _asked(self, message_id: str, ref: ConversationRef) -> bool:
        """True when the conversation's last turn had this message."""
        return message_id in self.last_turn.get(ref, ())

    # --- the bookkeeping: what the writer did with their words ------------------------

    def _follow(
        self,
        member: Member,
        ref: ConversationRef,
        event: Event,
        turn: tuple[Reply, ...],
        before: Reply | None,
        tapped: Choice | None,
    ) -> None:
        """Updates the canaries from what this event did, as the bot told its writer."""
        # Every part of a combined message (bot/one_message.py): "request.sent" rides along
        # with the menu after it, and says what the text became all the same.
        ids = [message for r in turn for message in message_ids(r)]
        if "privacy.forgotten" in ids:
            self.erased.add(member.key)
        if "consent.withdrawn" in ids:
            # A withdrawal stops the person's sharing at once (DESIGN.md §5, access rule 4);
            # sharing again is a new choice.
            self._unshare(member)
        if "consent.guardian.withdrawn" in ids:
            self._unshare(ALEX)
        text = self._written(event)
        if text is not None:
            self._classify(text, ref, ids, before)
        if tapped is not None and "common.stale_choice" not in ids:
            self._toggle(tapped, ids, before)

    def _written(self, event: Event) -> Canary | None:
        """The canary this event wrote, if it is one."""
        if not isinstance(event, TextMessage):
            return None
        found = TOKEN.fullmatch(event.text)
        return self.canaries.get(int(found.group(1))) if found else None

    def _classify(
        self, canary: Canary, ref: ConversationRef, ids: Sequence[str], prompt: Reply | None
    ) -> None:
        """What the text became, from the bot's answer and the question it answered."""
        asked = prompt.message if prompt is not None else ""
        old = self._in(prompt.params.get("text") if prompt is not None else None)
        if "youth.question.saved" in ids:
            canary.kind = Kind.YOUTH_ITEM
        elif "youth.question.changed" in ids:
            # Rewriting a question keeps its sharing choice (storage: set_view's rule, and
            # the item is what its writer chose to share).
            canary.kind = Kind.YOUTH_ITEM
            canary.shared = old.shared if old is not None else False
        elif "youth.view.saved" in ids:
            canary.kind = Kind.YOUTH_ITEM
            current = self._in(prompt.params.get("current") if prompt is not None else None)
            canary.shared = current.shared if current is not None else False
        elif "picture.thanks.comment" in ids:
            canary.kind = Kind.PICTURE_COMMENT
        elif "request.sent" in ids:
            canary.kind = Kind.MEETING_REASON
        elif any(i in ids for i in TO_COORDINATOR_ANSWERS):
            canary.kind = Kind.TO_COORDINATOR
        elif "caregiver.saved" in ids:
            canary.kind = Kind.FAMILY_ITEM
            canary.family = ref.is_group
            canary.not_with_child = asked == "caregiver.ask.not_with_child"
        elif "caregiver.changed" in ids and old is not None:
            canary.kind = Kind.FAMILY_ITEM
            canary.family, canary.shared = old.family, old.shared
            canary.not_with_child = old.not_with_child

    def _toggle(self, tapped: Choice, ids: Sequence[str], before: Reply | None) -> None:
        """A tap that shares or unshares an item, or moves it to or from the family list."""
        if tapped.id.startswith("t:") and "youth.review" in ids:
            item = self._in(tapped.params.get("text"))
            if item is not None:
                # The label said what it was; the tap turns it the other way.
                item.shared = tapped.label == "youth.review.item_private"
            return
        if before is None or before.message != "caregiver.item":
            return
        if "caregiver.item.updated" not in ids:
            return
        item = self._in(before.params.get("text"))
        if item is None:
            return
        if tapped.id == "family":
            item.family = not before.params.get("family")
        elif tapped.id == "share":
            item.shared = not before.params.get("shared")

    def _in(self, text: object) -> Canary | None:
        """The canary a text (an item's text as the bot showed it) is."""
        if not isinstance(text, str):
            return None
        found = TOKEN.fullmatch(text)
        return self.canaries.get(int(found.group(1))) if found else None

    def _unshare(self, member: Member) -> None:
        """Stops sharing every young person's item of this writer."""
        for canary in self.canaries.values():
            if canary.writer == member and canary.kind is Kind.YOUTH_ITEM:
                canary.shared = False

    # --- delivery and the check --------------------------------------------------------

    def _deliver_and_check(self, outgoing: Outgoing, everything: bool = False) -> None:
        """Delivers the event's replies and notices (or every pending row), then checks."""
        pending: list[PendingMessage] = []
        if outgoing.ids or everything:
            with UnitOfWork(self._sessions) as uow:
                pending = uow.outbox.pending(
                    FAR_FUTURE, None if everything else list(outgoing.ids), 1000
                )
        rows: dict[str, PendingMessage] = {p.idempotency_key: p for p in outgoing.claimed}
        rows.update((p.idempotency_key, p) for p in pending)
        replies = {p.idempotency_key for p in outgoing.claimed}
        before = len(self._transport.sent)
        self._loop.run_until_complete(
            self._deliverer.deliver(Outgoing(outgoing.claimed, tuple(p.id for p in pending)))
        )
        for chat_id, key, rendered in self._transport.sent[before:]:
            row = rows[key]
            delivered = Delivered(chat_id, row.reply.message, rendered)
            if key not in replies and row.reply.choices:
                self.notice_buttons[chat_id] = row.reply.choices
            self.check(delivered)

    def check(self, delivered: Delivered) -> None:
        """Raises `Leak` when the message carries a canary its chat may not read."""
        for found in CANARY.finditer(delivered.haystack()):
            canary = self.canaries.get(int(found.group(1)))
            if canary is None or self.may_read(canary, delivered.chat_id):
                continue
            file = delivered.rendered.file
            shown = delivered.rendered.text + "".join(c.label for c in delivered.rendered.choices)
            where = "a message" if file is None or canary.token in shown else "a file"
            raise Leak(
                f"{canary.describe()}\n"
                f"reached chat {delivered.chat_id!r} in {where} {delivered.message_id!r}"
                + (f" ({file.filename})" if file is not None else "")
                + "\nthe conversation:\n  "
                + "\n  ".join(self.transcript)
            )

    def may_read(self, canary: Canary, chat_id: str) -> bool:
        """The rules: may this chat carry this canary now?

        - The writer's own private chat always may.
        - The family group chat may echo what was written in it (the group saw it already);
          nothing written in a private chat goes there unless it is an adult's item on the
          family list that is not "inte inför barnet".
        - Another family adult's private chat: an adult's item on the family list.
        - The coordinator's private chat: what its writer shared (a young person's question
          or view; an adult's item shared with the meeting), and picture comments and reasons
          for a new meeting, which go to the coordinator by design.
        - Nobody else: not the young person (the adults' list is the adults'), not the
          professional (see PROFESSIONALS_READ_SHARED), no chat outside the cast.
        Beyond the writer's own chat and the group's echo, all of it only while the writer is
        not erased and their consent is in effect (a withdrawal stops sharing at once; access
        rule 4; see ANSWERS_OUTLIVE_WITHDRAWAL for picture comments and meeting reasons).
        """
        writer = canary.writer
        if chat_id == writer.key:
            return True
        if chat_id == GROUP and canary.chat == GROUP:
            return True
        if writer.key in self.erased:
            return False
        reader = BY_KEY.get(chat_id)
        to_coordinator = reader is not None and reader.role is Role.COORDINATOR
        answer = canary.kind in (Kind.PICTURE_COMMENT, Kind.MEETING_REASON, Kind.TO_COORDINATOR)
        if to_coordinator and answer and ANSWERS_OUTLIVE_WITHDRAWAL:
            return True
        if not self._consent_in_effect(writer):
            return False
        on_list = canary.kind is Kind.FAMILY_ITEM and canary.family
        shared_item = canary.kind in (Kind.YOUTH_ITEM, Kind.FAMILY_ITEM) and canary.shared
        if chat_id == GROUP:
            return on_list and not canary.not_with_child
        if reader is None:
            return False
        if reader.role in FAMILY_ADULTS:
            return on_list
        if to_coordinator:
            return answer or shared_item
        return reader.role is Role.PROFESSIONAL and PROFESSIONALS_READ_SHARED and shared_item

    def _consent_in_effect(self, member: Member) -> bool:
        """The writer's recorded consent (their own answer, and a caregiver's for a child)."""
        with UnitOfWork(self._sessions) as uow:
            status = uow.privacy.consent(self.person_ids[member.key], self.case.case_id)
        return status.effective

    @property
    def refused(self) -> int:
        """How many events ended in AccessRefused (rolled back, nothing said)."""
        return self._refused


@contextmanager
def family_world(
    template: Path, directory: Path, catalogue: Catalogue, name: str
) -> Iterator[FamilyWorld]:
    """A fresh copy of the migrated database with the seeded case, for one example."""
    path = directory / f"{name}.sqlite3"
    shutil.copyfile(template, path)
    engine = make_engine(f"sqlite:///{path}")
    world = FamilyWorld(session_factory(engine), catalogue)
    try:
        yield world
    finally:
        world.close()
        engine.dispose()
        for leftover in directory.glob(f"{name}.sqlite3*"):
            leftover.unlink()
