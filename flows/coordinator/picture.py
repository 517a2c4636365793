"""The gemensam bild: the coordinator writes or pastes it, confirms it, and publishing it asks
the young person and the adults to answer (their side is flows/picture_loop.py).

```mermaid
stateDiagram-v2
    picture_text --> home: cancel
    picture_text --> picture_text: text / otherwise
    picture_text --> picture_confirm: text
    picture_confirm --> home: publish / otherwise
```
"""

from __future__ import annotations

from flows.coordinator.steps import CANCEL, HELP, StepName, flow_state, home, show_home
from flows.engine import StepContext, Transition
from flows.picture_loop import publication_notices
from flows.replies import Choice, Reply, say
from flows.steps import Step, Then, Turn
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
    return Transition(flow_state(StepName.PICTURE_TEXT), (*before, reply))


def confirm_picture(text: str) -> Transition:
    """Shows the text back and asks before the family is asked to answer it."""
    reply = say(
        "coord.picture.confirm",
        Choice("publish", "coord.picture.publish"),
        CANCEL,
        text=text,
    )
    # The draft waits in the conversation state, like a pasted plan, until confirmed.
    return Transition(flow_state(StepName.PICTURE_CONFIRM, text=text), (reply,))


def _need_text(turn: Turn) -> Transition:
    """Anything but text: asks for the picture again."""
    return ask_picture(turn.ctx, say("common.need_text"))


def _take_picture(turn: Turn) -> Transition:
    """Takes the written or pasted picture and asks to confirm it."""
    checked = clean_text(turn.text or "", PICTURE_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return ask_picture(turn.ctx, say(f"text.{checked.value}", max=PICTURE_MAX_CHARS))
    return confirm_picture(checked.text)


def _not_published(turn: Turn) -> Transition:
    """Anything but "publicera": home, nothing published."""
    return show_home(turn.ctx, say("coord.picture.not_published"))


def _publish(turn: Turn) -> Transition:
    """Publishes the new version; the young person and the adults are asked to answer."""
    ctx = turn.ctx
    text = turn.word("text")
    published = ctx.ports.families.publish(ctx.actor.case_id, ctx.actor.person_id, text, ctx.now)
    notices = publication_notices(
        published.picture, published.recipients.person_ids, published.recipients.group_chats
    )
    done = say(
        "coord.picture.published",
        version=published.picture.version,
        asked=len(published.recipients.person_ids) + len(published.recipients.group_chats),
    )
    menu = show_home(ctx, done)
    return Transition(menu.state, menu.replies, notices)


STEPS = (
    Step(
        "picture_text",
        show=lambda turn: ask_picture(turn.ctx),
        choices={CANCEL.id: Then(home, to=("home",))},
        text=Then(_take_picture, to=("picture_text", "picture_confirm")),
        otherwise=Then(_need_text, to=("picture_text",)),
        help=HELP,
    ),
    Step(
        "picture_confirm",
        show=lambda turn: confirm_picture(turn.word("text")),
        choices={"publish": Then(_publish, to=("home",))},
        otherwise=Then(_not_published, to=("home",)),
        help=HELP,
    ),
)
