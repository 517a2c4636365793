"""Repositories: implement the flows' ports on one SQLAlchemy session; they never commit."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    bindparam,
    cast,
    delete,
    exists,
    literal,
    null,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flows.conversation import ConversationRef
from flows.domain import (
    Actor,
    Agenda,
    ItemKind,
    JoinOutcome,
    JoinResult,
    MeetingInfo,
    MeetingKind,
    Participation,
    PreferenceItem,
    Preparation,
    QuestionItem,
    Role,
    ViewAspect,
    ViewItem,
)
from flows.engine import FlowState
from storage import models as m
from storage.access import AccessGate
from storage.codec import PAGES_KEY, decode_pages, encode_pages
from storage.db import execute_core
from storage.invite_codes import hash_code, new_code


class MembershipRepository:
    """Who is behind a conversation; invites; meetings."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def actor_for(self, ref: ConversationRef) -> Actor | None:
        """The person behind this chat user, in their most recently joined active case."""
        row = self._s.execute(
            _ACTOR_FOR, {"platform": ref.platform, "user_id": ref.user_id}
        ).first()
        if row is None:
            return None
        return Actor(
            person_id=row.person_id,
            case_id=row.case_id,
            role=row.role,
            display_name=row.display_name,
            locale=row.locale,
        )

    def former_member(self, ref: ConversationRef) -> Actor | None:
        """The person behind this chat user in their latest case, open or not, marked former:
        asked only when `actor_for` found no active membership, so their rights still work
        as long as anything about them is stored."""
        row = self._s.execute(
            _FORMER_MEMBER, {"platform": ref.platform, "user_id": ref.user_id}
        ).first()
        if row is None:
            return None
        return Actor(
            row.person_id, row.case_id, row.role, row.display_name, row.locale, former=True
        )

    def redeem_invite(self, ref: ConversationRef, code: str, now: datetime) -> JoinResult:
        """Uses a single-use code: links the chat user to a person and adds the membership."""
        invite = self._s.scalar(
            select(m.Invite).where(m.Invite.code_hash == hash_code(code)).with_for_update()
        )
        if invite is None:
            return JoinResult(JoinOutcome.UNKNOWN)
        claimed = self._claim(invite, ref, now)
        if isinstance(claimed, JoinResult):
            return claimed
        person = claimed
        existing = self._s.scalar(
            select(m.Membership).where(
                m.Membership.case_id == invite.case_id,
                m.Membership.person_id == person.id,
                m.Membership.role == invite.role,
            )
        )
        if existing is None:
            self._s.add(
                m.Membership(
                    case_id=invite.case_id,
                    person_id=person.id,
                    role=invite.role,
                    organisation_id=invite.organisation_id,
                    active=True,
                    joined_at=now,
                )
            )
        else:
            existing.active, existing.left_at, existing.joined_at = True, None, now
        invite.used_at, invite.used_by_person_id = now, person.id
        self._s.flush()
        return JoinResult(JoinOutcome.JOINED, self.actor_for(ref))

    def next_meeting(self, case_id: int, now: datetime) -> MeetingInfo | None:
        """The next meeting of the case that has not started."""
        meeting = self._s.scalar(_NEXT_MEETING, {"case_id": case_id, "now": now})
        return _meeting_info(meeting) if meeting else None

    def _claim(
        self, invite: m.Invite | m.CoordinatorInvite, ref: ConversationRef, now: datetime
    ) -> m.Person | JoinResult:
        """Checks a found invite (used? expired?) and returns who takes it, created if new."""
        person = self._person_for(ref)
        if invite.used_at is not None:
            if person is not None and invite.used_by_person_id == person.id:
                return JoinResult(JoinOutcome.ALREADY_MEMBER)
            return JoinResult(JoinOutcome.USED)
        if invite.expires_at <= now:
            return JoinResult(JoinOutcome.EXPIRED)
        if person is None:
            person = m.Person(display_name=invite.display_name, locale="sv", created_at=now)
            self._s.add(person)
            self._s.flush()
            self._s.add(
                m.ChatIdentity(
                    person_id=person.id,
                    platform=ref.platform,
                    external_user_id=ref.user_id,
                    private_chat_id=None if ref.is_group else ref.chat_id,
                )
            )
        return person

    def _person_for(self, ref: ConversationRef) -> m.Person | None:
        """The person already linked to this chat user."""
        return self._s.scalar(
            select(m.Person)
            .join(m.ChatIdentity, m.ChatIdentity.person_id == m.Person.id)
            .where(
                m.ChatIdentity.platform == ref.platform,
                m.ChatIdentity.external_user_id == ref.user_id,
            )
        )


