"""Help now: where to turn when it is urgent (112, Bris, Självmordslinjen, 1177).

A sidetrack any member can open with the menu choice "Behöver du hjälp nu?"; "Tillbaka"
returns to the member's own flow. The same text is what the young person's free-text steps
answer first when she writes words that may mean danger (flows/danger_words.py): it is only
said to her, nothing is stored or sent to anyone else.

```mermaid
stateDiagram-v2
    [*] --> shown: menu choice
    shown --> [*]: Tillbaka (or anything else)
```
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.conversation import ChoiceMade, Event
from flows.engine import RETURN, FlowState, StepContext, Transition
from flows.replies import Choice, Reply, say

FLOW_NAME = "help_now"
# A menu choice with this id opens the help from any flow.
OPEN_CHOICE = "help_now:open"
# The menu choice itself, for the flows that list it.
MENU_CHOICE = Choice(OPEN_CHOICE, "help_now.open")
SHOWN = FlowState(FLOW_NAME, "shown")


def urgent_help() -> tuple[Reply, ...]:
    """A calm word and where to call or chat, after words that may mean danger.

    For the reader alone (the default audience): that someone needs help is theirs to tell.
    """
    return say("help_now.urgent"), say("help_now.info")


@dataclass(frozen=True, slots=True)
class HelpNow:
    """Shows where to turn, then goes back to where the member was."""

    name: str = FLOW_NAME

    def opens(self, event: Event) -> bool:
        """The menu's "Behöver du hjälp nu?" opens it."""
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE

    @property
    def home(self) -> FlowState:
        """Where to get help now, shown."""
        return SHOWN

    def start(self, ctx: StepContext) -> Transition:
        """Shows the numbers, with a way back."""
        shown = say("help_now.info", Choice("back", "common.back"))
        return Transition(SHOWN, (shown,))

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the numbers again."""
        return self.start(ctx)

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Tillbaka, or anything else, returns to the member's own flow."""
        return Transition(RETURN, ())

    def help(self, state: FlowState) -> Reply:
        """Explains the help page."""
        return say("help_now.help")
