"""Meetings: book one meeting, or a fixed slot that books a series, with an optional video link.

```mermaid
stateDiagram-v2
    home --> meeting_when: Boka möte
    meeting_when --> meeting_when: okänd tid / tid som har varit
    meeting_when --> meeting_link: "15 dec 13.00" / "varannan tisdag 13.00"
    meeting_when --> home: avbryt
    meeting_link --> home: länk / hoppa över (bokat) / avbryt
```

Entered from a meeting request (flows/convening.py), the state carries the request's id
(`flows.convening_port.REQUEST_KEY`); the booking answers it and the person who asked is told.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flows.action_status import local_today
from flows.convening_port import booked_from_request
from flows.conversation import Event, TextMessage
from flows.coordination import coordination
from flows.coordinator.steps import CANCEL, Step, StepDef, choice_id, flow_state, show_home
from flows.domain import MeetingKind
from flows.engine import FlowState, StateValue, StepContext, Transition
from flows.plan_parse import parse_meeting_slot
from flows.replies import Choice, Reply, say
from flows.text_rules import clean_link

LINK_MAX_CHARS = 500
# A recurring slot books this many meetings ahead; the coordinator books more when needed.
SERIES_OCCURRENCES = 6


def ask_meeting_when(*before: Reply) -> Transition:
    """Asks when the meeting is, once or as a fixed slot."""
    return Transition(flow_state(Step.MEETING_WHEN), (*before, say("coord.meeting_ask", CANCEL)))


def ask_meeting_link(state: FlowState, *before: Reply) -> Transition:
    """Asks for an optional video link."""
    reply = say("coord.meeting_link_ask", Choice("skip", "coord.meeting_no_link"), CANCEL)
    return Transition(flow_state(Step.MEETING_LINK, **state.data), (*before, reply))


def on_meeting_when(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Reads a time ("15 dec 13.00") or a fixed slot ("varannan tisdag 13.00")."""
    if choice_id(event) == "cancel":
        return show_home(ctx)
    if not isinstance(event, TextMessage):
        return ask_meeting_when(say("common.need_text"))
    today = local_today(ctx, zone)
    slot = parse_meeting_slot(event.text, today)
    if slot is None:
        return ask_meeting_when(say("coord.meeting_unknown"))
    starts = datetime.combine(slot.day, slot.at, tzinfo=zone)
    if starts <= ctx.now:
        return ask_meeting_when(say("coord.meeting_past"))
    data: dict[str, StateValue] = {"starts": starts.isoformat()}
    if slot.interval_weeks is not None:
        data["weeks"] = slot.interval_weeks
    return ask_meeting_link(flow_state(Step.MEETING_LINK, **data))


def on_meeting_link(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Books the meeting (or the series) with the link, if any."""
    choice = choice_id(event)
    if choice == "cancel":
        return show_home(ctx)
    link: str | None = None
    if isinstance(event, TextMessage):
        checked = clean_link(event.text, LINK_MAX_CHARS)
        if checked is None:
            return ask_meeting_link(state, say("coord.meeting_bad_link"))
        link = checked.text
    elif choice != "skip":
        return ask_meeting_link(state, say("common.not_understood"))
    first = datetime.fromisoformat(str(state.data["starts"]))
    weeks = state.data.get("weeks")
    port = coordination(ctx)
    had_meetings = bool(port.upcoming_meetings(ctx.actor.case_id, ctx.now))
    kind = MeetingKind.FOLLOW_UP if had_meetings else MeetingKind.FIRST
    series: tuple[int, int, str] | None = None
    starts = [first]
    if weeks is not None:
        local = first.astimezone(zone)
        # Each occurrence keeps the local wall-clock time across daylight-saving changes.
        starts = [
            datetime.combine(local.date() + timedelta(weeks=int(weeks) * n), local.time(), zone)
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
    # Booked from a meeting request: it is answered, and the person who asked is told.
    told = booked_from_request(state, ctx, first)
    return replace(show_home(ctx, booked), notices=told)


STEPS = {
    Step.MEETING_WHEN: StepDef(lambda state, ctx, zone: ask_meeting_when(), on_meeting_when),
    Step.MEETING_LINK: StepDef(lambda state, ctx, zone: ask_meeting_link(state), on_meeting_link),
}
