"""Status replies on one plan action: done / in progress / blocked (why) / new date, and a note.

Shared by the professional's flow, the coordinator's flow and the family's plan: each keeps
its own flow name and decides where to go when the reply is saved. A declarative flow takes
the steps as a table, `status_steps(back)` (flows/steps.py), so they are drawn in its own
diagram (flows/professional.py, flows/coordinator/actions.py); `StatusDialog` runs the same
answers for a flow that routes by hand (and for e-mail answers, bot/email/answers.py).

status_pick: klar / pågår → status_note; blockerad → status_reason (why) → status_note;
nytt datum → status_date ("15 dec", "nästa fredag") → status_note; tillbaka → back.
status_note: text or "hoppa över" saves it → back. An action that is gone, closed or no longer
this person's to answer for goes back at once, saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from flows.blocked_news import coordinators_told
from flows.conversation import ChoiceMade, Event, TextMessage
from flows.coordination import ActionItem, ActionStatus, coordination
from flows.domain import AccessRefused
from flows.engine import FlowState, StateValue, StepContext, Transition
from flows.family_news import family_told
from flows.plan_parse import looks_like_personnummer, parse_date
from flows.replies import Choice, ParamValue, Reply, say
from flows.steps import Step, Then, Turn
from flows.text_rules import CleanText, clean_text

NOTE_MAX_CHARS = 1000
# A date further out than this is almost certainly a typo ("2062"), not a plan.
MAX_DAYS_AHEAD = 3 * 365


class StatusStep(StrEnum):
    """The steps of a status reply."""

    PICK = "status_pick"
    REASON = "status_reason"
    DATE = "status_date"
    NOTE = "status_note"


STATUS_STEPS = frozenset(s.value for s in StatusStep)
BACK = Choice("back", "common.back")
Done = Callable[[StepContext, tuple[Reply, ...]], Transition]


def local_today(ctx: StepContext, timezone: ZoneInfo) -> date:
    """Today where the users live."""
    return ctx.now.astimezone(timezone).date()


@dataclass(frozen=True, slots=True)
class StatusDialog:
    """Asks for and stores one status reply; `done` decides what comes after."""

    flow: str
    timezone: ZoneInfo

    def begin(self, action: ActionItem, *before: Reply) -> Transition:
        """Shows the action and the one-tap answers."""
        reply = say(
            "status.pick",
            Choice("s:done", "status.done"),
            Choice("s:in_progress", "status.in_progress"),
            Choice("s:blocked", "status.blocked"),
            Choice("s:new_date", "status.new_date"),
            BACK,
            **action_params(action),
        )
        return Transition(self._state(StatusStep.PICK, action_id=action.id), (*before, reply))

    def resume(self, state: FlowState, ctx: StepContext, done: Done) -> Transition:
        """Shows the current status step again."""
        action = self._action(state, ctx)
        if isinstance(action, Reply):
            return done(ctx, ())
        step = StatusStep(state.step)
        if step is StatusStep.REASON:
            return self._ask_reason(state)
        if step is StatusStep.DATE:
            return self._ask_date(state)
        if step is StatusStep.NOTE:
            return self._ask_note(state)
        return self.begin(action)

    def handle(self, state: FlowState, event: Event, ctx: StepContext, done: Done) -> Transition:
        """Routes the event to the current status step."""
        action = self._action(state, ctx)
        if isinstance(action, Reply):
            return done(ctx, (action,))
        step = StatusStep(state.step)
        choice = event.choice_id if isinstance(event, ChoiceMade) else None
        if choice in ("back", "cancel"):
            return done(ctx, ())
        if step is StatusStep.PICK:
            return self._on_pick(state, action, choice)
        if step is StatusStep.REASON:
            return self._on_reason(state, event)
        if step is StatusStep.DATE:
            return self._on_date(state, event, ctx)
        return self._on_note(state, event, ctx, done)

    def _on_pick(self, state: FlowState, action: ActionItem, choice: str | None) -> Transition:
        """Done and in progress go straight to the note; blocked asks why; new date asks when."""
        status = choice.removeprefix("s:") if choice else None
        if status in (ActionStatus.DONE, ActionStatus.IN_PROGRESS):
            return self._ask_note(self._with(state, StatusStep.NOTE, status=status))
        if status == ActionStatus.BLOCKED:
            return self._ask_reason(self._with(state, StatusStep.REASON, status=status))
        if status == "new_date":
            return self._ask_date(self._with(state, StatusStep.DATE, status=action.status.value))
        return self.begin(action, say("common.not_understood"))

    def _on_reason(self, state: FlowState, event: Event) -> Transition:
        """Keeps the reason the action is blocked, then saves (the reason is the note)."""
        checked = _note(event)
        if not isinstance(checked, str):
            return self._ask_reason(state, checked)
        return self._ask_note(self._with(state, StatusStep.NOTE, reason=checked))

    def _on_date(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Reads the new due date in Swedish words."""
        if not isinstance(event, TextMessage):
            return self._ask_date(state, say("status.date_need_text"))
        today = local_today(ctx, self.timezone)
        new_due = parse_date(event.text, today)
        if new_due is None:
            return self._ask_date(state, say("status.date_unknown"))
        if new_due < today or new_due > today + timedelta(days=MAX_DAYS_AHEAD):
            return self._ask_date(state, say("status.date_out_of_range"))
        return self._ask_note(self._with(state, StatusStep.NOTE, new_due=new_due.isoformat()))

    def _on_note(self, state: FlowState, event: Event, ctx: StepContext, done: Done) -> Transition:
        """Stores the status reply with the note (or without one) and hands back."""
        note: str | None = None
        if isinstance(event, TextMessage):
            checked = _note(event)
            if not isinstance(checked, str):
                return self._ask_note(state, checked)
            note = checked
        elif not (isinstance(event, ChoiceMade) and event.choice_id == "skip"):
            return self._ask_note(state, say("common.not_understood"))
        reason = state.data.get("reason")
        if reason:
            note = f"{reason}\n{note}" if note else str(reason)
        new_due_text = state.data.get("new_due")
        new_due = date.fromisoformat(str(new_due_text)) if new_due_text else None
        status = ActionStatus(str(state.data.get("status", ActionStatus.OPEN)))
        action_id = int(state.data.get("action_id") or 0)
        port = coordination(ctx)
        action = port.action(action_id, ctx.actor.person_id)
        try:
            port.record_update(action_id, ctx.actor.person_id, status, note, new_due, ctx.now)
        except AccessRefused:
            # Reassigned or the case changed since the dialog began: explain, save nothing.
            return done(ctx, (say("status.not_yours"),))
        saved = say(
            "status.saved",
            status=status.value,
            new_due=new_due,
        )
        after = done(ctx, (saved,))
        # Done or blocked: the family hears it, in neutral words (flows/family_news.py).
        told = family_told(ctx, action_id, status)
        # Blocked: the case's coordinators hear it now, with the reason (flows/blocked_news.py).
        if action is not None:
            reason_text = str(reason) if reason else None
            told += coordinators_told(ctx, action, status, reason_text)
        return replace(after, notices=(*after.notices, *told))

    def _ask_reason(self, state: FlowState, *before: Reply) -> Transition:
        """Asks why the action is blocked."""
        return Transition(state, (*before, say("status.reason_ask", BACK)))

    def _ask_date(self, state: FlowState, *before: Reply) -> Transition:
        """Asks for the new due date."""
        return Transition(state, (*before, say("status.date_ask", BACK)))

    def _ask_note(self, state: FlowState, *before: Reply) -> Transition:
        """Offers an optional note."""
        reply = say("status.note_ask", Choice("skip", "status.note_skip"), BACK)
        return Transition(state, (*before, reply))

    def _action(self, state: FlowState, ctx: StepContext) -> ActionItem | Reply:
        """The action in hand if this person may still answer for it, else why not."""
        action_id = int(state.data.get("action_id") or 0)
        port = coordination(ctx)
        action = port.action(action_id, ctx.actor.person_id)
        if action is None or action.status.is_closed:
            return say("status.gone")
        if not port.may_update(action_id, ctx.actor.person_id):
            return say("status.not_yours")
        return action

    def _state(self, step: StatusStep, **data: StateValue) -> FlowState:
        """A status step of the owning flow."""
        return FlowState(flow=self.flow, step=step.value, data=data)

    def _with(self, state: FlowState, step: StatusStep, **data: StateValue) -> FlowState:
        """The next status step, keeping what was answered so far."""
        return FlowState(flow=self.flow, step=step.value, data={**state.data, **data})


