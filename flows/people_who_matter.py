"""People who matter: the young person or a caregiver suggests someone who matters to her
(a first name and what they are to her: "mormor", "tränaren"), and the coordinator decides.

A sidetrack opened from the young person's and the caregivers' menu. The suggestion is
stored and the case's coordinators are told at once, with a button to answer
(flows/convening.py); a yes makes a network invite, and the one who suggested is told either
way.

```mermaid
stateDiagram-v2
    [*] --> name: Föreslå någon som är viktig
    name --> relation: förnamn
    name --> [*]: avbryt
    relation --> [*]: vem hen är för dig (sparat, samordnaren får veta)
    relation --> [*]: avbryt
```
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flows.convening_port import answer_button, convening
from flows.conversation import ChoiceMade, Event, TextMessage
from flows.domain import Role
from flows.engine import RETURN, FlowState, Notice, StepContext, Transition
from flows.plan_parse import looks_like_personnummer
from flows.replies import Choice, Reply, say
from flows.sidetrack_roles import SidetrackRoles
from flows.text_rules import CleanText, clean_text

FLOW_NAME = "people_who_matter"
OPEN_CHOICE = "matter:open"
MENU_CHOICE = Choice(OPEN_CHOICE, "matter.menu")
NAME_MAX_CHARS = 40
RELATION_MAX_CHARS = 40
CANCEL = Choice("cancel", "common.cancel")
# The young person and her caregivers say who matters to her; a network member is one already.
FOR_ROLES = SidetrackRoles(
    frozenset({Role.YOUTH, Role.CAREGIVER}),
    {
        Role.NETWORK: "matter.not_here",
        Role.PROFESSIONAL: "convene.matter_not_here",
        Role.COORDINATOR: "convene.matter_not_here",
    },
)


class Step(StrEnum):
    """The steps of suggesting someone; stored in conversation rows, never rename one."""

    NAME = "name"
    RELATION = "relation"


@dataclass(frozen=True, slots=True)
class PeopleWhoMatter:
    """Suggesting someone who matters to the young person."""

    name: str = FLOW_NAME

    def opens(self, event: Event) -> bool:
        """The menu's choice opens it."""
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE

    @property
    def home(self) -> FlowState:
        """Asking for the first name."""
        return FlowState(FLOW_NAME, Step.NAME.value)

    def start(self, ctx: StepContext) -> Transition:
        """Asks for the person's first name."""
        return FOR_ROLES.turned_away(ctx) or _ask_name()

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Asks the current question again."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        if state.step == Step.RELATION.value:
            return _ask_relation(str(state.data.get("name") or ""))
        return _ask_name()

    def help(self, state: FlowState) -> Reply:
        """Explains suggesting someone."""
        return say("matter.help")

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Takes the name, then the relation, then tells the coordinator."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        if isinstance(event, ChoiceMade) and event.choice_id == CANCEL.id:
            return Transition(RETURN, (say("matter.cancelled"),))
        if state.step == Step.RELATION.value:
            name = str(state.data.get("name") or "")
            if not isinstance(event, TextMessage):
                return _ask_relation(name, say("common.need_text"))
            relation = clean_text(event.text, RELATION_MAX_CHARS)
            if not isinstance(relation, CleanText):
                return _ask_relation(name, say(f"text.{relation.value}", max=RELATION_MAX_CHARS))
            return _send(ctx, name, relation.text)
        if not isinstance(event, TextMessage):
            return _ask_name(say("common.need_text"))
        checked = _first_name(event.text)
        if isinstance(checked, Reply):
            return _ask_name(checked)
        return _ask_relation(checked)


def _ask_name(*before: Reply) -> Transition:
    """Asks for the first name of someone who matters."""
    reply = say("matter.ask_name", CANCEL)
    return Transition(FlowState(FLOW_NAME, Step.NAME.value), (*before, reply))


def _ask_relation(name: str, *before: Reply) -> Transition:
    """Asks what the person is to the young person."""
    reply = say("matter.ask_relation", CANCEL, name=name)
    return Transition(FlowState(FLOW_NAME, Step.RELATION.value, {"name": name}), (*before, reply))


def _first_name(raw: str) -> str | Reply:
    """A first name (two words at most), never an identity number."""
    checked = clean_text(raw, NAME_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return say(f"text.{checked.value}", max=NAME_MAX_CHARS)
    text = checked.text
    if looks_like_personnummer(text) or len(text.split()) > 2 or any(c.isdigit() for c in text):
        return say("matter.name_rules")
    return text


def _send(ctx: StepContext, name: str, relation: str) -> Transition:
    """Stores the suggestion and tells every coordinator of the case, with a button to answer."""
    families = ctx.ports.families
    suggestion_id = convening(ctx.ports).suggest(
        ctx.actor.case_id, ctx.actor.person_id, name, relation, ctx.now
    )
    alert = say(
        "convene.alert_suggestion",
        answer_button(),
        by=ctx.actor.display_name,
        role=ctx.actor.role.value,
        case=families.case_reference(ctx.actor.case_id),
        name=name,
        relation=relation,
    )
    notices = tuple(
        Notice(
            alert,
            person_id=coordinator,
            dedup_key=f"suggestion:{suggestion_id}",
            about=(ctx.actor.person_id,),  # their name and words: erased with them
        )
        for coordinator in families.coordinators(ctx.actor.case_id)
    )
    return Transition(RETURN, (say("matter.sent", name=name),), notices)
