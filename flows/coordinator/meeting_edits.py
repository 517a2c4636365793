"""Changing meetings: move one, cancel one (after a yes), or stop a series. Everyone in the
case is told, with an updated calendar file (flows/meeting_changes.py).

```mermaid
stateDiagram-v2
    meeting_pick --> meeting_change: m
    meeting_pick --> meeting_pick: m / s / otherwise
    meeting_pick --> home: s / home
    meeting_change --> meeting_move: move
    meeting_change --> meeting_cancel_confirm: cancel_meeting
    meeting_change --> meeting_pick: back / (shown instead)
    meeting_change --> meeting_change: otherwise
    meeting_move --> home: cancel / text
    meeting_move --> meeting_move: text / otherwise
    meeting_move --> meeting_pick: text
    meeting_cancel_confirm --> meeting_pick: yes / otherwise / (shown instead)
    meeting_cancel_confirm --> home: yes
    meeting_cancel_confirm --> meeting_change: otherwise
```
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from flows.action_status import local_today
from flows.coordination import coordination
from flows.coordinator.steps import (
    BACK,
    CANCEL,
    HELP,
    HOME_CHOICE,
    StepName,
    flow_state,
    home,
    show_home,
    state_of,
    zone,
)
from flows.domain import MeetingInfo
from flows.engine import FlowState, Notice, StepContext, Transition
from flows.meeting_changes import cancel_meeting, meeting_changes, move_meeting
from flows.plan_parse import parse_meeting_slot
from flows.replies import Choice, Reply, say
from flows.steps import Handler, Step, Then, Turn


def show_meetings(ctx: StepContext, *before: Reply) -> Transition:
    """The meetings to come, to move or cancel, and the series to stop."""
    meetings = coordination(ctx).upcoming_meetings(ctx.actor.case_id, ctx.now)
    series = meeting_changes(ctx).series_of(ctx.actor.case_id, ctx.now)
    choices = [
        Choice(f"m:{mt.id}", "meeting_edit.pick_item", {"starts_at": mt.starts_at})
        for mt in meetings
    ]
    choices += [
        Choice(
            f"s:{s.id}",
            "meeting_edit.stop_item",
            {"weeks": s.weeks, "at": s.local_time},
        )
        for s in series
    ]
    reply = say("meeting_edit.pick", *choices, HOME_CHOICE, count=len(meetings))
    return Transition(flow_state(StepName.MEETING_PICK), (*before, reply))


def _upcoming(ctx: StepContext, meeting_id: int) -> MeetingInfo | None:
    """The meeting of the case with this id, if it is still to come."""
    meetings = coordination(ctx).upcoming_meetings(ctx.actor.case_id, ctx.now)
    return next((mt for mt in meetings if mt.id == meeting_id), None)


def _open_meeting(turn: Turn) -> Transition:
    """Opens a meeting to come (one that is gone or has begun: the list again)."""
    key = (turn.choice or "").removeprefix("m:")
    meeting = _upcoming(turn.ctx, int(key)) if key.isdecimal() else None
    if meeting is not None:
        return show_change(meeting)
    return _list_not_understood(turn)


def _stop_series(turn: Turn) -> Transition:
    """Stops a series: no more meetings are booked from it."""
    ctx = turn.ctx
    key = (turn.choice or "").removeprefix("s:")
    if key and meeting_changes(ctx).stop_series(ctx.actor.case_id, key, ctx.now):
        return show_home(ctx, say("meeting_edit.series_stopped"))
    return _list_not_understood(turn)


def _list_not_understood(turn: Turn) -> Transition:
    """The list again, saying the answer was not understood."""
    return show_meetings(turn.ctx, say("common.not_understood"))


def show_change(meeting: MeetingInfo, *before: Reply) -> Transition:
    """What to do with one meeting: move it or cancel it."""
    reply = say(
        "meeting_edit.change",
        Choice("move", "meeting_edit.move"),
        Choice("cancel_meeting", "meeting_edit.cancel"),
        BACK,
        starts_at=meeting.starts_at,
    )
    return Transition(flow_state(StepName.MEETING_CHANGE, meeting=meeting.id), (*before, reply))


def _meeting(turn: Turn) -> MeetingInfo | None:
    """The meeting this step is about, if it is still to come."""
    return _upcoming(turn.ctx, turn.number("meeting"))


def _again(turn: Turn) -> Transition:
    """Shows the meeting's choices again, or the list when it is gone or has begun."""
    meeting = _meeting(turn)
    return show_meetings(turn.ctx) if meeting is None else show_change(meeting)


def _change(answer: Callable[[Turn, MeetingInfo], Transition]) -> Handler:
    """A change of the meeting in hand; when it is gone or has begun, the list instead."""

    def run(turn: Turn) -> Transition:
        """Runs the change on the meeting, if it is still to come."""
        meeting = _meeting(turn)
        return show_meetings(turn.ctx) if meeting is None else answer(turn, meeting)

    return run


