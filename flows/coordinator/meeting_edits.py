"""Changing meetings: move one, cancel one (after a yes), or stop a series. Everyone in the
case is told, with an updated calendar file (flows/meeting_changes.py).

```mermaid
stateDiagram-v2
    home --> meeting_pick: Ändra eller ställ in ett möte
    meeting_pick --> meeting_change: ett möte
    meeting_pick --> home: stoppa en serie / till ärendet
    meeting_change --> meeting_move: Flytta
    meeting_change --> meeting_cancel_confirm: Ställ in
    meeting_change --> meeting_pick: tillbaka
    meeting_move --> meeting_move: okänd tid / tid som har varit
    meeting_move --> home: ny tid (alla får veta) / avbryt
    meeting_cancel_confirm --> home: ja (alla får veta) / nej
```
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from flows.action_status import local_today
from flows.conversation import Event, TextMessage
from flows.coordination import coordination
from flows.coordinator.steps import (
    BACK,
    CANCEL,
    HOME_CHOICE,
    Step,
    StepDef,
    as_int,
    choice_id,
    flow_state,
    show_home,
)
from flows.domain import MeetingInfo
from flows.engine import FlowState, Notice, StepContext, Transition
from flows.meeting_changes import cancel_meeting, meeting_changes, move_meeting
from flows.plan_parse import parse_meeting_slot
from flows.replies import Choice, Reply, say


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
    return Transition(flow_state(Step.MEETING_PICK), (*before, reply))


def _upcoming(ctx: StepContext, meeting_id: int) -> MeetingInfo | None:
    """The meeting of the case with this id, if it is still to come."""
    meetings = coordination(ctx).upcoming_meetings(ctx.actor.case_id, ctx.now)
    return next((mt for mt in meetings if mt.id == meeting_id), None)


def on_pick(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Opens a meeting, or stops a series."""
    choice = choice_id(event) or ""
    kind, _, key = choice.partition(":")
    if kind == "m" and key.isdecimal():
        meeting = _upcoming(ctx, int(key))
        if meeting is not None:
            return show_change(meeting)
    if kind == "s" and key and meeting_changes(ctx).stop_series(ctx.actor.case_id, key, ctx.now):
        return show_home(ctx, say("meeting_edit.series_stopped"))
    if choice == HOME_CHOICE.id:
        return show_home(ctx)
    return show_meetings(ctx, say("common.not_understood"))


def show_change(meeting: MeetingInfo, *before: Reply) -> Transition:
    """What to do with one meeting: move it or cancel it."""
    reply = say(
        "meeting_edit.change",
        Choice("move", "meeting_edit.move"),
        Choice("cancel_meeting", "meeting_edit.cancel"),
        BACK,
        starts_at=meeting.starts_at,
    )
    return Transition(flow_state(Step.MEETING_CHANGE, meeting=meeting.id), (*before, reply))


def _again(state: FlowState, ctx: StepContext) -> Transition:
    """Shows the meeting's choices again, or the list when it is gone or has begun."""
    meeting = _upcoming(ctx, as_int(state.data.get("meeting")))
    return show_meetings(ctx) if meeting is None else show_change(meeting)


def on_change(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Asks for the new time, or whether to cancel."""
    meeting = _upcoming(ctx, as_int(state.data.get("meeting")))
    choice = choice_id(event)
    if meeting is None or choice == "back":
        return show_meetings(ctx)
    if choice == "move":
        return ask_move(state)
    if choice == "cancel_meeting":
        return ask_cancel(state, meeting)
    return show_change(meeting, say("common.not_understood"))


def ask_move(state: FlowState, *before: Reply) -> Transition:
    """Asks for the meeting's new day and time."""
    reply = say("meeting_edit.move_ask", CANCEL)
    return Transition(flow_state(Step.MEETING_MOVE, **state.data), (*before, reply))


def on_move(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Moves the meeting and tells everyone."""
    if choice_id(event) == "cancel":
        return show_home(ctx)
    if not isinstance(event, TextMessage):
        return ask_move(state, say("common.need_text"))
    slot = parse_meeting_slot(event.text, local_today(ctx, zone))
    if slot is None:
        return ask_move(state, say("coord.meeting_unknown"))
    starts = datetime.combine(slot.day, slot.at, tzinfo=zone)
    if starts <= ctx.now:
        return ask_move(state, say("coord.meeting_past"))
    done = move_meeting(
        meeting_changes(ctx), ctx.actor.case_id, as_int(state.data.get("meeting")), starts, ctx.now
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
    return Transition(flow_state(Step.MEETING_CANCEL_CONFIRM, **state.data), (reply,))


def on_cancel(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Cancels the meeting after a yes, and tells everyone."""
    if choice_id(event) != "yes":
        return _again(state, ctx)
    done = cancel_meeting(
        meeting_changes(ctx), ctx.actor.case_id, as_int(state.data.get("meeting")), ctx.now
    )
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


def _show_cancel(state: FlowState, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Asks again whether to cancel, or the list when the meeting is gone."""
    meeting = _upcoming(ctx, as_int(state.data.get("meeting")))
    return show_meetings(ctx) if meeting is None else ask_cancel(state, meeting)


STEPS = {
    Step.MEETING_PICK: StepDef(lambda state, ctx, zone: show_meetings(ctx), on_pick),
    Step.MEETING_CHANGE: StepDef(lambda state, ctx, zone: _again(state, ctx), on_change),
    Step.MEETING_MOVE: StepDef(lambda state, ctx, zone: ask_move(state), on_move),
    Step.MEETING_CANCEL_CONFIRM: StepDef(_show_cancel, on_cancel),
}
