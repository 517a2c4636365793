"""The agenda and the follow-up report: a short message in the chat with the full document
(and the plan's timeline picture) attached; the files are made at send time (bot/)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from flows.action_status import local_today
from flows.coordination import ActionItem, ActionStatus, OwnerKind, coordination
from flows.domain import Agenda
from flows.engine import StepContext
from flows.meeting_needs import agenda_needs_replies
from flows.replies import Attachment, ParamValue, Reply


def agenda_replies(case_id: int, ctx: StepContext) -> tuple[Reply, ...]:
    """The agenda in short, with the full document attached."""
    port = coordination(ctx)
    agenda = port.agenda(case_id, ctx.now)
    return (
        agenda_reply(case_id, agenda, port.actions(case_id, ctx.actor.person_id)),
        # Interpreter and other needs: a message of its own (flows/meeting_needs.py).
        *agenda_needs_replies(agenda),
    )


def agenda_reply(case_id: int, agenda: Agenda, actions: Sequence[ActionItem]) -> Reply:
    """The agenda's chat message: shared questions by person, open actions carried over."""
    people: list[ParamValue] = [
        {
            "name": c.display_name,
            "role": c.role.value,
            # What the family's adults shared is listed with the questions.
            "questions": [*c.questions, *(n.text for n in c.notes)],
            # Marked "to follow up" at an earlier meeting (flows/coordinator/notes.py).
            "carried_over": list(c.carried_over),
            "views": len(c.views),
            "participation": c.participation.value if c.participation else None,
        }
        for c in agenda.contributions
    ]
    return Reply(
        "coord.agenda",
        {
            "case": agenda.case_reference,
            "meeting_at": agenda.meeting.starts_at if agenda.meeting else None,
            "people": people,
            "open_actions": [
                {
                    "text": a.description,
                    "owner": a.owner.name,
                    "family": a.owner.kind is OwnerKind.FAMILY,
                    "due": a.due,
                }
                for a in actions
                if not a.status.is_closed
            ],
        },
        attachment=Attachment("agenda_html", {"case_id": case_id}),
    )


def followup_replies(case_id: int, ctx: StepContext, timezone: ZoneInfo) -> tuple[Reply, ...]:
    """The follow-up report in short, with the document and the timeline picture attached."""
    port = coordination(ctx)
    case = port.case(case_id)
    reference = case.reference if case else ""
    actions = port.actions(case_id, ctx.actor.person_id)
    return followup_reply_set(case_id, reference, actions, local_today(ctx, timezone))


def followup_reply_set(
    case_id: int, reference: str, actions: Sequence[ActionItem], today: date
) -> tuple[Reply, Reply]:
    """The report's summary (with the HTML document) and its timeline picture."""
    live = [a for a in actions if a.status is not ActionStatus.CANCELLED]
    tally = {s.value: 0 for s in ActionStatus}
    for a in live:
        tally[a.status.value] += 1
    counts: dict[str, ParamValue] = dict(tally)
    overdue = sum(1 for a in live if not a.status.is_closed and a.due < today)
    summary = Reply(
        "coord.report",
        {"case": reference, "counts": counts, "overdue": overdue},
        attachment=Attachment("followup_html", {"case_id": case_id}),
    )
    picture = Reply(
        "coord.report_timeline",
        {"case": reference},
        attachment=Attachment("plan_timeline_png", {"case_id": case_id}),
    )
    return (summary, picture)
