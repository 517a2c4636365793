"""The shared-picture loop: read the gemensam bild and answer stämmer / delvis / inte.

A sidetrack any young person or adult of the family opens with /bild, a menu choice or the
button of the notice that a new version was published. A coordinator or professional who types
/bild is told where they read the answers instead (flows/sidetrack_roles.py). An answer can be
changed at any time; a new version asks again. Every answer that is not "stämmer" reaches the
coordinators at once.

```mermaid
stateDiagram-v2
    [*] --> shown
    shown --> [*]: agree / partly / disagree / later / otherwise / (shown instead)
    shown --> comment: partly / disagree
    shown --> shown: otherwise
    comment --> shown: cancel / text / otherwise / (shown instead)
    comment --> comment: text / otherwise
    comment --> [*]: text / otherwise
```
"""

from __future__ import annotations

from collections.abc import Iterable

from flows.conversation import ChoiceMade, Command, CommandIssued, ConversationRef, Event
from flows.domain import FAMILY_ROLES, Role
from flows.engine import Notice, Transition
from flows.family_domain import PictureInfo, Verdict
from flows.replies import Choice, Reply, say, to_family
from flows.sidetrack_roles import SidetrackRoles
from flows.steps import DONE, Go, Step, StepFlow, Then, Turn, declared
from flows.text_rules import VIEW_MAX_CHARS, CleanText, clean_text

FLOW_NAME = "picture"
OPEN_CHOICE = "picture:open"
# The button on a comment's alert (flows/coordinator/answers.ANSWER_PREFIX; not imported,
# since that module imports this one).
ANSWER_PREFIX = "n:answer:"
COMMENT_MAX_CHARS = VIEW_MAX_CHARS
# The step names are stored in conversation rows: never rename one.
SHOWN, COMMENT = "shown", "comment"
VERDICT_CHOICES = tuple(Choice(v.value, f"picture.verdict.{v.value}") for v in Verdict)
LATER = Choice("later", "picture.later")
CANCEL = Choice("cancel", "common.cancel")
# Only the family answers the picture (storage/access.py rule 8); the others are told where
# they read the answers, or that the coordinator writes it.
FOR_ROLES = SidetrackRoles(
    FAMILY_ROLES,
    {Role.COORDINATOR: "coord.not_here.picture", Role.PROFESSIONAL: "pro.not_here.picture"},
)


def _shown(turn: Turn) -> Transition:
    """The newest version, the earlier answer (if any) and the answers to choose from."""
    ctx = turn.ctx
    picture = ctx.ports.families.latest_picture(ctx.actor.case_id, ctx.actor.person_id)
    if picture is None:
        return turn.done(say("picture.none"))
    answer = ctx.ports.families.picture_answer(picture.id, ctx.actor.person_id)
    reply = say(
        "picture.show",
        *VERDICT_CHOICES,
        LATER,
        text=picture.text,
        version=picture.version,
        published_at=picture.published_at,
        answered=answer.verdict.value if answer else None,
    )
    return Transition(turn.flow.state(SHOWN, picture_id=picture.id), (reply,))


def _comment_shown(turn: Turn) -> Transition:
    """Asks for her words again, or shows the picture when a new version came meanwhile."""
    ctx = turn.ctx
    picture = ctx.ports.families.latest_picture(ctx.actor.case_id, ctx.actor.person_id)
    if picture is None or picture.id != turn.data.get("picture_id"):
        return turn.go(SHOWN)
    return _comment(turn, picture, _verdict(turn))


def _comment(turn: Turn, picture: PictureInfo, verdict: Verdict, *before: Reply) -> Transition:
    """Asks, in the person's own words, what is not right."""
    ctx = turn.ctx
    earlier = ctx.ports.families.picture_answer(picture.id, ctx.actor.person_id)
    reply = say(
        f"picture.comment.{verdict.value}",
        CANCEL,
        current=earlier.comment if earlier else None,
        max=COMMENT_MAX_CHARS,
    )
    state = turn.flow.state(COMMENT, picture_id=picture.id, verdict=verdict.value)
    return Transition(state, (*before, reply))


def _verdict(turn: Turn) -> Verdict:
    """The answer being explained in the comment step."""
    return Verdict(turn.word("verdict", Verdict.PARTLY.value))


def _later(turn: Turn) -> Transition:
    """Leaves the picture for later."""
    return turn.done(say("picture.later_ok"))


def _picture(turn: Turn) -> PictureInfo | Transition:
    """The newest version, or the way back when there is none (any more)."""
    ctx = turn.ctx
    picture = ctx.ports.families.latest_picture(ctx.actor.case_id, ctx.actor.person_id)
    return turn.done(say("picture.none")) if picture is None else picture


