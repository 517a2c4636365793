"""The shared-picture loop: read the gemensam bild and answer stämmer / delvis / inte.

A sidetrack any young person or adult of the family opens with /bild, a menu choice or the
button of the notice that a new version was published. A coordinator or professional who types
/bild is told where they read the answers instead (flows/sidetrack_roles.py). An answer can be
changed at any time; a new version asks again. Every answer that is not "stämmer" reaches the
coordinators at once.

```mermaid
stateDiagram-v2
    [*] --> shown: /bild, menu, notice button
    shown --> [*]: stämmer (saved)
    shown --> comment: stämmer delvis / stämmer inte
    comment --> [*]: own words (saved, coordinator told)
    comment --> shown: avbryt
    shown --> [*]: senare
```
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from flows.conversation import (
    ChoiceMade,
    Command,
    CommandIssued,
    ConversationRef,
    Event,
    TextMessage,
)
from flows.domain import FAMILY_ROLES, Role
from flows.engine import RETURN, FlowState, Notice, StateValue, StepContext, Transition
from flows.family_domain import PictureInfo, Verdict
from flows.replies import Choice, Reply, say, to_family
from flows.sidetrack_roles import SidetrackRoles
from flows.text_rules import VIEW_MAX_CHARS, CleanText, clean_text

FLOW_NAME = "picture"
OPEN_CHOICE = "picture:open"
# The button on a comment's alert (flows/coordinator/answers.ANSWER_PREFIX; not imported,
# since that module imports this one).
ANSWER_PREFIX = "n:answer:"
COMMENT_MAX_CHARS = VIEW_MAX_CHARS


class Step(StrEnum):
    """The steps of the picture loop."""

    SHOWN = "shown"
    COMMENT = "comment"


VERDICT_CHOICES = tuple(Choice(v.value, f"picture.verdict.{v.value}") for v in Verdict)
LATER = Choice("later", "picture.later")
CANCEL = Choice("cancel", "common.cancel")
# Only the family answers the picture (storage/access.py rule 8); the others are told where
# they read the answers, or that the coordinator writes it.
FOR_ROLES = SidetrackRoles(
    FAMILY_ROLES,
    {Role.COORDINATOR: "coord.not_here.picture", Role.PROFESSIONAL: "pro.not_here.picture"},
)


def _state(step: Step, **data: StateValue) -> FlowState:
    """A state of this flow."""
    return FlowState(flow=FLOW_NAME, step=step.value, data=data)


@dataclass(frozen=True, slots=True)
class PictureLoop:
    """Reading and answering the shared picture."""

    name: str = FLOW_NAME

    def opens(self, event: Event) -> bool:
        """/bild, or the button of a "new shared picture" notice, opens the loop."""
        if isinstance(event, CommandIssued):
            return event.command is Command.PICTURE
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE

    @property
    def home(self) -> FlowState:
        """The picture shown."""
        return _state(Step.SHOWN)

    def start(self, ctx: StepContext) -> Transition:
        """Shows the newest version with the person's answer so far, and the three answers."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        return self._shown(ctx)

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the step again."""
        # A conversation an older version left here for someone else is let go, not failed.
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        if state.step == Step.COMMENT.value:
            picture = ctx.ports.families.latest_picture(ctx.actor.case_id, ctx.actor.person_id)
            verdict = Verdict(str(state.data.get("verdict", Verdict.PARTLY)))
            if picture is not None and picture.id == state.data.get("picture_id"):
                return self._comment(ctx, picture, verdict)
        return self._shown(ctx)

    def help(self, state: FlowState) -> Reply:
        """Explains the current step."""
        return say(f"picture.help.{Step(state.step).value}")

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Routes the event to the handler of the current step."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        if state.step == Step.COMMENT.value:
            return self._on_comment(state, event, ctx)
        return self._on_shown(event, ctx)

    def _shown(self, ctx: StepContext, *before: Reply) -> Transition:
        """The picture, the earlier answer (if any) and the answers to choose from."""
        picture = ctx.ports.families.latest_picture(ctx.actor.case_id, ctx.actor.person_id)
        if picture is None:
            return Transition(RETURN, (*before, say("picture.none")))
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
        return Transition(_state(Step.SHOWN, picture_id=picture.id), (*before, reply))

    def _comment(
        self, ctx: StepContext, picture: PictureInfo, verdict: Verdict, *before: Reply
    ) -> Transition:
        """Asks, in the person's own words, what is not right."""
        earlier = ctx.ports.families.picture_answer(picture.id, ctx.actor.person_id)
        reply = say(
            f"picture.comment.{verdict.value}",
            CANCEL,
            current=earlier.comment if earlier else None,
            max=COMMENT_MAX_CHARS,
        )
        state = _state(Step.COMMENT, picture_id=picture.id, verdict=verdict.value)
        return Transition(state, (*before, reply))

    def _on_shown(self, event: Event, ctx: StepContext) -> Transition:
        """Saves "stämmer", asks for words for the other answers, or leaves for later."""
        choice = event.choice_id if isinstance(event, ChoiceMade) else None
        if choice == LATER.id:
            return Transition(RETURN, (say("picture.later_ok"),))
        picture = ctx.ports.families.latest_picture(ctx.actor.case_id, ctx.actor.person_id)
        if picture is None:
            return Transition(RETURN, (say("picture.none"),))
        if choice == Verdict.AGREE.value:
            ctx.ports.families.answer_picture(
                picture.id, ctx.actor.person_id, Verdict.AGREE, None, ctx.now
            )
            return Transition(RETURN, (say("picture.thanks.agree"),))
        if choice in (Verdict.PARTLY.value, Verdict.DISAGREE.value):
            return self._comment(ctx, picture, Verdict(choice))
        return self._shown(ctx, say("common.not_understood"))

    def _on_comment(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Saves the answer with the person's words and tells the coordinators."""
        if isinstance(event, ChoiceMade) and event.choice_id == CANCEL.id:
            return self._shown(ctx)
        picture = ctx.ports.families.latest_picture(ctx.actor.case_id, ctx.actor.person_id)
        verdict = Verdict(str(state.data.get("verdict", Verdict.PARTLY)))
        if picture is None:
            return Transition(RETURN, (say("picture.none"),))
        if picture.id != state.data.get("picture_id"):
            # A new version came while they were writing: they should read it first.
            return self._shown(ctx, say("picture.newer"))
        if not isinstance(event, TextMessage):
            return self._comment(ctx, picture, verdict, say("common.need_text"))
        checked = clean_text(event.text, COMMENT_MAX_CHARS)
        if not isinstance(checked, CleanText):
            problem = say(f"text.{checked.value}", max=COMMENT_MAX_CHARS)
            return self._comment(ctx, picture, verdict, problem)
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
        return Transition(RETURN, (say("picture.thanks.comment"),), notices)


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