class PreparationRepository:
    """A person's own questions, view and participation, and what they share (behind the gate)."""

    def __init__(self, session: Session, gate: AccessGate | None = None) -> None:
        self._s = session
        self._gate = gate or AccessGate(session)

    def preparation(self, case_id: int, person_id: int) -> Preparation:
        """Everything this person prepared for this case, oldest first."""
        self._gate.require(person_id, case_id)
        questions: list[QuestionItem] = []
        views: list[ViewItem] = []
        preference: PreferenceItem | None = None
        # One prepared statement for the three kinds (a step shows this on every message).
        rows = execute_core(self._s, _OWN_PREPARATION, {"case_id": case_id, "person_id": person_id})
        for kind, item_id, written, aspect, participation, shared in rows:
            if kind == ItemKind.QUESTION.value:
                questions.append(QuestionItem(item_id, written, bool(shared)))
            elif kind == ItemKind.VIEW.value:
                views.append(ViewItem(item_id, aspect, written, bool(shared)))
            else:
                preference = PreferenceItem(item_id, participation, bool(shared))
        return Preparation(questions=tuple(questions), views=tuple(views), preference=preference)

    def add_question(self, case_id: int, person_id: int, text: str, now: datetime) -> int:
        """Stores a new question, not shared."""
        self._gate.may_change(person_id, case_id, person_id, now)
        question = m.Question(
            case_id=case_id,
            author_id=person_id,
            text=text,
            shared=False,
            created_at=now,
            updated_at=now,
        )
        self._s.add(question)
        self._s.flush()
        return question.id

    def question(self, question_id: int, person_id: int) -> QuestionItem | None:
        """One of this person's own questions; someone else's is None."""
        q = self._own_question(question_id, person_id)
        if q is not None:
            self._gate.require(person_id, q.case_id)
        return QuestionItem(q.id, q.text, q.shared) if q else None

    def edit_question(self, question_id: int, person_id: int, text: str, now: datetime) -> bool:
        """Changes the text of one of this person's questions."""
        q = self._own_question(question_id, person_id)
        if q is None:
            return False
        self._gate.may_change(person_id, q.case_id, q.author_id, now)
        q.text, q.updated_at = text, now
        return True

    def delete_question(self, question_id: int, person_id: int) -> bool:
        """Deletes one of this person's questions."""
        q = self._own_question(question_id, person_id)
        if q is None:
            return False
        self._gate.require(person_id, q.case_id)
        result = self._s.execute(
            delete(m.Question).where(
                m.Question.id == question_id, m.Question.author_id == person_id
            )
        )
        return bool(getattr(result, "rowcount", 0))

    def set_view(
        self, case_id: int, person_id: int, aspect: ViewAspect, text: str, now: datetime
    ) -> None:
        """Writes one part of the view; rewriting it keeps its sharing choice."""
        self._gate.may_change(person_id, case_id, person_id, now)
        view = self._s.scalar(
            select(m.View).where(
                m.View.case_id == case_id, m.View.author_id == person_id, m.View.aspect == aspect
            )
        )
        if view is None:
            self._s.add(
                m.View(
                    case_id=case_id,
                    author_id=person_id,
                    aspect=aspect,
                    text=text,
                    shared=False,
                    updated_at=now,
                )
            )
        else:
            view.text, view.updated_at = text, now
        self._s.flush()

    def set_participation(
        self, case_id: int, person_id: int, participation: Participation, now: datetime
    ) -> None:
        """Records how this person wants to take part."""
        self._gate.may_change(person_id, case_id, person_id, now)
        pref = self._s.scalar(
            select(m.Preference).where(
                m.Preference.case_id == case_id, m.Preference.person_id == person_id
            )
        )
        if pref is None:
            self._s.add(
                m.Preference(
                    case_id=case_id,
                    person_id=person_id,
                    participation=participation,
                    shared=False,
                    updated_at=now,
                )
            )
        else:
            pref.participation, pref.updated_at = participation, now
        self._s.flush()

    def set_shared(
        self, kind: ItemKind, item_id: int, person_id: int, shared: bool, now: datetime
    ) -> bool:
        """Shares or unshares one of this person's own items; others' items are untouched."""
        case_column = {
            ItemKind.QUESTION: (m.Question.case_id, m.Question.id),
            ItemKind.VIEW: (m.View.case_id, m.View.id),
        }.get(kind, (m.Preference.case_id, m.Preference.id))
        case_id = self._s.scalar(select(case_column[0]).where(case_column[1] == item_id))
        if case_id is None:
            return False
        self._gate.may_change(person_id, case_id, person_id, now)
        if kind is ItemKind.QUESTION:
            stmt = (
                update(m.Question)
                .where(m.Question.id == item_id, m.Question.author_id == person_id)
                .values(shared=shared, updated_at=now)
            )
        elif kind is ItemKind.VIEW:
            stmt = (
                update(m.View)
                .where(m.View.id == item_id, m.View.author_id == person_id)
                .values(shared=shared, updated_at=now)
            )
        else:
            stmt = (
                update(m.Preference)
                .where(m.Preference.id == item_id, m.Preference.person_id == person_id)
                .values(shared=shared, updated_at=now)
            )
        return bool(getattr(self._s.execute(stmt), "rowcount", 0))

    def _own_question(self, question_id: int, person_id: int) -> m.Question | None:
        """A question row, only if this person wrote it."""
        return self._s.scalar(
            select(m.Question).where(
                m.Question.id == question_id, m.Question.author_id == person_id
            )
        )


