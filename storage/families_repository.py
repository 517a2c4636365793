"""The families' side in storage: family list, meeting info, shared picture, meeting requests.

Implements flows.family_ports.FamiliesPort on one session; like every repository it never
commits. The young person's own items live in other tables and are never read here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from flows.conversation import ConversationRef
from flows.domain import Actor, Role
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
from storage import models as m
from storage.repositories import _meeting_info

# Who writes on the family list, and so who may read it.
ADULT_ROLES = (Role.CAREGIVER, Role.NETWORK)
# Who is asked to answer the shared picture.
PICTURE_ROLES = (Role.YOUTH, Role.CAREGIVER, Role.NETWORK)


class FamiliesRepository:
    """The families' side of a case."""

    def __init__(self, session: Session) -> None:
        self._s = session

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
        wanted = set(roles)
        members = self._s.execute(
            select(m.Membership.person_id, m.Membership.role).where(
                m.Membership.case_id == case_id, m.Membership.active.is_(True)
            )
        ).all()
        people = sorted(
            {pid for pid, role in members if role in wanted and (only is None or pid in only)}
        )
        if not people:
            return Recipients((), ())
        private = set(
            self._s.scalars(
                select(m.ChatIdentity.person_id).where(
                    m.ChatIdentity.person_id.in_(people),
                    m.ChatIdentity.private_chat_id.is_not(None),
                )
            )
        )
        groups: dict[tuple[str, str], tuple[str, set[int]]] = {}
        for row in self._s.scalars(
            select(m.GroupChatMember)
            .where(m.GroupChatMember.case_id == case_id, m.GroupChatMember.person_id.in_(people))
            .order_by(m.GroupChatMember.id)
        ):
            _, persons = groups.setdefault((row.platform, row.chat_id), (row.user_id, set()))
            persons.add(row.person_id)
        in_group = set().union(*(persons for _, persons in groups.values())) if groups else set()
        if group_first:
            direct = tuple(p for p in people if p in private and p not in in_group)
            chats = tuple(
                ConversationRef(pf, chat, user) for (pf, chat), (user, _) in groups.items()
            )
        else:
            direct = tuple(p for p in people if p in private)
            chats = tuple(
                ConversationRef(pf, chat, user)
                for (pf, chat), (user, persons) in groups.items()
                if persons - private
            )
        return Recipients(direct, chats)

    # --- the family list --------------------------------------------------------------

    def family_items(self, case_id: int, viewer_id: int) -> tuple[FamilyItem, ...]:
        """Own items and the family list of adults who are active members of this case."""
        adults = (
            select(m.Membership.person_id)
            .where(
                m.Membership.case_id == case_id,
                m.Membership.active.is_(True),
                m.Membership.role.in_(ADULT_ROLES),
            )
            .scalar_subquery()
        )
        rows = self._s.execute(
            select(m.FamilyItem, m.Person.display_name)
            .join(m.Person, m.Person.id == m.FamilyItem.author_id)
            .where(
                m.FamilyItem.case_id == case_id,
                m.FamilyItem.author_id.in_(adults),
                (m.FamilyItem.author_id == viewer_id) | m.FamilyItem.in_family_list.is_(True),
            )
            .order_by(m.FamilyItem.id)
        ).all()
        return tuple(_family_item(item, name) for item, name in rows)

    def family_item(self, item_id: int, author_id: int) -> FamilyItem | None:
        """One of this adult's own items."""
        row = self._s.execute(
            select(m.FamilyItem, m.Person.display_name)
            .join(m.Person, m.Person.id == m.FamilyItem.author_id)
            .where(m.FamilyItem.id == item_id, m.FamilyItem.author_id == author_id)
        ).first()
        return _family_item(*row) if row else None

    def add_family_item(
        self,
        case_id: int,
        author_id: int,
        kind: FamilyItemKind,
        text: str,
        in_family_list: bool,
        now: datetime,
    ) -> int:
        """Stores a new item, not shared with the meeting."""
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
        item.text, item.updated_at = text, now
        self._s.flush()
        return True

    def delete_family_item(self, item_id: int, author_id: int) -> bool:
        """Deletes an own item; someone else's is left alone."""
        result = self._s.execute(
            delete(m.FamilyItem).where(
                m.FamilyItem.id == item_id, m.FamilyItem.author_id == author_id
            )
        )
        return bool(getattr(result, "rowcount", 0))

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
        if in_family_list is not None:
            item.in_family_list = in_family_list
        if shared is not None:
            item.shared = shared
        item.updated_at = now
        self._s.flush()
        return True

    def shared_family_items(self, case_id: int) -> tuple[FamilyItem, ...]:
        """What the adults shared with the meeting: the coordinator's read side."""
        rows = self._s.execute(
            select(m.FamilyItem, m.Person.display_name)
            .join(m.Person, m.Person.id == m.FamilyItem.author_id)
            .where(m.FamilyItem.case_id == case_id, m.FamilyItem.shared.is_(True))
            .order_by(m.FamilyItem.id)
        ).all()
        return tuple(_family_item(item, name) for item, name in rows)

    def _own_item(self, item_id: int, author_id: int) -> m.FamilyItem | None:
        """An item row, only if this adult wrote it."""
        return self._s.scalar(
            select(m.FamilyItem).where(
                m.FamilyItem.id == item_id, m.FamilyItem.author_id == author_id
            )
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
            .order_by(m.Organisation.name)
        )
        return tuple(OrganisationInfo(o.id, o.name, o.kind, o.description) for o in rows)

    def add_organisation(self, name: str, kind: str, description: str | None = None) -> int:
        """Adds a verksamhet; without a description the catalogue's default for its kind shows."""
        org = m.Organisation(name=name, kind=kind, description=description)
        self._s.add(org)
        self._s.flush()
        return org.id

    def all_organisations(self) -> list[m.Organisation]:
        """Every organisation, by name (for the operator's list)."""
        return list(self._s.scalars(select(m.Organisation).order_by(m.Organisation.name)))

    def find_organisation(self, name_or_id: str) -> m.Organisation | None:
        """An organisation by its number or its exact name (case-insensitive)."""
        key = name_or_id.strip()
        if key.isdecimal():
            return self._s.get(m.Organisation, int(key))
        return self._s.scalar(
            select(m.Organisation).where(func.lower(m.Organisation.name) == key.lower())
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

    def latest_picture(self, case_id: int) -> PictureInfo | None:
        """The newest version of the case's shared picture."""
        row = self._s.scalar(
            select(m.SharedPicture)
            .where(m.SharedPicture.case_id == case_id)
            .order_by(m.SharedPicture.version.desc())
            .limit(1)
        )
        return _picture(row) if row else None

    def publish(
        self, case_id: int, author_id: int | None, text: str, now: datetime
    ) -> PublishedPicture:
        """Stores a new version and says who should be asked to answer it."""
        latest = self.latest_picture(case_id)
        row = m.SharedPicture(
            case_id=case_id,
            version=(latest.version if latest else 0) + 1,
            text=text,
            author_id=author_id,
            published_at=now,
        )
        self._s.add(row)
        self._s.flush()
        return PublishedPicture(
            _picture(row),
            self.case_reference(case_id),
            self.recipients(case_id, PICTURE_ROLES, group_first=False),
        )

    def picture_answer(self, picture_id: int, person_id: int) -> PictureAnswer | None:
        """This person's answer to one version."""
        row = self._s.scalar(
            select(m.PictureResponse).where(
                m.PictureResponse.picture_id == picture_id,
                m.PictureResponse.person_id == person_id,
            )
        )
        return _answer(row) if row else None

    def answer_picture(
        self, picture_id: int, person_id: int, verdict: Verdict, comment: str | None, now: datetime
    ) -> int:
        """Stores an answer; answering again replaces the earlier answer to the same version."""
        row = self._s.scalar(
            select(m.PictureResponse).where(
                m.PictureResponse.picture_id == picture_id,
                m.PictureResponse.person_id == person_id,
            )
        )
        if row is None:
            row = m.PictureResponse(picture_id=picture_id, person_id=person_id)
            self._s.add(row)
        row.verdict, row.comment, row.answered_at = verdict.value, comment, now
        self._s.flush()
        return row.id

    def picture_answers(self, picture_id: int) -> tuple[tuple[int, str, PictureAnswer], ...]:
        """(person id, name, answer) of everyone who answered a version: the report's view."""
        rows = self._s.execute(
            select(m.PictureResponse, m.Person.display_name)
            .join(m.Person, m.Person.id == m.PictureResponse.person_id)
            .where(m.PictureResponse.picture_id == picture_id)
            .order_by(m.PictureResponse.id)
        ).all()
        return tuple((r.person_id, name, _answer(r)) for r, name in rows)

    def unanswered_pictures(
        self, published_before: datetime
    ) -> list[tuple[PictureInfo, int, tuple[int, ...]]]:
        """(latest picture, case id, members who have not answered it) of open cases."""
        newest = (
            select(m.SharedPicture.case_id, func.max(m.SharedPicture.version).label("version"))
            .group_by(m.SharedPicture.case_id)
            .subquery()
        )
        pictures = self._s.scalars(
            select(m.SharedPicture)
            .join(
                newest,
                (newest.c.case_id == m.SharedPicture.case_id)
                & (newest.c.version == m.SharedPicture.version),
            )
            .join(m.Case, m.Case.id == m.SharedPicture.case_id)
            .where(m.Case.status == "open", m.SharedPicture.published_at <= published_before)
            .order_by(m.SharedPicture.id)
        ).all()
        result: list[tuple[PictureInfo, int, tuple[int, ...]]] = []
        for picture in pictures:
            answered = select(m.PictureResponse.person_id).where(
                m.PictureResponse.picture_id == picture.id
            )
            waiting = self._s.scalars(
                select(m.Membership.person_id)
                .where(
                    m.Membership.case_id == picture.case_id,
                    m.Membership.active.is_(True),
                    m.Membership.role.in_(PICTURE_ROLES),
                    m.Membership.person_id.not_in(answered),
                )
                .distinct()
                .order_by(m.Membership.person_id)
            ).all()
            if waiting:
                result.append((_picture(picture), picture.case_id, tuple(waiting)))
        return result

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
        """This person's newest unanswered request."""
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
        return _request(row) if row else None

    def request_meeting(self, case_id: int, person_id: int, reason: str, now: datetime) -> int:
        """Stores a request for a new meeting."""
        row = m.MeetingRequest(
            case_id=case_id, requested_by_id=person_id, reason=reason, created_at=now
        )
        self._s.add(row)
        self._s.flush()
        return row.id

    def open_requests(self, case_id: int) -> tuple[MeetingRequestInfo, ...]:
        """Every unanswered request of a case, oldest first: the coordinator's to-do."""
        rows = self._s.scalars(
            select(m.MeetingRequest)
            .where(m.MeetingRequest.case_id == case_id, m.MeetingRequest.answered_at.is_(None))
            .order_by(m.MeetingRequest.id)
        )
        return tuple(_request(r) for r in rows)

    def answer_request(self, request_id: int, answer: str, now: datetime) -> int | None:
        """Marks a request answered; returns who asked (to tell them), or None if unknown."""
        row = self._s.get(m.MeetingRequest, request_id)
        if row is None or row.answered_at is not None:
            return None
        row.answered_at, row.answer = now, answer
        self._s.flush()
        return row.requested_by_id

    # --- language -------------------------------------------------------------------------

    def set_locale(self, person_id: int, locale: str) -> None:
        """Stores the language a person chose."""
        self._s.get_one(m.Person, person_id).locale = locale
        self._s.flush()


def _family_item(item: m.FamilyItem, author_name: str) -> FamilyItem:
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


def _picture(row: m.SharedPicture) -> PictureInfo:
    """A shared picture row as a domain value."""
    return PictureInfo(row.id, row.version, row.text, row.published_at)


def _answer(row: m.PictureResponse) -> PictureAnswer:
    """A picture response row as a domain value."""
    return PictureAnswer(row.id, Verdict(row.verdict), row.comment, row.answered_at)


def _request(row: m.MeetingRequest) -> MeetingRequestInfo:
    """A meeting request row as a domain value."""
    return MeetingRequestInfo(row.id, row.reason, row.created_at, row.answered_at)
