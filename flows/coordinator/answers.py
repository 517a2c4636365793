"""The coordinator answers a "stämmer inte / delvis" comment on the gemensam bild in the chat;
the answer reaches the person who wrote it, privately (never a family group chat).

```mermaid
stateDiagram-v2
    comment_answer --> home: cancel / text / otherwise / (shown instead)
    comment_answer --> comment_answer: text / otherwise
```
"""

from __future__ import annotations

from flows.coordinator.steps import CANCEL, HELP, StepName, flow_state, home, show_home
from flows.domain import AccessRefused
from flows.engine import FlowState, Notice, StepContext, Transition
from flows.loop_ports import CommentToAnswer, loop
from flows.picture_loop import OPEN_CHOICE as PICTURE_CHOICE
from flows.replies import Choice, Reply, say
from flows.steps import Step, Then, Turn
from flows.text_rules import CleanText, clean_text

# The notice button's id: n:answer:<picture response id> (flows/picture_loop.py).
ANSWER_PREFIX = "n:answer:"
ANSWER_MAX_CHARS = 2000


def answer_choice(response_id: int) -> Choice:
    """The button on a comment's alert that lets the coordinator answer it."""
    return Choice(f"{ANSWER_PREFIX}{response_id}", "alert.answer_comment")


def _comment(state_or_id: FlowState | int, ctx: StepContext) -> CommentToAnswer | None:
    """The comment in hand, if this coordinator may still answer it."""
    if isinstance(state_or_id, FlowState):
        response_id = int(state_or_id.data.get("response_id") or 0)
    else:
        response_id = state_or_id
    try:
        return loop(ctx).comment_to_answer(response_id, ctx.actor.person_id)
    except AccessRefused:
        return None


def ask_answer(response_id: int, ctx: StepContext, *before: Reply) -> Transition:
    """Shows the comment and asks for the answer, saying who will read it."""
    comment = _comment(response_id, ctx)
    if comment is None:
        return show_home(ctx, say("coord.comment_answer.gone"))
    reply = say(
        "coord.comment_answer.ask",
        CANCEL,
        name=comment.name,
        verdict=comment.verdict.value,
        version=comment.version,
        comment=comment.comment,
        max=ANSWER_MAX_CHARS,
    )
    state = flow_state(StepName.COMMENT_ANSWER, response_id=response_id)
    return Transition(state, (*before, reply))


def _need_text(turn: Turn) -> Transition:
    """Anything but text: asks for the answer again."""
    return ask_answer(turn.number("response_id"), turn.ctx, say("common.need_text"))


def _send_answer(turn: Turn) -> Transition:
    """Stores the answer and sends it to the person who wrote the comment, privately."""
    ctx = turn.ctx
    response_id = turn.number("response_id")
    checked = clean_text(turn.text or "", ANSWER_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return ask_answer(response_id, ctx, say(f"text.{checked.value}", max=ANSWER_MAX_CHARS))
    try:
        comment = loop(ctx).answer_comment(response_id, ctx.actor.person_id, checked.text, ctx.now)
    except (AccessRefused, LookupError):
        return show_home(ctx, say("coord.comment_answer.gone"))
    # A notice to a person goes to their private chats only (storage/outbox_repository.py).
    notice = Notice(
        say(
            "picture.answered",
            Choice(PICTURE_CHOICE, "picture.open"),
            name=ctx.actor.display_name,
            version=comment.version,
            text=checked.text,
        ),
        person_id=comment.person_id,
        dedup_key=f"comment-answer:{response_id}:{ctx.now.isoformat()}",
        about=(ctx.actor.person_id,),
    )
    menu = show_home(ctx, say("coord.comment_answer.sent", name=comment.name))
    return Transition(menu.state, menu.replies, (notice,))


def open_answer(turn: Turn) -> Transition:
    """The alert's "Svara på kommentaren" (from any step): the comment and the question."""
    response = (turn.choice or "").removeprefix(ANSWER_PREFIX)
    return ask_answer(int(response) if response.isdecimal() else 0, turn.ctx)


STEPS = (
    Step(
        "comment_answer",
        show=lambda turn: ask_answer(turn.number("response_id"), turn.ctx),
        choices={CANCEL.id: Then(home, to=("home",))},
        text=Then(_send_answer, to=("comment_answer", "home")),
        otherwise=Then(_need_text, to=("comment_answer", "home")),
        handovers=("home",),
        help=HELP,
    ),
)
