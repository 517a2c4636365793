"""The follow-up report and the agenda as files: HTML (and Markdown for the terminal), and
the plan timeline as PNG. File makers turn attachment references into these at send time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.catalogue import Catalogue, RenderedFile, TextFormat
from bot.clock import Clock, system_clock
from bot.files import FileMaker
from bot.reports import TEMPLATES_DIR, DocumentFormat, escape_markdown, render_agenda
from bot.timeline import CheckinMarks, render_timeline
from flows.coordination import ActionItem, ActionStatus, OwnerKind
from flows.replies import Params
from storage.access import Purpose, SystemGrant
from storage.unit_of_work import UnitOfWork

KNOWN_VERDICTS = ("agree", "partly", "disagree")


@dataclass(frozen=True, slots=True)
class PictureAnswer:
    """Someone's answer to the shared picture."""

    name: str
    verdict: str
    comment: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class OpenRequest:
    """A meeting request not yet answered."""

    name: str | None
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class CheckinRow:
    """How one meeting was for one young person or adult (the check-in the day after)."""

    meeting_at: datetime
    name: str
    role: str
    felt: str | None
    heard: str | None
    words: str | None
    skipped: bool


@dataclass(frozen=True, slots=True)
class FollowupReport:
    """Everything the follow-up report shows."""

    case_reference: str
    youth_name: str
    generated_at: datetime
    actions: tuple[ActionItem, ...]
    picture_text: str | None
    picture_version: int | None
    picture_at: datetime | None
    answers: tuple[PictureAnswer, ...]
    requests: tuple[OpenRequest, ...]
    # Each meeting's check-in answers, oldest meeting first (issue 22).
    checkins: tuple[CheckinRow, ...] = ()


def build_followup(
    uow: UnitOfWork, case_id: int, now: datetime, grant: SystemGrant
) -> FollowupReport:
    """Reads the report's data through the access gate (a REPORT or OPERATOR grant)."""
    case = uow.coordination.case(case_id)
    if case is None:
        raise LookupError(f"no case {case_id}")
    families = uow.families
    picture = families.latest_picture(case_id, grant)
    answers: tuple[PictureAnswer, ...] = ()
    if picture is not None:
        given = sorted(
            families.picture_answers(picture.id, grant), key=lambda a: (a[2].answered_at, a[2].id)
        )
        answers = tuple(
            PictureAnswer(name, a.verdict.value, a.comment, a.answered_at) for _, name, a in given
        )
    requests = families.open_requests(case_id, grant)
    checkins = tuple(
        CheckinRow(
            c.meeting_at,
            c.name,
            c.role.value,
            c.felt.value if c.felt else None,
            c.heard.value if c.heard else None,
            c.words,
            c.skipped,
        )
        for c in uow.loop.checkin_answers(case_id, grant)
    )
    uow.gate.audit_system(grant, now, case_id, "followup_report", None)
    return FollowupReport(
        case_reference=case.reference,
        youth_name=case.youth_name,
        generated_at=now,
        actions=tuple(
            a
            for a in uow.coordination.actions(case_id, grant, with_history=True)
            if a.status is not ActionStatus.CANCELLED
        ),
        picture_text=picture.text if picture else None,
        picture_version=picture.version if picture else None,
        picture_at=picture.published_at if picture else None,
        answers=answers,
        requests=tuple(OpenRequest(name, r.reason, r.created_at) for r, name in requests),
        checkins=checkins,
    )


def render_followup(
    report: FollowupReport, catalogue: Catalogue, locale: str, fmt: DocumentFormat
) -> str:
    """The follow-up report as a document."""
    is_html = fmt is DocumentFormat.HTML
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=is_html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    catalogue.add_locale_helpers(env, locale, TextFormat.HTML if is_html else TextFormat.PLAIN)
    env.filters["md"] = escape_markdown
    env.globals["known_verdicts"] = KNOWN_VERDICTS
    template = env.get_template(f"followup.{fmt.value}.j2")
    return template.render(report=report, locale=locale).strip() + "\n"


def render_followup_timeline(
    report: FollowupReport, catalogue: Catalogue, locale: str, today: date
) -> bytes:
    """The plan timeline picture of a report."""

    def owner(action: ActionItem) -> str:
        if action.owner.kind is OwnerKind.FAMILY:
            return catalogue.render("coord.family", {}, locale, TextFormat.PLAIN)
        return action.owner.name

    def status(value: ActionStatus) -> str:
        return catalogue.render(f"status.name.{value.value}", {}, locale, TextFormat.PLAIN)

    title = (
        catalogue.render("report.followup.timeline_title", {}, locale, TextFormat.PLAIN)
        + f" – {report.case_reference}"
    )
    today_label = catalogue.render("report.followup.today", {}, locale, TextFormat.PLAIN)
    row = catalogue.render("report.followup.checkin_row", {}, locale, TextFormat.PLAIN)
    return render_timeline(
        report.actions,
        today,
        title,
        owner,
        status,
        today_label,
        CheckinMarks(row, checkin_marks(report.checkins, catalogue, locale)),
    )


