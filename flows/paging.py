"""Long lists of choices shown a page at a time, for every flow and every platform.

A flow builds its list as long as the data is (150 cases, 200 actions); the engine shows
one page of it, with "Fler" / "Föregående" to turn the page. Telegram refuses a keyboard of
more than 100 buttons, and a numbered list of 150 lines is unreadable in a terminal or a
Matrix room, so the limit is kept here, once, instead of in each flow.

Which choices are paged: the list's *items*, the choices whose id reads `kind:key`
("c:17", "a:203", "w:family"): they are made from data, one per row, so they are the ones
that grow. The others (ids without a colon: "home", "back", "cancel", "new_case", "add")
are the flow's own fixed actions and navigation; they stay on every page where the flow
put them, before or after the items. Reserved ids (a page turn, the private-chat link) are
never items. A flow that adds a growing list follows the `kind:key` convention and is paged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flows.replies import PRIVATE_CHAT_LINK, Choice, Reply

# Items on one page. Ten rows fit on a phone screen with the message above them, a number
# typed for one stays a single or double digit, and a page of ten plus the page turns and a
# flow's few fixed choices (at most four today) stays far below Telegram's 100 buttons.
# Ten also makes "sida 3 av 15" easy to reckon with: page 3 holds items 21-30.
PAGE_SIZE = 10

# The id of a page turn: "page:3" shows page 3. Absolute page numbers, so a turn tapped
# twice (or on an older message) shows the same page, never one further.
PAGE_CHOICE_PREFIX = "page:"

_NOT_ITEMS = (PAGE_CHOICE_PREFIX, PRIVATE_CHAT_LINK)


@dataclass(frozen=True, slots=True)
class Pages:
    """A reply too long for one message: the reply with every choice, and the page shown."""

    reply: Reply
    page: int = 1


def is_item(choice: Choice) -> bool:
    """True for a choice made from data (`kind:key`), the kind of choice a list grows by."""
    return ":" in choice.id and not choice.id.startswith(_NOT_ITEMS)


def page_count(reply: Reply) -> int:
    """How many pages the reply's items take (1 for a list that fits)."""
    items = sum(1 for c in reply.choices if is_item(c))
    return max(1, -(-items // PAGE_SIZE))


def needs_pages(reply: Reply) -> bool:
    """True when the reply has more items than one page shows."""
    return page_count(reply) > 1


def page_of(reply: Reply, page: int) -> Reply:
    """The reply with one page of its items (the nearest page when out of range), the page
    turns right after them, and its fixed choices where the flow put them."""
    pages = page_count(reply)
    if pages == 1:
        return reply
    page = min(max(page, 1), pages)
    first_item = next(n for n, c in enumerate(reply.choices) if is_item(c))
    leading = reply.choices[:first_item]
    items = [c for c in reply.choices if is_item(c)]
    trailing = [c for c in reply.choices[first_item:] if not is_item(c)]
    shown = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    turns = []
    if page > 1:
        turns.append(_turn("common.page_previous", page - 1, pages))
    if page < pages:
        turns.append(_turn("common.page_next", page + 1, pages))
    return replace(reply, choices=(*leading, *shown, *turns, *trailing))


def _turn(label: str, page: int, pages: int) -> Choice:
    """The choice that shows another page; its label says which page of how many."""
    return Choice(f"{PAGE_CHOICE_PREFIX}{page}", label, {"page": page, "pages": pages})


def requested_page(choice_id: str) -> int | None:
    """The page a page turn asks for; None for any other choice."""
    number = choice_id.removeprefix(PAGE_CHOICE_PREFIX)
    if number == choice_id or not number.isdecimal() or len(number) > 4:
        return None
    return int(number)


def shown(
    replies: tuple[Reply, ...], before: Pages | None
) -> tuple[tuple[Reply, ...], Pages | None]:
    """The replies as they are shown, with the last list among them paged, and the pages to
    remember for the next page turn (None when nothing is paged).

    The same list shown again (help, a stale button) stays on the page it was on.
    """
    last = next((n for n in range(len(replies) - 1, -1, -1) if replies[n].choices), None)
    if last is None or not needs_pages(replies[last]):
        return replies, None
    whole = replies[last]
    page = before.page if before is not None and before.reply == whole else 1
    page = min(max(page, 1), page_count(whole))
    paged = (*replies[:last], page_of(whole, page), *replies[last + 1 :])
    return paged, Pages(whole, page)
