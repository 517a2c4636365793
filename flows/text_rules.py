"""Rules for free text people write: trimmed, not empty, not too long, no control characters;
and for the web links they paste."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

QUESTION_MAX_CHARS = 1000
VIEW_MAX_CHARS = 2000


# Control characters corrupt terminals and logs; lone surrogates cannot even be stored.
_DROP = frozenset({"Cc", "Cs"})
_INVISIBLE = frozenset(
    "\u200b\u2060\ufeff\u00ad\u180e"  # zero-width space, word joiner, BOM, soft hyphen
    "\u202a\u202b\u202c\u202d\u202e"  # bidi embeddings and overrides
    "\u2066\u2067\u2068\u2069\u200e\u200f\u061c"  # bidi isolates and marks
    "\u2028\u2029"  # line and paragraph separators (render as breaks in some clients only)
)


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
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _DROP)
    # Invisible characters that can hide or reorder text (bidi overrides that make a question
    # read backwards to the coordinator, zero-width spaces) are dropped; the joiners that
    # build emoji and some scripts (ZWJ, ZWNJ) carry meaning and stay.
    text = "".join(ch for ch in text if ch not in _INVISIBLE).strip()
    if not text:
        return TextProblem.EMPTY
    if len(text) > max_chars:
        return TextProblem.TOO_LONG
    return CleanText(text)


def clean_link(raw: str, max_chars: int) -> CleanText | None:
    """A pasted web link (http or https, with a host) without hidden characters; None if it
    is not one."""
    # A lone surrogate cannot be stored or sent, and dropping it would change the link; the
    # pipeline turns one into U+FFFD (flows.conversation.clean_event), which is as broken.
    if any(unicodedata.category(ch) == "Cs" or ch == "\ufffd" for ch in raw):
        return None
    # Control, bidi and zero-width characters never belong in a link: pasting picks them up
    # (a trailing newline, a marker from a chat app), and they can make a link read as
    # another. NFC is not applied: it could change the bytes of a working link's path.
    link = "".join(
        ch for ch in raw if unicodedata.category(ch) != "Cc" and ch not in _INVISIBLE
    ).strip()
    if not link or len(link) > max_chars or any(ch.isspace() for ch in link):
        return None
    try:
        parts = urlsplit(link)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return CleanText(link)


def same_label(text: str) -> str:
    """A choice's label as typed or shown, with case and spacing ignored, for comparing."""
    # Bidi isolates and marks (a right-to-left language isolates the values in its labels)
    # are invisible: a label typed without them is the same label.
    return " ".join("".join(ch for ch in text if ch not in _INVISIBLE).split()).casefold()