class AgendaRepository:
    """The coordinator's agenda: what members shared, never what they kept private."""

    def __init__(self, session: Session, gate: AccessGate | None = None) -> None:
        self._s = session
        self._gate = gate or AccessGate(session)

    def agenda(self, case_id: int, now: datetime, reader: int | None = None) -> Agenda:
        """The next meeting's agenda: everything shared (reader None), or what one reads."""
        # Built by the sharing module, which knows each item's readers; imported here since
        # it uses this module's membership reads.
        from storage.sharing_repository import SharingRepository

        return SharingRepository(self._s, self._gate).agenda(case_id, now, reader)


def set_person_locale(session: Session, person_id: int, locale: str) -> None:
    """Stores the language a person chose (the step that chose it carries it in its
    Transition, so the replies to that event are written in it)."""
    session.get_one(m.Person, person_id).locale = locale


class ConversationRepository:
    """Persisted conversation state, with a version so concurrent writers cannot both win."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def load(self, ref: ConversationRef) -> tuple[FlowState, int] | None:
        """The state of a conversation and its version, locking the row where the database can."""
        row = execute_core(self._s, _LOAD_STATE, _ref_params(ref)).first()
        if row is None:
            return None
        return self._state(row), row.version

    @staticmethod
    def _state(row: Any) -> FlowState:
        """A stored state row as the flows' FlowState."""
        data = dict(row.data)
        # A state saved before paging has no pages: it loads with none.
        pages = data.pop(PAGES_KEY, None)
        return FlowState(
            flow=row.flow,
            step=row.step,
            data=data,
            offered=tuple(row.offered),
            paused=row.paused,
            pages=None if pages is None else decode_pages(pages),
        )

    def load_writer(self, ref: ConversationRef) -> tuple[FlowState, int] | None:
        """As `load`, for an event the person sent: their chat is reachable again.

        Whoever writes to us can be reached, whatever a platform said before. The same read
        tells whether the chat was marked unreachable, so the DELETE runs only when it was
        (almost never), not on every message; with no conversation yet there is no such
        read, and the DELETE runs as before.
        """
        params = _ref_params(ref)
        row = execute_core(self._s, _LOAD_STATE_REACHABLE, params).first()
        if row is None or row.unreachable:
            execute_core(self._s, _FORGET_UNREACHABLE, params)
        if row is None:
            return None
        return self._state(row), row.version

    def save(
        self, ref: ConversationRef, state: FlowState, expected_version: int | None, now: datetime
    ) -> None:
        """Writes the state; raises StaleConversation if someone else saved it first."""
        values = {
            "flow": state.flow,
            "step": state.step,
            "data": _data_with_pages(state),
            "offered": list(state.offered),
            "paused": state.paused,
            "updated_at": now,
        }
        if expected_version is None:
            try:
                with self._s.begin_nested():
                    self._s.add(
                        m.ConversationState(
                            platform=ref.platform,
                            chat_id=ref.chat_id,
                            user_id=ref.user_id,
                            version=1,
                            **values,
                        )
                    )
            except IntegrityError as exc:
                raise StaleConversation(ref) from exc
            return
        result = execute_core(
            self._s,
            _SAVE_STATE,
            {
                **_ref_params(ref),
                "expected_version": expected_version,
                "new_version": expected_version + 1,
                **{f"new_{k}": v for k, v in values.items()},
            },
        )
        if getattr(result, "rowcount", 0) != 1:
            raise StaleConversation(ref)

    def forget(self, ref: ConversationRef) -> None:
        """Deletes the stored state of a conversation (after the person was erased)."""
        self._s.execute(
            delete(m.ConversationState).where(
                m.ConversationState.platform == ref.platform,
                m.ConversationState.chat_id == ref.chat_id,
                m.ConversationState.user_id == ref.user_id,
            )
        )


