"""Closing the loop in storage: check-in answers and the coordinator's answers to comments.

Implements flows.loop_ports.LoopPort on one session; it never commits. The family answers
the check-in (like the picture, rule 8: family members only); everyone's answers, like
everyone's picture answers, are read by the case's coordinators and its reports only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.domain import Role
from flows.family_domain import Verdict
from flows.loop_ports import CheckinItem, CheckinMeeting, CommentToAnswer, Felt, Heard
from storage import models as m
from storage.access import AccessGate, Who


class LoopRepository:
    """Check-in answers and answers to comments, behind the access gate."""

    def __init__(self, session: Session, gate: AccessGate) -> None:
        self._s = session
        self._gate = gate

    # --- the check-in the day after a meeting ---------------------------------------------

    def checkin_meeting(
        self, case_id: int, person_id: int, now: datetime, window: timedelta
    ) -> CheckinMeeting | None:
        """The newest meeting started within the window that the person has not answered."""
        self._gate.require_role(
            person_id, case_id, frozenset({Role.YOUTH, Role.CAREGIVER, Role.NETWORK}), "family"
        )
        answered = (
            select(m.CheckinAnswer.id)
            .where(
                m.CheckinAnswer.meeting_id == m.Meeting.id,
                m.CheckinAnswer.person_id == person_id,
            )
            .exists()
        )
        row = self._s.scalar(
            select(m.Meeting)
            .where(
                m.Meeting.case_id == case_id,
                m.Meeting.starts_at <= now,
                m.Meeting.starts_at > now - window,
                ~answered,
            )
            .order_by(m.Meeting.starts_at.desc())
            .limit(1)
        )
        return CheckinMeeting(row.id, row.case_id, row.starts_at) if row else None

    def save_checkin(
        self,
        meeting_id: int,
        person_id: int,
        felt: Felt | None,
        heard: Heard | None,
        words: str | None,
        now: datetime,
    ) -> None:
        """Stores (or replaces) the person's check-in; nothing answered counts as skipped."""
        meeting = self._s.get_one(m.Meeting, meeting_id)
        self._gate.require_family_member(
            person_id, meeting.case_id, now, "checkin.answer", "checkin_answer"
        )
        row = self._s.scalar(
            select(m.CheckinAnswer).where(
                m.CheckinAnswer.meeting_id == meeting_id, m.CheckinAnswer.person_id == person_id
            )
        )
        if row is None:
            row = m.CheckinAnswer(meeting_id=meeting_id, person_id=person_id)
            self._s.add(row)
        row.felt = felt.value if felt else None
        row.heard = heard.value if heard else None
        row.words = words
        row.skipped = felt is None and heard is None and not words
        row.answered_at = now
        self._s.flush()

    def checkin_answers(self, case_id: int, viewer: Who) -> list[CheckinItem]:
        """Every check-in of the case, oldest meeting first (coordinators and reports)."""
        self._gate.answers_reader(viewer, case_id)
        rows = self._s.execute(
            select(m.CheckinAnswer, m.Meeting.starts_at, m.Person.display_name, m.Membership.role)
            .join(m.Meeting, m.Meeting.id == m.CheckinAnswer.meeting_id)
            .join(m.Person, m.Person.id == m.CheckinAnswer.person_id)
            .join(
                m.Membership,
                (m.Membership.person_id == m.CheckinAnswer.person_id)
                & (m.Membership.case_id == m.Meeting.case_id),
            )
            .where(m.Meeting.case_id == case_id)
            .order_by(m.Meeting.starts_at, m.CheckinAnswer.id)
        ).all()
        seen: set[int] = set()
        items = []
        for row, starts_at, name, role in rows:
            if row.id in seen:  # one person in two roles: shown once
                continue
            seen.add(row.id)
            items.append(
                CheckinItem(
                    meeting_id=row.meeting_id,
                    meeting_at=starts_at,
                    person_id=row.person_id,
                    name=name,
                    role=Role(role),
                    felt=Felt(row.felt) if row.felt else None,
                    heard=Heard(row.heard) if row.heard else None,
                    words=row.words,
                    skipped=row.skipped,
                    answered_at=row.answered_at,
                )
            )
        return items

    # --- answers to comments on the shared picture ----------------------------------------

    def comment_to_answer(self, response_id: int, coordinator: int) -> CommentToAnswer | None:
        """A comment of the coordinator's case; None when it is gone or has no words."""
        found = self._s.execute(
            select(m.PictureResponse, m.SharedPicture, m.Person.display_name)
            .join(m.SharedPicture, m.SharedPicture.id == m.PictureResponse.picture_id)
            .join(m.Person, m.Person.id == m.PictureResponse.person_id)
            .where(m.PictureResponse.id == response_id)
        ).first()
        if found is None:
            return None
        response, picture, name = found
        self._gate.answers_reader(coordinator, picture.case_id)
        if not response.comment:
            return None
        return CommentToAnswer(
            response_id=response.id,
            case_id=picture.case_id,
            person_id=response.person_id,
            name=name,
            verdict=Verdict(response.verdict),
            comment=response.comment,
            version=picture.version,
        )

    def answer_comment(
        self, response_id: int, coordinator: int, text: str, now: datetime
    ) -> CommentToAnswer:
        """Stores the coordinator's answer; only a coordinator of the case may, audited."""
        comment = self.comment_to_answer(response_id, coordinator)
        if comment is None:
            raise LookupError("no comment to answer")
        self._gate.require_coordinator(
            coordinator, comment.case_id, now, "picture.answer_comment", "comment_answer", None
        )
        self._s.add(
            m.CommentAnswer(
                response_id=response_id, author_id=coordinator, text=text, created_at=now
            )
        )
        self._s.flush()
        return comment
