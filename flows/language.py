"""Language: each person picks the language the bot speaks to them (and writes dates in).

The languages are the catalogue's locale directories, handed in at wiring time, so a new
language is a directory of texts and no change here.

At first contact the platform's language hint (Telegram's language_code) is the first guess
(`guess`), and the consent question offers this choice too, before anything else: consent
must be given in a language the person reads.

```mermaid
stateDiagram-v2
    [*] --> pick
    pick --> [*]: lang / back / otherwise
```
"""

from __future__ import annotations

from flows.conversation import ChoiceMade, Command, CommandIssued, Event
from flows.engine import RETURN, FlowState, Transition
from flows.replies import Choice, Reply

# Languages are nobody's words: every text here is fine in any chat.
from flows.replies import say_to_anyone as say
from flows.steps import BACK_TO_MEMBER, DONE, Step, StepFlow, Then, Turn, declared

FLOW_NAME = "language"
PREFIX = "lang:"
# A menu choice with this id opens the language choice from any flow.
OPEN_CHOICE = "language:open"
# Language tags an app may send for a language the catalogue has under another code:
# Dari (prs) is read in the Persian texts.
SAME_WRITTEN_LANGUAGE = {"prs": "fa"}
DEFAULT_LOCALES = ("sv", "en")
BACK = Choice("back", "common.back")


def guess(hint: str, locales: tuple[str, ...]) -> str | None:
    """The offered language a platform's language tag ("ar", "fa-IR", "uk_UA") points to."""
    primary = hint.replace("_", "-").split("-", 1)[0].strip().lower()
    primary = SAME_WRITTEN_LANGUAGE.get(primary, primary)
    return primary if primary in locales else None


def _locales(turn: Turn) -> tuple[str, ...]:
    """The languages this flow was wired with."""
    return turn.flow.locales if isinstance(turn.flow, LanguageChoice) else DEFAULT_LOCALES


def _pick(turn: Turn) -> Reply:
    """Offers every language, each named in its own language."""
    choices = [
        Choice(f"{PREFIX}{code}", "language.option", {"code": code}) for code in _locales(turn)
    ]
    return say("language.pick", *choices, BACK, current=turn.ctx.actor.locale)


def _save(turn: Turn) -> Transition:
    """Stores the chosen language; the reply is already in it."""
    code = (turn.choice or "").removeprefix(PREFIX)
    if code not in _locales(turn):
        return turn.done()
    turn.ctx.ports.families.set_locale(turn.ctx.actor.person_id, code)
    # The replies to this event are written in the new language (bot/handler.py).
    return Transition(RETURN, (say("language.saved", code=code),), locale=code)


STEPS = (
    Step(
        "pick",
        show=_pick,
        choices={PREFIX: Then(_save, to=(DONE,)), BACK.id: BACK_TO_MEMBER},
        otherwise=BACK_TO_MEMBER,
        help="language.help",
    ),
)


@declared
class LanguageChoice(StepFlow):
    """Picking a language."""

    def __init__(self, locales: tuple[str, ...] = DEFAULT_LOCALES) -> None:
        super().__init__(FLOW_NAME, STEPS, home_step="pick", help_prefix="language.")
        self.locales = locales

    def opens(self, event: Event) -> bool:
        """/sprak or a menu's language choice opens it."""
        if isinstance(event, CommandIssued):
            return event.command is Command.LANGUAGE
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE

    def guess(self, hint: str) -> str | None:
        """The offered language a platform's language tag points to, if any."""
        return guess(hint, self.locales)

    def help(self, state: FlowState) -> Reply:
        """Explains the language choice (fine in any chat, as every text here)."""
        return say("language.help")