class StaleConversation(RuntimeError):
    """Another process changed this conversation since we read it; handle the event again."""

    def __init__(self, ref: ConversationRef) -> None:
        super().__init__(f"conversation state changed concurrently on {ref.platform}")


class AuditRepository:
    """Audit trail: who did what to which object; never content."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def record(
        self,
        now: datetime,
        actor_person_id: int | None,
        case_id: int | None,
        action: str,
        object_type: str,
        object_id: int | None = None,
    ) -> None:
        """Adds one audit row."""
        self._s.add(
            m.AuditEvent(
                at=now,
                actor_person_id=actor_person_id,
                case_id=case_id,
                action=action,
                object_type=object_type,
                object_id=object_id,
            )
        )


class CaseAdminRepository:
    """What operators and seed data do: cases, people, meetings, invites."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def create_case(self, now: datetime, reference: str | None = None) -> m.Case:
        """Opens a case; the reference is K-<id> unless given."""
        case = m.Case(
            reference=reference or f"tmp-{uuid.uuid4().hex[:24]}", status="open", created_at=now
        )
        self._s.add(case)
        self._s.flush()
        if reference is None:
            case.reference = f"K-{case.id}"
            self._s.flush()
        return case

    def find_case(self, reference_or_id: str) -> m.Case | None:
        """A case by its reference (K-7) or its number (7)."""
        ref = reference_or_id.strip()
        case = self._s.scalar(select(m.Case).where(m.Case.reference == ref.upper()))
        if case is None and ref.isdecimal():
            case = self._s.get(m.Case, int(ref))
        return case

    def reference_of(self, case_id: int) -> str:
        """The reference (K-7) of a case."""
        return self._s.get_one(m.Case, case_id).reference

    def set_locale_for(self, ref: ConversationRef, locale: str) -> None:
        """Sets the language of the person behind a chat user."""
        person_id = self._s.scalar(
            select(m.ChatIdentity.person_id).where(
                m.ChatIdentity.platform == ref.platform,
                m.ChatIdentity.external_user_id == ref.user_id,
            )
        )
        if person_id is not None:
            set_person_locale(self._s, person_id, locale)

    def add_person(self, display_name: str, locale: str, now: datetime) -> m.Person:
        """Adds a person known by a first name or pseudonym."""
        person = m.Person(display_name=display_name, locale=locale, created_at=now)
        self._s.add(person)
        self._s.flush()
        return person

    def link_identity(self, person_id: int, ref: ConversationRef) -> None:
        """Links a chat user to a person (used by the demo and by joining)."""
        self._s.add(
            m.ChatIdentity(
                person_id=person_id,
                platform=ref.platform,
                external_user_id=ref.user_id,
                private_chat_id=None if ref.is_group else ref.chat_id,
            )
        )
        self._s.flush()

    def unlink_identity(self, ref: ConversationRef) -> None:
        """Lets go of a chat user's account and conversation (the demo, starting over)."""
        self._s.execute(
            delete(m.ChatIdentity).where(
                m.ChatIdentity.platform == ref.platform,
                m.ChatIdentity.external_user_id == ref.user_id,
            )
        )
        self._s.execute(
            delete(m.ConversationState).where(
                m.ConversationState.platform == ref.platform,
                m.ConversationState.user_id == ref.user_id,
            )
        )

    def add_member(self, case_id: int, person_id: int, role: Role, now: datetime) -> None:
        """Adds a person to a case with a role."""
        self._s.add(
            m.Membership(
                case_id=case_id, person_id=person_id, role=role, active=True, joined_at=now
            )
        )
        self._s.flush()

    def add_meeting(
        self,
        case_id: int,
        kind: MeetingKind,
        starts_at: datetime,
        duration_minutes: int,
        place: str | None = None,
        remote_link: str | None = None,
    ) -> int:
        """Schedules a meeting."""
        meeting = m.Meeting(
            case_id=case_id,
            kind=kind,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            place=place,
            remote_link=remote_link,
        )
        self._s.add(meeting)
        self._s.flush()
        return meeting.id

    def move_meeting(self, case_id: int, meeting_id: int, starts_at: datetime) -> bool:
        """Gives a meeting of the case a new start; False if the case has no such meeting.

        Reminders follow by themselves: their dedup keys hold the start time."""
        meeting = self._s.get(m.Meeting, meeting_id)
        if meeting is None or meeting.case_id != case_id:
            return False
        meeting.starts_at = starts_at
        self._s.flush()
        return True

    def cancel_meeting(self, case_id: int, meeting_id: int) -> bool:
        """Removes a meeting of the case (nothing refers to it, so nothing else is reminded of
        it); False if the case has no such meeting."""
        meeting = self._s.get(m.Meeting, meeting_id)
        if meeting is None or meeting.case_id != case_id:
            return False
        self._s.delete(meeting)
        self._s.flush()
        return True

    def create_invite(
        self,
        case_id: int,
        role: Role,
        display_name: str,
        now: datetime,
        valid_for: timedelta = timedelta(days=14),
    ) -> str:
        """Creates a single-use invite and returns the code; only its hash is stored."""
        code = new_code()
        self._s.add(
            m.Invite(
                case_id=case_id,
                role=role,
                display_name=display_name,
                code_hash=hash_code(code),
                created_at=now,
                expires_at=now + valid_for,
            )
        )
        self._s.flush()
        return code


