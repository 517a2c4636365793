"""What every part of the coordinator's flow shares: the step names, the checks on names and
texts, the time zone of a step, and the home menu every part returns to.

The step names are stored in conversation rows (`FlowState.step`); never rename one. Each part
declares its steps as a `STEPS` table (flows/steps.py) with these names.
"""

from __future__ import annotations

from enum import StrEnum

from flows.action_status import STOCKHOLM, zone_of
from flows.convening_port import open_choice
from flows.coordination import NO_CASE, coordination
from flows.engine import FlowState, StateValue, StepContext, Transition
from flows.plan_parse import looks_like_personnummer
from flows.replies import Choice, Reply, say
from flows.steps import Turn
from flows.text_rules import CleanText, clean_text

FLOW_NAME = "coordinator"
NAME_MAX_CHARS = 40


class StepName(StrEnum):
    """The steps of the coordinator flow."""

    HOME = "home"
    CASE_NAME = "case_name"
    CASES = "cases"
    ORGS = "orgs"
    ORG_ADD = "org_add"
    INVITE_ROLE = "invite_role"
    INVITE_ORG = "invite_org"
    INVITE_NAME = "invite_name"
    # Inviting a professional by e-mail (when the deployment sends e-mail): how, the address.
    INVITE_HOW = "invite_how"
    INVITE_EMAIL = "invite_email"
    MEMBERS = "members"
    MEETING_WHEN = "meeting_when"
    MEETING_LINK = "meeting_link"
    MEETING_PLACE = "meeting_place"
    MEETING_LENGTH = "meeting_length"
    MEETING_PICK = "meeting_pick"
    MEETING_CHANGE = "meeting_change"
    MEETING_MOVE = "meeting_move"
    MEETING_CANCEL_CONFIRM = "meeting_cancel_confirm"
    PLAN = "plan"
    PLAN_PASTE = "plan_paste"
    PLAN_CONFIRM = "plan_confirm"
    PICTURE_TEXT = "picture_text"
    PICTURE_CONFIRM = "picture_confirm"
    ADD_OWNER = "add_owner"
    ADD_TEXT = "add_text"
    ADD_DATE = "add_date"
    ACTION = "action"
    ACTION_EDIT = "action_edit"
    ACTION_OWNER = "action_owner"
    ACTION_CANCEL = "action_cancel"
    CLOSE_CONFIRM = "close_confirm"
    COMMENT_ANSWER = "comment_answer"
    # Who is who (who.py): one organisation, its kind, description and contact person.
    ORG = "org"
    ORG_KIND = "org_kind"
    ORG_DESC = "org_desc"
    ORG_CONTACT = "org_contact"
    # After the meeting (notes.py).
    NOTES_TEXT = "notes_text"
    NOTES_YOUTH = "notes_youth"
    NOTES_SIMPLIFY = "notes_simplify"
    NOTES_QUESTION = "notes_question"


CANCEL = Choice("cancel", "common.cancel")
BACK = Choice("back", "common.back")
HOME_CHOICE = Choice("home", "coord.to_home")
# Every step's help is the one text; the flow says which step it is (CoordinatorFlow.help).
HELP = "coord.help"

# The time zone of the flow running a step (dates are read and shown in it).
zone = zone_of
DEFAULT_ZONE = STOCKHOLM


def state_of(turn: Turn) -> FlowState:
    """The coordinator's state this turn is in (its step and data)."""
    return FlowState(flow=FLOW_NAME, step=turn.step, data=dict(turn.data))


def flow_state(step: StepName, **data: StateValue) -> FlowState:
    """A state of this flow."""
    return FlowState(flow=FLOW_NAME, step=step.value, data=data)


def check_name(raw: str) -> str | Reply:
    """A first name or pseudonym; never an identity number or a full name."""
    checked = clean_text(raw, NAME_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return say(f"text.{checked.value}", max=NAME_MAX_CHARS)
    if looks_like_personnummer(checked.text):
        return say("coord.personnummer")
    if len(checked.text.split()) > 2 or any(ch.isdigit() for ch in checked.text):
        return say("coord.name_rules")
    return checked.text


def check_text(raw: str, max_chars: int) -> str | Reply:
    """Free text a coordinator writes: cleaned, bounded, no identity numbers."""
    checked = clean_text(raw, max_chars)
    if not isinstance(checked, CleanText):
        return say(f"text.{checked.value}", max=max_chars)
    if looks_like_personnummer(checked.text):
        return say("coord.personnummer")
    return checked.text


def show_home(ctx: StepContext, *before: Reply) -> Transition:
    """The case menu, or the first step for a coordinator without a case."""
    port = coordination(ctx)
    case = port.case(ctx.actor.case_id) if ctx.actor.case_id != NO_CASE else None
    if case is None or not case.open:
        choices: list[Choice] = []
        if port.may_open_cases(ctx.actor.person_id):
            choices.append(Choice("new_case", "coord.new_case"))
        if port.cases_of(ctx.actor.person_id):
            choices.append(Choice("cases", "coord.cases"))
        reply = say("coord.home_no_case", *choices, name=ctx.actor.display_name)
        return Transition(flow_state(StepName.HOME), (*before, reply))
    meetings = port.upcoming_meetings(case.id, ctx.now)
    choices = [
        # Requests and suggestions awaiting an answer, first when there are any.
        *open_choice(ctx),
        Choice("invite", "coord.menu.invite"),
        Choice("members", "coord.menu.members"),
        Choice("orgs", "coord.menu.orgs"),
        Choice("meeting", "coord.menu.meeting"),
        # Move or cancel a meeting, stop a series (flows/coordinator/meeting_edits.py).
        *([Choice("meetings", "meeting_edit.menu")] if meetings else []),
        Choice("agenda", "coord.menu.agenda"),
        # Publishing the gemensam bild starts the family's answer loop (flows/picture_loop.py).
        Choice("picture", "coord.menu.picture"),
        Choice("plan", "coord.menu.plan"),
        # The notes and the questions answered, after a meeting (notes.py).
        Choice("notes", "coord.notes.menu"),
        Choice("report", "coord.menu.report"),
        Choice("cases", "coord.menu.cases"),
        Choice("close", "coord.menu.close"),
    ]
    reply = say(
        "coord.home",
        *choices,
        case=case.reference,
        youth=case.youth_name,
        meeting_at=meetings[0].starts_at if meetings else None,
    )
    return Transition(flow_state(StepName.HOME), (*before, reply))


def home(turn: Turn) -> Transition:
    """The case menu (a step's "Till ärendet", "avbryt" and anything it does not take)."""
    return show_home(turn.ctx)
