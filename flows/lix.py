"""LIX readability, pure: the catalogue's plain-language test (bot/readability.py) and the
coordinator's notes for a young person (flows/coordinator/notes.py) score text the same way.

LIX = words / sentences + 100 × long words / words, where a long word has more than six
letters. Below 30 is very easy, 30–40 easy (children's books, plain newspapers), 40–50 middle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LONG_WORD = 6

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_SENTENCE_END = re.compile(r"[.!?:]+(?=\s|$)")
# "1. ", "X. " (a numbered item), "• " or "- " opening a line is a list marker, not a sentence.
_LIST_MARKER = re.compile(r"^(?:(?:\d{1,3}|X)[.)]|[•\-–])\s+")


@dataclass(frozen=True, slots=True)
class Readability:
    """The LIX of one text and what it is made of."""

    lix: float
    words: int
    sentences: int
    long_words: int


def is_long(word: str) -> bool:
    """True for a word of more than six letters (LIX's long word)."""
    return sum(ch.isalpha() for ch in word) > LONG_WORD


def long_words(text: str) -> tuple[str, ...]:
    """The text's long words, each once, in the order they first appear."""
    return tuple(dict.fromkeys(w for w in _WORD.findall(text) if is_long(w)))


def readability(text: str) -> Readability:
    """LIX of a text. A line without closing punctuation (a heading, a list item) is a sentence."""
    words = _WORD.findall(text)
    sentences = 0
    for line in text.splitlines():
        stripped = _LIST_MARKER.sub("", line.strip())
        if not _WORD.search(stripped):
            continue
        ends = len(_SENTENCE_END.findall(stripped))
        # A quotation or bracket may close the line after the full stop: «Så här.»
        tail = stripped.rstrip("»\"”)'")
        if not tail or tail[-1] not in ".!?:":
            ends += 1
        sentences += ends
    sentences = max(sentences, 1)
    long_count = sum(1 for w in words if is_long(w))
    if not words:
        return Readability(0.0, 0, sentences, 0)
    value = len(words) / sentences + 100 * long_count / len(words)
    return Readability(round(value, 1), len(words), sentences, long_count)
