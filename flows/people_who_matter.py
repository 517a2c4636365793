"""People who matter: the young person or a caregiver suggests someone who matters to her
(a first name and what they are to her: "mormor", "tränaren"), and the coordinator decides.

A sidetrack opened from the young person's and the caregivers' menu. The suggestion is
stored and the case's coordinators are told at once, with a button to answer
(flows/convening.py); a yes makes a network invite, and the one who suggested is told either
way.

```mermaid
stateDiagram-v2
    [*] --> name
    name --> [*]: cancel
    name --> relation: text
    name --> name: otherwise
    relation --> [*]: cancel / text
    relation --> relation: otherwise
```
"""

from __future__ import annotations

from flows.convening_port import answer_button, convening
from flows.conversation import ChoiceMade, Event
from flows.domain import Role
from flows.engine import Notice, Transition
from flows.plan_parse import looks_like_personnummer
from flows.replies import Choice, Reply, say
from flows.sidetrack_roles import SidetrackRoles
from flows.steps import DONE, Step, StepFlow, Then, Turn, declared
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
# The step names are stored in conversation rows: never rename one.
NAME, RELATION = "name", "relation"


def _ask_name(turn: Turn) -> Reply:
    """Asks for the first name of someone who matters."""
    return say("matter.ask_name", CANCEL)


def _ask_relation(turn: Turn) -> Reply:
    """Asks what the person is to the young person."""
    return say("matter.ask_relation", CANCEL, name=turn.word("name"))


def _cancel(turn: Turn) -> Transition:
    """Nothing is suggested."""
    return turn.done(say("matter.cancelled"))


def _need_text(turn: Turn) -> Transition:
    """A name and a relation are words: asks again."""
    return turn.again(say("common.need_text"))


def _on_name(turn: Turn) -> Transition:
    """Keeps a first name, then asks what the person is to her."""
    checked = _first_name(turn.text or "")
    if isinstance(checked, Reply):
        return turn.again(checked)
    return turn.go(RELATION, name=checked)


def _on_relation(turn: Turn) -> Transition:
    """Keeps the relation and tells the coordinators."""
    relation = clean_text(turn.text or "", RELATION_MAX_CHARS)
    if not isinstance(relation, CleanText):
        return turn.again(say(f"text.{relation.value}", max=RELATION_MAX_CHARS))
    return _send(turn, turn.word("name"), relation.text)


def _first_name(raw: str) -> str | Reply:
    """A first name (two words at most), never an identity number."""
    checked = clean_text(raw, NAME_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return say(f"text.{checked.value}", max=NAME_MAX_CHARS)
    text = checked.text
    if looks_like_personnummer(text) or len(text.split()) > 2 or any(c.isdigit() for c in text):
        return say("matter.name_rules")
    return text


def _send(turn: Turn, name: str, relation: str) -> Transition:
    """Stores the suggestion and tells every coordinator of the case, with a button to answer."""
    ctx = turn.ctx
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
    return turn.done(say("matter.sent", name=name), notices=notices)


STEPS = (
    Step(
        NAME,
        show=_ask_name,
        choices={CANCEL.id: Then(_cancel, to=(DONE,))},
        text=Then(_on_name, to=(RELATION,)),
        otherwise=Then(_need_text, to=(NAME,)),
        help="matter.help",
    ),
    Step(
        RELATION,
        show=_ask_relation,
        choices={CANCEL.id: Then(_cancel, to=(DONE,))},
        text=Then(_on_relation, to=(DONE,)),
        otherwise=Then(_need_text, to=(RELATION,)),
        help="matter.help",
    ),
)


@declared
class PeopleWhoMatter(StepFlow):
    """Suggesting someone who matters to the young person."""

    def __init__(self) -> None:
        super().__init__(
            FLOW_NAME, STEPS, home_step=NAME, help_prefix="matter.", guard=FOR_ROLES.turned_away
        )

    def opens(self, event: Event) -> bool:
        """The menu's choice opens it."""
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE
