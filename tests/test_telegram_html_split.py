"""Long messages are cut into parts Telegram accepts, with tags closed and opened again."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from bot.telegram.html_split import MESSAGE_LIMIT, split_html, utf16_length
from tests.support.strict_bot_api import check, parse_telegram_html


def visible(text: str) -> str:
    """What the reader sees, without any whitespace (cuts may drop a blank)."""
    return re.sub(r"\s", "", parse_telegram_html(text))


def test_a_short_message_is_sent_as_it_is() -> None:
    assert split_html("<b>Steg 1 av 4</b>\nHej!") == ["<b>Steg 1 av 4</b>\nHej!"]


def test_a_long_list_is_cut_at_a_line_break_within_the_limit() -> None:
    lines = [f"{n}. " + "ord " * 60 for n in range(1, 40)]
    text = "<b>Dina frågor:</b>\n" + "\n".join(lines)
    parts = split_html(text)
    assert len(parts) > 1
    for part in parts:
        assert utf16_length(part) <= MESSAGE_LIMIT
        assert check("sendMessage", {"text": part, "parse_mode": "HTML"}) is None
    # Every part but the last ends where a line ended: no question is cut in two.
    assert all(re.search(r"ord$", part) for part in parts)
    assert visible("".join(parts)) == visible(text)


def test_emphasis_open_at_the_cut_is_closed_and_reopened() -> None:
    text = "<b>" + "a " * 3000 + "</b>"
    first, second = split_html(text)
    assert first.startswith("<b>") and first.endswith("</b>")
    assert second.startswith("<b>") and second.endswith("</b>")


def test_an_entity_or_an_emoji_is_never_cut() -> None:
    text = "&amp;😀" * 2000  # no spaces at all: cuts fall between tokens
    parts = split_html(text, limit=1000)
    for part in parts:
        assert utf16_length(part) <= 1000
        assert parse_telegram_html(part)
    assert visible("".join(parts)) == visible(text)


hostile = st.text(
    alphabet=st.sampled_from([*"ab <>&\"'\n", "😀", "\u202e", "{", "}", "å"]),
    max_size=400,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", "b", "i", "code"]), hostile), max_size=30))
def test_any_escaped_text_splits_into_valid_parts(pieces: list[tuple[str, str]]) -> None:
    text = "".join(f"<{tag}>{escape(s)}</{tag}>" if tag else str(escape(s)) for tag, s in pieces)
    parts = split_html(text, limit=300)
    for part in parts:
        assert utf16_length(part) <= 300
        assert check("sendMessage", {"text": part, "parse_mode": "HTML"}) is None
    assert visible("".join(parts)) == visible(text)
