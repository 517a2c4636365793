"""Splits rendered HTML into Telegram-sized messages without cutting a tag or an entity.

Telegram counts a message's length in UTF-16 code units after parsing entities, up to 4096.
We measure the HTML source instead, which is never shorter, so every part is accepted
whatever the text holds. Tags open at a cut are closed at the end of one part and opened
again at the start of the next, so emphasis carries over and each part is valid on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024

# The catalogue only produces these tags (bot/catalogue.py ALLOWED_TAGS) and escaped text.
_TOKEN = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*>|&#?[a-zA-Z0-9]+;|.", re.DOTALL)
_OPEN = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)>")
_CLOSE = re.compile(r"</([a-zA-Z][a-zA-Z0-9]*)>")


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji is usually two)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class _Cut:
    """A place a part may end: token index and the tags open there."""

    end: int
    open_tags: tuple[str, ...]


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Parts of at most `limit` units, cut at a line break, else a space, else anywhere."""
    if utf16_length(text) <= limit:
        return [text] if _visible(text).strip() else []
    tokens = _TOKEN.findall(text)
    parts: list[str] = []
    start = 0
    reopened: tuple[str, ...] = ()
    while start < len(tokens):
        # A part never starts with the blank that ended the one before it.
        while start < len(tokens) and tokens[start].isspace():
            start += 1
        if start >= len(tokens):
            break
        cut = _fill(tokens, start, reopened, limit)
        body = "".join(tokens[start : cut.end])
        part = _openers(reopened) + body + _closers(cut.open_tags)
        if _visible(part).strip():
            parts.append(part.rstrip())
        start, reopened = cut.end, cut.open_tags
    return parts


def _fill(tokens: list[str], start: int, reopened: tuple[str, ...], limit: int) -> _Cut:
    """The furthest good cut after `start` that keeps the part within `limit`."""
    stack = list(reopened)
    length = utf16_length(_openers(reopened))
    last_line: _Cut | None = None
    last_space: _Cut | None = None
    index = start
    while index < len(tokens):
        token = tokens[index]
        after = _stack_after(stack, token)
        if length + utf16_length(token) + utf16_length(_closers(tuple(after))) > limit:
            break
        stack = after
        length += utf16_length(token)
        index += 1
        if token == "\n":
            last_line = _Cut(index, tuple(stack))
        elif token.isspace():
            last_space = _Cut(index, tuple(stack))
    if index >= len(tokens):
        return _Cut(index, tuple(stack))
    # Prefer a line break, then a space, unless that would leave the part under half full.
    for cut in (last_line, last_space):
        if cut is not None and cut.end - start > (index - start) // 2:
            return cut
    if index == start:
        raise ValueError("limit too small for a single token")
    return _Cut(index, tuple(stack))


def _stack_after(stack: list[str], token: str) -> list[str]:
    """The open tags after one token."""
    opened = _OPEN.fullmatch(token)
    if opened:
        return [*stack, opened.group(1)]
    closed = _CLOSE.fullmatch(token)
    if closed and closed.group(1) in stack:
        position = len(stack) - 1 - stack[::-1].index(closed.group(1))
        return stack[:position]
    return stack


def _openers(tags: tuple[str, ...]) -> str:
    """Opening tags in nesting order."""
    return "".join(f"<{tag}>" for tag in tags)


def _closers(tags: tuple[str, ...]) -> str:
    """Closing tags in reverse nesting order."""
    return "".join(f"</{tag}>" for tag in reversed(tags))


def _visible(part: str) -> str:
    """The part without its tags (to skip parts that would show nothing)."""
    return re.sub(r"</?[a-zA-Z][a-zA-Z0-9]*>", "", part)
