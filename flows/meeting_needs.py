"""Interpreter and needs: a family member says whether they need an interpreter at the meeting
(and in which language) and anything else they need (breaks, access), in their own words.

A sidetrack opened from the young person's and the adults' menus. The answer goes to the
coordinator, who arranges it: it is a section of its own on the agenda (the chat agenda and
`samverkan report agenda`), and the question says so before anything is written.

The menu's "Tolk och annat du behöver" opens it at `interpreter`. The language is kept in the
state until the last answer, so nothing is stored half-way; the last answer (her words, or
"inget mer") stores it all and goes back to the menu. Each step is declared once in `STEPS`
(flows/steps.py); the diagram is generated from it (`python -m scripts.diagrams`):

```mermaid
stateDiagram-v2
    [*] --> interpreter
    interpreter --> language: yes
    interpreter --> other: no
    interpreter --> [*]: otherwise
    language --> interpreter: cancel
    language --> other: text
    other --> [*]: none / text
```

This module also says until when the young person may change how she takes part
(`participation_closed`): up to the start of the meeting; after it, the choice is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from flows.conversation import ChoiceMade, Event
from flows.domain import FAMILY_ROLES, Agenda, MeetingNeedItem, Role
from flows.engine import StepContext, Transition
from flows.replies import Choice, ParamValue, Reply, say
from flows.sidetrack_roles import SidetrackRoles
from flows.steps import BACK_TO_MEMBER, DONE, Go, StepFlow, Then, Turn, declared
from flows.steps import Step as StepDef
from flows.text_rules import CleanText, clean_text

FLOW_NAME = "meeting_needs"
# A menu choice with this id opens the needs from the young person's and the adults' menus.
OPEN_CHOICE = "needs:open"
LANGUAGE_MAX_CHARS = 40
OTHER_MAX_CHARS = 300

CANCEL = Choice("cancel", "common.cancel")
BACK = Choice("back", "common.back")
MENU_CHOICE = Choice(OPEN_CHOICE, "needs.menu")
# The family says what they need; the staff arrange it (and are told so instead).
FOR_ROLES = SidetrackRoles(
    FAMILY_ROLES,
    {
        Role.COORDINATOR: "needs.not_here.coordinator",
        Role.PROFESSIONAL: "needs.not_here.professional",
    },
)


class Step(StrEnum):
    """The steps of saying what one needs at the meeting."""

    INTERPRETER = "interpreter"
    LANGUAGE = "language"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class MeetingNeed:
    """One member's needs for the meeting."""

    interpreter: bool
    language: str | None
    other: str | None


class MeetingNeedsPort(Protocol):
    """Reads and writes of meeting needs, behind the access gate."""

    def need(self, case_id: int, person_id: int) -> MeetingNeed | None:
        """The member's own needs, or None when they have not said."""
        ...

    def set_need(self, case_id: int, person_id: int, need: MeetingNeed, now: datetime) -> None:
        """Stores the member's needs (a family member of the case)."""
        ...

    def last_meeting_start(self, case_id: int, now: datetime) -> datetime | None:
        """When the case's latest meeting that has started began, or None."""
        ...


def meeting_needs(ctx: StepContext) -> MeetingNeedsPort:
    """The meeting needs port of this step's transaction."""
    return ctx.ports.meeting_needs


def _ask_interpreter(turn: Turn) -> Reply:
    """Asks whether an interpreter is needed, showing what is saved."""
    ctx = turn.ctx
    saved = meeting_needs(ctx).need(ctx.actor.case_id, ctx.actor.person_id)
    return say(
        "needs.interpreter_ask",
        Choice("yes", "needs.yes"),
        Choice("no", "needs.no"),
        BACK,
        saved=saved is not None,
        interpreter=saved.interpreter if saved else False,
        language=saved.language if saved else None,
        other=saved.other if saved else None,
    )


def _ask_language(turn: Turn) -> Reply:
    """Asks in which language."""
    return say("needs.language_ask", CANCEL)


