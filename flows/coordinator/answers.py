"""The coordinator answers a "stämmer inte / delvis" comment on the gemensam bild in the chat;
the answer reaches the person who wrote it, privately (never a family group chat).

```mermaid
stateDiagram-v2
    home --> comment_answer: Svara på kommentaren (knapp på aviseringen, n:answer:)
    comment_answer --> home: svaret (skickas privat till personen)
    comment_answer --> home: avbryt
```
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flows.conversation import Event, TextMessage
from flows.coordinator.steps import CANCEL, Step, StepDef, choice_id, flow_state, show_home
from flows.domain import AccessRefused
from flows.engine import FlowState, Notice, StepContext, Transition
from flows.loop_ports import CommentToAnswer, loop
from flows.picture_loop import OPEN_CHOICE as PICTURE_CHOICE
from flows.replies import Choice, Reply, say
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
    state = flow_state(Step.COMMENT_ANSWER, response_id=response_id)
    return Transition(state, (*before, reply))


def on_answer_text(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Stores the answer and sends it to the person who wrote the comment, privately."""
    response_id = int(state.data.get("response_id") or 0)
    if choice_id(event) == "cancel":
        return show_home(ctx)
    if not isinstance(event, TextMessage):
        return ask_answer(response_id, ctx, say("common.need_text"))
    checked = clean_text(event.text, ANSWER_MAX_CHARS)
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
    home = show_home(ctx, say("coord.comment_answer.sent", name=comment.name))
    return Transition(home.state, home.replies, (notice,))


STEPS = {
    Step.COMMENT_ANSWER: StepDef(
        lambda state, ctx, zone: ask_answer(int(state.data.get("response_id") or 0), ctx),
        on_answer_text,
    ),
}
