"""The coordinator's chat: open and run cases, invite people, schedule meetings, enter the plan.

This module declares the home menu and composes the coordinator's flow from the steps each
part of the conversation declares in its own module, with its own diagram:

- `cases.py`: case_name, cases, close_confirm
- `invites.py`: orgs, org_add, invite_role, invite_org, invite_name, invite_how, invite_email,
  members
- `who.py`: org, org_kind, org_desc, org_contact (who is who: kind, description, contact)
- `meetings.py`: meeting_when, meeting_link, meeting_place, meeting_length
- `meeting_edits.py`: meeting_pick, meeting_change, meeting_move, meeting_cancel_confirm
- `picture.py`: picture_text, picture_confirm
- `answers.py`: comment_answer (answering a picture comment)
- `plan.py`: plan, plan_paste, plan_confirm, add_owner, add_text, add_date
- `actions.py`: action, action_edit, action_owner, action_cancel and the status_* steps
  (flows/action_status.py)
- `notes.py`: notes_text, notes_youth, notes_simplify, notes_question (after the meeting)
- `documents.py`: the agenda and the follow-up report (no steps; sent as files)

```mermaid
stateDiagram-v2
    [*] --> home
    home --> case_name: new_case
    home --> cases: cases
    home --> invite_role: invite
    home --> members: members
    home --> orgs: orgs
    home --> meeting_when: meeting
    home --> meeting_pick: meetings
    home --> picture_text: picture
    home --> plan: plan / n
    home --> notes_text: notes / n:notes
    home --> close_confirm: close
    home --> comment_answer: n:answer
```

Every choice but "Nytt ärende" and "Byt ärende" needs a case: without one, the menu again,
"not understood". The buttons on notices ("n:…": a reminder's "Visa planen", the tick's "Skriv
anteckningar", a comment alert's "Svara på kommentaren") are declared here and work from any
step; a coordinator without a case in a step that needs one goes home. "Att svara på" (requests
and suggestions, flows/convening.py) is a sidetrack the engine opens; it books a meeting by
entering meeting_when with the request's id, which the booking steps carry to the end.
"""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from flows.convening_port import carry_request
from flows.conversation import ChoiceMade, Event
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
    DEFAULT_ZONE,
    FLOW_NAME,
    HELP,
    StepName,
    flow_state,
    home,
    show_home,
    zone,
)
from flows.engine import NOTICE_CHOICE_PREFIX, FlowState, StepContext, Transition
from flows.replies import Reply, say
from flows.steps import Action, Go, Step, StepFlow, Then, Turn, declared

NOTICE_PREFIX = NOTICE_CHOICE_PREFIX


def _with_case(action: Action) -> Then:
    """A menu choice that needs a case: without one, the menu again, "not understood"."""

    def run(turn: Turn) -> Transition:
        """Opens the part of the case, if there is a case."""
        if turn.ctx.actor.case_id == NO_CASE:
            return show_home(turn.ctx, say("common.not_understood"))
        return action(turn)

    # Without a case: the menu again (itself, so not drawn).
    return Then(run, to=action.to)


def _new_case(turn: Turn) -> Transition:
    """Asks for the young person's name, if this coordinator may open cases."""
    if coordination(turn.ctx).may_open_cases(turn.ctx.actor.person_id):
        return cases.ask_case_name()
    return _not_understood(turn)


def _not_understood(turn: Turn) -> Transition:
    """The menu again, saying the choice was not understood."""
    return show_home(turn.ctx, say("common.not_understood"))


def _agenda(turn: Turn) -> Transition:
    """The agenda, sent as a file, under the menu."""
    return show_home(turn.ctx, *agenda_replies(turn.ctx.actor.case_id, turn.ctx))


def _report(turn: Turn) -> Transition:
    """The follow-up report, sent as a file, under the menu."""
    return show_home(turn.ctx, *followup_replies(turn.ctx.actor.case_id, turn.ctx, zone(turn)))


def _notice(turn: Turn) -> Transition:
    """A button on a reminder or report: opens the plan of the case it was about."""
    ctx = turn.ctx
    _, _, case_text = (turn.choice or "").removeprefix(NOTICE_PREFIX).partition(":")
    if case_text.isdecimal() and int(case_text) != ctx.actor.case_id:
        if not coordination(ctx).select_case(ctx.actor.person_id, int(case_text), ctx.now):
            return show_home(ctx)
        # The actor of this step still has the old case; the next event sees the new one.
        return Transition(flow_state(StepName.HOME), (say("coord.switched_open_plan"),))
    return plan.show_plan(ctx)


