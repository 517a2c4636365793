"""After the meeting: the coordinator writes the notes (and maybe a plainer version for the
young person), marks each shared question answered or to follow up, and the family is told.

The tick asks for the notes when a meeting has ended (flows/meeting_notes.NotesRequests);
"Efter mötet" in the menu starts the same. The draft waits in the conversation state, like a
pasted plan, until the last question is marked; then the notes, the marks and the notices to
the family commit together. The family reads the summary in flows/meeting_notes.py.

```mermaid
stateDiagram-v2
    notes_text --> home: cancel
    notes_text --> notes_text: text / otherwise
    notes_text --> notes_youth: text
    notes_youth --> home: cancel / same / text
    notes_youth --> notes_question: same / text
    notes_youth --> notes_youth: text / otherwise
    notes_youth --> notes_simplify: text
    notes_simplify --> home: cancel / send_anyway / text
    notes_simplify --> notes_question: send_anyway / text
    notes_simplify --> notes_youth: text
    notes_simplify --> notes_simplify: text / otherwise
    notes_question --> home: cancel / answered / follow_up / skip / otherwise / (shown instead)
    notes_question --> notes_question: answered / follow_up / skip / otherwise
```
"""

from __future__ import annotations

from datetime import datetime

from flows.coordination import coordination
from flows.coordinator.steps import (
    CANCEL,
    HELP,
    StepName,
    check_text,
    flow_state,
    home,
    show_home,
    state_of,
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
from flows.steps import Step, Then, Turn

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
        StepName.NOTES_TEXT, meeting=meeting.id, meeting_at=meeting.starts_at.isoformat()
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
        return Transition(flow_state(StepName.HOME), (say("coord.notes.switched"),))
    return ask_notes(ctx)


def _need_text(turn: Turn) -> Transition:
    """Anything but typed notes: asks again."""
    return _ask_text(state_of(turn), say("common.need_text"))


def _notes_given(turn: Turn) -> Transition:
    """Takes the typed or pasted notes, then asks about a version for the young person."""
    state = state_of(turn)
    checked = check_text(turn.text or "", NOTES_MAX_CHARS)
    if isinstance(checked, Reply):
        return _ask_text(state, checked)
    return _ask_youth(flow_state(StepName.NOTES_YOUTH, **state.data, text=checked))


def _ask_youth(state: FlowState, *before: Reply) -> Transition:
    """Offers to write a plainer version for the young person."""
    return Transition(state, (*before, say("coord.notes.youth_ask", SAME, CANCEL)))


def _not_sent(turn: Turn) -> Transition:
    """Cancelled after the notes were written: nothing is sent."""
    return show_home(turn.ctx, say("coord.notes.not_sent"))


def _same_for_all(turn: Turn) -> Transition:
    """The same notes for everyone, the young person too."""
    return _next_question(turn.ctx, {**turn.data, "youth": None, "marks": ""})


def _own_version(turn: Turn) -> Transition:
    """The young person's own version, scored."""
    return _youth_version(state_of(turn), turn.text or "", turn.ctx)


def _not_understood(turn: Turn) -> Transition:
    """The step again, saying the answer was not understood."""
    return turn.again(say("common.not_understood"))


def _youth_version(state: FlowState, raw: str, ctx: StepContext) -> Transition:
    """Keeps the young person's version when it is plain enough; else asks to simplify."""
    checked = check_text(raw, NOTES_MAX_CHARS)
    if isinstance(checked, Reply):
        return _ask_youth(flow_state(StepName.NOTES_YOUTH, **state.data), checked)
    data = {**state.data, "youth": checked, "marks": ""}
    score = readability(checked)
    if score.lix <= MAX_YOUTH_LIX:
        return _next_question(ctx, data)
    return _ask_simplify(flow_state(StepName.NOTES_SIMPLIFY, **data))


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


def _send_anyway(turn: Turn) -> Transition:
    """The young person's version as it is."""
    return _next_question(turn.ctx, dict(turn.data))


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
    state = flow_state(StepName.NOTES_QUESTION, **data, question=question.id)
    return Transition(state, (reply,))


def _mark(turn: Turn) -> Transition:
    """Marks the question answered or to follow up (or leaves it), then the next one."""
    state, ctx, choice = state_of(turn), turn.ctx, turn.choice
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
    menu = show_home(ctx, sent)
    return Transition(menu.state, menu.replies, notices)


NOT_SENT = Then(_not_sent, to=("home",))
# The last question marked: the notes are saved and the family told; home.
NEXT = ("notes_question", "home")

STEPS = (
    Step(
        "notes_text",
        show=lambda turn: _ask_text(state_of(turn)),
        choices={CANCEL.id: Then(home, to=("home",))},
        text=Then(_notes_given, to=("notes_text", "notes_youth")),
        otherwise=Then(_need_text, to=("notes_text",)),
        help=HELP,
    ),
    Step(
        "notes_youth",
        show=lambda turn: _ask_youth(state_of(turn)),
        choices={CANCEL.id: NOT_SENT, SAME.id: Then(_same_for_all, to=NEXT)},
        text=Then(_own_version, to=("notes_youth", "notes_simplify", *NEXT)),
        otherwise=Then(_not_understood, to=("notes_youth",)),
        help=HELP,
    ),
    Step(
        "notes_simplify",
        show=lambda turn: _ask_simplify(state_of(turn)),
        choices={CANCEL.id: NOT_SENT, SEND_ANYWAY.id: Then(_send_anyway, to=NEXT)},
        text=Then(_own_version, to=("notes_youth", "notes_simplify", *NEXT)),
        otherwise=Then(_not_understood, to=("notes_simplify",)),
        help=HELP,
    ),
    Step(
        "notes_question",
        show=lambda turn: _next_question(turn.ctx, _without_question(state_of(turn))),
        choices={
            CANCEL.id: NOT_SENT,
            **{mark: Then(_mark, to=NEXT) for mark in MARKS},
            "skip": Then(_mark, to=NEXT),
        },
        # Anything else asks the same question again.
        otherwise=Then(
            lambda turn: _next_question(turn.ctx, _without_question(state_of(turn))), to=NEXT
        ),
        handovers=("home",),
        help=HELP,
    ),
)
