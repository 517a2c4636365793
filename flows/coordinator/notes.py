"""After the meeting: the coordinator writes the notes (and maybe a plainer version for the
young person), marks each shared question answered or to follow up, and the family is told.

The tick asks for the notes when a meeting has ended (flows/meeting_notes.NotesRequests);
"Efter mötet" in the menu starts the same. The draft waits in the conversation state, like a
pasted plan, until the last question is marked; then the notes, the marks and the notices to
the family commit together. The family reads the summary in flows/meeting_notes.py.

```mermaid
stateDiagram-v2
    home --> notes_text: Efter mötet / knapp på påminnelsen
    notes_text --> notes_youth: anteckningarna
    notes_youth --> notes_simplify: egen version, LIX över 40
    notes_simplify --> notes_simplify: ny text, LIX över 40
    notes_simplify --> notes_question: skicka ändå / ny text, LIX högst 40
    notes_youth --> notes_question: samma text / egen version, LIX högst 40
    notes_question --> notes_question: besvarad / följs upp / hoppa över
    notes_question --> home: sista frågan (familjen får sammanfattningen)
    notes_text --> home: avbryt
```
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flows.conversation import Event, TextMessage
from flows.coordination import coordination
from flows.coordinator.steps import (
    CANCEL,
    Step,
    StepDef,
    check_text,
    choice_id,
    flow_state,
    show_home,
)
from flows.engine import (
    NOTICE_CHOICE_PREFIX,
    FlowState,
    Notice,
    StateValue,
    StepContext,
    Transition,
)
from flows.lix import long_words, readability
from flows.meeting_notes_ports import QuestionStatus, notes_port
from flows.replies import Choice, Reply, say

NOTES_MAX_CHARS = 4000
# Above this LIX the coordinator is asked to simplify the young person's version (the
# catalogue's own youth texts keep to 35; a coordinator's text gets a little more room).
MAX_YOUTH_LIX = 40.0
# How many long words the coordinator is shown, most useful first (the order they appear).
LONG_WORDS_SHOWN = 12
# A button on the tick's request: write the notes of this case's meeting (a notice's button,
# so the engine hands it to the coordinator's flow from wherever she is).
WRITE_PREFIX = f"{NOTICE_CHOICE_PREFIX}notes:"
# Opens the family's summary (flows/meeting_notes.OPEN_CHOICE).
FAMILY_OPEN = Choice("notes:open", "notes.open")

SAME = Choice("same", "coord.notes.same")
SEND_ANYWAY = Choice("send_anyway", "coord.notes.send_anyway")
MARKS = {
    "answered": QuestionStatus.ANSWERED,
    "follow_up": QuestionStatus.FOLLOW_UP,
}


def ask_notes(ctx: StepContext, *before: Reply) -> Transition:
    """Asks for the notes of the newest meeting that has ended (none: says so, goes home)."""
    meeting = notes_port(ctx.ports).last_meeting(ctx.actor.case_id, ctx.actor.person_id, ctx.now)
    if meeting is None:
        return show_home(ctx, *before, say("coord.notes.no_meeting"))
    state = flow_state(
        Step.NOTES_TEXT, meeting=meeting.id, meeting_at=meeting.starts_at.isoformat()
    )
    return _ask_text(state, *before)


def _ask_text(state: FlowState, *before: Reply) -> Transition:
    """The question for the notes, with the meeting's time."""
    reply = say("coord.notes.ask", CANCEL, meeting_at=_meeting_at(state), max=NOTES_MAX_CHARS)
    return Transition(state, (*before, reply))


def _meeting_at(state: FlowState) -> datetime:
    """The time of the meeting the notes are for."""
    return datetime.fromisoformat(str(state.data["meeting_at"]))


def from_notice(choice: str, ctx: StepContext) -> Transition:
    """The tick's "Skriv anteckningar": in that case (switching to it first when needed)."""
    case_text = choice.removeprefix(WRITE_PREFIX)
    if case_text.isdecimal() and int(case_text) != ctx.actor.case_id:
        if not coordination(ctx).select_case(ctx.actor.person_id, int(case_text), ctx.now):
            return show_home(ctx)
        # The actor of this step still has the old case; the next event sees the new one.
        return Transition(flow_state(Step.HOME), (say("coord.notes.switched"),))
    return ask_notes(ctx)


