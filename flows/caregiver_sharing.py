"""The adults' "Dela med mötet": which own items are shared, and who reads each one. The steps
are declared in flows/caregiver_prep.py's `STEPS`; these are their prompts and handlers."""

from __future__ import annotations

from flows.caregiver_items import ADD_CHOICE, MENU_CHOICE, for_chat, own, own_items, picked
from flows.engine import Transition
from flows.replies import Choice, Reply, say
from flows.share_step import read_readers_choice, readers_step
from flows.sharing import ShareTarget
from flows.steps import Turn


def share(turn: Turn) -> Reply:
    """The adult's own items with whether each is shared; one tap opens who reads it."""
    mine = own_items(turn)
    if not mine:
        return for_chat(turn, say("caregiver.share.empty", ADD_CHOICE, MENU_CHOICE))
    choices = [
        Choice(
            f"s:{i.id}",
            "caregiver.share.item_shared" if i.shared else "caregiver.share.item_private",
            {"text": i.text},
        )
        for i in mine
    ]
    return for_chat(turn, say("caregiver.share.list", *choices, MENU_CHOICE), *mine)


def open_readers(turn: Turn) -> Transition:
    """Opens who reads the picked own item (the menu when it cannot be shown here)."""
    if (turn.choice or "")[2:].isdigit():
        item = picked(turn, "s:")
        if item is not None:
            return turn.go("readers", item_id=item.id)
    return turn.go("menu")


def readers(turn: Turn) -> Reply | Transition:
    """Who may read one own item: the one who runs the meeting, everyone, or agencies."""
    item = own(turn)
    if item is None:
        return turn.go("share")
    ctx, sharing = turn.ctx, turn.ctx.ports.sharing
    reply = readers_step(
        item.text,
        sharing.chosen_readers(ShareTarget.FAMILY, item.id, ctx.actor.person_id)
        if item.shared
        else None,
        sharing.default_readers(ctx.actor.person_id, ctx.actor.case_id),
        sharing.organisations(ctx.actor.case_id),
        message="sharing.readers",
    )
    return for_chat(turn, reply, item)


def choose_readers(turn: Turn) -> Transition:
    """Shares the item with the chosen readers (at once), stops sharing it, or is done."""
    item = own(turn)
    if item is None:
        return turn.go("share")
    ctx, sharing, person = turn.ctx, turn.ctx.ports.sharing, turn.ctx.actor.person_id
    current = sharing.chosen_readers(ShareTarget.FAMILY, item.id, person) if item.shared else None
    default = sharing.default_readers(person, ctx.actor.case_id)
    meant = read_readers_choice(turn.choice, current, default)
    if meant is None:
        return turn.again(say("common.not_understood"))
    if meant.done:
        return turn.go("share")
    if meant.stop:
        sharing.share(ShareTarget.FAMILY, item.id, person, None, ctx.now)
        return turn.go("share", say("sharing.stopped"))
    sharing.share(ShareTarget.FAMILY, item.id, person, meant.readers, ctx.now)
    return turn.again(say("sharing.saved"))
