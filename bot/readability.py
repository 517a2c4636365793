"""Plain language: LIX readability of the catalogue's texts, and who each text is written for.

LIX = words / sentences + 100 × long words / words, where a long word has more than six
letters. Below 30 is very easy, 30–40 easy (children's books, plain newspapers), 40–50 middle.
The young people's texts aim at a 12–14-year-old; the adults' may be a little harder.

A message's audience follows from its id's first part (see AUDIENCE_BY_PREFIX): a new group
of texts is placed there when it is added, or it is not checked.
"""

from __future__ import annotations

import re
from enum import StrEnum

# The score itself is pure and lives in flows/ (the coordinator's notes are scored there too).
from flows.lix import LONG_WORD as LONG_WORD
from flows.lix import Readability as Readability
from flows.lix import readability as readability


class Audience(StrEnum):
    """Who reads a text, which sets how plain it must be."""

    YOUTH = "youth"
    CAREGIVER = "caregiver"
    # Coordinators, professionals, operators: written for work, not scored.
    PROFESSIONAL = "professional"


# The first part of a message id → who reads it. Texts a young person can see are YOUTH even
# when adults see them too (menus, meeting info, the shared picture, errors, joining).
AUDIENCE_BY_PREFIX: dict[str, Audience] = {
    "youth": Audience.YOUTH,
    # E-mails to professionals and the pages of their answer links (bot/email/): for work.
    "email": Audience.PROFESSIONAL,
    "email_links": Audience.PROFESSIONAL,
    "email_switch": Audience.PROFESSIONAL,
    "common": Audience.YOUTH,
    "join": Audience.YOUTH,
    "onboarding": Audience.YOUTH,
    "text": Audience.YOUTH,
    "participation": Audience.YOUTH,
    "menu": Audience.YOUTH,
    "meeting": Audience.YOUTH,
    # Everyone is told of a booked, moved or cancelled meeting (flows/meeting_changes.py).
    "meeting_changes": Audience.YOUTH,
    "org_default": Audience.YOUTH,
    "picture": Audience.YOUTH,
    "request": Audience.YOUTH,
    "language": Audience.YOUTH,
    # Where to turn when it is urgent (flows/help_now.py): written for the young person first.
    "help_now": Audience.YOUTH,
    # Who reads what is shared (flows/share_step.py): the young person chooses it too.
    "sharing": Audience.YOUTH,
    # The plan for the family (flows/family_plan.py): the young person reads it too.
    "plan": Audience.YOUTH,
    # The family's follow-up and the closing notice (flows/family_reports.py); their staff
    # side (a failed follow-up, a closed case) is for work.
    "family_report": Audience.YOUTH,
    "family_report_staff": Audience.PROFESSIONAL,
    # Notes from the meeting and the questions answered (flows/meeting_notes.py).
    "notes": Audience.YOUTH,
    # Suggesting someone who matters, and "jag kan inte komma" (flows/people_who_matter.py,
    # flows/cannot_come.py): the young person writes them too.
    "matter": Audience.YOUTH,
    "absent": Audience.YOUTH,
    # The chat adapters' own messages (undecryptable message, sorry-something-failed, the
    # command menu) reach young people too.
    "telegram": Audience.YOUTH,
    # First contact, consent, "mina data" and "glöm mig" (flows/consent/) reach everyone.
    "consent": Audience.YOUTH,
    "privacy": Audience.YOUTH,
    "matrix": Audience.YOUTH,
    # A late reminder's excuse reaches anyone; the "can no longer reach" notice goes to
    # coordinators but is kept as plain as the rest.
    "delivery": Audience.YOUTH,
    # Who is who and meeting needs (flows/who_is_who.py, flows/meeting_needs.py).
    "needs": Audience.YOUTH,
    "caregiver": Audience.CAREGIVER,
    # The coordinator's side of who is who (flows/coordinator/who.py).
    "orgs": Audience.PROFESSIONAL,
    "member": Audience.PROFESSIONAL,
    "coord": Audience.PROFESSIONAL,
    # The coordinator books, moves and cancels meetings (flows/coordinator/meeting_edits.py).
    "meeting_edit": Audience.PROFESSIONAL,
    "convene": Audience.PROFESSIONAL,
    "pro": Audience.PROFESSIONAL,
    "nudge": Audience.PROFESSIONAL,
    "status": Audience.PROFESSIONAL,
    "alert": Audience.PROFESSIONAL,
    "report": Audience.PROFESSIONAL,
    "role": Audience.PROFESSIONAL,
    "console": Audience.PROFESSIONAL,
    "_format": Audience.PROFESSIONAL,
}

# Highest LIX allowed per text, and for the average of the young people's texts.
MAX_LIX = {Audience.YOUTH: 35.0, Audience.CAREGIVER: 40.0}
MAX_AVERAGE_YOUTH_LIX = 25.0
# LIX describes running text. A button label of two words, one of them long, scores 50+ and
# says nothing about readability, so texts shorter than this are not scored.
MIN_WORDS = 6
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_JINJA_STATEMENT = re.compile(r"\{%.*?%\}", re.S)
# A parameter (a name, a date, a number) reads like one short word.
_JINJA_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.S)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def audience(message_id: str) -> Audience | None:
    """Who reads a message, by the first part of its id; None when it is not classified."""
    return AUDIENCE_BY_PREFIX.get(message_id.split(".", 1)[0])


def template_text(template: str) -> str:
    """The words a reader sees of a catalogue template: tags dropped, parameters as "X".

    Both branches of an {% if %} are kept: each must be plain, and the reader sees one.
    """
    text = _JINJA_COMMENT.sub("", template)
    text = _JINJA_STATEMENT.sub(" ", text)
    text = _JINJA_EXPRESSION.sub("X", text)
    return _TAG.sub("", text)
