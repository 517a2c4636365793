"""Meetings: book one meeting, or a fixed slot that books a series, with an optional video
link, a place and a length. Everyone in the case is told, with a calendar file
(flows/meeting_changes.py); a series is kept booked a few meetings ahead until stopped.

```mermaid
stateDiagram-v2
    home --> meeting_when: Boka möte
    meeting_when --> meeting_when: okänd tid / tid som har varit
    meeting_when --> meeting_link: "15 dec 13.00" / "varannan tisdag 13.00"
    meeting_when --> home: avbryt
    meeting_link --> meeting_place: länk / ingen länk
    meeting_link --> home: avbryt
    meeting_place --> meeting_length: plats / hoppa över
    meeting_place --> home: avbryt
    meeting_length --> meeting_length: okänd längd
    meeting_length --> home: 60 / 90 / 120 / minuter (bokat, alla får veta) / avbryt
```

Entered from a meeting request (flows/convening.py), the state carries the request's id
(`flows.convening_port.REQUEST_KEY`); the booking answers it and the person who asked is told.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from flows.action_status import local_today
from flows.convening_port import booked_from_request
from flows.conversation import Event, TextMessage
from flows.coordinator.steps import (
    CANCEL,
    Step,
    StepDef,
    check_text,
    choice_id,
    flow_state,
    show_home,
)
from flows.engine import FlowState, StateValue, StepContext, Transition
from flows.meeting_changes import (
    MAX_MINUTES,
    MIN_MINUTES,
    MINUTES_OFFERED,
    SERIES_AHEAD,
    MeetingDetails,
    SeriesSlot,
    book_meetings,
    meeting_changes,
    series_starts,
)
from flows.plan_parse import parse_meeting_slot
from flows.replies import Choice, Reply, say
from flows.text_rules import clean_link

LINK_MAX_CHARS = 500
PLACE_MAX_CHARS = 200


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
    """Keeps the link, if any, and asks where the meeting is."""
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
    return ask_meeting_place(flow_state(Step.MEETING_PLACE, **state.data, link=link))


def ask_meeting_place(state: FlowState, *before: Reply) -> Transition:
    """Asks where the meeting is (free text), or none."""
    reply = say("meeting_edit.place_ask", Choice("skip", "meeting_edit.no_place"), CANCEL)
    return Transition(flow_state(Step.MEETING_PLACE, **state.data), (*before, reply))


def on_meeting_place(
    state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo
) -> Transition:
    """Keeps the place, if any, and asks how long the meeting is."""
    choice = choice_id(event)
    if choice == "cancel":
        return show_home(ctx)
    place: str | None = None
    if isinstance(event, TextMessage):
        checked = check_text(event.text, PLACE_MAX_CHARS)
        if not isinstance(checked, str):
            return ask_meeting_place(state, checked)
        place = checked
    elif choice != "skip":
        return ask_meeting_place(state, say("common.not_understood"))
    return ask_meeting_length(flow_state(Step.MEETING_LENGTH, **state.data, place=place))


def ask_meeting_length(state: FlowState, *before: Reply) -> Transition:
    """Asks how long the meeting is: a choice, or a typed number of minutes."""
    offered = [Choice(str(n), "meeting_edit.minutes", {"minutes": n}) for n in MINUTES_OFFERED]
    reply = say("meeting_edit.length_ask", *offered, CANCEL)
    return Transition(flow_state(Step.MEETING_LENGTH, **state.data), (*before, reply))


def read_minutes(event: Event) -> int | None:
    """Minutes from a choice ("90") or typed ("75", "75 min"); None when it is not a length."""
    choice = choice_id(event)
    if choice is not None:
        text = choice
    elif isinstance(event, TextMessage):
        text = event.text.lower().replace("minuter", "").replace("min", "").strip()
    else:
        return None
    if not text.isdecimal() or len(text) > 3:
        return None
    minutes = int(text)
    return minutes if MIN_MINUTES <= minutes <= MAX_MINUTES else None


def on_meeting_length(
    state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo
) -> Transition:
    """Books the meeting (or the series) and tells everyone in the case."""
    if choice_id(event) == "cancel":
        return show_home(ctx)
    minutes = read_minutes(event)
    if minutes is None:
        unknown = say("meeting_edit.length_unknown", low=MIN_MINUTES, high=MAX_MINUTES)
        return ask_meeting_length(state, unknown)
    first = datetime.fromisoformat(str(state.data["starts"]))
    weeks = state.data.get("weeks")
    link = state.data.get("link")
    place = state.data.get("place")
    details = MeetingDetails(
        str(place) if place is not None else None,
        minutes,
        str(link) if link is not None else None,
    )
    series: SeriesSlot | None = None
    starts = [first]
    if weeks is not None:
        local = first.astimezone(zone)
        series = SeriesSlot(int(weeks), local.time())
        starts = series_starts(local.date(), local.time(), int(weeks), zone, SERIES_AHEAD)
    _, notices = book_meetings(
        meeting_changes(ctx), ctx.actor.case_id, starts, details, series, ctx.now
    )
    if series is not None:
        said = say("meeting_edit.series_booked", first=first, weeks=series.weeks)
    else:
        said = say("coord.meeting_booked", first=first, count=1, weeks=None, link=bool(link))
    people = len({n.person_id for n in notices})
    told = (say("meeting_edit.everyone_told", count=people),) if notices else ()
    # Booked from a meeting request: it is answered, and the person who asked is told.
    answered = booked_from_request(state, ctx, first)
    return replace(show_home(ctx, said, *told), notices=(*notices, *answered))


STEPS = {
    Step.MEETING_WHEN: StepDef(lambda state, ctx, zone: ask_meeting_when(), on_meeting_when),
    Step.MEETING_LINK: StepDef(lambda state, ctx, zone: ask_meeting_link(state), on_meeting_link),
    Step.MEETING_PLACE: StepDef(
        lambda state, ctx, zone: ask_meeting_place(state), on_meeting_place
    ),
    Step.MEETING_LENGTH: StepDef(
        lambda state, ctx, zone: ask_meeting_length(state), on_meeting_length
    ),
}
