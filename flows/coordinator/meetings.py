"""Meetings: book one meeting, or a fixed slot that books a series, with an optional video
link, a place and a length. Everyone in the case is told, with a calendar file
(flows/meeting_changes.py); a series is kept booked a few meetings ahead until stopped.

```mermaid
stateDiagram-v2
    meeting_when --> home: cancel
    meeting_when --> meeting_when: text / otherwise
    meeting_when --> meeting_link: text
    meeting_link --> home: cancel
    meeting_link --> meeting_place: skip / text
    meeting_link --> meeting_link: text / otherwise
    meeting_place --> home: cancel
    meeting_place --> meeting_length: skip / text
    meeting_place --> meeting_place: text / otherwise
    meeting_length --> home: cancel / text / otherwise
    meeting_length --> meeting_length: text / otherwise
```

Entered from a meeting request (flows/convening.py), the state carries the request's id
(`flows.convening_port.REQUEST_KEY`); the booking answers it and the person who asked is told.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flows.action_status import local_today
from flows.convening_port import booked_from_request
from flows.coordinator.steps import (
    CANCEL,
    HELP,
    StepName,
    check_text,
    flow_state,
    home,
    show_home,
    state_of,
    zone,
)
from flows.engine import FlowState, StateValue, Transition
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
from flows.steps import Step, Then, Turn
from flows.text_rules import clean_link

LINK_MAX_CHARS = 500
PLACE_MAX_CHARS = 200


def ask_meeting_when(*before: Reply) -> Transition:
    """Asks when the meeting is, once or as a fixed slot."""
    return Transition(
        flow_state(StepName.MEETING_WHEN), (*before, say("coord.meeting_ask", CANCEL))
    )


def ask_meeting_link(state: FlowState, *before: Reply) -> Transition:
    """Asks for an optional video link."""
    reply = say("coord.meeting_link_ask", Choice("skip", "coord.meeting_no_link"), CANCEL)
    return Transition(flow_state(StepName.MEETING_LINK, **state.data), (*before, reply))


def _need_when(turn: Turn) -> Transition:
    """Anything but a typed time: asks again."""
    return ask_meeting_when(say("common.need_text"))


def _when_given(turn: Turn) -> Transition:
    """Reads a time ("15 dec 13.00") or a fixed slot ("varannan tisdag 13.00")."""
    here = zone(turn)
    slot = parse_meeting_slot(turn.text or "", local_today(turn.ctx, here))
    if slot is None:
        return ask_meeting_when(say("coord.meeting_unknown"))
    starts = datetime.combine(slot.day, slot.at, tzinfo=here)
    if starts <= turn.ctx.now:
        return ask_meeting_when(say("coord.meeting_past"))
    data: dict[str, StateValue] = {"starts": starts.isoformat()}
    if slot.interval_weeks is not None:
        data["weeks"] = slot.interval_weeks
    return ask_meeting_link(flow_state(StepName.MEETING_LINK, **data))


def _link_given(turn: Turn) -> Transition:
    """Keeps the link (or none, "skip") and asks where the meeting is."""
    state = state_of(turn)
    link: str | None = None
    if turn.text is not None:
        checked = clean_link(turn.text, LINK_MAX_CHARS)
        if checked is None:
            return ask_meeting_link(state, say("coord.meeting_bad_link"))
        link = checked.text
    return ask_meeting_place(flow_state(StepName.MEETING_PLACE, **state.data, link=link))


def _not_understood(turn: Turn) -> Transition:
    """Shows the step again, saying it was not understood (keeping what was answered)."""
    return turn.again(say("common.not_understood"))


def ask_meeting_place(state: FlowState, *before: Reply) -> Transition:
    """Asks where the meeting is (free text), or none."""
    reply = say("meeting_edit.place_ask", Choice("skip", "meeting_edit.no_place"), CANCEL)
    return Transition(flow_state(StepName.MEETING_PLACE, **state.data), (*before, reply))


def _place_given(turn: Turn) -> Transition:
    """Keeps the place (or none, "skip") and asks how long the meeting is."""
    state = state_of(turn)
    place: str | None = None
    if turn.text is not None:
        checked = check_text(turn.text, PLACE_MAX_CHARS)
        if not isinstance(checked, str):
            return ask_meeting_place(state, checked)
        place = checked
    return ask_meeting_length(flow_state(StepName.MEETING_LENGTH, **state.data, place=place))


def ask_meeting_length(state: FlowState, *before: Reply) -> Transition:
    """Asks how long the meeting is: a choice, or a typed number of minutes."""
    offered = [Choice(str(n), "meeting_edit.minutes", {"minutes": n}) for n in MINUTES_OFFERED]
    reply = say("meeting_edit.length_ask", *offered, CANCEL)
    return Transition(flow_state(StepName.MEETING_LENGTH, **state.data), (*before, reply))


def read_minutes(turn: Turn) -> int | None:
    """Minutes from a choice ("90") or typed ("75", "75 min"); None when it is not a length."""
    if turn.choice is not None:
        text = turn.choice
    elif turn.text is not None:
        text = turn.text.lower().replace("minuter", "").replace("min", "").strip()
    else:
        return None
    if not text.isdecimal() or len(text) > 3:
        return None
    minutes = int(text)
    return minutes if MIN_MINUTES <= minutes <= MAX_MINUTES else None


def _book(turn: Turn) -> Transition:
    """Books the meeting (or the series) and tells everyone in the case."""
    state, ctx, here = state_of(turn), turn.ctx, zone(turn)
    minutes = read_minutes(turn)
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
        local = first.astimezone(here)
        series = SeriesSlot(int(weeks), local.time())
        starts = series_starts(local.date(), local.time(), int(weeks), here, SERIES_AHEAD)
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


HOME = Then(home, to=("home",))

STEPS = (
    Step(
        "meeting_when",
        show=lambda turn: ask_meeting_when(),
        choices={CANCEL.id: HOME},
        text=Then(_when_given, to=("meeting_when", "meeting_link")),
        otherwise=Then(_need_when, to=("meeting_when",)),
        help=HELP,
    ),
    Step(
        "meeting_link",
        show=lambda turn: ask_meeting_link(state_of(turn)),
        choices={CANCEL.id: HOME, "skip": Then(_link_given, to=("meeting_place",))},
        text=Then(_link_given, to=("meeting_link", "meeting_place")),
        otherwise=Then(_not_understood, to=("meeting_link",)),
        help=HELP,
    ),
    Step(
        "meeting_place",
        show=lambda turn: ask_meeting_place(state_of(turn)),
        choices={CANCEL.id: HOME, "skip": Then(_place_given, to=("meeting_length",))},
        text=Then(_place_given, to=("meeting_place", "meeting_length")),
        otherwise=Then(_not_understood, to=("meeting_place",)),
        help=HELP,
    ),
    Step(
        "meeting_length",
        show=lambda turn: ask_meeting_length(state_of(turn)),
        # The offered lengths ("60", "90", "120") and a typed number of minutes.
        choices={CANCEL.id: HOME},
        text=Then(_book, to=("meeting_length", "home")),
        otherwise=Then(_book, to=("meeting_length", "home")),
        help=HELP,
    ),
)