def _ask_other(turn: Turn) -> Reply:
    """Asks for any other need, in one's own words."""
    return say("needs.other_ask", Choice("none", "needs.nothing_more"), max=OTHER_MAX_CHARS)


def _need_text(turn: Turn) -> Transition:
    """The language is written, not tapped."""
    return turn.again(say("common.need_text"))


def _on_language(turn: Turn) -> Transition:
    """Remembers the language and asks for other needs."""
    checked = clean_text(turn.text or "", LANGUAGE_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return turn.again(say(f"text.{checked.value}", max=LANGUAGE_MAX_CHARS))
    # Kept in the state until the last answer; nothing is stored half-way.
    return turn.go(Step.OTHER.value, language=checked.text)


def _on_other(turn: Turn) -> Transition:
    """Stores the needs (her words, or none) and goes back to the menu."""
    other: str | None = None
    if turn.text is not None:
        checked = clean_text(turn.text, OTHER_MAX_CHARS)
        if not isinstance(checked, CleanText):
            return turn.again(say(f"text.{checked.value}", max=OTHER_MAX_CHARS))
        other = checked.text
    language = turn.data.get("language")
    need = MeetingNeed(
        interpreter=language is not None,
        language=str(language) if language is not None else None,
        other=other,
    )
    ctx = turn.ctx
    meeting_needs(ctx).set_need(ctx.actor.case_id, ctx.actor.person_id, need, ctx.now)
    return turn.done(say("needs.saved"))


STEPS = (
    StepDef(
        Step.INTERPRETER.value,
        show=_ask_interpreter,
        choices={"yes": Go(Step.LANGUAGE.value), "no": Go(Step.OTHER.value)},
        # "Tillbaka", and anything else: back to the menu, as it was.
        otherwise=BACK_TO_MEMBER,
        help="needs.help",
    ),
    StepDef(
        Step.LANGUAGE.value,
        show=_ask_language,
        choices={CANCEL.id: Go(Step.INTERPRETER.value)},
        text=Then(_on_language, to=(Step.OTHER.value,)),
        otherwise=Then(_need_text, to=()),
        help="needs.help",
    ),
    StepDef(
        Step.OTHER.value,
        show=_ask_other,
        choices={"none": Then(_on_other, to=(DONE,))},
        text=Then(_on_other, to=(DONE,)),
        help="needs.help",
    ),
)


@declared
class MeetingNeedsFlow(StepFlow):
    """Asks about an interpreter and other needs for the meeting."""

    def __init__(self) -> None:
        super().__init__(
            FLOW_NAME,
            STEPS,
            home_step=Step.INTERPRETER.value,
            help_prefix="needs.",
            guard=FOR_ROLES.turned_away,
        )

    def opens(self, event: Event) -> bool:
        """The menu's "Tolk och annat du behöver" opens it."""
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE


def participation_closed(ctx: StepContext) -> bool:
    """True once the meeting has started and no later one is booked: how the young person
    takes part can then no longer be changed (her choice is kept as it was)."""
    if ctx.ports.members.next_meeting(ctx.actor.case_id, ctx.now) is not None:
        return False
    return meeting_needs(ctx).last_meeting_start(ctx.actor.case_id, ctx.now) is not None


def too_late_reply(current: str | None) -> Reply:
    """Says it is too late to change how she takes part, and what is kept."""
    return say("needs.participation_too_late", current=current)


def needs_params(agenda: Agenda) -> list[ParamValue]:
    """The agenda's needs as a template reads them."""
    return [_need_params(n) for n in agenda.needs]


def _need_params(need: MeetingNeedItem) -> dict[str, ParamValue]:
    """One member's needs for a template."""
    return {
        "name": need.display_name,
        "role": need.role.value,
        "interpreter": need.interpreter,
        "language": need.language,
        "other": need.other,
    }


def agenda_needs_replies(agenda: Agenda) -> tuple[Reply, ...]:
    """The needs section of the coordinator's chat agenda (nothing when nobody needs anything)."""
    if not agenda.needs:
        return ()
    return (say("needs.agenda", needs=needs_params(agenda)),)
