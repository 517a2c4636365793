"""Interpreter and needs: a family member says whether they need an interpreter at the meeting
(and in which language) and anything else they need (breaks, access), in their own words.

A sidetrack opened from the young person's and the adults' menus. The answer goes to the
coordinator, who arranges it: it is a section of its own on the agenda (the chat agenda and
`samverkan report agenda`), and the question says so before anything is written.

```mermaid
stateDiagram-v2
    [*] --> interpreter: menu "Tolk och annat du behöver"
    interpreter --> language: ja
    interpreter --> other: nej
    interpreter --> [*]: tillbaka
    language --> other: språk (text)
    language --> interpreter: avbryt
    other --> [*]: text / inget mer (sparat, samordnaren ser det)
```

This module also says until when the young person may change how she takes part
(`participation_closed`): up to the start of the meeting; after it, the choice is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from flows.conversation import ChoiceMade, Event, TextMessage
from flows.domain import FAMILY_ROLES, Agenda, MeetingNeedItem, Role
from flows.engine import RETURN, FlowState, StepContext, Transition
from flows.replies import Choice, ParamValue, Reply, say
from flows.sidetrack_roles import SidetrackRoles
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


@dataclass(frozen=True, slots=True)
class MeetingNeedsFlow:
    """Asks about an interpreter and other needs for the meeting."""

    name: str = FLOW_NAME

    def opens(self, event: Event) -> bool:
        """The menu's "Tolk och annat du behöver" opens it."""
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE

    @property
    def home(self) -> FlowState:
        """Asking about an interpreter."""
        return FlowState(FLOW_NAME, Step.INTERPRETER.value)

    def start(self, ctx: StepContext) -> Transition:
        """Shows what was said before and asks whether an interpreter is needed."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        return self._ask_interpreter(ctx)

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the step again."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        if state.step == Step.LANGUAGE.value:
            return self._ask_language()
        if state.step == Step.OTHER.value:
            return self._ask_other(state)
        return self._ask_interpreter(ctx)

    def help(self, state: FlowState) -> Reply:
        """Explains the needs."""
        return say("needs.help")

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Routes the answer to the handler of the current step."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        choice = event.choice_id if isinstance(event, ChoiceMade) else None
        if state.step == Step.LANGUAGE.value:
            return self._on_language(event, choice, ctx)
        if state.step == Step.OTHER.value:
            return self._on_other(state, event, choice, ctx)
        match choice:
            case "yes":
                return self._ask_language()
            case "no":
                return self._ask_other(FlowState(FLOW_NAME, Step.OTHER.value))
        return Transition(RETURN, ())

    def _ask_interpreter(self, ctx: StepContext, *before: Reply) -> Transition:
        """Asks whether an interpreter is needed, showing what is saved."""
        saved = meeting_needs(ctx).need(ctx.actor.case_id, ctx.actor.person_id)
        reply = say(
            "needs.interpreter_ask",
            Choice("yes", "needs.yes"),
            Choice("no", "needs.no"),
            BACK,
            saved=saved is not None,
            interpreter=saved.interpreter if saved else False,
            language=saved.language if saved else None,
            other=saved.other if saved else None,
        )
        return Transition(FlowState(FLOW_NAME, Step.INTERPRETER.value), (*before, reply))

    def _ask_language(self, *before: Reply) -> Transition:
        """Asks in which language."""
        reply = say("needs.language_ask", CANCEL)
        return Transition(FlowState(FLOW_NAME, Step.LANGUAGE.value), (*before, reply))

    def _ask_other(self, state: FlowState, *before: Reply) -> Transition:
        """Asks for any other need, in one's own words."""
        reply = say("needs.other_ask", Choice("none", "needs.nothing_more"), max=OTHER_MAX_CHARS)
        return Transition(FlowState(FLOW_NAME, Step.OTHER.value, data=state.data), (*before, reply))

    def _on_language(self, event: Event, choice: str | None, ctx: StepContext) -> Transition:
        """Remembers the language and asks for other needs."""
        if choice == CANCEL.id:
            return self._ask_interpreter(ctx)
        if not isinstance(event, TextMessage):
            return self._ask_language(say("common.need_text"))
        checked = clean_text(event.text, LANGUAGE_MAX_CHARS)
        if not isinstance(checked, CleanText):
            return self._ask_language(say(f"text.{checked.value}", max=LANGUAGE_MAX_CHARS))
        # Kept in the state until the last answer; nothing is stored half-way.
        return self._ask_other(
            FlowState(FLOW_NAME, Step.OTHER.value, data={"language": checked.text})
        )

    def _on_other(
        self, state: FlowState, event: Event, choice: str | None, ctx: StepContext
    ) -> Transition:
        """Stores the needs and goes back to the menu."""
        if isinstance(event, TextMessage):
            checked = clean_text(event.text, OTHER_MAX_CHARS)
            if not isinstance(checked, CleanText):
                return self._ask_other(state, say(f"text.{checked.value}", max=OTHER_MAX_CHARS))
            other: str | None = checked.text
        elif choice == "none":
            other = None
        else:
            return self._ask_other(state, say("common.not_understood"))
        language = state.data.get("language")
        need = MeetingNeed(
            interpreter=language is not None,
            language=str(language) if language is not None else None,
            other=other,
        )
        meeting_needs(ctx).set_need(ctx.actor.case_id, ctx.actor.person_id, need, ctx.now)
        return Transition(RETURN, (say("needs.saved"),))


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