STEPS = (
    Step(
        "home",
        show=lambda turn: show_home(turn.ctx),
        choices={
            # "Till ärendet" under "opened", "switched" or "closed": this step's actor still
            # has the case from before, so the menu is read afresh here.
            "home": Then(home),
            "new_case": Then(_new_case, to=("case_name",)),
            "cases": Go("cases"),
            "invite": _with_case(Go("invite_role")),
            "members": _with_case(Go("members")),
            "orgs": _with_case(Go("orgs")),
            "meeting": _with_case(Go("meeting_when")),
            "meetings": _with_case(Go("meeting_pick")),
            "agenda": _with_case(Then(_agenda)),
            "picture": _with_case(Go("picture_text")),
            "plan": _with_case(Go("plan")),
            "notes": _with_case(Then(lambda turn: notes.ask_notes(turn.ctx), to=("notes_text",))),
            "report": _with_case(Then(_report)),
            "close": _with_case(Go("close_confirm")),
            # Buttons on notices, from any step (CoordinatorFlow.handle): the most specific
            # prefix first.
            answers.ANSWER_PREFIX: Then(answers.open_answer, to=("comment_answer",)),
            notes.WRITE_PREFIX: Then(
                lambda turn: notes.from_notice(turn.choice or "", turn.ctx),
                to=("notes_text",),
            ),
            NOTICE_PREFIX: Then(_notice, to=("plan",)),
        },
        # Anything else (and a choice that needs a case, without one): the menu again.
        otherwise=Then(_not_understood),
        help=HELP,
    ),
)
# The whole flow: the home menu and every part's steps.
ALL_STEPS = (
    *STEPS,
    *cases.STEPS,
    *invites.STEPS,
    *who.STEPS,
    *meetings.STEPS,
    *meeting_edits.STEPS,
    *picture.STEPS,
    *plan.STEPS,
    *actions.STEPS,
    *answers.STEPS,
    *notes.STEPS,
)
# Steps a coordinator without a case may be in; any other step goes home.
WITHOUT_CASE = frozenset({StepName.HOME, StepName.CASE_NAME, StepName.CASES})


@declared
class CoordinatorFlow(StepFlow):
    """The coordinator's flow."""

    def __init__(
        self,
        timezone: ZoneInfo = DEFAULT_ZONE,
        meeting_minutes: int = 90,
        email_invites: bool = False,
    ) -> None:
        super().__init__(FLOW_NAME, ALL_STEPS, home_step="home", help_prefix="coord.help.")
        self.timezone = timezone
        self.meeting_minutes = meeting_minutes
        # The deployment sends e-mail ([email] enabled): a professional may be invited by e-mail.
        self.email_invites = email_invites
        home_step = self.steps["home"]
        # Where a notice's button, or having no case, may lead from any step (home too: a
        # button whose case is gone, or another case's switched to).
        self._from_anywhere = frozenset(
            {
                "home",
                *(
                    t
                    for key, a in home_step.choices.items()
                    if key.startswith(NOTICE_PREFIX)
                    for t in a.to
                ),
            }
        )

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the current step again (the menu when it needs a case and there is none)."""
        if ctx.actor.case_id == NO_CASE and state.step != StepName.CASE_NAME:
            return show_home(ctx)
        # A booking made from a meeting request keeps the request's id through its steps.
        return carry_request(state, super().resume(state, ctx))

    def help(self, state: FlowState) -> Reply:
        """Explains what the coordinator can do here."""
        step = state.step if state.step in {s.value for s in StepName} else "status"
        return say(HELP, step=step)

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """A notice's button from any step; else what the current step's table says."""
        if isinstance(event, ChoiceMade) and event.choice_id.startswith(NOTICE_PREFIX):
            home_step = self.steps["home"]
            action = home_step.action_for(event)
            assert action is not None  # the home step declares the notice prefix
            return action(Turn(self, ctx, {}, event, home_step.name))
        if ctx.actor.case_id == NO_CASE and state.step not in WITHOUT_CASE:
            return show_home(ctx)
        if self.email_invites and state.step == StepName.INVITE_NAME:
            # Only a setting of the deployment, so it rides in the state to the step.
            state = replace(state, data={**state.data, invites.EMAIL_ENABLED: 1})
        return carry_request(state, super().handle(state, event, ctx))

    def leads(self, step: str) -> frozenset[str]:
        """The steps `step` may hand over to, with where a notice's button leads from any."""
        return super().leads(step) | self._from_anywhere
