"""The adults' items: the family list, writing a new one, and changing or deleting their own.
The steps are declared in flows/caregiver_prep.py's `STEPS`; these are their prompts and
handlers, and the rules of what a chat may show (shared with flows/caregiver_sharing.py)."""

from __future__ import annotations

from flows.engine import Transition
from flows.family_domain import FamilyItem, FamilyItemKind
from flows.replies import Choice, ParamValue, Reply, say, to_family
from flows.steps import Turn
from flows.text_rules import VIEW_MAX_CHARS, CleanText, clean_text

ITEM_MAX_CHARS = VIEW_MAX_CHARS
# Kinds written and read only in private chats, never in a group chat.
PRIVATE_ONLY = frozenset({FamilyItemKind.NOT_WITH_CHILD})

CANCEL = Choice("cancel", "common.cancel")
BACK = Choice("back", "common.back")
MENU_CHOICE = Choice("menu", "common.to_menu")
ADD_CHOICE = Choice("add", "caregiver.menu.add")
MINE_CHOICE = Choice("mine", "caregiver.menu.mine")


# --- what a chat may show ----------------------------------------------------------------


def family_may_read(item: FamilyItem) -> bool:
    """True for an item on the family list that may be read in front of the child."""
    return item.in_family_list and item.kind not in PRIVATE_ONLY


def may_show(item: FamilyItem, turn: Turn) -> bool:
    """In a group chat only what the family may read together; in a private chat, all."""
    return not turn.ctx.ref.is_group or family_may_read(item)


def for_chat(turn: Turn, reply: Reply, *shown: FamilyItem) -> Reply:
    """The prompt for this chat: in a group chat it is for the family, as long as every item
    it shows is the family's to read; otherwise it stays for its reader alone. (The replies
    said before it take its audience: CaregiverPreparation.show.)"""
    if turn.ctx.ref.is_group and all(family_may_read(i) for i in shown):
        return to_family(reply)
    return reply


def own(turn: Turn) -> FamilyItem | None:
    """The own item the state points at (a private-only one only in a private chat)."""
    ctx = turn.ctx
    item = ctx.ports.families.family_item(turn.number("item_id"), ctx.actor.person_id)
    return item if item is not None and may_show(item, turn) else None


def own_items(turn: Turn) -> tuple[FamilyItem, ...]:
    """The adult's own items in this case that may be shown in this chat."""
    ctx = turn.ctx
    items = ctx.ports.families.family_items(ctx.actor.case_id, ctx.actor.person_id)
    return tuple(i for i in items if i.author_id == ctx.actor.person_id and may_show(i, turn))


def picked(turn: Turn, prefix: str) -> FamilyItem | None:
    """The own item a choice like "i:12" picked, when this chat may show it."""
    choice = turn.choice or ""
    ctx = turn.ctx
    item = ctx.ports.families.family_item(int(choice[len(prefix) :]), ctx.actor.person_id)
    return item if item is not None and may_show(item, turn) else None


# --- the family list ---------------------------------------------------------------------


def family_list(turn: Turn) -> Reply:
    """The family list and own private items, each with who wrote it."""
    ctx = turn.ctx
    items = ctx.ports.families.family_items(ctx.actor.case_id, ctx.actor.person_id)
    choices = [ADD_CHOICE]
    if own_items(turn):
        choices.append(MINE_CHOICE)
    choices.append(MENU_CHOICE)
    # A group chat may include the child, or someone the adults did not think of: it
    # shows the family list only; what is private is only ever shown in private chats.
    hidden = [i for i in items if not may_show(i, turn)]
    shown = [i for i in items if i not in hidden]
    groups: list[ParamValue] = []
    for kind in FamilyItemKind:
        entries: list[ParamValue] = [
            _entry(i, ctx.actor.person_id) for i in items if i.kind is kind and i not in hidden
        ]
        if entries:
            groups.append({"kind": kind.value, "items": entries})
    reply = say(
        "caregiver.list", *choices, groups=groups, group=ctx.ref.is_group, hidden=len(hidden)
    )
    return for_chat(turn, reply, *shown)


def _entry(item: FamilyItem, viewer_id: int) -> dict[str, ParamValue]:
    """One line of the list: text, who wrote it, and who can see it."""
    return {
        "text": item.text,
        "author": item.author_name,
        "mine": item.author_id == viewer_id,
        "family": item.in_family_list,
        "shared": item.shared,
    }


# --- writing a new item ------------------------------------------------------------------


def add_kind(turn: Turn) -> Reply:
    """Asks what kind of thing the adult wants to write (in a group, not the private kind)."""
    group = turn.ctx.ref.is_group
    choices = [
        Choice(k.value, f"caregiver.kind.{k.value}")
        for k in FamilyItemKind
        if not (group and k in PRIVATE_ONLY)
    ]
    return for_chat(turn, say("caregiver.add_kind", *choices, CANCEL, group=group))


def choose_kind(turn: Turn) -> Transition:
    """Asks for the text of the chosen kind (the private kind only in a private chat)."""
    kind = FamilyItemKind(turn.choice or "")
    if turn.ctx.ref.is_group and kind in PRIVATE_ONLY:
        return turn.again(say("caregiver.private_only"))
    return turn.go("add_text", kind=kind.value)


def add_text(turn: Turn) -> Reply:
    """Asks for the text of the new item."""
    kind = FamilyItemKind(turn.word("kind"))
    return for_chat(turn, say(f"caregiver.ask.{kind.value}", CANCEL, max=ITEM_MAX_CHARS))


