"""The marks of shared questions after a meeting, as the next agenda uses them: an answered
question is not raised again; one to follow up is carried over, marked so.

A mark holds no one's words (answered or to follow up, and when), so it is read here for items
the access gate already let through for the meeting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.domain import ItemKind
from flows.meeting_notes_ports import QuestionStatus
from storage import models as m
from storage.access import VisibleItem


def marks_of(session: Session, question_ids: Iterable[int]) -> dict[int, m.QuestionMark]:
    """The marks of these questions, by question, in one query."""
    ids = sorted(set(question_ids))
    if not ids:
        return {}
    rows = session.scalars(select(m.QuestionMark).where(m.QuestionMark.question_id.in_(ids)))
    return {r.question_id: r for r in rows}


def carried_over(
    session: Session, items: Sequence[VisibleItem]
) -> tuple[list[VisibleItem], frozenset[int]]:
    """Of items shared with the next meeting: those left once answered questions are dropped,
    and the ids of questions carried over (marked to follow up at an earlier meeting)."""
    marks = marks_of(session, (i.id for i in items if i.kind is ItemKind.QUESTION))
    answered = {q for q, mk in marks.items() if mk.status == QuestionStatus.ANSWERED.value}
    kept = [i for i in items if not (i.kind is ItemKind.QUESTION and i.id in answered)]
    follow_up = frozenset(q for q, mk in marks.items() if mk.status == QuestionStatus.FOLLOW_UP)
    return kept, follow_up
