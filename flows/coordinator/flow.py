"""The coordinator's chat: open and run cases, invite people, schedule meetings, enter the plan.

This module is the router: the home menu and one table from step name to its handlers. Each
part of the conversation is a module of its own, with its own diagram:

- `cases.py`: case_name, cases, close_confirm
- `invites.py`: orgs, org_add, invite_role, invite_org, invite_name, members
- `who.py`: org, org_kind, org_desc, org_contact (who is who: kind, description, contact)
- `meetings.py`: meeting_when, meeting_link, meeting_place, meeting_length
- `meeting_edits.py`: meeting_pick, meeting_change, meeting_move, meeting_cancel_confirm
- `picture.py`: picture_text, picture_confirm
- `answers.py`: comment_answer (answering a picture comment)
- `plan.py`: plan, plan_paste, plan_confirm, add_owner, add_text, add_date
- `actions.py`: action, action_edit, action_owner, action_cancel (and the status_* steps)
- `notes.py`: notes_text, notes_youth, notes_simplify, notes_question (after the meeting)
- `documents.py`: the agenda and the follow-up report (no steps; sent as files)

```mermaid
stateDiagram-v2
    [*] --> home
    home --> case_name: Nytt ärende
    home --> cases: Byt ärende
    home --> invite_role: Bjud in
    home --> members: Vilka är med
    home --> orgs: Verksamheter
    orgs --> org: en verksamhet
    home --> meeting_when: Boka möte
    home --> meeting_pick: Ändra eller ställ in ett möte
    home --> home: Dagordning / Uppföljningsrapport (skickas som fil)
    home --> picture_text: Skriv gemensam bild
    home --> plan: Planen
    home --> notes_text: Efter mötet (eller knapp på påminnelsen)
    plan --> action: en åtgärd
    home --> close_confirm: Stäng ärendet
    home --> plan: knapp på en påminnelse (notice:)
    home --> [*]: Att svara på (sidetrack flows/convening.py, back to meeting_when to book)
    home --> comment_answer: Svara på kommentaren (n:answer:)
```
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from flows.action_status import STATUS_STEPS
from flows.convening_port import carry_request
from flows.conversation import Event
from flows.coordination import NO_CASE, coordination
from flows.coordinator import (
    actions,
    answers,
    cases,
    invites,
    meeting_edits,
    meetings,
    notes,
    picture,
    plan,
    who,
)
from flows.coordinator.documents import agenda_replies, followup_replies
from flows.coordinator.steps import (
    FLOW_NAME,
    HOME_CHOICE,
    Step,
    StepDef,
    choice_id,
    flow_state,
    show_home,
)
from flows.engine import NOTICE_CHOICE_PREFIX, FlowState, StepContext, Transition
from flows.replies import Reply, say

NOTICE_PREFIX = NOTICE_CHOICE_PREFIX


def on_home(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Opens the part of the case the coordinator picked."""
    choice = choice_id(event)
    if choice == HOME_CHOICE.id:
        # "Till ärendet" under "opened", "switched" or "closed": this step's actor still
        # has the case from before, so the menu is read afresh here, not answered as unknown.
        return show_home(ctx)
    port = coordination(ctx)
    if choice == "new_case" and port.may_open_cases(ctx.actor.person_id):
        return cases.ask_case_name()
    if choice == "cases":
        return cases.show_cases(ctx)
    if ctx.actor.case_id == NO_CASE:
        return show_home(ctx, say("common.not_understood"))
    match choice:
        case "invite":
            return invites.ask_invite_role()
        case "members":
            return invites.show_members(ctx)
        case "orgs":
            return who.show_orgs(ctx)
        case "meeting":
            return meetings.ask_meeting_when()
        case "meetings":
            return meeting_edits.show_meetings(ctx)
        case "agenda":
            return show_home(ctx, *agenda_replies(ctx.actor.case_id, ctx))
        case "picture":
            return picture.ask_picture(ctx)
        case "plan":
            return plan.show_plan(ctx)
        case "notes":
            return notes.ask_notes(ctx)
        case "report":
            return show_home(ctx, *followup_replies(ctx.actor.case_id, ctx, zone))
        case "close":
            return cases.ask_close(ctx)
    return show_home(ctx, say("common.not_understood"))


