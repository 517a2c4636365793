"""Help now: where to turn when it is urgent (112, Bris, Självmordslinjen, 1177).

A sidetrack any member can open with the menu choice "Behöver du hjälp nu?"; "Tillbaka"
returns to the member's own flow. The same text is what the young person's free-text steps
answer first when she writes words that may mean danger (flows/danger_words.py): it is only
said to her, nothing is stored or sent to anyone else.

```mermaid
stateDiagram-v2
    [*] --> shown
    shown --> [*]: back / otherwise
```
"""

from __future__ import annotations

from flows.conversation import ChoiceMade, Event
from flows.replies import Choice, Reply, say
from flows.steps import BACK_TO_MEMBER, Step, StepFlow, Turn, declared

FLOW_NAME = "help_now"
# A menu choice with this id opens the help from any flow.
OPEN_CHOICE = "help_now:open"
# The menu choice itself, for the flows that list it.
MENU_CHOICE = Choice(OPEN_CHOICE, "help_now.open")
BACK = Choice("back", "common.back")


def urgent_help() -> tuple[Reply, ...]:
    """A calm word and where to call or chat, after words that may mean danger.

    For the reader alone (the default audience): that someone needs help is theirs to tell.
    """
    return say("help_now.urgent"), say("help_now.info")


def _shown(turn: Turn) -> Reply:
    """Shows the numbers, with a way back."""
    return say("help_now.info", BACK)


STEPS = (
    Step(
        "shown",
        show=_shown,
        choices={BACK.id: BACK_TO_MEMBER},
        otherwise=BACK_TO_MEMBER,
        help="help_now.help",
    ),
)


@declared
class HelpNow(StepFlow):
    """Shows where to turn, then goes back to where the member was."""

    def __init__(self) -> None:
        super().__init__(FLOW_NAME, STEPS, home_step="shown", help_prefix="help_now.")

    def opens(self, event: Event) -> bool:
        """The menu's "Behöver du hjälp nu?" opens it."""
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE
