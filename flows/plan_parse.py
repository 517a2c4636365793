"""Pure parsing of what coordinators and professionals type: dates, meeting slots, plans.

Swedish forms first ("15 dec", "nästa fredag", "i morgon", "om 2 veckor", "2026-12-15"),
with the few English words a coordinator writing in English would use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum

MONTHS = {
    "jan": 1, "januari": 1, "january": 1,
    "feb": 2, "februari": 2, "february": 2,
    "mar": 3, "mars": 3, "march": 3,
    "apr": 4, "april": 4,
    "maj": 5, "may": 5,
    "jun": 6, "juni": 6, "june": 6,
    "jul": 7, "juli": 7, "july": 7,
    "aug": 8, "augusti": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9,
    "okt": 10, "oktober": 10, "oct": 10, "october": 10,
    "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}  # fmt: skip

WEEKDAYS = {
    "måndag": 0, "mån": 0, "monday": 0, "mon": 0,
    "tisdag": 1, "tis": 1, "tuesday": 1, "tue": 1,
    "onsdag": 2, "ons": 2, "wednesday": 2, "wed": 2,
    "torsdag": 3, "tors": 3, "tor": 3, "thursday": 3, "thu": 3,
    "fredag": 4, "fre": 4, "friday": 4, "fri": 4,
    "lördag": 5, "lör": 5, "saturday": 5, "sat": 5,
    "söndag": 6, "sön": 6, "sunday": 6, "sun": 6,
}  # fmt: skip

# Dashes people paste between an action and its date: em dash, en dash, or a spaced hyphen.
_DATE_SEPARATOR = re.compile(r"\s+[—–-]\s+|\s*[—–]\s*|\s*;\s*")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})\s*([a-zåäö]+)\.?(?:\s+(\d{4}))?$")
_DAY_SLASH_MONTH = re.compile(r"^(\d{1,2})/(\d{1,2})(?:[/-](\d{2,4}))?$")
_IN_N = re.compile(r"^(?:om|in)\s+(\d{1,3})\s+(dag|dagar|day|days|vecka|veckor|week|weeks)$")
_TIME = re.compile(r"(?:kl\.?\s*)?\b(\d{1,2})[.:](\d{2})\b")
# A Swedish personal identity number (personnummer/samordningsnummer): 6 or 8 digits of date,
# an optional separator, then 4 digits. Such numbers must never be stored in this bot.
_PERSONNUMMER = re.compile(r"(?<!\d)(?:\d{2})?\d{2}[01]\d[0-9]\d\s?[-+]?\s?\d{4}(?!\d)")


def looks_like_personnummer(text: str) -> bool:
    """True when the text holds something shaped like a personnummer."""
    return _PERSONNUMMER.search(text) is not None


def parse_date(text: str, today: date) -> date | None:
    """A date from Swedish (or ISO) words, relative to today; None when not understood."""
    words = " ".join(text.lower().replace(",", " ").split())
    words = words.removeprefix("den ").removeprefix("on ")
    if words in ("idag", "i dag", "today"):
        return today
    if words in ("imorgon", "i morgon", "tomorrow"):
        return today + timedelta(days=1)
    if words in ("i övermorgon", "övermorgon"):
        return today + timedelta(days=2)
    if match := _IN_N.match(words):
        count, unit = int(match.group(1)), match.group(2)
        return today + timedelta(days=count * (7 if unit.startswith(("v", "w")) else 1))
    if match := _ISO.match(words):
        return _safe_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := _DAY_MONTH_NAME.match(words):
        month = MONTHS.get(match.group(2))
        if month is None:
            return None
        return _next_day_month(int(match.group(1)), month, match.group(3), today)
    if match := _DAY_SLASH_MONTH.match(words):
        return _next_day_month(int(match.group(1)), int(match.group(2)), match.group(3), today)
    return _weekday_date(words, today)


def _weekday_date(words: str, today: date) -> date | None:
    """ "fredag", "på fredag", "nästa fredag": the coming such day (next week's for "nästa")."""
    parts = words.split()
    if parts and parts[0] == "på":
        parts = parts[1:]
    following = bool(parts) and parts[0] in ("nästa", "next")
    if following:
        parts = parts[1:]
    if len(parts) != 1 or parts[0] not in WEEKDAYS:
        return None
    ahead = (WEEKDAYS[parts[0]] - today.weekday()) % 7 or 7
    if following and ahead < 7 and today.weekday() < WEEKDAYS[parts[0]]:
        # "nästa fredag" said on a Monday means Friday of next week, as Swedes use it.
        ahead += 7
    return today + timedelta(days=ahead)


def _next_day_month(day: int, month: int, year_text: str | None, today: date) -> date | None:
    """A day and month in the given year, or the next time it comes round."""
    if year_text is not None:
        year = int(year_text)
        return _safe_date(year + 2000 if year < 100 else year, month, day)
    found = _safe_date(today.year, month, day)
    if found is not None and found < today:
        found = _safe_date(today.year + 1, month, day)
    return found


def _safe_date(year: int, month: int, day: int) -> date | None:
    """A date, or None for an impossible one (31 november)."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class MeetingSlot:
    """When a meeting is, and every how many weeks it repeats (None: once)."""

    day: date
    at: time
    interval_weeks: int | None = None


def parse_meeting_slot(text: str, today: date) -> MeetingSlot | None:
    """ "varannan tisdag 13.00", "varje måndag kl 9.30", "15 dec 13.00", "2026-12-15 10:00"."""
    words = " ".join(text.lower().replace(",", " ").split())
    found = _TIME.search(words)
    if found is None:
        return None
    hour, minute = int(found.group(1)), int(found.group(2))
    if hour > 23 or minute > 59:
        return None
    at = time(hour, minute)
    rest = " ".join((words[: found.start()] + " " + words[found.end() :]).split())
    rest = rest.removesuffix(" kl").removesuffix(" kl.").strip()
    interval: int | None = None
    for prefix, weeks in (
        ("varannan ", 2),
        ("var tredje ", 3),
        ("var fjärde ", 4),
        ("varje ", 1),
        ("every other ", 2),
        ("every ", 1),
    ):
        if rest.startswith(prefix):
            interval, rest = weeks, rest.removeprefix(prefix).strip()
            break
    if interval is not None:
        weekday = WEEKDAYS.get(rest)
        if weekday is None:
            return None
        ahead = (weekday - today.weekday()) % 7 or 7
        return MeetingSlot(today + timedelta(days=ahead), at, interval)
    day = parse_date(rest, today)
    return MeetingSlot(day, at) if day is not None else None


class LineProblem(StrEnum):
    """Why a pasted plan line could not be read."""

    NO_OWNER = "no_owner"
    NO_DATE = "no_date"
    BAD_DATE = "bad_date"
    PAST_DATE = "past_date"
    NO_TEXT = "no_text"
    IDENTITY_NUMBER = "identity_number"


@dataclass(frozen=True, slots=True)
class PlanLine:
    """One line of a pasted plan, read: who, what and by when (or what is wrong with it)."""

    number: int
    owner: str
    description: str
    due: date | None
    problem: LineProblem | None = None


def parse_plan(text: str, today: date) -> list[PlanLine]:
    """Reads a pasted plan: one action per line, `Owner: what to do — date`."""
    lines: list[PlanLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("-*•").strip()
        if not line:
            continue
        lines.append(parse_plan_line(number, line, today))
    return lines


def parse_plan_line(number: int, line: str, today: date) -> PlanLine:
    """Reads one plan line."""
    if looks_like_personnummer(line):
        return PlanLine(number, "", "", None, LineProblem.IDENTITY_NUMBER)
    owner, colon, rest = line.partition(":")
    if not colon or not owner.strip():
        return PlanLine(number, "", line, None, LineProblem.NO_OWNER)
    parts = _DATE_SEPARATOR.split(rest.strip())
    if len(parts) < 2:
        return PlanLine(number, owner.strip(), rest.strip(), None, LineProblem.NO_DATE)
    description = " ".join(p.strip() for p in parts[:-1]).strip()
    if not description:
        return PlanLine(number, owner.strip(), "", None, LineProblem.NO_TEXT)
    due = parse_date(parts[-1], today)
    if due is None:
        return PlanLine(number, owner.strip(), description, None, LineProblem.BAD_DATE)
    if due < today:
        return PlanLine(number, owner.strip(), description, due, LineProblem.PAST_DATE)
    return PlanLine(number, owner.strip(), description, due)
