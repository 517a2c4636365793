"""The young person's step 4: what she shares, and who reads each shared item. The steps are
declared in flows/youth_prep.py's `STEPS`; these are their prompts and handlers."""

from __future__ import annotations

from flows.domain import ItemKind, Preparation, ViewAspect
from flows.engine import Transition
from flows.replies import Choice, Reply, say
from flows.share_step import read_readers_choice, readers_step
from flows.sharing import ShareTarget
from flows.steps import Turn
from flows.youth_questions import MENU_CHOICE, preparation_of, progress

VIEW_ORDER = (ViewAspect.WORKS, ViewAspect.HARD, ViewAspect.HELP)
BACK = Choice("back", "common.back")
NOT_UNDERSTOOD = "common.not_understood"


def review_items(prep: Preparation) -> list[tuple[ItemKind, int, str, bool]]:
    """Every item the young person could share, in the order they wrote them."""
    items: list[tuple[ItemKind, int, str, bool]] = [
        (ItemKind.QUESTION, q.id, q.text, q.shared) for q in prep.questions
    ]
    for aspect in VIEW_ORDER:
        view = prep.view(aspect)
        if view is not None:
            items.append((ItemKind.VIEW, view.id, view.text, view.shared))
    if prep.preference is not None:
        pref = prep.preference
        items.append((ItemKind.PREFERENCE, pref.id, pref.participation.value, pref.shared))
    return items


def review(turn: Turn) -> Reply:
    """Step 4: every item with its sharing state; tapping one shares or unshares it."""
    items = review_items(preparation_of(turn))
    if not items:
        return say("youth.review.empty", MENU_CHOICE, **progress(4))
    choices = [
        Choice(
            f"t:{kind.value}:{item_id}",
            "youth.review.item_shared" if shared else "youth.review.item_private",
            {"text": text, "kind": kind.value},
        )
        for kind, item_id, text, shared in items
    ]
    if any(shared for *_, shared in items):
        choices.append(Choice("readers", "sharing.youth.who_reads"))
    return say(
        "youth.review",
        *choices,
        Choice("done", "youth.review.done"),
        shared_count=sum(1 for *_, shared in items if shared),
        **progress(4),
    )


def toggle(turn: Turn) -> Transition:
    """Shares or unshares the tapped item."""
    _, kind, item_id = (turn.choice or "t::0").split(":", 2)
    current = {(k, i): s for k, i, _, s in review_items(preparation_of(turn))}
    key = (ItemKind(kind), int(item_id))
    if key in current:
        ctx = turn.ctx
        ctx.ports.preparation.set_shared(
            key[0], key[1], ctx.actor.person_id, not current[key], ctx.now
        )
    return turn.again()


def review_done(turn: Turn) -> Transition:
    """Sums up what she shares and returns to the menu."""
    shared = sum(1 for *_, is_shared in review_items(preparation_of(turn)) if is_shared)
    return turn.go("menu", say("youth.review.summary", shared_count=shared))


def readers_pick(turn: Turn) -> Reply | Transition:
    """Her shared items, to choose who reads one of them."""
    shared = [(k, i, t) for k, i, t, is_shared in review_items(preparation_of(turn)) if is_shared]
    if not shared:
        return turn.go("review")
    choices = [
        Choice(
            f"r:{kind.value}:{item_id}", "sharing.youth.item", {"text": text, "kind": kind.value}
        )
        for kind, item_id, text in shared
    ]
    return say("sharing.youth.pick", *choices, BACK)


def open_readers(turn: Turn) -> Transition:
    """Opens who reads the picked item."""
    _, kind, item_id = (turn.choice or "r::0").split(":", 2)
    return turn.go("readers", kind=kind, item_id=int(item_id))


def readers(turn: Turn) -> Reply | Transition:
    """Who may read one shared item: the one who runs the meeting, everyone, or agencies."""
    ctx, kind, item_id = turn.ctx, turn.word("kind"), turn.number("item_id")
    found = next(
        (
            text
            for k, i, text, shared in review_items(preparation_of(turn))
            if k.value == kind and i == item_id and shared
        ),
        None,
    )
    if found is None:
        return turn.go("review")
    sharing = ctx.ports.sharing
    return readers_step(
        found if kind != ItemKind.PREFERENCE.value else "",
        sharing.chosen_readers(ShareTarget(kind), item_id, ctx.actor.person_id),
        sharing.default_readers(ctx.actor.person_id, ctx.actor.case_id),
        sharing.organisations(ctx.actor.case_id),
        message="sharing.readers",
    )


def choose_readers(turn: Turn) -> Transition:
    """Shares the item with the chosen readers (at once), stops sharing it, or is done."""
    ctx, sharing, person = turn.ctx, turn.ctx.ports.sharing, turn.ctx.actor.person_id
    target, item_id = ShareTarget(turn.word("kind")), turn.number("item_id")
    current = sharing.chosen_readers(target, item_id, person)
    default = sharing.default_readers(person, ctx.actor.case_id)
    meant = read_readers_choice(turn.choice, current, default)
    if meant is None:
        return turn.again(say(NOT_UNDERSTOOD))
    if meant.done:
        return turn.go("review")
    if meant.stop:
        sharing.share(target, item_id, person, None, ctx.now)
        return turn.go("review", say("sharing.stopped"))
    sharing.share(target, item_id, person, meant.readers, ctx.now)
    return turn.again(say("sharing.saved"))
