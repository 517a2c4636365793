"""Reading what coordinators and professionals type: Swedish dates, meeting slots, pasted plans."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.plan_parse import (
    LineProblem,
    MeetingSlot,
    looks_like_personnummer,
    parse_date,
    parse_meeting_slot,
    parse_plan,
)

MONDAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15 dec", date(2026, 12, 15)),
        ("15 december", date(2026, 12, 15)),
        ("den 15 dec", date(2026, 12, 15)),
        ("2026-12-15", date(2026, 12, 15)),
        ("15/12", date(2026, 12, 15)),
        ("3 jan", date(2027, 1, 3)),  # already passed this year: next year
        ("15 december 2027", date(2027, 12, 15)),
        ("idag", MONDAY),
        ("i morgon", date(2026, 11, 24)),
        ("fredag", date(2026, 11, 27)),
        ("på fredag", date(2026, 11, 27)),
        ("nästa fredag", date(2026, 12, 4)),
        ("Nästa Fredag", date(2026, 12, 4)),
        ("om 2 veckor", date(2026, 12, 7)),
        ("om 3 dagar", date(2026, 11, 26)),
    ],
)
def test_swedish_dates_are_understood(text: str, expected: date) -> None:
    assert parse_date(text, MONDAY) == expected


@pytest.mark.parametrize("text", ["31 nov", "snart", "15 decembrum", "2026-13-01", ""])
def test_what_is_not_a_date_is_refused(text: str) -> None:
    assert parse_date(text, MONDAY) is None


@pytest.mark.parametrize(
    ("text", "slot"),
    [
        ("varannan tisdag 13.00", MeetingSlot(date(2026, 11, 24), time(13, 0), 2)),
        ("varje måndag kl 9.30", MeetingSlot(date(2026, 11, 30), time(9, 30), 1)),
        ("15 dec 13.00", MeetingSlot(date(2026, 12, 15), time(13, 0))),
        ("2026-12-15 10:00", MeetingSlot(date(2026, 12, 15), time(10, 0))),
        ("nästa fredag kl. 10.15", MeetingSlot(date(2026, 12, 4), time(10, 15))),
    ],
)
def test_meeting_slots_once_or_recurring(text: str, slot: MeetingSlot) -> None:
    assert parse_meeting_slot(text, MONDAY) == slot


@pytest.mark.parametrize("text", ["varannan tisdag", "25.00 i morgon", "varje dag 10.00"])
def test_meeting_slots_without_a_clear_time_or_day_are_refused(text: str) -> None:
    assert parse_meeting_slot(text, MONDAY) is None


def test_a_pasted_plan_is_read_line_by_line_with_the_problems_named() -> None:
    lines = parse_plan(
        """BUP: Boka neuropsykiatrisk utredning — 2026-12-15
        - Skolan: Anpassat schema – 15 dec

        Familjen: Ansöka om kontaktperson
        Soc utan kolon — 15 dec
        BUP: Remiss — snart
        BUP: Gammal — 2026-01-01
        BUP: Alex 080412-1234 — 15 dec""",
        MONDAY,
    )
    assert [(x.number, x.owner, x.description, x.due, x.problem) for x in lines] == [
        (1, "BUP", "Boka neuropsykiatrisk utredning", date(2026, 12, 15), None),
        (2, "Skolan", "Anpassat schema", date(2026, 12, 15), None),
        (4, "Familjen", "Ansöka om kontaktperson", None, LineProblem.NO_DATE),
        (5, "", "Soc utan kolon — 15 dec", None, LineProblem.NO_OWNER),
        (6, "BUP", "Remiss", None, LineProblem.BAD_DATE),
        (7, "BUP", "Gammal", date(2026, 1, 1), LineProblem.PAST_DATE),
        (8, "", "", None, LineProblem.IDENTITY_NUMBER),
    ]


@pytest.mark.parametrize(
    "text", ["080412-1234", "20080412-1234", "200804121234", "0804121234", "080472+1234"]
)
def test_identity_numbers_are_recognised(text: str) -> None:
    assert looks_like_personnummer(f"Alex {text} bor här")


@pytest.mark.parametrize("text", ["Alex", "2026-12-15", "ring 08-123 45 67", "K-12"])
def test_ordinary_text_is_not_an_identity_number(text: str) -> None:
    assert not looks_like_personnummer(text)


@given(st.text(max_size=200))
def test_any_text_is_parsed_without_crashing(text: str) -> None:
    for line in parse_plan(text, MONDAY):
        assert line.problem is not None or (line.due is not None and line.due >= MONDAY)
    parse_meeting_slot(text, MONDAY)
