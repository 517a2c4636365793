"""The gemensam bild: the coordinator writes or pastes it, confirms it, and publishing it asks
the young person and the adults to answer (their side is flows/picture_loop.py).

```mermaid
stateDiagram-v2
    home --> picture_text: Skriv gemensam bild
    picture_text --> picture_text: tom / för lång text
    picture_text --> picture_confirm: texten
    picture_text --> home: avbryt
    picture_confirm --> home: publicera (familjen tillfrågas)
    picture_confirm --> home: avbryt (inte publicerad)
```
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flows.conversation import Event, TextMessage
from flows.coordinator.steps import CANCEL, Step, StepDef, choice_id, flow_state, show_home
from flows.engine import FlowState, StepContext, Transition
from flows.picture_loop import publication_notices
from flows.replies import Choice, Reply, say
from flows.text_rules import CleanText, clean_text

PICTURE_MAX_CHARS = 8000


def ask_picture(ctx: StepContext, *before: Reply) -> Transition:
    """Asks for the gemensam bild as text, showing which version it will become."""
    latest = ctx.ports.families.latest_picture(ctx.actor.case_id, ctx.actor.person_id)
    reply = say(
        "coord.picture.ask",
        CANCEL,
        version=(latest.version if latest else 0) + 1,
        max=PICTURE_MAX_CHARS,
    )
    return Transition(flow_state(Step.PICTURE_TEXT), (*before, reply))


def confirm_picture(text: str) -> Transition:
    """Shows the text back and asks before the family is asked to answer it."""
    reply = say(
        "coord.picture.confirm",
        Choice("publish", "coord.picture.publish"),
        CANCEL,
        text=text,
    )
    # The draft waits in the conversation state, like a pasted plan, until confirmed.
    return Transition(flow_state(Step.PICTURE_CONFIRM, text=text), (reply,))


def on_picture_text(state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo) -> Transition:
    """Takes the written or pasted picture and asks to confirm it."""
    if choice_id(event) == "cancel":
        return show_home(ctx)
    if not isinstance(event, TextMessage):
        return ask_picture(ctx, say("common.need_text"))
    checked = clean_text(event.text, PICTURE_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return ask_picture(ctx, say(f"text.{checked.value}", max=PICTURE_MAX_CHARS))
    return confirm_picture(checked.text)


def on_picture_confirm(
    state: FlowState, event: Event, ctx: StepContext, zone: ZoneInfo
) -> Transition:
    """Publishes the new version; the young person and the adults are asked to answer."""
    if choice_id(event) != "publish":
        return show_home(ctx, say("coord.picture.not_published"))
    text = str(state.data.get("text", ""))
    published = ctx.ports.families.publish(ctx.actor.case_id, ctx.actor.person_id, text, ctx.now)
    notices = publication_notices(
        published.picture, published.recipients.person_ids, published.recipients.group_chats
    )
    done = say(
        "coord.picture.published",
        version=published.picture.version,
        asked=len(published.recipients.person_ids) + len(published.recipients.group_chats),
    )
    home = show_home(ctx, done)
    return Transition(home.state, home.replies, notices)


STEPS = {
    Step.PICTURE_TEXT: StepDef(lambda state, ctx, zone: ask_picture(ctx), on_picture_text),
    Step.PICTURE_CONFIRM: StepDef(
        lambda state, ctx, zone: confirm_picture(str(state.data.get("text", ""))),
        on_picture_confirm,
    ),
}
