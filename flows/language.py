"""Language: each person picks the language the bot speaks to them (and writes dates in).

The languages are the catalogue's locale directories, handed in at wiring time, so a new
language is a directory of texts and no change here.

At first contact the platform's language hint (Telegram's language_code) is the first guess
(`guess`), and the consent question offers this choice too, before anything else: consent
must be given in a language the person reads.

```mermaid
stateDiagram-v2
    [*] --> pick: /sprak, menu choice, "Språk / Language" under the consent question
    pick --> [*]: a language (stored)
    pick --> [*]: Tillbaka
```
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.conversation import ChoiceMade, Command, CommandIssued, Event
from flows.engine import RETURN, FlowState, StepContext, Transition
from flows.replies import Choice, Reply

# Languages are nobody's words: every text here is fine in any chat.
from flows.replies import say_to_anyone as say

FLOW_NAME = "language"
PICK = FlowState(FLOW_NAME, "pick")
PREFIX = "lang:"
# A menu choice with this id opens the language choice from any flow.
OPEN_CHOICE = "language:open"
# Language tags an app may send for a language the catalogue has under another code:
# Dari (prs) is read in the Persian texts.
SAME_WRITTEN_LANGUAGE = {"prs": "fa"}


def guess(hint: str, locales: tuple[str, ...]) -> str | None:
    """The offered language a platform's language tag ("ar", "fa-IR", "uk_UA") points to."""
    primary = hint.replace("_", "-").split("-", 1)[0].strip().lower()
    primary = SAME_WRITTEN_LANGUAGE.get(primary, primary)
    return primary if primary in locales else None


@dataclass(frozen=True, slots=True)
class LanguageChoice:
    """Picking a language."""

    locales: tuple[str, ...] = ("sv", "en")
    name: str = FLOW_NAME

    def opens(self, event: Event) -> bool:
        """/sprak or a menu's language choice opens it."""
        if isinstance(event, CommandIssued):
            return event.command is Command.LANGUAGE
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE

    def guess(self, hint: str) -> str | None:
        """The offered language a platform's language tag points to, if any."""
        return guess(hint, self.locales)

    @property
    def home(self) -> FlowState:
        """The languages offered."""
        return PICK

    def start(self, ctx: StepContext) -> Transition:
        """Offers every language, each named in its own language."""
        choices = [
            Choice(f"{PREFIX}{code}", "language.option", {"code": code}) for code in self.locales
        ]
        reply = say(
            "language.pick", *choices, Choice("back", "common.back"), current=ctx.actor.locale
        )
        return Transition(PICK, (reply,))

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the languages again."""
        return self.start(ctx)

    def help(self, state: FlowState) -> Reply:
        """Explains the language choice."""
        return say("language.help")

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Stores the chosen language; the reply is already in it."""
        choice = event.choice_id if isinstance(event, ChoiceMade) else ""
        code = choice.removeprefix(PREFIX)
        if choice.startswith(PREFIX) and code in self.locales:
            ctx.ports.families.set_locale(ctx.actor.person_id, code)
            # The replies to this event are written in the new language (bot/handler.py).
            return Transition(RETURN, (say("language.saved", code=code),), locale=code)
        return Transition(RETURN, ())
