"""Rules for free text people write: trimmed, not empty, not too long, no control characters."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

QUESTION_MAX_CHARS = 1000
VIEW_MAX_CHARS = 2000


class TextProblem(StrEnum):
    """Why a piece of free text was not accepted."""

    EMPTY = "empty"
    TOO_LONG = "too_long"


@dataclass(frozen=True, slots=True)
class CleanText:
    """Text that passed the rules, ready to store."""

    text: str


def clean_text(raw: str, max_chars: int) -> CleanText | TextProblem:
    """Normalises free text and checks it; never changes what the person meant."""
    # NFC so the same letter typed two ways (å as one or two code points) is stored once.
    text = unicodedata.normalize("NFC", raw)
    # Control characters (other than line breaks and tabs) can corrupt a terminal or a log
    # viewer and never carry meaning in a question.
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc").strip()
    if not text:
        return TextProblem.EMPTY
    if len(text) > max_chars:
        return TextProblem.TOO_LONG
    return CleanText(text)