def _meeting_info(meeting: m.Meeting) -> MeetingInfo:
    """A meeting row as a domain value."""
    return MeetingInfo(
        id=meeting.id,
        kind=meeting.kind,
        starts_at=meeting.starts_at,
        duration_minutes=meeting.duration_minutes,
        place=meeting.place,
        remote_link=meeting.remote_link,
        sequence=meeting.sequence,
        series_id=meeting.series_id,
    )


# Statements of the per-message path, built once: building a statement costs more CPU than
# running it on SQLite (bench/per_message.py), so the hot queries take bound parameters.
# Columns rather than entities: an Actor is a small value, and loading objects into the
# session's identity map costs more than the query on SQLite.
# The person behind a chat user in their latest case, whatever its state or theirs (a case
# purged by retention takes its memberships with it).
_FORMER_MEMBER = (
    select(
        m.Person.id.label("person_id"),
        m.Membership.case_id,
        m.Membership.role,
        m.Person.display_name,
        m.Person.locale,
    )
    .join(m.ChatIdentity, m.ChatIdentity.person_id == m.Person.id)
    .join(m.Membership, m.Membership.person_id == m.Person.id)
    .where(
        m.ChatIdentity.platform == bindparam("platform"),
        m.ChatIdentity.external_user_id == bindparam("user_id"),
    )
    .order_by(m.Membership.joined_at.desc(), m.Membership.id.desc())
    .limit(1)
)
# The same, among active memberships of open cases only.
_ACTOR_FOR = _FORMER_MEMBER.join(m.Case, m.Case.id == m.Membership.case_id).where(
    m.Membership.active.is_(True),
    m.Case.status == "open",
)
_NEXT_MEETING = (
    select(m.Meeting)
    .where(m.Meeting.case_id == bindparam("case_id"), m.Meeting.starts_at > bindparam("now"))
    .order_by(m.Meeting.starts_at)
    .limit(1)
)
# A person's questions, views and participation wish in one statement, as rows of
# (kind, id, text, aspect, participation, shared), each kind oldest first. The columns a kind
# lacks are typed NULLs, so the union's types (decryption, enums) come out right on both
# databases.
_NO_TEXT = cast(null(), m.Question.__table__.c.text.type)
_NO_ASPECT = cast(null(), m.View.__table__.c.aspect.type)
_NO_PARTICIPATION = cast(null(), m.Preference.__table__.c.participation.type)
_OWN_PREPARATION = union_all(
    select(
        literal(ItemKind.QUESTION.value).label("kind"),
        m.Question.id,
        m.Question.text,
        _NO_ASPECT.label("aspect"),
        _NO_PARTICIPATION.label("participation"),
        m.Question.shared,
    ).where(
        m.Question.case_id == bindparam("case_id"), m.Question.author_id == bindparam("person_id")
    ),
    select(
        literal(ItemKind.VIEW.value),
        m.View.id,
        m.View.text,
        m.View.aspect,
        _NO_PARTICIPATION,
        m.View.shared,
    ).where(m.View.case_id == bindparam("case_id"), m.View.author_id == bindparam("person_id")),
    select(
        literal(ItemKind.PREFERENCE.value),
        m.Preference.id,
        _NO_TEXT,
        _NO_ASPECT,
        m.Preference.participation,
        m.Preference.shared,
    ).where(
        m.Preference.case_id == bindparam("case_id"),
        m.Preference.person_id == bindparam("person_id"),
    ),
).order_by(text("kind"), text("id"))
# The state's statements are Core statements on the table, not ORM ones on the entity: they
# run on every message, and the ORM's entity loading and bulk-update handling cost more than
# the statements themselves. No caller reads a ConversationState object back.
_STATE = m.Base.metadata.tables["conversation_state"]
_STATE_OF_REF = (
    _STATE.c.platform == bindparam("ref_platform"),
    _STATE.c.chat_id == bindparam("ref_chat_id"),
    _STATE.c.user_id == bindparam("ref_user_id"),
)
_LOAD_STATE = (
    select(
        _STATE.c.flow, _STATE.c.step, _STATE.c.data, _STATE.c.offered, _STATE.c.paused,
        _STATE.c.version,
    )
    .where(*_STATE_OF_REF)
    .with_for_update()
)  # fmt: skip
# The chat's unreachable mark read beside its state: the handler's one read of the chat.
_UNREACHABLE = m.Base.metadata.tables["unreachable_chat"]
_CHAT_OF_REF = (
    _UNREACHABLE.c.platform == bindparam("ref_platform"),
    _UNREACHABLE.c.chat_id == bindparam("ref_chat_id"),
)
_LOAD_STATE_REACHABLE = _LOAD_STATE.add_columns(exists().where(*_CHAT_OF_REF).label("unreachable"))
_FORGET_UNREACHABLE = delete(_UNREACHABLE).where(*_CHAT_OF_REF)
_SAVE_STATE = (
    update(_STATE)
    .where(*_STATE_OF_REF, _STATE.c.version == bindparam("expected_version"))
    .values(
        version=bindparam("new_version"),
        **{
            k: bindparam(f"new_{k}", type_=_STATE.c[k].type)
            for k in ("flow", "step", "data", "offered", "paused", "updated_at")
        },
    )
)


def _data_with_pages(state: FlowState) -> dict[str, Any]:
    """The state's data column: the flow's data, and a paged list's whole reply beside it.

    Kept in the (encrypted) data column, not a column of its own, because the reply may quote
    what people wrote; the key cannot clash with a flow's, which are names.
    """
    data: dict[str, Any] = dict(state.data)
    if state.pages is not None:
        data[PAGES_KEY] = encode_pages(state.pages)
    return data


def _ref_params(ref: ConversationRef) -> dict[str, str]:
    """The bound parameters that pick one conversation's state row."""
    # Named apart from the columns: an UPDATE binds its new values under the column names.
    return {"ref_platform": ref.platform, "ref_chat_id": ref.chat_id, "ref_user_id": ref.user_id}
