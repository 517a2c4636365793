"""The families' side in storage: family list, meeting info, shared picture, meeting requests.

Implements flows.family_ports.FamiliesPort on one session; like every repository it never
commits. Every read and write of family items, pictures, answers and requests goes through
the access gate (rules 7-9 of storage/access.py). The young person's own items live in other
tables and are never read here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from flows.conversation import ConversationRef
from flows.domain import PICTURE_ROLES, Actor, Role
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
from storage import models as m
from storage.access import (
    AccessGate,
    FamilyItemState,
    Purpose,
    SystemGrant,
    Who,
)
from storage.db import in_chunks
from storage.repositories import _meeting_info, set_person_locale

# Who is asked to answer the shared picture: the family side (the gate's rule 8).


class FamiliesRepository:
    """The families' side of a case."""

    def __init__(self, session: Session, gate: AccessGate | None = None) -> None:
        self._s = session
        self._gate = gate or AccessGate(session)

    # --- where members are ------------------------------------------------------------

    def note_chat(self, actor: Actor, ref: ConversationRef, now: datetime) -> None:
        """Records a group chat the member writes in, or their private chat if it was unknown."""
        if ref.is_group:
            row = self._s.scalar(
                select(m.GroupChatMember).where(
                    m.GroupChatMember.case_id == actor.case_id,
                    m.GroupChatMember.person_id == actor.person_id,
                    m.GroupChatMember.platform == ref.platform,
                    m.GroupChatMember.chat_id == ref.chat_id,
                )
            )
            if row is None:
                self._s.add(
                    m.GroupChatMember(
                        case_id=actor.case_id,
                        person_id=actor.person_id,
                        platform=ref.platform,
                        chat_id=ref.chat_id,
                        user_id=ref.user_id,
                        seen_at=now,
                    )
                )
            else:
                row.seen_at = now
            self._s.flush()
            return
        # Someone who joined in a group chat and later writes privately can now be reached
        # privately too (for the shared picture, which is personal).
        identity = self._s.scalar(
            select(m.ChatIdentity).where(
                m.ChatIdentity.person_id == actor.person_id,
                m.ChatIdentity.platform == ref.platform,
                m.ChatIdentity.external_user_id == ref.user_id,
            )
        )
        if identity is not None and identity.private_chat_id is None:
            identity.private_chat_id = ref.chat_id
            self._s.flush()

    def recipients(
        self,
        case_id: int,
        roles: Iterable[Role],
        *,
        group_first: bool,
        only: frozenset[int] | None = None,
    ) -> Recipients:
        """How to reach the active members with these roles.

        `group_first`: a member seen in a group chat is reached there (meeting reminders,
        once for the group); otherwise a member is reached privately when they can be, and
        through a group chat only when they have no private chat (the shared picture).
        `only` narrows the members to these person ids.
        """
        narrowed = None if only is None else {case_id: only}
        return self.recipients_of([case_id], roles, group_first=group_first, only=narrowed)[case_id]

    def recipients_of(
        self,
        case_ids: Iterable[int],
        roles: Iterable[Role],
        *,
        group_first: bool,
        only: Mapping[int, frozenset[int]] | None = None,
    ) -> dict[int, Recipients]:
        """`recipients` of many cases at once: one query per kind (members, private chats,
        group chats) and chunk of ids, whatever the number of cases (a tick's meetings).

        `only` narrows each case's members to its person ids (a case missing from it has
        none). Every case asked for has an entry, if only an empty one.
        """
        wanted = set(roles)
        cases = sorted(set(case_ids))
        people: dict[int, set[int]] = {case_id: set() for case_id in cases}
        members: list[tuple[int, int, Role]] = []
        for chunk in in_chunks(cases):
            for case_id, person_id, role in self._s.execute(
                select(m.Membership.case_id, m.Membership.person_id, m.Membership.role).where(
                    m.Membership.case_id.in_(chunk), m.Membership.active.is_(True)
                )
            ):
                if role in wanted and (only is None or person_id in only.get(case_id, ())):
                    members.append((case_id, person_id, role))
        # Nobody is messaged without consent in effect (a young person who said no included).
        for case_id, person_id in self._gate.reachable(members):
            people[case_id].add(person_id)
        everyone = sorted(set().union(*people.values()))
        private: set[int] = set()
        for chunk in in_chunks(everyone):
            private.update(
                self._s.scalars(
                    select(m.ChatIdentity.person_id).where(
                        m.ChatIdentity.person_id.in_(chunk),
                        m.ChatIdentity.private_chat_id.is_not(None),
                    )
                )
            )
        # Per case, in the order the members were first seen in each chat: (platform, chat)
        # → (the first seen member's user id, the case's members seen there).
        groups: dict[int, dict[tuple[str, str], tuple[str, set[int]]]] = defaultdict(dict)
        for chunk in in_chunks([case_id for case_id in cases if people[case_id]]):
            for case_id, person_id, platform, chat, user in self._s.execute(
                select(
                    m.GroupChatMember.case_id,
                    m.GroupChatMember.person_id,
                    m.GroupChatMember.platform,
                    m.GroupChatMember.chat_id,
                    m.GroupChatMember.user_id,
                )
                .where(m.GroupChatMember.case_id.in_(chunk))
                .order_by(m.GroupChatMember.id)
            ):
                if person_id in people[case_id]:
                    _, persons = groups[case_id].setdefault((platform, chat), (user, set()))
                    persons.add(person_id)
        return {
            case_id: _reach(sorted(people[case_id]), private, groups[case_id], group_first)
            for case_id in cases
        }

    # --- the family list --------------------------------------------------------------

    def family_items(self, case_id: int, viewer_id: int) -> tuple[FamilyItem, ...]:
        """Own items and the family list, as far as the gate lets this viewer see them."""
        viewer = self._gate.require(viewer_id, case_id)
        rows = self._s.execute(
            select(m.FamilyItem, m.Person.display_name)
            .join(m.Person, m.Person.id == m.FamilyItem.author_id)
            .where(m.FamilyItem.case_id == case_id)
            .order_by(m.FamilyItem.id)
        ).all()
        return tuple(
            self._family_item(item, name)
            for item, name in rows
            # The list shows own items and the family list; the gate decides who sees which.
            if (item.author_id == viewer_id or item.in_family_list)
            and self._gate.sees_family_item(viewer, self._state(item))
        )

    def family_item(self, item_id: int, author_id: int) -> FamilyItem | None:
        """One of this adult's own items."""
        item = self._own_item(item_id, author_id)
        if item is None:
            return None
        self._gate.require(author_id, item.case_id)
        return self._family_item(item, self._s.get_one(m.Person, author_id).display_name)

    def add_family_item(
        self,
        case_id: int,
        author_id: int,
        kind: FamilyItemKind,
        text: str,
        in_family_list: bool,
        now: datetime,
    ) -> int:
        """Stores a new item of an adult of the family, not shared with the meeting."""
        state = FamilyItemState(case_id, author_id, in_family_list, False)
        self._gate.require_family_author(author_id, state, now, "family.add", None)
        item = m.FamilyItem(
            case_id=case_id,
            author_id=author_id,
            kind=kind,
            text=text,
            in_family_list=in_family_list,
            shared=False,
            created_at=now,
            updated_at=now,
        )
        self._s.add(item)
        self._s.flush()
        return item.id

    def edit_family_item(self, item_id: int, author_id: int, text: str, now: datetime) -> bool:
        """Changes the text of an own item; someone else's is left alone."""
        item = self._own_item(item_id, author_id)
        if item is None:
            return False
        self._gate.require_family_author(author_id, self._state(item), now, "family.edit", item_id)
        item.text, item.updated_at = text, now
        self._s.flush()
        return True

    def delete_family_item(self, item_id: int, author_id: int, now: datetime) -> bool:
        """Deletes an own item; someone else's is left alone."""
        item = self._own_item(item_id, author_id)
        if item is None:
            return False
        self._gate.require_family_author(
            author_id, self._state(item), now, "family.delete", item_id
        )
        self._s.delete(item)
        self._s.flush()
        return True

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
        item = self._own_item(item_id, author_id)
        if item is None:
            return False
        self._gate.require_family_author(author_id, self._state(item), now, "family.share", item_id)
        if in_family_list is not None:
            item.in_family_list = in_family_list
        if shared is not None:
            item.shared = shared
        item.updated_at = now
        self._s.flush()
        return True

    def shared_family_items(self, case_id: int, viewer: Who) -> tuple[FamilyItem, ...]:
        """What the adults shared with the meeting, as this viewer (or a report) may see it."""
        reader = self._gate.family_reader(viewer, case_id)
        rows = self._s.execute(
            select(m.FamilyItem, m.Person.display_name)
            .join(m.Person, m.Person.id == m.FamilyItem.author_id)
            .where(m.FamilyItem.case_id == case_id, m.FamilyItem.shared.is_(True))
            .order_by(m.FamilyItem.id)
        ).all()
        return tuple(
            self._family_item(item, name)
            for item, name in rows
            if self._gate.sees_family_item(reader, self._state(item))
        )

    def _own_item(self, item_id: int, author_id: int) -> m.FamilyItem | None:
        """An item row, only if this adult wrote it."""
        return self._s.scalar(
            select(m.FamilyItem).where(
                m.FamilyItem.id == item_id, m.FamilyItem.author_id == author_id
            )
        )

    def _state(self, item: m.FamilyItem) -> FamilyItemState:
        """What the gate needs to know of an item."""
        return FamilyItemState(
            item.case_id,
            item.author_id,
            item.in_family_list,
            item.shared,
            Readers.decode(item.readers),
        )

    def _family_item(self, item: m.FamilyItem, author_name: str) -> FamilyItem:
        """A family item row as a domain value."""
        return FamilyItem(
            id=item.id,
            author_id=item.author_id,
            author_name=author_name,
            kind=item.kind,
            text=item.text,
            in_family_list=item.in_family_list,
            shared=item.shared,
        )

    # --- meeting info and organisations -----------------------------------------------

    def meeting_overview(self, case_id: int, now: datetime) -> MeetingOverview | None:
        """The next meeting and who is invited (roles and organisations, no names)."""
        meeting = self._s.scalar(
            select(m.Meeting)
            .where(m.Meeting.case_id == case_id, m.Meeting.starts_at > now)
            .order_by(m.Meeting.starts_at)
            .limit(1)
        )
        if meeting is None:
            return None
        rows = self._s.execute(
            select(m.Membership.role, m.Organisation.name)
            .outerjoin(m.Organisation, m.Organisation.id == m.Membership.organisation_id)
            .where(m.Membership.case_id == case_id, m.Membership.active.is_(True))
            .order_by(m.Membership.id)
        ).all()
        order = list(Role)
        invitees = sorted(
            {Invitee(role, org) for role, org in rows},
            key=lambda i: (order.index(i.role), i.organisation or ""),
        )
        return MeetingOverview(_meeting_info(meeting), tuple(invitees))

    def meeting(self, meeting_id: int) -> m.Meeting | None:
        """A meeting row (for the calendar file)."""
        return self._s.get(m.Meeting, meeting_id)

    def organisations(self, case_id: int) -> tuple[OrganisationInfo, ...]:
        """The organisations of the case's active members."""
        rows = self._s.scalars(
            select(m.Organisation)
            .join(m.Membership, m.Membership.organisation_id == m.Organisation.id)
            .where(m.Membership.case_id == case_id, m.Membership.active.is_(True))
            .distinct()
        )
        return tuple(OrganisationInfo(o.id, o.name, o.kind, o.description) for o in _by_name(rows))

    def add_organisation(self, name: str, kind: str, description: str | None = None) -> int:
        """Adds a verksamhet; without a description the catalogue's default for its kind shows."""
        org = m.Organisation(name=name, kind=kind, description=description)
        self._s.add(org)
        self._s.flush()
        return org.id

    def all_organisations(self) -> list[m.Organisation]:
        """Every organisation, by name (for the operator's list)."""
        return _by_name(self._s.scalars(select(m.Organisation)))

    def find_organisation(self, name_or_id: str) -> m.Organisation | None:
        """An organisation by its number or its exact name (case-insensitive)."""
        key = name_or_id.strip()
        if key.isdecimal():
            return self._s.get(m.Organisation, int(key))
        # Names are ciphertext (a fresh nonce each), so they are compared here, not in SQL.
        return next(
            (o for o in self._s.scalars(select(m.Organisation)) if same_name(o.name, key)),
            None,
        )

    def set_member_organisation(self, case_id: int, person_id: int, organisation_id: int) -> None:
        """Says which organisation a member of a case comes from."""
        for membership in self._s.scalars(
            select(m.Membership).where(
                m.Membership.case_id == case_id, m.Membership.person_id == person_id
            )
        ):
            membership.organisation_id = organisation_id
        self._s.flush()

    def set_organisation_description(self, organisation_id: int, description: str | None) -> bool:
        """Sets (or with None, clears back to the default) an organisation's presentation."""
        org = self._s.get(m.Organisation, organisation_id)
        if org is None:
            return False
        org.description = description
        self._s.flush()
        return True

    # --- the shared picture -------------------------------------------------------------

    def latest_picture(self, case_id: int, viewer: Who) -> PictureInfo | None:
        """The newest version of the case's shared picture (every admitted member reads it)."""
        self._gate.picture_reader(viewer, case_id)
        row = self._s.scalar(
            select(m.SharedPicture)
            .where(m.SharedPicture.case_id == case_id)
            .order_by(m.SharedPicture.version.desc())
            .limit(1)
        )
        return self._picture(row) if row else None

    def publish(self, case_id: int, author: Who, text: str, now: datetime) -> PublishedPicture:
        """Stores a new version (a coordinator, or the operator's CLI) and says who should be
        asked to answer it."""
        self._gate.coordinator_or_operator(author, case_id, now, "publish", "shared_picture", None)
        latest = self.latest_picture(case_id, author)
        row = m.SharedPicture(
            case_id=case_id,
            version=(latest.version if latest else 0) + 1,
            text=text,
            author_id=author if isinstance(author, int) else None,
            published_at=now,
        )
        self._s.add(row)
        self._s.flush()
        return PublishedPicture(
            self._picture(row),
            self.case_reference(case_id),
            self.recipients(case_id, PICTURE_ROLES, group_first=False),
        )

    def picture_answer(self, picture_id: int, person_id: int) -> PictureAnswer | None:
        """This person's own answer to one version."""
        picture = self._s.get(m.SharedPicture, picture_id)
        if picture is None:
            return None
        self._gate.require(person_id, picture.case_id)
        row = self._response(picture_id, person_id)
        return self._answer(row) if row else None

    def answer_picture(
        self, picture_id: int, person_id: int, verdict: Verdict, comment: str | None, now: datetime
    ) -> int:
        """Stores a family member's answer; answering again replaces the earlier one."""
        picture = self._s.get_one(m.SharedPicture, picture_id)
        self._gate.require_family_member(
            person_id, picture.case_id, now, "picture.answer", "picture_response"
        )
        row = self._response(picture_id, person_id)
        if row is None:
            row = m.PictureResponse(picture_id=picture_id, person_id=person_id)
            self._s.add(row)
        row.verdict, row.comment, row.answered_at = verdict.value, comment, now
        self._s.flush()
        return row.id

    def picture_answers(
        self, picture_id: int, viewer: Who
    ) -> tuple[tuple[int, str, PictureAnswer], ...]:
        """(person id, name, answer) of everyone who answered a version: the coordinator's and
        the report's view."""
        picture = self._s.get(m.SharedPicture, picture_id)
        if picture is None:
            return ()
        self._gate.answers_reader(viewer, picture.case_id)
        rows = self._s.execute(
            select(m.PictureResponse, m.Person.display_name)
            .join(m.Person, m.Person.id == m.PictureResponse.person_id)
            .where(m.PictureResponse.picture_id == picture_id)
            .order_by(m.PictureResponse.id)
        ).all()
        return tuple((r.person_id, name, self._answer(r)) for r, name in rows)

    def unanswered_pictures(
        self, grant: SystemGrant, published_after: datetime, published_before: datetime
    ) -> list[tuple[PictureInfo, int, tuple[int, ...]]]:
        """(latest picture, case id, admitted family members who have not answered it) of open
        cases, for pictures published in the window: the picture reminder's purpose only."""
        self._gate.require_purpose(grant, Purpose.PICTURE_REMINDER)
        # The window's pictures by ix_shared_picture_published, then per picture (by primary
        # key and unique index) whether it is its case's newest and the case open: the work
        # is the window's, not every case's newest picture grouped on every tick.
        newer = aliased(m.SharedPicture)
        superseded = (
            select(newer.id)
            .where(
                newer.case_id == m.SharedPicture.case_id,
                newer.version > m.SharedPicture.version,
            )
            .exists()
        )
        case_open = (
            select(m.Case.id)
            .where(m.Case.id == m.SharedPicture.case_id, m.Case.status == "open")
            .exists()
        )
        pictures = self._s.scalars(
            select(m.SharedPicture)
            .where(
                m.SharedPicture.published_at > published_after,
                m.SharedPicture.published_at <= published_before,
                ~superseded,
                case_open,
            )
            .order_by(m.SharedPicture.id)
        ).all()
        # Who has not answered, for every picture in one query per chunk (not one each).
        waiting: dict[int, list[int]] = defaultdict(list)
        for chunk in in_chunks([picture.id for picture in pictures]):
            answered = (
                select(m.PictureResponse.id)
                .where(
                    m.PictureResponse.picture_id == m.SharedPicture.id,
                    m.PictureResponse.person_id == m.Membership.person_id,
                )
                .exists()
            )
            for picture_id, person_id in self._s.execute(
                select(m.SharedPicture.id, m.Membership.person_id)
                .join(m.Membership, m.Membership.case_id == m.SharedPicture.case_id)
                .where(
                    m.SharedPicture.id.in_(chunk),
                    m.Membership.active.is_(True),
                    m.Membership.role.in_(PICTURE_ROLES),
                    ~answered,
                )
                .distinct()
                .order_by(m.SharedPicture.id, m.Membership.person_id)
            ):
                waiting[picture_id].append(person_id)
        result: list[tuple[PictureInfo, int, tuple[int, ...]]] = []
        for picture in pictures:
            # Someone whose consent is not in effect is not reminded of the case.
            admitted = tuple(
                p for p in waiting[picture.id] if self._gate.admitted(p, picture.case_id)
            )
            if admitted:
                result.append((self._picture(picture), picture.case_id, admitted))
        return result

    def _response(self, picture_id: int, person_id: int) -> m.PictureResponse | None:
        """A person's answer row to one version."""
        return self._s.scalar(
            select(m.PictureResponse).where(
                m.PictureResponse.picture_id == picture_id,
                m.PictureResponse.person_id == person_id,
            )
        )

    def _picture(self, row: m.SharedPicture) -> PictureInfo:
        """A shared picture row as a domain value."""
        return PictureInfo(row.id, row.version, row.text, row.published_at)

    def _answer(self, row: m.PictureResponse) -> PictureAnswer:
        """A picture response row as a domain value."""
        return PictureAnswer(row.id, Verdict(row.verdict), row.comment, row.answered_at)

    # --- coordinators, meetings to remind of, requests ---------------------------------

    def coordinators(self, case_id: int) -> tuple[int, ...]:
        """Person ids of the case's active coordinators."""
        return tuple(
            self._s.scalars(
                select(m.Membership.person_id)
                .where(
                    m.Membership.case_id == case_id,
                    m.Membership.active.is_(True),
                    m.Membership.role == Role.COORDINATOR,
                )
                .order_by(m.Membership.person_id)
            )
        )

    def case_reference(self, case_id: int) -> str:
        """The reference (K-7) of a case."""
        return self._s.get_one(m.Case, case_id).reference

    def meetings_between(self, start: datetime, end: datetime) -> list[m.Meeting]:
        """Meetings of open cases that start after `start` and no later than `end`."""
        return list(
            self._s.scalars(
                select(m.Meeting)
                .join(m.Case, m.Case.id == m.Meeting.case_id)
                .where(m.Case.status == "open", m.Meeting.starts_at > start)
                .where(m.Meeting.starts_at <= end)
                .order_by(m.Meeting.starts_at, m.Meeting.id)
            )
        )

    def open_request(self, case_id: int, person_id: int) -> MeetingRequestInfo | None:
        """This person's own newest unanswered request."""
        self._gate.require(person_id, case_id)
        row = self._s.scalar(
            select(m.MeetingRequest)
            .where(
                m.MeetingRequest.case_id == case_id,
                m.MeetingRequest.requested_by_id == person_id,
                m.MeetingRequest.answered_at.is_(None),
            )
            .order_by(m.MeetingRequest.id.desc())
            .limit(1)
        )
        return self._request(row) if row else None

    def request_meeting(self, case_id: int, person_id: int, reason: str, now: datetime) -> int:
        """Stores a family member's request for a new meeting."""
        self._gate.require_family_member(
            person_id, case_id, now, "meeting_request.create", "meeting_request"
        )
        row = m.MeetingRequest(
            case_id=case_id, requested_by_id=person_id, reason=reason, created_at=now
        )
        self._s.add(row)
        self._s.flush()
        return row.id

    def open_requests(
        self, case_id: int, viewer: Who
    ) -> tuple[tuple[MeetingRequestInfo, str | None], ...]:
        """Every unanswered request of a case with who asked, oldest first: the coordinator's
        to-do (and the report's)."""
        self._gate.requests_reader(viewer, case_id)
        rows = self._s.execute(
            select(m.MeetingRequest, m.Person.display_name)
            .outerjoin(m.Person, m.Person.id == m.MeetingRequest.requested_by_id)
            .where(m.MeetingRequest.case_id == case_id, m.MeetingRequest.answered_at.is_(None))
            .order_by(m.MeetingRequest.created_at, m.MeetingRequest.id)
        ).all()
        return tuple((self._request(r), name) for r, name in rows)

    def answer_request(
        self, request_id: int, answerer: Who, answer: str, now: datetime
    ) -> int | None:
        """Marks a request answered (a coordinator, or the operator's CLI); returns who asked
        (to tell them), or None if unknown."""
        row = self._s.get(m.MeetingRequest, request_id)
        if row is None or row.answered_at is not None:
            return None
        self._gate.coordinator_or_operator(
            answerer, row.case_id, now, "answer", "meeting_request", request_id
        )
        row.answered_at, row.answer = now, answer
        self._s.flush()
        return row.requested_by_id

    def _request(self, row: m.MeetingRequest) -> MeetingRequestInfo:
        """A meeting request row as a domain value."""
        return MeetingRequestInfo(row.id, row.reason, row.created_at, row.answered_at)

    # --- language -------------------------------------------------------------------------

    def set_locale(self, person_id: int, locale: str) -> None:
        """Stores the language a person chose."""
        set_person_locale(self._s, person_id, locale)
        self._s.flush()


def _reach(
    people: list[int],
    private: set[int],
    groups: dict[tuple[str, str], tuple[str, set[int]]],
    group_first: bool,
) -> Recipients:
    """Who of a case's `people` is reached privately, and which group chats are written to
    (the rules of FamiliesRepository.recipients)."""
    if not people:
        return Recipients((), ())
    if group_first:
        in_group = set().union(*(persons for _, persons in groups.values()))
        direct = tuple(p for p in people if p in private and p not in in_group)
        chats = tuple(ConversationRef(pf, chat, user) for (pf, chat), (user, _) in groups.items())
    else:
        direct = tuple(p for p in people if p in private)
        chats = tuple(
            ConversationRef(pf, chat, user)
            for (pf, chat), (user, persons) in groups.items()
            if persons - private
        )
    return Recipients(direct, chats)


def _by_name(organisations: Iterable[m.Organisation]) -> list[m.Organisation]:
    """Organisations in the order of their names (decrypted, so sorted here, not in SQL)."""
    return sorted(organisations, key=lambda o: (o.name.casefold(), o.id))


def same_name(name: str, typed: str) -> bool:
    """True when a typed organisation name is this one, case ignored."""
    return name.casefold() == typed.strip().casefold()