def on_notes_text(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Takes the typed or pasted notes, then asks about a version for the young person."""
    if choice_id(event) == "cancel":
        return show_home(ctx)
    if not isinstance(event, TextMessage):
        return _ask_text(state, say("common.need_text"))
    checked = check_text(event.text, NOTES_MAX_CHARS)
    if isinstance(checked, Reply):
        return _ask_text(state, checked)
    return _ask_youth(flow_state(Step.NOTES_YOUTH, **state.data, text=checked))


def _ask_youth(state: FlowState, *before: Reply) -> Transition:
    """Offers to write a plainer version for the young person."""
    return Transition(state, (*before, say("coord.notes.youth_ask", SAME, CANCEL)))


def on_notes_youth(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """The same notes for everyone, or the young person's own version (scored)."""
    choice = choice_id(event)
    if choice == "cancel":
        return show_home(ctx, say("coord.notes.not_sent"))
    if choice == SAME.id:
        return _next_question(ctx, {**state.data, "youth": None, "marks": ""})
    if not isinstance(event, TextMessage):
        return _ask_youth(state, say("common.not_understood"))
    return _youth_version(state, event.text, ctx)


def _youth_version(state: FlowState, raw: str, ctx: StepContext) -> Transition:
    """Keeps the young person's version when it is plain enough; else asks to simplify."""
    checked = check_text(raw, NOTES_MAX_CHARS)
    if isinstance(checked, Reply):
        return _ask_youth(flow_state(Step.NOTES_YOUTH, **state.data), checked)
    data = {**state.data, "youth": checked, "marks": ""}
    score = readability(checked)
    if score.lix <= MAX_YOUTH_LIX:
        return _next_question(ctx, data)
    return _ask_simplify(flow_state(Step.NOTES_SIMPLIFY, **data))


def _ask_simplify(state: FlowState, *before: Reply) -> Transition:
    """Shows the LIX and the long words, and asks for a simpler text (or to send anyway)."""
    text = str(state.data["youth"])
    reply = say(
        "coord.notes.simplify",
        SEND_ANYWAY,
        CANCEL,
        lix=round(readability(text).lix),
        max=round(MAX_YOUTH_LIX),
        words=", ".join(long_words(text)[:LONG_WORDS_SHOWN]),
    )
    return Transition(state, (*before, reply))


def on_notes_simplify(
    state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo
) -> Transition:
    """A rewritten version (scored again), or the version as it is."""
    choice = choice_id(event)
    if choice == "cancel":
        return show_home(ctx, say("coord.notes.not_sent"))
    if choice == SEND_ANYWAY.id:
        return _next_question(ctx, dict(state.data))
    if not isinstance(event, TextMessage):
        return _ask_simplify(state, say("common.not_understood"))
    return _youth_version(state, event.text, ctx)


def _marked(data: dict[str, StateValue]) -> dict[int, QuestionStatus]:
    """The marks made so far ("12:answered,13:follow_up"; a skipped question has none)."""
    marks: dict[int, QuestionStatus] = {}
    for part in str(data.get("marks") or "").split(","):
        question, _, status = part.partition(":")
        if question.isdecimal() and status in MARKS:
            marks[int(question)] = MARKS[status]
    return marks


def _next_question(ctx: StepContext, data: dict[str, StateValue]) -> Transition:
    """Asks about the next shared question not marked yet in this round; after the last one
    the notes and marks are saved and the family is told."""
    port = notes_port(ctx.ports)
    questions = port.questions_to_mark(ctx.actor.case_id, ctx.actor.person_id)
    done = {int(q) for q in str(data.get("seen") or "").split(",") if q.isdecimal()}
    todo = [q for q in questions if q.id not in done]
    if not todo:
        return _send(ctx, data)
    question = todo[0]
    reply = say(
        "coord.notes.question",
        Choice("answered", "coord.notes.answered"),
        Choice("follow_up", "coord.notes.follow_up"),
        Choice("skip", "coord.notes.skip"),
        CANCEL,
        author=question.author,
        text=question.text,
        number=len(done) + 1,
        count=len(questions),
        marked_as=question.status.value if question.status else None,
    )
    state = flow_state(Step.NOTES_QUESTION, **data, question=question.id)
    return Transition(state, (reply,))


def on_notes_question(
    state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo
) -> Transition:
    """Marks the question answered or to follow up (or leaves it), then the next one."""
    choice = choice_id(event)
    if choice == "cancel":
        return show_home(ctx, say("coord.notes.not_sent"))
    if choice not in (*MARKS, "skip"):
        return _next_question(ctx, _without_question(state))
    data = _without_question(state)
    question = int(state.data.get("question") or 0)
    data["seen"] = ",".join(filter(None, (str(data.get("seen") or ""), str(question))))
    if choice in MARKS:
        data["marks"] = ",".join(
            filter(None, (str(data.get("marks") or ""), f"{question}:{choice}"))
        )
    return _next_question(ctx, data)


def _without_question(state: FlowState) -> dict[str, StateValue]:
    """The state's data without the question being asked."""
    return {k: v for k, v in state.data.items() if k != "question"}


def _send(ctx: StepContext, data: dict[str, StateValue]) -> Transition:
    """Saves the notes and marks; each young person and caregiver with consent is told."""
    meeting_id = int(data.get("meeting") or 0)
    youth = data.get("youth")
    marks = _marked(data)
    told = notes_port(ctx.ports).save_notes(
        ctx.actor.case_id,
        meeting_id,
        ctx.actor.person_id,
        str(data.get("text") or ""),
        str(youth) if youth else None,
        sorted(marks.items()),
        ctx.now,
    )
    # Like a new shared picture: a neutral notice and a button; the notes themselves are
    # read in the private chat, behind the gate (flows/meeting_notes.py).
    notices = tuple(
        Notice(
            say(
                "notes.ready",
                FAMILY_OPEN,
                meeting_at=datetime.fromisoformat(str(data["meeting_at"])),
            ),
            person_id=person,
            dedup_key=f"notes:{meeting_id}:{person}:{ctx.now.isoformat()}",
        )
        for person in told
    )
    answered = sum(1 for s in marks.values() if s is QuestionStatus.ANSWERED)
    sent = say(
        "coord.notes.sent",
        told=len(told),
        answered=answered,
        follow_up=len(marks) - answered,
    )
    home = show_home(ctx, sent)
    return Transition(home.state, home.replies, notices)


STEPS = {
    Step.NOTES_TEXT: StepDef(lambda state, ctx, zone: _ask_text(state), on_notes_text),
    Step.NOTES_YOUTH: StepDef(lambda state, ctx, zone: _ask_youth(state), on_notes_youth),
    Step.NOTES_SIMPLIFY: StepDef(lambda state, ctx, zone: _ask_simplify(state), on_notes_simplify),
    Step.NOTES_QUESTION: StepDef(
        lambda state, ctx, zone: _next_question(ctx, _without_question(state)), on_notes_question
    ),
}