def add_item(turn: Turn) -> Transition:
    """Stores the new item: on the family list when written in a group chat."""
    checked = clean_text(turn.text or "", ITEM_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return turn.again(say(f"text.{checked.value}", max=ITEM_MAX_CHARS))
    ctx = turn.ctx
    ctx.ports.families.add_family_item(
        ctx.actor.case_id,
        ctx.actor.person_id,
        FamilyItemKind(turn.word("kind")),
        checked.text,
        in_family_list=ctx.ref.is_group,
        now=ctx.now,
    )
    saved = say("caregiver.saved", group=ctx.ref.is_group, name=ctx.actor.display_name)
    return turn.go("list", saved)


def need_text(turn: Turn) -> Transition:
    """Anything but text where text is asked for: asks again."""
    return turn.again(say("common.need_text"))


# --- changing own items ------------------------------------------------------------------


def mine(turn: Turn) -> Reply | Transition:
    """Lists the adult's own items to pick one (never someone else's)."""
    items = own_items(turn)
    if not items:
        return turn.go("list")
    choices = [Choice(f"i:{i.id}", "common.item", {"text": i.text}) for i in items]
    return for_chat(turn, say("caregiver.mine", *choices, BACK), *items)


def open_item(turn: Turn) -> Transition:
    """Opens the picked own item."""
    item = picked(turn, "i:")
    return turn.go("item", item_id=item.id) if item is not None else turn.go("list")


def item(turn: Turn) -> Reply | Transition:
    """One own item: change it, delete it, show it to the other adults, share it."""
    found = own(turn)
    if found is None:
        return turn.go("mine")
    choices = [
        Choice("edit", "caregiver.item.edit"),
        Choice("delete", "caregiver.item.delete"),
        Choice(
            "family",
            "caregiver.item.family_off" if found.in_family_list else "caregiver.item.family_on",
        ),
        Choice("share", "caregiver.item.share_off" if found.shared else "caregiver.item.share_on"),
        BACK,
    ]
    reply = say(
        "caregiver.item",
        *choices,
        text=found.text,
        kind=found.kind.value,
        family=found.in_family_list,
        shared=found.shared,
    )
    return for_chat(turn, reply, found)


def to_edit(turn: Turn) -> Transition:
    """Opens the new text of this item (its own step shows "mine" when it is gone)."""
    return turn.go("edit", item_id=turn.number("item_id"))


def to_delete(turn: Turn) -> Transition:
    """Asks to confirm deleting this item (its own step shows "mine" when it is gone)."""
    return turn.go("delete", item_id=turn.number("item_id"))


def to_item(turn: Turn) -> Transition:
    """Back to this item (its own step shows "mine" when it is gone)."""
    return turn.go("item", item_id=turn.number("item_id"))


def toggle_family(turn: Turn) -> Transition:
    """Moves the item on to the family list, or off it."""
    return _toggle(turn, family=True)


def toggle_shared(turn: Turn) -> Transition:
    """Shares the item with the meeting, or stops sharing it."""
    return _toggle(turn, family=False)


def _toggle(turn: Turn, *, family: bool) -> Transition:
    """Flips one flag of the item and shows it again (or "mine" when the chat may not)."""
    found = own(turn)
    if found is None:
        return turn.go("mine")
    ctx, families = turn.ctx, turn.ctx.ports.families
    if family:
        families.set_family_item_flags(
            found.id, ctx.actor.person_id, ctx.now, in_family_list=not found.in_family_list
        )
    else:
        families.set_family_item_flags(
            found.id, ctx.actor.person_id, ctx.now, shared=not found.shared
        )
    updated = families.family_item(found.id, ctx.actor.person_id)
    if updated is None or not may_show(updated, turn):
        # Taken off the family list in a group chat: it is private now, so not shown here.
        return turn.go("mine", say("caregiver.item.updated"))
    return turn.again(say("caregiver.item.updated"))


def item_not_understood(turn: Turn) -> Transition:
    """Anything else at an item: says so (or shows "mine" when the item is gone)."""
    if own(turn) is None:
        return turn.go("mine")
    return turn.again(say("common.not_understood"))


def edit(turn: Turn) -> Reply | Transition:
    """Asks for the new text, showing the old one."""
    found = own(turn)
    if found is None:
        return turn.go("mine")
    return for_chat(turn, say("caregiver.edit_ask", CANCEL, text=found.text), found)


def edit_text(turn: Turn) -> Transition:
    """Stores the new text of an own item."""
    found = own(turn)
    if found is None:
        return turn.go("mine")
    checked = clean_text(turn.text or "", ITEM_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return turn.again(say(f"text.{checked.value}", max=ITEM_MAX_CHARS))
    ctx = turn.ctx
    ctx.ports.families.edit_family_item(found.id, ctx.actor.person_id, checked.text, ctx.now)
    return turn.go("list", say("caregiver.changed"))


def edit_need_text(turn: Turn) -> Transition:
    """Anything but text for the new text: asks again (or shows "mine" when it is gone)."""
    if own(turn) is None:
        return turn.go("mine")
    return need_text(turn)


def delete(turn: Turn) -> Reply | Transition:
    """Asks to confirm deleting an own item."""
    found = own(turn)
    if found is None:
        return turn.go("mine")
    reply = say(
        "caregiver.delete_confirm",
        Choice("yes", "caregiver.delete_yes"),
        Choice("no", "caregiver.delete_no"),
        text=found.text,
    )
    return for_chat(turn, reply, found)


def delete_item(turn: Turn) -> Transition:
    """Deletes the item after a yes."""
    ctx = turn.ctx
    ctx.ports.families.delete_family_item(turn.number("item_id"), ctx.actor.person_id, ctx.now)
    return turn.go("mine", say("caregiver.deleted"))