def _agree(turn: Turn) -> Transition:
    """Saves "stämmer"."""
    picture = _picture(turn)
    if isinstance(picture, Transition):
        return picture
    ctx = turn.ctx
    ctx.ports.families.answer_picture(picture.id, ctx.actor.person_id, Verdict.AGREE, None, ctx.now)
    return turn.done(say("picture.thanks.agree"))


def _not_quite(turn: Turn) -> Transition:
    """ "Stämmer delvis" or "stämmer inte": asks for her own words."""
    picture = _picture(turn)
    if isinstance(picture, Transition):
        return picture
    return _comment(turn, picture, Verdict(turn.choice or Verdict.PARTLY.value))


def _not_understood(turn: Turn) -> Transition:
    """Anything else: the picture again (unless it is gone)."""
    picture = _picture(turn)
    if isinstance(picture, Transition):
        return picture
    return turn.go(SHOWN, say("common.not_understood"))


def _on_comment(turn: Turn) -> Transition:
    """Saves the answer with the person's words and tells the coordinators."""
    ctx = turn.ctx
    picture = ctx.ports.families.latest_picture(ctx.actor.case_id, ctx.actor.person_id)
    verdict = _verdict(turn)
    if picture is None:
        return turn.done(say("picture.none"))
    if picture.id != turn.data.get("picture_id"):
        # A new version came while they were writing: they should read it first.
        return turn.go(SHOWN, say("picture.newer"))
    if turn.text is None:
        return _comment(turn, picture, verdict, say("common.need_text"))
    checked = clean_text(turn.text, COMMENT_MAX_CHARS)
    if not isinstance(checked, CleanText):
        problem = say(f"text.{checked.value}", max=COMMENT_MAX_CHARS)
        return _comment(turn, picture, verdict, problem)
    families = ctx.ports.families
    answer_id = families.answer_picture(
        picture.id, ctx.actor.person_id, verdict, checked.text, ctx.now
    )
    alert = say(
        "alert.picture",
        # The coordinator answers it in the chat (flows/coordinator/answers.py).
        Choice(f"{ANSWER_PREFIX}{answer_id}", "alert.answer_comment"),
        name=ctx.actor.display_name,
        role=ctx.actor.role.value,
        verdict=verdict.value,
        version=picture.version,
        case=families.case_reference(ctx.actor.case_id),
        comment=checked.text,
    )
    notices = tuple(
        Notice(
            alert,
            person_id=coordinator,
            dedup_key=f"picture-alert:{answer_id}:{ctx.now}",
            about=(ctx.actor.person_id,),  # their name and comment: erased with them
        )
        for coordinator in families.coordinators(ctx.actor.case_id)
    )
    return turn.done(say("picture.thanks.comment"), notices=notices)


# Any event in the comment step is read there: the picture may be gone, or newer.
_ON_COMMENT = Then(_on_comment, to=(COMMENT, SHOWN, DONE))
STEPS = (
    Step(
        SHOWN,
        show=_shown,
        choices={
            Verdict.AGREE.value: Then(_agree, to=(DONE,)),
            Verdict.PARTLY.value: Then(_not_quite, to=(COMMENT, DONE)),
            Verdict.DISAGREE.value: Then(_not_quite, to=(COMMENT, DONE)),
            LATER.id: Then(_later, to=(DONE,)),
        },
        otherwise=Then(_not_understood, to=(SHOWN, DONE)),
        handovers=(DONE,),
    ),
    Step(
        COMMENT,
        show=_comment_shown,
        choices={CANCEL.id: Go(SHOWN)},
        text=_ON_COMMENT,
        otherwise=_ON_COMMENT,
        handovers=(SHOWN,),
    ),
)


@declared
class PictureLoop(StepFlow):
    """Reading and answering the shared picture."""

    def __init__(self) -> None:
        super().__init__(
            FLOW_NAME,
            STEPS,
            home_step=SHOWN,
            help_prefix="picture.help.",
            guard=FOR_ROLES.turned_away,
        )

    def opens(self, event: Event) -> bool:
        """/bild, or the button of a "new shared picture" notice, opens the loop."""
        if isinstance(event, CommandIssued):
            return event.command is Command.PICTURE
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE


def publication_notices(
    picture: PictureInfo, person_ids: Iterable[int], group_chats: Iterable[ConversationRef]
) -> tuple[Notice, ...]:
    """Asks each young person and adult to read a new version and answer it."""
    button = Choice(OPEN_CHOICE, "picture.open")
    private = tuple(
        Notice(
            say("picture.published", button, version=picture.version),
            person_id=person_id,
            dedup_key=f"picture-published:{picture.id}:{person_id}",
        )
        for person_id in person_ids
    )
    groups = tuple(
        Notice(
            to_family(say("picture.published_group", button, version=picture.version)),
            chat=chat,
            dedup_key=f"picture-published:{picture.id}:group",
        )
        for chat in group_chats
    )
    return private + groups
