"""The coordinator's chat: open and run cases, invite people, schedule meetings, enter the plan.

```mermaid
stateDiagram-v2
    [*] --> home
    home --> case_name: Nytt ärende
    case_name --> home: namn
    home --> cases: Byt ärende
    cases --> home: ett ärende
    home --> orgs: Verksamheter
    orgs --> org_add: Lägg till
    org_add --> orgs: namn
    home --> invite_role: Bjud in
    invite_role --> invite_org: yrkesperson
    invite_org --> invite_name: verksamhet
    invite_role --> invite_name: annan roll
    invite_name --> home: namn (koden visas)
    home --> members: Vilka är med
    home --> meeting_when: Boka möte
    meeting_when --> meeting_link: "varannan tisdag 13.00"
    meeting_link --> home: länk / hoppa över
    home --> home: Dagordning / Rapport (skickas som fil)
    home --> plan: Planen
    plan --> plan_paste: Klistra in
    plan_paste --> plan_confirm: rader
    plan_confirm --> plan: ja / nej
    plan --> add_owner: Lägg till en
    add_owner --> add_text: ägare
    add_text --> add_date: text
    add_date --> plan: datum
    plan --> action: en åtgärd
    action --> action_edit: ändra text
    action --> action_owner: ny ägare
    action --> status_pick: lägesrapport
    action --> action_cancel: stryk
    action_edit --> action
    action_owner --> action
    action_cancel --> plan
    home --> close_confirm: Stäng ärendet
    close_confirm --> home
```
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from flows.action_status import STATUS_STEPS, StatusDialog, action_params, local_today
from flows.conversation import ChoiceMade, Event, TextMessage
from flows.coordination import (
    NO_CASE,
    ActionItem,
    ActionStatus,
    NewAction,
    Owner,
    OwnerKind,
    coordination,
)
from flows.domain import Agenda, MeetingKind, Role
from flows.engine import NOTICE_CHOICE_PREFIX, FlowState, StateValue, StepContext, Transition
from flows.picture_loop import publication_notices
from flows.plan_parse import (
    PlanLine,
    looks_like_personnummer,
    parse_date,
    parse_meeting_slot,
    parse_plan,
)
from flows.replies import Attachment, Choice, ParamValue, Reply, say
from flows.text_rules import CleanText, clean_link, clean_text

FLOW_NAME = "coordinator"
NAME_MAX_CHARS = 40
ORG_MAX_CHARS = 80
ACTION_MAX_CHARS = 300
PLAN_MAX_CHARS = 4000
LINK_MAX_CHARS = 500
# A recurring slot books this many meetings ahead; the coordinator books more when needed.
SERIES_OCCURRENCES = 6
# Swedish words for "the family" as an owner in a pasted plan.
FAMILY_WORDS = frozenset({"familjen", "familj", "family", "the family", "vårdnadshavare"})
INVITE_ROLES = (Role.YOUTH, Role.CAREGIVER, Role.PROFESSIONAL, Role.NETWORK, Role.COORDINATOR)
NOTICE_PREFIX = NOTICE_CHOICE_PREFIX


class Step(StrEnum):
    """The steps of the coordinator flow."""

    HOME = "home"
    CASE_NAME = "case_name"
    CASES = "cases"
    ORGS = "orgs"
    ORG_ADD = "org_add"
    INVITE_ROLE = "invite_role"
    INVITE_ORG = "invite_org"
    INVITE_NAME = "invite_name"
    MEMBERS = "members"
    MEETING_WHEN = "meeting_when"
    MEETING_LINK = "meeting_link"
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


PICTURE_MAX_CHARS = 8000
CANCEL = Choice("cancel", "common.cancel")
BACK = Choice("back", "common.back")
HOME_CHOICE = Choice("home", "coord.to_home")


def _state(step: Step, **data: StateValue) -> FlowState:
    """A state of this flow."""
    return FlowState(flow=FLOW_NAME, step=step.value, data=data)


def _choice(event: Event) -> str | None:
    """The id of the choice made, or None."""
    return event.choice_id if isinstance(event, ChoiceMade) else None


def _int(value: StateValue) -> int:
    """A state value that holds an id."""
    return int(value) if value is not None else 0


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


@dataclass(frozen=True, slots=True)
class ResolvedLine:
    """A pasted plan line with its owner found (or to be added as a new organisation)."""

    line: PlanLine
    owner: Owner | None


@dataclass(frozen=True, slots=True)
class CoordinatorFlow:
    """The coordinator's flow."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Stockholm"))
    meeting_minutes: int = 90
    name: str = FLOW_NAME

    @property
    def _status(self) -> StatusDialog:
        """Status replies the coordinator gives on someone's behalf (the family's, say)."""
        return StatusDialog(FLOW_NAME, self.timezone)

    # --- entering steps -------------------------------------------------------------

    def start(self, ctx: StepContext) -> Transition:
        """Shows the home of the current case (or the way to open one)."""
        return self._home(ctx)

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the current step again."""
        if ctx.actor.case_id == NO_CASE and state.step != Step.CASE_NAME:
            return self._home(ctx)
        if state.step in STATUS_STEPS:
            return self._status.resume(state, ctx, self._back_to_plan)
        step = Step(state.step)
        data = state.data
        simple = {
            Step.CASE_NAME: self._ask_case_name,
            Step.ORG_ADD: self._ask_org,
            Step.MEETING_WHEN: self._ask_meeting_when,
            Step.PLAN_PASTE: self._ask_paste,
        }
        if step in simple:
            return simple[step]()
        if step is Step.CASES:
            return self._cases(ctx)
        if step is Step.ORGS:
            return self._orgs(ctx)
        if step is Step.INVITE_ROLE:
            return self._ask_invite_role()
        if step is Step.INVITE_ORG:
            return self._ask_invite_org(ctx)
        if step is Step.INVITE_NAME:
            return self._ask_invite_name(state)
        if step is Step.MEMBERS:
            return self._members(ctx)
        if step is Step.MEETING_LINK:
            return self._ask_meeting_link(state)
        if step is Step.PLAN_CONFIRM:
            return self._confirm_plan(ctx, str(data.get("text", "")))
        if step is Step.PICTURE_TEXT:
            return self._ask_picture(ctx)
        if step is Step.PICTURE_CONFIRM:
            return self._confirm_picture(str(data.get("text", "")))
        if step in (Step.ADD_OWNER, Step.ADD_TEXT, Step.ADD_DATE):
            return self._ask_add(ctx, state)
        if step in (Step.ACTION, Step.ACTION_EDIT, Step.ACTION_OWNER, Step.ACTION_CANCEL):
            return self._action(ctx, _int(data.get("action_id")))
        if step is Step.PLAN:
            return self._plan(ctx)
        if step is Step.CLOSE_CONFIRM:
            return self._ask_close(ctx)
        return self._home(ctx)

    def help(self, state: FlowState) -> Reply:
        """Explains what the coordinator can do here."""
        step = state.step if state.step in {s.value for s in Step} else "status"
        return say("coord.help", step=step)

    def _home(self, ctx: StepContext, *before: Reply) -> Transition:
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
            return Transition(_state(Step.HOME), (*before, reply))
        meetings = port.upcoming_meetings(case.id, ctx.now)
        choices = [
            Choice("invite", "coord.menu.invite"),
            Choice("members", "coord.menu.members"),
            Choice("orgs", "coord.menu.orgs"),
            Choice("meeting", "coord.menu.meeting"),
            Choice("agenda", "coord.menu.agenda"),
            # Publishing the gemensam bild starts the family's answer loop, built in the
            # families flow; this choice is wired to it once that repository exists.
            Choice("picture", "coord.menu.picture"),
            Choice("plan", "coord.menu.plan"),
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
        return Transition(_state(Step.HOME), (*before, reply))

    def _ask_case_name(self, *before: Reply) -> Transition:
        """Asks for the young person's first name or a pseudonym."""
        reply = say("coord.case_name_ask", CANCEL)
        return Transition(_state(Step.CASE_NAME), (*before, reply))

    def _cases(self, ctx: StepContext, *before: Reply) -> Transition:
        """The open cases this coordinator runs."""
        port = coordination(ctx)
        cases = port.cases_of(ctx.actor.person_id)
        choices = [
            Choice(f"c:{c.id}", "coord.case_choice", {"case": c.reference, "youth": c.youth_name})
            for c in cases
        ]
        if port.may_open_cases(ctx.actor.person_id):
            choices.append(Choice("new_case", "coord.new_case"))
        reply = say("coord.cases_list", *choices, HOME_CHOICE, count=len(cases))
        return Transition(_state(Step.CASES), (*before, reply))

    def _orgs(self, ctx: StepContext, *before: Reply) -> Transition:
        """The organisations of the case."""
        orgs = coordination(ctx).organisations(ctx.actor.case_id)
        reply = say(
            "coord.orgs",
            Choice("add", "coord.orgs_add"),
            HOME_CHOICE,
            orgs=[o.name for o in orgs],
        )
        return Transition(_state(Step.ORGS), (*before, reply))

    def _ask_org(self, *before: Reply) -> Transition:
        """Asks for an organisation's name."""
        return Transition(_state(Step.ORG_ADD), (*before, say("coord.org_ask", CANCEL)))

    def _ask_invite_role(self, *before: Reply) -> Transition:
        """Asks whom to invite, by role."""
        choices = [Choice(f"r:{r.value}", f"coord.invite_role.{r.value}") for r in INVITE_ROLES]
        reply = say("coord.invite_role_ask", *choices, CANCEL)
        return Transition(_state(Step.INVITE_ROLE), (*before, reply))

    def _ask_invite_org(self, ctx: StepContext, *before: Reply) -> Transition:
        """Asks which organisation the professional comes from."""
        orgs = coordination(ctx).organisations(ctx.actor.case_id)
        if not orgs:
            return self._orgs(ctx, *before, say("coord.invite_need_org"))
        choices = [Choice(f"o:{o.id}", "common.item", {"text": o.name}) for o in orgs]
        reply = say("coord.invite_org_ask", *choices, CANCEL)
        return Transition(_state(Step.INVITE_ORG, role=Role.PROFESSIONAL.value), (*before, reply))

    def _ask_invite_name(self, state: FlowState, *before: Reply) -> Transition:
        """Asks for the invitee's first name."""
        reply = say("coord.invite_name_ask", CANCEL, role=str(state.data.get("role")))
        return Transition(_state(Step.INVITE_NAME, **state.data), (*before, reply))

    def _members(self, ctx: StepContext) -> Transition:
        """Who has joined, and which invites are still open."""
        port = coordination(ctx)
        members: list[ParamValue] = [
            {"name": m.name, "role": m.role.value, "org": m.organisation}
            for m in port.members(ctx.actor.case_id)
        ]
        invites: list[ParamValue] = [
            {"name": i.name, "role": i.role.value, "org": i.organisation, "expires": i.expires_at}
            for i in port.open_invites(ctx.actor.case_id, ctx.now)
        ]
        reply = say("coord.members", HOME_CHOICE, members=members, invites=invites)
        return Transition(_state(Step.MEMBERS), (reply,))

    def _ask_meeting_when(self, *before: Reply) -> Transition:
        """Asks when the meeting is, once or as a fixed slot."""
        return Transition(_state(Step.MEETING_WHEN), (*before, say("coord.meeting_ask", CANCEL)))

    def _ask_meeting_link(self, state: FlowState, *before: Reply) -> Transition:
        """Asks for an optional video link."""
        reply = say("coord.meeting_link_ask", Choice("skip", "coord.meeting_no_link"), CANCEL)
        return Transition(_state(Step.MEETING_LINK, **state.data), (*before, reply))

    def _plan(self, ctx: StepContext, *before: Reply) -> Transition:
        """The plan: every action with owner, date and status; one button each."""
        actions = coordination(ctx).actions(ctx.actor.case_id, ctx.actor.person_id)
        choices = [
            Choice(
                f"a:{a.id}",
                "coord.plan_item",
                {"text": a.description, "owner": a.owner.name, "status": a.status.value},
            )
            for a in actions
            if a.status is not ActionStatus.CANCELLED
        ]
        reply = say(
            "coord.plan",
            Choice("paste", "coord.plan_paste"),
            Choice("add", "coord.plan_add"),
            *choices,
            HOME_CHOICE,
            count=len(choices),
        )
        return Transition(_state(Step.PLAN), (*before, reply))

    def _back_to_plan(self, ctx: StepContext, before: tuple[Reply, ...]) -> Transition:
        """Where a status reply given by the coordinator returns to."""
        return self._plan(ctx, *before)

    def _ask_picture(self, ctx: StepContext, *before: Reply) -> Transition:
        """Asks for the gemensam bild as text, showing which version it will become."""
        latest = ctx.ports.families.latest_picture(ctx.actor.case_id, ctx.actor.person_id)
        reply = say(
            "coord.picture.ask",
            CANCEL,
            version=(latest.version if latest else 0) + 1,
            max=PICTURE_MAX_CHARS,
        )
        return Transition(_state(Step.PICTURE_TEXT), (*before, reply))

    def _confirm_picture(self, text: str) -> Transition:
        """Shows the text back and asks before the family is asked to answer it."""
        reply = say(
            "coord.picture.confirm",
            Choice("publish", "coord.picture.publish"),
            CANCEL,
            text=text,
        )
        # The draft waits in the conversation state, like a pasted plan, until confirmed.
        return Transition(_state(Step.PICTURE_CONFIRM, text=text), (reply,))

    def _on_picture_text(self, event: Event, ctx: StepContext) -> Transition:
        """Takes the written or pasted picture and asks to confirm it."""
        if _choice(event) == "cancel":
            return self._home(ctx)
        if not isinstance(event, TextMessage):
            return self._ask_picture(ctx, say("common.need_text"))
        checked = clean_text(event.text, PICTURE_MAX_CHARS)
        if not isinstance(checked, CleanText):
            return self._ask_picture(ctx, say(f"text.{checked.value}", max=PICTURE_MAX_CHARS))
        return self._confirm_picture(checked.text)

    def _on_picture_confirm(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Publishes the new version; the young person and the adults are asked to answer."""
        if _choice(event) != "publish":
            return self._home(ctx, say("coord.picture.not_published"))
        text = str(state.data.get("text", ""))
        published = ctx.ports.families.publish(
            ctx.actor.case_id, ctx.actor.person_id, text, ctx.now
        )
        notices = publication_notices(
            published.picture, published.recipients.person_ids, published.recipients.group_chats
        )
        done = say(
            "coord.picture.published",
            version=published.picture.version,
            asked=len(published.recipients.person_ids) + len(published.recipients.group_chats),
        )
        home = self._home(ctx, done)
        return Transition(home.state, home.replies, notices)

    def _ask_paste(self, *before: Reply) -> Transition:
        """Asks for the plan as lines."""
        return Transition(_state(Step.PLAN_PASTE), (*before, say("coord.paste_ask", CANCEL)))

    def _confirm_plan(self, ctx: StepContext, text: str) -> Transition:
        """Shows how the pasted plan was read and asks to confirm (or says what to fix)."""
        today = local_today(ctx, self.timezone)
        resolved = self._resolve(ctx, parse_plan(text, today))
        problems: list[ParamValue] = [
            {"line": r.line.number, "problem": r.line.problem.value}
            for r in resolved
            if r.line.problem is not None
        ]
        if problems or not resolved:
            reply = say("coord.paste_problems", CANCEL, problems=problems, empty=not resolved)
            return Transition(_state(Step.PLAN_PASTE), (reply,))
        items: list[ParamValue] = [
            {
                "owner": r.owner.name if r.owner else r.line.owner,
                "new_owner": r.owner is None,
                "text": r.line.description,
                "due": r.line.due,
            }
            for r in resolved
        ]
        reply = say(
            "coord.paste_confirm",
            Choice("yes", "coord.paste_yes"),
            Choice("no", "coord.paste_no"),
            items=items,
        )
        return Transition(_state(Step.PLAN_CONFIRM, text=text), (reply,))

    def _resolve(self, ctx: StepContext, lines: list[PlanLine]) -> list[ResolvedLine]:
        """Finds each line's owner among the case's organisations, members and the family."""
        owners = coordination(ctx).owners(ctx.actor.case_id)
        resolved = []
        for line in lines:
            wanted = line.owner.casefold()
            owner = next((o for o in owners if o.name.casefold() == wanted), None)
            if owner is None and wanted in FAMILY_WORDS:
                owner = next((o for o in owners if o.kind is OwnerKind.FAMILY), None)
            resolved.append(ResolvedLine(line, owner))
        return resolved

    def _ask_add(self, ctx: StepContext, state: FlowState, *before: Reply) -> Transition:
        """The guided entry of one action: owner, then text, then date."""
        step = Step(state.step)
        if step is Step.ADD_OWNER:
            owners = coordination(ctx).owners(ctx.actor.case_id)
            choices = [Choice(f"w:{o.key}", "coord.owner_choice", {"text": o.name}) for o in owners]
            reply = say("coord.add_owner_ask", *choices, CANCEL)
        elif step is Step.ADD_TEXT:
            reply = say("coord.add_text_ask", CANCEL)
        else:
            reply = say("coord.add_date_ask", CANCEL)
        return Transition(state, (*before, reply))

    def _action(self, ctx: StepContext, action_id: int, *before: Reply) -> Transition:
        """One action with its history and what can be done with it."""
        action = self._case_action(ctx, action_id)
        if action is None:
            return self._plan(ctx, *before)
        history: list[ParamValue] = [
            {"at": u.at, "status": u.status.value, "note": u.note, "new_due": u.new_due}
            for u in action.history
        ]
        choices = []
        if not action.status.is_closed:
            choices = [
                Choice("status", "coord.action_status"),
                Choice("edit", "coord.action_edit"),
                Choice("owner", "coord.action_owner"),
                Choice("cancel_action", "coord.action_cancel"),
            ]
        reply = say("coord.action", *choices, BACK, history=history, **action_params(action))
        return Transition(_state(Step.ACTION, action_id=action.id), (*before, reply))

    def _case_action(self, ctx: StepContext, action_id: int) -> ActionItem | None:
        """An action of the current case (never another case's)."""
        action = coordination(ctx).action(action_id, ctx.actor.person_id)
        return action if action is not None and action.case_id == ctx.actor.case_id else None

    def _ask_close(self, ctx: StepContext) -> Transition:
        """Asks to confirm closing the case."""
        case = coordination(ctx).case(ctx.actor.case_id)
        reply = say(
            "coord.close_confirm",
            Choice("yes", "coord.close_yes"),
            Choice("no", "coord.close_no"),
            case=case.reference if case else "",
        )
        return Transition(_state(Step.CLOSE_CONFIRM), (reply,))

    # --- handling events --------------------------------------------------------------

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Routes the event to the handler of the current step."""
        choice = _choice(event)
        if choice is not None and choice.startswith(NOTICE_PREFIX):
            return self._on_notice(choice, ctx)
        if ctx.actor.case_id == NO_CASE and state.step not in (
            Step.HOME,
            Step.CASE_NAME,
            Step.CASES,
        ):
            return self._home(ctx)
        if state.step in STATUS_STEPS:
            return self._status.handle(state, event, ctx, self._back_to_plan)
        step = Step(state.step)
        handlers = {
            Step.HOME: self._on_home,
            Step.CASE_NAME: self._on_case_name,
            Step.CASES: self._on_cases,
            Step.ORGS: self._on_orgs,
            Step.ORG_ADD: self._on_org_add,
            Step.INVITE_ROLE: self._on_invite_role,
            Step.MEMBERS: self._on_back_home,
            Step.MEETING_WHEN: self._on_meeting_when,
            Step.PLAN: self._on_plan,
            Step.PLAN_PASTE: self._on_paste,
            Step.PICTURE_TEXT: self._on_picture_text,
            Step.CLOSE_CONFIRM: self._on_close,
        }
        if step in handlers:
            return handlers[step](event, ctx)
        with_state = {
            Step.INVITE_ORG: self._on_invite_org,
            Step.INVITE_NAME: self._on_invite_name,
            Step.MEETING_LINK: self._on_meeting_link,
            Step.PLAN_CONFIRM: self._on_confirm,
            Step.PICTURE_CONFIRM: self._on_picture_confirm,
            Step.ADD_OWNER: self._on_add,
            Step.ADD_TEXT: self._on_add,
            Step.ADD_DATE: self._on_add,
            Step.ACTION: self._on_action,
            Step.ACTION_EDIT: self._on_action_edit,
            Step.ACTION_OWNER: self._on_action_owner,
            Step.ACTION_CANCEL: self._on_action_cancel,
        }
        return with_state[step](state, event, ctx)

    def _on_notice(self, choice: str, ctx: StepContext) -> Transition:
        """A button on a reminder or report: opens the plan of the case it was about."""
        _, _, case_text = choice.removeprefix(NOTICE_PREFIX).partition(":")
        if case_text.isdecimal() and int(case_text) != ctx.actor.case_id:
            port = coordination(ctx)
            if not port.select_case(ctx.actor.person_id, int(case_text), ctx.now):
                return self._home(ctx)
            # The actor of this step still has the old case; the next event sees the new one.
            return Transition(_state(Step.HOME), (say("coord.switched_open_plan"),))
        return self._plan(ctx)

    def _on_home(self, event: Event, ctx: StepContext) -> Transition:
        """Opens the part of the case the coordinator picked."""
        choice = _choice(event)
        if choice == HOME_CHOICE.id:
            # "Till ärendet" under "opened", "switched" or "closed": this step's actor still
            # has the case from before, so the menu is read afresh here, not answered as unknown.
            return self._home(ctx)
        port = coordination(ctx)
        if choice == "new_case" and port.may_open_cases(ctx.actor.person_id):
            return self._ask_case_name()
        if choice == "cases":
            return self._cases(ctx)
        if ctx.actor.case_id == NO_CASE:
            return self._home(ctx, say("common.not_understood"))
        match choice:
            case "invite":
                return self._ask_invite_role()
            case "members":
                return self._members(ctx)
            case "orgs":
                return self._orgs(ctx)
            case "meeting":
                return self._ask_meeting_when()
            case "agenda":
                return self._home(ctx, *self._agenda_replies(ctx))
            case "picture":
                return self._ask_picture(ctx)
            case "plan":
                return self._plan(ctx)
            case "report":
                return self._home(ctx, *followup_replies(ctx.actor.case_id, ctx, self.timezone))
            case "close":
                return self._ask_close(ctx)
        return self._home(ctx, say("common.not_understood"))

    def _agenda_replies(self, ctx: StepContext) -> tuple[Reply, ...]:
        """The agenda in short in the chat, and in full as a document."""
        return agenda_replies(ctx.actor.case_id, ctx)

    def _on_case_name(self, event: Event, ctx: StepContext) -> Transition:
        """Opens a case for the young person with this name."""
        if _choice(event) == "cancel":
            return self._home(ctx)
        if not isinstance(event, TextMessage):
            return self._ask_case_name(say("common.need_text"))
        checked = check_name(event.text)
        if isinstance(checked, Reply):
            return self._ask_case_name(checked)
        port = coordination(ctx)
        if not port.may_open_cases(ctx.actor.person_id):
            return self._home(ctx, say("coord.may_not_open"))
        case = port.open_case(ctx.actor.person_id, checked, ctx.now)
        opened = say("coord.case_opened", case=case.reference, youth=case.youth_name)
        # The actor of this step is still the old case; show the new case's menu directly.
        return Transition(
            _state(Step.HOME),
            (opened, say("coord.case_next_steps", Choice("home", "coord.to_home"))),
        )

    def _on_cases(self, event: Event, ctx: StepContext) -> Transition:
        """Switches to the picked case."""
        choice = _choice(event)
        if choice == "new_case":
            return self._ask_case_name()
        if choice is not None and choice.startswith("c:"):
            port = coordination(ctx)
            if port.select_case(ctx.actor.person_id, int(choice[2:]), ctx.now):
                case = port.case(int(choice[2:]))
                reply = say(
                    "coord.switched",
                    Choice("home", "coord.to_home"),
                    case=case.reference if case else "",
                )
                return Transition(_state(Step.HOME), (reply,))
        return self._home(ctx)

    def _on_back_home(self, event: Event, ctx: StepContext) -> Transition:
        """Any answer returns home."""
        return self._home(ctx)

    def _on_orgs(self, event: Event, ctx: StepContext) -> Transition:
        """Adds an organisation, or goes home."""
        if _choice(event) == "add":
            return self._ask_org()
        if isinstance(event, TextMessage):
            return self._on_org_add(event, ctx)
        return self._home(ctx)

    def _on_org_add(self, event: Event, ctx: StepContext) -> Transition:
        """Adds the organisation to the case."""
        if _choice(event) == "cancel":
            return self._orgs(ctx)
        if not isinstance(event, TextMessage):
            return self._ask_org(say("common.need_text"))
        checked = check_text(event.text, ORG_MAX_CHARS)
        if isinstance(checked, Reply):
            return self._ask_org(checked)
        coordination(ctx).add_organisation(ctx.actor.case_id, checked)
        return self._orgs(ctx, say("coord.org_added", name=checked))

    def _on_invite_role(self, event: Event, ctx: StepContext) -> Transition:
        """Remembers the role; a professional also needs an organisation."""
        choice = _choice(event)
        if choice is None or not choice.startswith("r:"):
            return self._home(ctx)
        role = Role(choice[2:])
        if role is Role.PROFESSIONAL:
            return self._ask_invite_org(ctx)
        return self._ask_invite_name(_state(Step.INVITE_NAME, role=role.value))

    def _on_invite_org(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Remembers the professional's organisation."""
        choice = _choice(event)
        orgs = {o.id for o in coordination(ctx).organisations(ctx.actor.case_id)}
        if choice is None or not choice.startswith("o:") or int(choice[2:]) not in orgs:
            return self._home(ctx)
        return self._ask_invite_name(
            _state(Step.INVITE_NAME, role=Role.PROFESSIONAL.value, org_id=int(choice[2:]))
        )

    def _on_invite_name(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Creates the invite and shows the code once."""
        if _choice(event) == "cancel":
            return self._home(ctx)
        if not isinstance(event, TextMessage):
            return self._ask_invite_name(state, say("common.need_text"))
        checked = check_name(event.text)
        if isinstance(checked, Reply):
            return self._ask_invite_name(state, checked)
        role = Role(str(state.data.get("role")))
        org = state.data.get("org_id")
        code = coordination(ctx).create_invite(
            ctx.actor.case_id,
            role,
            checked,
            int(org) if org is not None else None,
            ctx.actor.person_id,
            ctx.now,
        )
        # "secret_": the outbox forgets the code once the message is sent (storage/codec.py).
        created = say("coord.invite_created", secret_code=code, name=checked, role=role.value)
        return self._home(ctx, created)

    def _on_meeting_when(self, event: Event, ctx: StepContext) -> Transition:
        """Reads a time ("15 dec 13.00") or a fixed slot ("varannan tisdag 13.00")."""
        if _choice(event) == "cancel":
            return self._home(ctx)
        if not isinstance(event, TextMessage):
            return self._ask_meeting_when(say("common.need_text"))
        today = local_today(ctx, self.timezone)
        slot = parse_meeting_slot(event.text, today)
        if slot is None:
            return self._ask_meeting_when(say("coord.meeting_unknown"))
        starts = datetime.combine(slot.day, slot.at, tzinfo=self.timezone)
        if starts <= ctx.now:
            return self._ask_meeting_when(say("coord.meeting_past"))
        data: dict[str, StateValue] = {"starts": starts.isoformat()}
        if slot.interval_weeks is not None:
            data["weeks"] = slot.interval_weeks
        return self._ask_meeting_link(_state(Step.MEETING_LINK, **data))

    def _on_meeting_link(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Books the meeting (or the series) with the link, if any."""
        choice = _choice(event)
        if choice == "cancel":
            return self._home(ctx)
        link: str | None = None
        if isinstance(event, TextMessage):
            checked = clean_link(event.text, LINK_MAX_CHARS)
            if checked is None:
                return self._ask_meeting_link(state, say("coord.meeting_bad_link"))
            link = checked.text
        elif choice != "skip":
            return self._ask_meeting_link(state, say("common.not_understood"))
        first = datetime.fromisoformat(str(state.data["starts"]))
        weeks = state.data.get("weeks")
        port = coordination(ctx)
        had_meetings = bool(port.upcoming_meetings(ctx.actor.case_id, ctx.now))
        kind = MeetingKind.FOLLOW_UP if had_meetings else MeetingKind.FIRST
        series: tuple[int, int, str] | None = None
        starts = [first]
        if weeks is not None:
            local = first.astimezone(self.timezone)
            # Each occurrence keeps the local wall-clock time across daylight-saving changes.
            starts = [
                datetime.combine(
                    local.date() + timedelta(weeks=int(weeks) * n), local.time(), self.timezone
                )
                for n in range(SERIES_OCCURRENCES)
            ]
            series = (local.weekday(), int(weeks), local.strftime("%H.%M"))
        port.schedule_meetings(ctx.actor.case_id, kind, starts, link, series, ctx.now)
        booked = say(
            "coord.meeting_booked",
            first=first,
            count=len(starts),
            weeks=int(weeks) if weeks is not None else None,
            link=link is not None,
        )
        return self._home(ctx, booked)

    def _on_plan(self, event: Event, ctx: StepContext) -> Transition:
        """Opens the paste, the guided entry or one action."""
        choice = _choice(event)
        if choice == "paste":
            return self._ask_paste()
        if choice == "add":
            return self._ask_add(ctx, _state(Step.ADD_OWNER))
        if choice is not None and choice.startswith("a:"):
            return self._action(ctx, int(choice[2:]))
        if isinstance(event, TextMessage):
            # Pasting straight into the plan view means pasting a plan.
            return self._on_paste(event, ctx)
        return self._home(ctx)

    def _on_paste(self, event: Event, ctx: StepContext) -> Transition:
        """Reads the pasted lines and asks to confirm them."""
        if _choice(event) == "cancel":
            return self._plan(ctx)
        if not isinstance(event, TextMessage):
            return self._ask_paste(say("common.need_text"))
        checked = clean_text(event.text, PLAN_MAX_CHARS)
        if not isinstance(checked, CleanText):
            return self._ask_paste(say(f"text.{checked.value}", max=PLAN_MAX_CHARS))
        return self._confirm_plan(ctx, checked.text)

    def _on_confirm(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Adds the confirmed actions (and any new organisations they name)."""
        if _choice(event) != "yes":
            return self._plan(ctx, say("coord.paste_dropped"))
        today = local_today(ctx, self.timezone)
        resolved = self._resolve(ctx, parse_plan(str(state.data.get("text", "")), today))
        if not resolved or any(r.line.problem is not None for r in resolved):
            return self._confirm_plan(ctx, str(state.data.get("text", "")))
        port = coordination(ctx)
        actions = []
        for r in resolved:
            owner = r.owner
            if owner is None:
                org = port.add_organisation(ctx.actor.case_id, r.line.owner)
                owner = Owner(OwnerKind.ORGANISATION, org.id, org.name)
            assert r.line.due is not None  # lines without a date were refused above
            actions.append(NewAction(owner, r.line.description, r.line.due))
        port.add_actions(ctx.actor.case_id, actions, ctx.actor.person_id, ctx.now)
        return self._plan(ctx, say("coord.plan_added", count=len(actions)))

    def _on_add(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """One step of the guided entry: owner, text, date; the date adds the action."""
        if _choice(event) == "cancel":
            return self._plan(ctx)
        step = Step(state.step)
        data = dict(state.data)
        port = coordination(ctx)
        if step is Step.ADD_OWNER:
            owner = self._owner_from(ctx, _choice(event))
            if owner is None:
                return self._ask_add(ctx, state, say("common.not_understood"))
            data["owner"] = owner.key
            return self._ask_add(ctx, _state(Step.ADD_TEXT, **data))
        if not isinstance(event, TextMessage):
            return self._ask_add(ctx, state, say("common.need_text"))
        if step is Step.ADD_TEXT:
            checked = check_text(event.text, ACTION_MAX_CHARS)
            if isinstance(checked, Reply):
                return self._ask_add(ctx, state, checked)
            data["text"] = checked
            return self._ask_add(ctx, _state(Step.ADD_DATE, **data))
        today = local_today(ctx, self.timezone)
        due = parse_date(event.text, today)
        if due is None or due < today:
            return self._ask_add(ctx, state, say("status.date_unknown"))
        owner = self._owner_from(ctx, f"w:{data.get('owner')}")
        if owner is None:
            return self._plan(ctx)
        port.add_actions(
            ctx.actor.case_id,
            [NewAction(owner, str(data.get("text", "")), due)],
            ctx.actor.person_id,
            ctx.now,
        )
        return self._plan(ctx, say("coord.plan_added", count=1))

    def _owner_from(self, ctx: StepContext, choice: str | None) -> Owner | None:
        """The owner a "w:<key>" choice stands for, if it is one of this case's."""
        if choice is None or not choice.startswith("w:"):
            return None
        key = choice[2:]
        return next((o for o in coordination(ctx).owners(ctx.actor.case_id) if o.key == key), None)

    def _on_action(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Opens a change of the action: status, text, owner or cancelling it."""
        action = self._case_action(ctx, _int(state.data.get("action_id")))
        choice = _choice(event)
        if action is None or choice == "back" or action.status.is_closed:
            return self._plan(ctx)
        if choice == "status":
            return self._status.begin(action)
        if choice == "edit":
            reply = say("coord.action_edit_ask", CANCEL, text=action.description)
            return Transition(_state(Step.ACTION_EDIT, action_id=action.id), (reply,))
        if choice == "owner":
            owners = coordination(ctx).owners(ctx.actor.case_id)
            choices = [Choice(f"w:{o.key}", "coord.owner_choice", {"text": o.name}) for o in owners]
            reply = say("coord.action_owner_ask", *choices, CANCEL)
            return Transition(_state(Step.ACTION_OWNER, action_id=action.id), (reply,))
        if choice == "cancel_action":
            reply = say(
                "coord.action_cancel_confirm",
                Choice("yes", "coord.action_cancel_yes"),
                Choice("no", "coord.action_cancel_no"),
                text=action.description,
            )
            return Transition(_state(Step.ACTION_CANCEL, action_id=action.id), (reply,))
        return self._action(ctx, action.id, say("common.not_understood"))

    def _on_action_edit(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Stores the new text of the action."""
        action_id = _int(state.data.get("action_id"))
        if _choice(event) == "cancel" or self._case_action(ctx, action_id) is None:
            return self._action(ctx, action_id)
        if not isinstance(event, TextMessage):
            return self._action(ctx, action_id, say("common.need_text"))
        checked = check_text(event.text, ACTION_MAX_CHARS)
        if isinstance(checked, Reply):
            return self._action(ctx, action_id, checked)
        coordination(ctx).change_action(
            action_id, ctx.actor.person_id, ctx.now, description=checked
        )
        return self._action(ctx, action_id, say("coord.action_changed"))

    def _on_action_owner(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Gives the action to another owner."""
        action_id = _int(state.data.get("action_id"))
        owner = self._owner_from(ctx, _choice(event))
        if owner is None or self._case_action(ctx, action_id) is None:
            return self._action(ctx, action_id)
        coordination(ctx).change_action(action_id, ctx.actor.person_id, ctx.now, owner=owner)
        return self._action(ctx, action_id, say("coord.action_reassigned", owner=owner.name))

    def _on_action_cancel(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Cancels the action after a yes (its history stays)."""
        action_id = _int(state.data.get("action_id"))
        if _choice(event) != "yes" or self._case_action(ctx, action_id) is None:
            return self._action(ctx, action_id)
        coordination(ctx).record_update(
            action_id, ctx.actor.person_id, ActionStatus.CANCELLED, None, None, ctx.now
        )
        return self._plan(ctx, say("coord.action_cancelled"))

    def _on_close(self, event: Event, ctx: StepContext) -> Transition:
        """Closes the case after a yes."""
        if _choice(event) != "yes":
            return self._home(ctx)
        port = coordination(ctx)
        case = port.case(ctx.actor.case_id)
        port.close_case(ctx.actor.case_id, ctx.actor.person_id, ctx.now)
        closed = say(
            "coord.closed", Choice("home", "coord.to_home"), case=case.reference if case else ""
        )
        return Transition(_state(Step.HOME), (closed,))


def agenda_replies(case_id: int, ctx: StepContext) -> tuple[Reply, ...]:
    """The agenda in short, with the full document attached."""
    port = coordination(ctx)
    return (
        agenda_reply(
            case_id, port.agenda(case_id, ctx.now), port.actions(case_id, ctx.actor.person_id)
        ),
    )


def agenda_reply(case_id: int, agenda: Agenda, actions: Sequence[ActionItem]) -> Reply:
    """The agenda's chat message: shared questions by person, open actions carried over."""
    people: list[ParamValue] = [
        {
            "name": c.display_name,
            "role": c.role.value,
            "questions": list(c.questions),
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