def _note(event: Event) -> str | Reply:
    """A checked note, or the reply that says what is wrong with it."""
    if not isinstance(event, TextMessage):
        return say("common.need_text")
    checked = clean_text(event.text, NOTE_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return say(f"text.{checked.value}", max=NOTE_MAX_CHARS)
    if looks_like_personnummer(checked.text):
        return say("coord.personnummer")
    return checked.text


def action_params(action: ActionItem) -> dict[str, ParamValue]:
    """What a message about one action shows."""
    return {
        "case": action.case_reference,
        "text": action.description,
        "owner": action.owner.name,
        "due": action.due,
        "status": action.status.value,
    }


# --- the same dialog as a table of steps (flows/steps.py) -------------------------------

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def zone_of(turn: Turn) -> ZoneInfo:
    """The time zone of the flow running this step (its `timezone`, else Stockholm)."""
    found = getattr(turn.flow, "timezone", None)
    return found if isinstance(found, ZoneInfo) else STOCKHOLM


def _dialog(turn: Turn) -> StatusDialog:
    """The status dialog of the flow running this step, in its time zone."""
    return StatusDialog(turn.flow.name, zone_of(turn))


def _state(turn: Turn) -> FlowState:
    """The status step this turn is in, with what was answered so far."""
    return FlowState(flow=turn.flow.name, step=turn.step, data=dict(turn.data))


def status_steps(back: str, *, help: str | None = None) -> tuple[Step, ...]:
    """The status reply as steps of a flow; `back` is the flow's step it returns to (also at
    once, saying why, when the action is gone, closed or no longer this person's)."""

    def done(turn: Turn) -> Done:
        """Back to the flow's own step, after the replies given."""
        return lambda ctx, before: turn.go(back, *before)

    def show(turn: Turn) -> Transition:
        """Shows the status step again (the flow's own step when the action is gone)."""
        return _dialog(turn).resume(_state(turn), turn.ctx, done(turn))

    def answer(*to: str) -> Then:
        """An answer in a status step, leading to `to` (or back, shown instead, when the
        action is gone or no longer this person's)."""

        def run(turn: Turn) -> Transition:
            """What the dialog does with this answer in this step."""
            return _dialog(turn).handle(_state(turn), _event(turn), turn.ctx, done(turn))

        return Then(run, to=to)

    leave = answer(back)
    step = {s: s.value for s in StatusStep}
    return (
        Step(
            step[StatusStep.PICK],
            show=show,
            choices={
                "s:done": answer(step[StatusStep.NOTE]),
                "s:in_progress": answer(step[StatusStep.NOTE]),
                "s:blocked": answer(step[StatusStep.REASON]),
                "s:new_date": answer(step[StatusStep.DATE]),
                "back": leave,
                "cancel": leave,
            },
            otherwise=answer(step[StatusStep.PICK]),
            handovers=(back,),
            help=help,
        ),
        Step(
            step[StatusStep.REASON],
            show=show,
            choices={"back": leave, "cancel": leave},
            text=answer(step[StatusStep.NOTE], step[StatusStep.REASON]),
            otherwise=answer(step[StatusStep.REASON]),
            handovers=(back,),
            help=help,
        ),
        Step(
            step[StatusStep.DATE],
            show=show,
            choices={"back": leave, "cancel": leave},
            text=answer(step[StatusStep.NOTE], step[StatusStep.DATE]),
            otherwise=answer(step[StatusStep.DATE]),
            handovers=(back,),
            help=help,
        ),
        Step(
            step[StatusStep.NOTE],
            show=show,
            # Saved, with the note or without ("skip"): back.
            choices={"skip": answer(back), "back": leave, "cancel": leave},
            text=answer(back, step[StatusStep.NOTE]),
            otherwise=answer(step[StatusStep.NOTE]),
            handovers=(back,),
            help=help,
        ),
    )


def _event(turn: Turn) -> Event:
    """The event of a turn being handled (a step is only handled with one)."""
    assert turn.event is not None
    return turn.event