def ask_move(state: FlowState, *before: Reply) -> Transition:
    """Asks for the meeting's new day and time."""
    reply = say("meeting_edit.move_ask", CANCEL)
    return Transition(flow_state(StepName.MEETING_MOVE, **state.data), (*before, reply))


def _need_time(turn: Turn) -> Transition:
    """Anything but a typed time: asks again."""
    return ask_move(state_of(turn), say("common.need_text"))


def _move(turn: Turn) -> Transition:
    """Moves the meeting and tells everyone."""
    state, ctx, here = state_of(turn), turn.ctx, zone(turn)
    slot = parse_meeting_slot(turn.text or "", local_today(ctx, here))
    if slot is None:
        return ask_move(state, say("coord.meeting_unknown"))
    starts = datetime.combine(slot.day, slot.at, tzinfo=here)
    if starts <= ctx.now:
        return ask_move(state, say("coord.meeting_past"))
    done = move_meeting(
        meeting_changes(ctx), ctx.actor.case_id, turn.number("meeting"), starts, ctx.now
    )
    if done is None:
        return show_meetings(ctx)
    moved, notices = done
    return _told(ctx, say("meeting_edit.moved_done", starts_at=moved.starts_at), notices)


def ask_cancel(state: FlowState, meeting: MeetingInfo) -> Transition:
    """Asks whether the meeting is really cancelled."""
    reply = say(
        "meeting_edit.cancel_ask",
        Choice("yes", "meeting_edit.cancel_yes"),
        Choice("no", "meeting_edit.cancel_no"),
        starts_at=meeting.starts_at,
    )
    return Transition(flow_state(StepName.MEETING_CANCEL_CONFIRM, **state.data), (reply,))


def _cancel(turn: Turn) -> Transition:
    """Cancels the meeting after a yes, and tells everyone."""
    ctx = turn.ctx
    done = cancel_meeting(meeting_changes(ctx), ctx.actor.case_id, turn.number("meeting"), ctx.now)
    if done is None:
        return show_meetings(ctx)
    cancelled, notices = done
    said = say("meeting_edit.cancelled_done", starts_at=cancelled.starts_at)
    return _told(ctx, said, notices)


def _told(ctx: StepContext, said: Reply, notices: tuple[Notice, ...]) -> Transition:
    """Home, with what was done, who was told, and the notices."""
    people = len({n.person_id for n in notices})
    told = (say("meeting_edit.everyone_told", count=people),) if notices else ()
    return replace(show_home(ctx, said, *told), notices=notices)


def _show_cancel(turn: Turn) -> Transition:
    """Asks again whether to cancel, or the list when the meeting is gone."""
    meeting = _meeting(turn)
    return show_meetings(turn.ctx) if meeting is None else ask_cancel(state_of(turn), meeting)


HOME = Then(home, to=("home",))
TO_LIST = Then(lambda turn: show_meetings(turn.ctx), to=("meeting_pick",))

STEPS = (
    Step(
        "meeting_pick",
        show=lambda turn: show_meetings(turn.ctx),
        choices={
            "m:": Then(_open_meeting, to=("meeting_change", "meeting_pick")),
            "s:": Then(_stop_series, to=("home", "meeting_pick")),
            HOME_CHOICE.id: HOME,
        },
        otherwise=Then(_list_not_understood, to=("meeting_pick",)),
        help=HELP,
    ),
    Step(
        "meeting_change",
        show=_again,
        choices={
            "move": Then(_change(lambda turn, _: ask_move(state_of(turn))), to=("meeting_move",)),
            "cancel_meeting": Then(
                _change(lambda turn, meeting: ask_cancel(state_of(turn), meeting)),
                to=("meeting_cancel_confirm",),
            ),
            BACK.id: TO_LIST,
        },
        otherwise=Then(
            _change(lambda turn, meeting: show_change(meeting, say("common.not_understood"))),
            to=("meeting_change",),
        ),
        # The meeting is gone or has begun: the list.
        handovers=("meeting_pick",),
        help=HELP,
    ),
    Step(
        "meeting_move",
        show=lambda turn: ask_move(state_of(turn)),
        choices={CANCEL.id: HOME},
        text=Then(_move, to=("meeting_move", "meeting_pick", "home")),
        otherwise=Then(_need_time, to=("meeting_move",)),
        help=HELP,
    ),
    Step(
        "meeting_cancel_confirm",
        show=_show_cancel,
        choices={"yes": Then(_cancel, to=("meeting_pick", "home"))},
        otherwise=Then(_again, to=("meeting_change", "meeting_pick")),
        handovers=("meeting_pick",),
        help=HELP,
    ),
)