def checkin_marks(
    checkins: Sequence[CheckinRow], catalogue: Catalogue, locale: str
) -> tuple[tuple[date, str], ...]:
    """One mark per meeting for the timeline: its date and how many felt it was good,
    mixed or hard ("2 Bra · 1 Både och"); skipped answers are not counted."""
    by_meeting: dict[date, Counter[str]] = {}
    for c in checkins:
        counted = by_meeting.setdefault(c.meeting_at.date(), Counter())
        if c.felt:
            counted[c.felt] += 1
    marks = []
    for day, counted in sorted(by_meeting.items()):
        parts = [
            f"{counted[felt]} "
            + catalogue.render(f"meeting.checkin.felt_{felt}", {}, locale, TextFormat.PLAIN)
            for felt in ("good", "mixed", "hard")
            if counted[felt]
        ]
        marks.append((day, " · ".join(parts) or "–"))
    return tuple(marks)


def _case_id(params: Params) -> int:
    """The case id an attachment is about."""
    value = params.get("case_id")
    if not isinstance(value, int):
        raise ValueError("attachment without a case id")
    return value


def file_makers(clock: Clock = system_clock) -> dict[str, FileMaker]:
    """The coordinator side's file makers by kind, for the Deliverer."""
    makers: list[FileMaker] = [
        FollowupHtmlFile(clock),
        TimelinePngFile(clock),
        AgendaHtmlFile(clock),
    ]
    return {maker.kind: maker for maker in makers}


@dataclass(slots=True)
class FollowupHtmlFile:
    """Makes the follow-up report document."""

    clock: Clock = system_clock
    kind: str = "followup_html"

    def make(
        self, uow: UnitOfWork, params: Params, locale: str, catalogue: Catalogue
    ) -> RenderedFile:
        """The HTML report of the case, as of now."""
        grant = uow.gate.for_system(Purpose.REPORT)
        report = build_followup(uow, _case_id(params), self.clock(), grant)
        html = render_followup(report, catalogue, locale, DocumentFormat.HTML)
        name = f"uppfoljning-{report.case_reference}.html"
        return RenderedFile(name, "text/html", html.encode())


@dataclass(slots=True)
class TimelinePngFile:
    """Makes the plan timeline picture."""

    clock: Clock = system_clock
    kind: str = "plan_timeline_png"

    def make(
        self, uow: UnitOfWork, params: Params, locale: str, catalogue: Catalogue
    ) -> RenderedFile:
        """The PNG timeline of the case's plan."""
        now = self.clock()
        report = build_followup(uow, _case_id(params), now, uow.gate.for_system(Purpose.REPORT))
        today = now.astimezone(catalogue.timezone).date()
        png = render_followup_timeline(report, catalogue, locale, today)
        return RenderedFile(f"plan-{report.case_reference}.png", "image/png", png)


@dataclass(slots=True)
class AgendaHtmlFile:
    """Makes the agenda document."""

    clock: Clock = system_clock
    kind: str = "agenda_html"

    def make(
        self, uow: UnitOfWork, params: Params, locale: str, catalogue: Catalogue
    ) -> RenderedFile:
        """The HTML agenda of the case's next meeting."""
        case_id = _case_id(params)
        agenda = uow.agenda.agenda(case_id, self.clock())
        grant = uow.gate.for_system(Purpose.REPORT)
        actions = [a for a in uow.coordination.actions(case_id, grant) if not a.status.is_closed]
        uow.gate.audit_system(grant, self.clock(), case_id, "agenda", None)
        html = agenda_with_actions(
            render_agenda(agenda, catalogue, locale, DocumentFormat.HTML),
            render_open_actions(actions, catalogue, locale),
        )
        return RenderedFile(f"dagordning-{agenda.case_reference}.html", "text/html", html.encode())


def render_open_actions(actions: list[ActionItem], catalogue: Catalogue, locale: str) -> str:
    """The agenda's section on open plan actions carried over from earlier meetings."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    catalogue.add_locale_helpers(env, locale, TextFormat.HTML)
    return env.get_template("agenda_actions.html.j2").render(actions=actions)


def agenda_with_actions(agenda_html: str, actions_html: str) -> str:
    """The shared agenda document with the open actions added at its end."""
    # The agenda template is the foundation's; the plan section is added, not woven in.
    head, marker, tail = agenda_html.rpartition("</body>")
    return f"{head}{actions_html}{marker}{tail}" if marker else agenda_html + actions_html
