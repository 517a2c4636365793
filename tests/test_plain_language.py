"""Plain language: every Swedish text a young person reads has a LIX of at most 35 (on average
at most 25), every caregiver text at most 40; and the check catches a hard sentence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from bot.catalogue import LOCALES_DIR, load_locale
from bot.readability import (
    MAX_AVERAGE_YOUTH_LIX,
    MAX_LIX,
    MIN_WORDS,
    Audience,
    audience,
    readability,
    template_text,
)

SWEDISH = load_locale(LOCALES_DIR / "sv")
HARD = (
    "Myndigheternas samverkansstrukturer förutsätter interorganisatorisk koordinering "
    "avseende individens behovsbilder och insatsplanering."
)


@dataclass(frozen=True)
class Score:
    """The LIX of one catalogue message."""

    message_id: str
    audience: Audience
    lix: float


def scores(messages: Mapping[str, str]) -> list[Score]:
    """LIX of every scored message: young people's and caregivers' texts of running prose."""
    result = []
    for message_id, template in sorted(messages.items()):
        who = audience(message_id)
        if who not in MAX_LIX:
            continue
        measured = readability(template_text(template))
        if measured.words >= MIN_WORDS:
            result.append(Score(message_id, who, measured.lix))
    return result


def too_hard(messages: Mapping[str, str]) -> list[Score]:
    """The messages over their audience's limit."""
    return [s for s in scores(messages) if s.lix > MAX_LIX[s.audience]]


def youth_average(messages: Mapping[str, str]) -> float:
    """The average LIX of the young people's texts."""
    youth = [s.lix for s in scores(messages) if s.audience is Audience.YOUTH]
    return sum(youth) / len(youth)


def test_lix_is_words_per_sentence_plus_the_share_of_long_words() -> None:
    # 7 words, 2 sentences, 1 word longer than six letters ("fotboll").
    measured = readability("Jag gillar fotboll. Min hund heter Ludde.")
    assert (measured.words, measured.sentences, measured.long_words) == (7, 2, 1)
    assert measured.lix == pytest.approx(7 / 2 + 100 * 1 / 7, abs=0.05)


def test_templates_are_scored_as_read_parameters_as_short_words_tags_dropped() -> None:
    text = template_text(
        "<b>Hej {{ name }}!</b>{% if x %} Mötet är {{ at | datetime }}.{% endif %}"
    )
    assert " ".join(text.split()) == "Hej X! Mötet är X."
    # A list item or heading without a full stop is a sentence of its own.
    assert readability("Dina frågor\n1. X\n2. X").sentences == 3


def test_every_young_persons_text_is_plain() -> None:
    youth = [s for s in too_hard(SWEDISH) if s.audience is Audience.YOUTH]
    assert youth == [], "rewrite these in shorter sentences and shorter words"
    assert youth_average(SWEDISH) <= MAX_AVERAGE_YOUTH_LIX


def test_every_caregivers_text_is_plain() -> None:
    assert [s for s in too_hard(SWEDISH) if s.audience is Audience.CAREGIVER] == []


def test_the_check_scores_many_texts_of_each_audience() -> None:
    scored = scores(SWEDISH)
    assert sum(s.audience is Audience.YOUTH for s in scored) >= 60
    assert sum(s.audience is Audience.CAREGIVER for s in scored) >= 15
    assert {"youth.about", "picture.show", "meeting.info", "caregiver.menu"} <= {
        s.message_id for s in scored
    }


def test_the_check_fails_on_a_deliberately_hard_sentence() -> None:
    assert readability(HARD).lix > 60
    with_hard = {**SWEDISH, "youth.help.menu": HARD, "caregiver.help.list": HARD}
    assert [s.message_id for s in too_hard(with_hard)] == ["caregiver.help.list", "youth.help.menu"]
    # Hard youth texts also pull the average over the limit.
    many_hard = {f"youth.hard{n}": HARD for n in range(100)}
    assert youth_average({**SWEDISH, **many_hard}) > MAX_AVERAGE_YOUTH_LIX


def test_every_message_is_placed_with_an_audience() -> None:
    unplaced = sorted(i for i in SWEDISH if audience(i) is None)
    assert unplaced == [], (
        "add the first part of these ids to AUDIENCE_BY_PREFIX in bot/readability.py"
    )


def test_swedish_and_english_have_the_same_messages() -> None:
    english = load_locale(LOCALES_DIR / "en")
    assert sorted(SWEDISH.keys() - english.keys()) == []
    assert sorted(english.keys() - SWEDISH.keys()) == []