def on_notice(choice: str, ctx: StepContext) -> Transition:
    """A button on a reminder or report: opens the plan of the case it was about."""
    _, _, case_text = choice.removeprefix(NOTICE_PREFIX).partition(":")
    if case_text.isdecimal() and int(case_text) != ctx.actor.case_id:
        port = coordination(ctx)
        if not port.select_case(ctx.actor.person_id, int(case_text), ctx.now):
            return show_home(ctx)
        # The actor of this step still has the old case; the next event sees the new one.
        return Transition(flow_state(Step.HOME), (say("coord.switched_open_plan"),))
    return plan.show_plan(ctx)


# The dispatch table: every step, how it is shown again and what an answer in it does.
STEPS: dict[Step, StepDef] = {
    Step.HOME: StepDef(lambda state, ctx, zone: show_home(ctx), on_home),
    **cases.STEPS,
    **invites.STEPS,
    **who.STEPS,
    **meetings.STEPS,
    **meeting_edits.STEPS,
    **picture.STEPS,
    **plan.STEPS,
    **actions.STEPS,
    **answers.STEPS,
    **notes.STEPS,
}
# Steps a coordinator without a case may be in; any other step goes home.
WITHOUT_CASE = frozenset({Step.HOME, Step.CASE_NAME, Step.CASES})


@dataclass(frozen=True, slots=True)
class CoordinatorFlow:
    """The coordinator's flow."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Stockholm"))
    meeting_minutes: int = 90
    name: str = FLOW_NAME
    # The deployment sends e-mail ([email] enabled): a professional may be invited by e-mail.
    email_invites: bool = False

    @property
    def home(self) -> FlowState:
        """The case menu (or the first step without a case)."""
        return flow_state(Step.HOME)

    def start(self, ctx: StepContext) -> Transition:
        """Shows the home of the current case (or the way to open one)."""
        return show_home(ctx)

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the current step again."""
        if ctx.actor.case_id == NO_CASE and state.step != Step.CASE_NAME:
            return show_home(ctx)
        if state.step in STATUS_STEPS:
            return actions.status_dialog(self.timezone).resume(state, ctx, plan.back_to_plan)
        # A booking made from a meeting request keeps the request's id through its steps.
        return carry_request(state, STEPS[Step(state.step)].show(state, ctx, self.timezone))

    def help(self, state: FlowState) -> Reply:
        """Explains what the coordinator can do here."""
        step = state.step if state.step in {s.value for s in Step} else "status"
        return say("coord.help", step=step)

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Routes the event to the handler of the current step."""
        choice = choice_id(event)
        if choice is not None and choice.startswith(answers.ANSWER_PREFIX):
            # "Svara på kommentaren" on a picture comment's alert (flows/coordinator/answers.py).
            response = choice.removeprefix(answers.ANSWER_PREFIX)
            return answers.ask_answer(int(response) if response.isdecimal() else 0, ctx)
        if choice is not None and choice.startswith(notes.WRITE_PREFIX):
            return notes.from_notice(choice, ctx)
        if choice is not None and choice.startswith(NOTICE_PREFIX):
            return on_notice(choice, ctx)
        if ctx.actor.case_id == NO_CASE and state.step not in WITHOUT_CASE:
            return show_home(ctx)
        if state.step in STATUS_STEPS:
            return actions.status_dialog(self.timezone).handle(state, event, ctx, plan.back_to_plan)
        if self.email_invites and state.step == Step.INVITE_NAME:
            # Only a setting of the deployment, so it rides in the state to the step.
            state = replace(state, data={**state.data, invites.EMAIL_ENABLED: 1})
        return carry_request(state, STEPS[Step(state.step)].on(state, event, ctx, self.timezone))
