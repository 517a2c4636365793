"""What a typed number or label means: the one place that reads a text as a choice.

People answer buttons by typing what they see: the number in front of a line (terminal,
Matrix) or the button's words. Every platform and the engine read such a text here, by these
rules, in this order:

1. Only a text is read. A tap already is a choice; a command stays a command.
2. In a group chat only a number is read, and only against the conversation's own offered
   choices: the newest list in a group may have been shown to someone else.
3. In a private chat, the newest message with choices shown since the conversation last
   changed (`ShownChoices`) is what the person looks at. A number n, or the words of one of its
   buttons (case and spacing ignored, flows.text_rules.same_label), means that button when it is
   a notice's button (a reminder's, sent outside the conversation) or one the conversation
   offers. When that message was a notice, its numbers are the only ones that count: "2" under
   a reminder with one button is text, not the second line of an older list. The words of a
   button are unambiguous, though: words on no button of the notice that are the words of a
   button of the conversation's own newest list (`ShownChoices.earlier`) mean that button. A
   reminder that arrives while she reads a prompt does not swallow the answer she types.
4. Otherwise a number in the range of the offered choices means offered[n-1].
5. Anything else stays text (an answer, a question the person writes).

A short number is always read as a number first, so a button whose words are "2" is typed
by its number. Without the button's words (`labels` empty) only numbers are read.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.conversation import ChoiceMade, Event, TextMessage
from flows.text_rules import same_label

# Buttons on notices (reminders, reports) are sent outside the conversation, so they are
# never among the offered choices; choices with this prefix go to the flow, which decides.
NOTICE_CHOICE_PREFIX = "n:"
# A typed choice number has at most this many digits; int() of a long paste is slow.
MAX_CHOICE_DIGITS = 3
# A typed button label is at most this long (labels are short): longer text is never one.
MAX_LABEL_CHARS = 64


@dataclass(frozen=True, slots=True)
class ShownChoices:
    """The newest message with choices shown in a private chat since its conversation last
    changed: the choice ids in the order shown, and their words as the person saw them
    (empty when not rendered: then only numbers are read against it)."""

    ids: tuple[str, ...]
    labels: tuple[str, ...] = ()
    # When this is a notice: the conversation's own newest list shown before it since the
    # conversation changed (its words are still read; its numbers are not).
    earlier: ShownChoices | None = None

    @property
    def is_notice(self) -> bool:
        """True when the message was a notice (a reminder): it has a notice's button."""
        return any(is_notice_choice(choice_id) for choice_id in self.ids)


def is_notice_choice(choice_id: str) -> bool:
    """True for a notice's button (sent outside the conversation, decided by the flow)."""
    return choice_id.startswith(NOTICE_CHOICE_PREFIX)


def typed_number(event: Event) -> int | None:
    """The number a message is, when it is only a short number (a choice typed by number)."""
    if isinstance(event, TextMessage):
        text = event.text.strip()
        # Length first: int() of a 5,000-digit paste is slow and then refused by Python.
        if text.isdecimal() and len(text) <= MAX_CHOICE_DIGITS:
            return int(text)
    return None


def may_be_a_choice(event: Event) -> bool:
    """True when a text is short enough to be a typed number or label (worth reading what
    was shown); taps, commands and long texts never are."""
    return isinstance(event, TextMessage) and len(event.text.strip()) <= MAX_LABEL_CHARS


def read_choice(
    event: Event, offered: tuple[str, ...], shown: ShownChoices | None, *, group: bool
) -> Event:
    """The choice a typed text stands for, by the rules above; else the event unchanged."""
    if not isinstance(event, TextMessage):
        return event
    number = typed_number(event)
    if not group and shown is not None:
        picked = _pick(shown, event.text, number)
        if picked is not None and (is_notice_choice(picked) or picked in offered):
            return ChoiceMade(picked)
        if shown.is_notice:
            earlier = shown.earlier
            if number is None and earlier is not None:
                # Words on no button of the reminder: maybe those of her own list's line.
                behind = _pick(earlier, event.text, None)
                if behind is not None and behind in offered:
                    return ChoiceMade(behind)
            # The person looks at a reminder's list: an older list's numbers are not shown.
            return event
    if number is not None and 1 <= number <= len(offered):
        return ChoiceMade(offered[number - 1])
    return event


def _pick(shown: ShownChoices, text: str, number: int | None) -> str | None:
    """The shown choice with this number, or (for a text that is no number) these words."""
    if number is not None:
        return shown.ids[number - 1] if 1 <= number <= len(shown.ids) else None
    if len(text.strip()) > MAX_LABEL_CHARS or len(shown.labels) != len(shown.ids):
        return None
    typed = same_label(text)
    return next(
        (i for i, label in zip(shown.ids, shown.labels, strict=True) if same_label(label) == typed),
        None,
    )
