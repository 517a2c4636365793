"""What a typed number or label means, by the rules of flows/choice_reading.py.

Sara's own list offers two actions; a reminder then shows her one button, "Visa mina
åtgärder". What she types is read against what she looks at.
"""

from __future__ import annotations

from flows.choice_reading import ShownChoices, read_choice
from flows.conversation import ChoiceMade, Command, CommandIssued, TextMessage

OFFERED = ("a:1", "a:2")
HER_LIST = ShownChoices(OFFERED, ("K-1: Ring skolan", "K-1: Skicka remiss"))
REMINDER = ShownChoices(("n:pro:list",), ("Visa mina åtgärder",))


def private(text: str, shown: ShownChoices | None) -> object:
    """What Sara's text means in her private chat."""
    return read_choice(TextMessage(text), OFFERED, shown, group=False)


def in_group(text: str, shown: ShownChoices | None) -> object:
    """What the same text means in a group chat."""
    return read_choice(TextMessage(text), OFFERED, shown, group=True)


def test_after_a_reminder_1_is_the_reminders_first_button() -> None:
    assert private("1", REMINDER) == ChoiceMade("n:pro:list")


def test_after_a_reminder_a_number_beyond_its_buttons_is_text_not_the_older_list() -> None:
    assert private("2", REMINDER) == TextMessage("2")


def test_after_a_reminder_its_buttons_words_are_its_button_in_any_case_and_spacing() -> None:
    assert private("  visa MINA   åtgärder ", REMINDER) == ChoiceMade("n:pro:list")


def test_the_words_of_a_line_of_her_own_list_are_that_line() -> None:
    assert private("k-1: skicka remiss", HER_LIST) == ChoiceMade("a:2")


def test_a_number_of_her_own_list_is_that_line() -> None:
    assert private("2", HER_LIST) == ChoiceMade("a:2")
    assert private("2", None) == ChoiceMade("a:2")


def test_a_number_beyond_the_offered_choices_is_text() -> None:
    assert private("3", HER_LIST) == TextMessage("3")
    assert private("0", None) == TextMessage("0")


def test_words_that_are_no_buttons_label_stay_text() -> None:
    assert private("Visa mina", REMINDER) == TextMessage("Visa mina")
    assert private("Ring skolan", HER_LIST) == TextMessage("Ring skolan")


def test_a_label_typed_in_a_group_is_text() -> None:
    assert in_group("K-1: Ring skolan", HER_LIST) == TextMessage("K-1: Ring skolan")


def test_in_a_group_a_number_is_read_only_against_the_conversations_own_choices() -> None:
    # The newest list in a group may be someone else's reminder.
    assert in_group("1", REMINDER) == ChoiceMade("a:1")


def test_a_shown_button_the_conversation_no_longer_offers_is_not_chosen() -> None:
    older = ShownChoices(("q:9",), ("Min gamla fråga",))
    assert private("Min gamla fråga", older) == TextMessage("Min gamla fråga")
    # Its number then means the offered line with that number.
    assert private("1", older) == ChoiceMade("a:1")


def test_a_button_whose_words_are_a_number_is_typed_by_its_number() -> None:
    shown = ShownChoices(("a:1", "a:2"), ("2", "Varför?"))
    assert private("2", shown) == ChoiceMade("a:2")
    assert private("varför?", shown) == ChoiceMade("a:2")


def test_without_the_words_of_the_buttons_only_numbers_are_read() -> None:
    unrendered = ShownChoices(REMINDER.ids)
    assert private("1", unrendered) == ChoiceMade("n:pro:list")
    assert private("Visa mina åtgärder", unrendered) == TextMessage("Visa mina åtgärder")


def test_taps_and_commands_are_not_read() -> None:
    tap = ChoiceMade("a:2")
    assert read_choice(tap, OFFERED, REMINDER, group=False) == tap
    command = CommandIssued(Command.HELP)
    assert read_choice(command, OFFERED, REMINDER, group=False) == command


def test_a_long_text_is_never_a_label() -> None:
    label = "x" * 80
    shown = ShownChoices(("n:long",), (label,))
    assert private(label, shown) == TextMessage(label)


def test_after_a_reminder_the_words_of_a_line_of_her_own_list_still_are_that_line() -> None:
    # The reminder came in between her list and her answer: the words she typed are on no
    # button of the reminder, but they are the words of a line of her own list (words are
    # unambiguous, unlike a number, which stays the reminder's).
    behind = ShownChoices(REMINDER.ids, REMINDER.labels, earlier=HER_LIST)
    assert private("K-1: Skicka remiss", behind) == ChoiceMade("a:2")
    assert private("visa mina åtgärder", behind) == ChoiceMade("n:pro:list")
    assert private("2", behind) == TextMessage("2")
    assert private("Ring skolan", behind) == TextMessage("Ring skolan")
