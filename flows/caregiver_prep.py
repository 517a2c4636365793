"""Caregiver preparation: the adults' questions, "vår bild", wishes, and what not to raise
in front of the child, privately or together in a family group chat.

What is written in a group chat goes on the family list, which every adult of the case sees
with who wrote what; what is written privately stays with its author until they move it to
the family list, and a group chat never shows it (not even its author's own private items:
the others read along). Each reply says so as its audience: for the family when everything it
shows is on the family list, else for its author alone (and the pipeline keeps it out of a
group). Each adult changes only their own items. Nothing the young person wrote is
ever read here (it lives in other tables, behind the youth flow).

```mermaid
stateDiagram-v2
    [*] --> menu
    menu --> list: Vår lista
    menu --> add_kind: Skriv något nytt
    list --> add_kind: Skriv något nytt
    add_kind --> add_text: fråga / vår bild / önskan / inte inför barnet
    add_text --> list: text / avbryt
    menu --> mine: Ändra det jag skrivit
    list --> mine: Ändra det jag skrivit
    mine --> item: ett eget inlägg
    item --> edit: Ändra texten
    edit --> item: text / avbryt
    item --> delete: Ta bort
    delete --> mine: ja / nej
    item --> item: visa för de andra vuxna / dela med mötet
    item --> mine: Tillbaka
    menu --> share: Dela med mötet
    share --> readers: en egen rad
    readers --> readers: bara den som håller i mötet / alla i mötet / verksamheter
    readers --> share: klar / sluta dela
    menu --> about: Vad är ett samverkansmöte?
    menu --> [*]: mötet, planen, gemensam bild, nytt möte, tolk och behov, språk (sidetracks)
    note left of menu: "Visa mina åtgärder" (a nudge) opens the plan on her own actions
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from flows.conversation import ChoiceMade, Event, TextMessage
from flows.engine import FlowState, StateValue, StepContext, Transition
from flows.family_domain import FamilyItem, FamilyItemKind
from flows.family_menu import family_menu_choices
from flows.family_plan import FamilyPlan
from flows.professional import NOTICE_ACTIONS
from flows.replies import Choice, ParamValue, Reply, say, to_family
from flows.share_step import read_readers_choice, readers_step
from flows.sharing import ShareTarget
from flows.text_rules import VIEW_MAX_CHARS, CleanText, clean_text

FLOW_NAME = "caregiver_prep"
ITEM_MAX_CHARS = VIEW_MAX_CHARS
# Kinds written and read only in private chats, never in a group chat.
PRIVATE_ONLY = frozenset({FamilyItemKind.NOT_WITH_CHILD})


class Step(StrEnum):
    """The steps of the caregiver preparation flow."""

    MENU = "menu"
    LIST = "list"
    ADD_KIND = "add_kind"
    ADD_TEXT = "add_text"
    MINE = "mine"
    ITEM = "item"
    EDIT = "edit"
    DELETE = "delete"
    SHARE = "share"
    READERS = "readers"
    ABOUT = "about"


CANCEL = Choice("cancel", "common.cancel")
BACK = Choice("back", "common.back")
MENU_CHOICE = Choice("menu", "common.to_menu")


def _state(step: Step, **data: StateValue) -> FlowState:
    """A state of this flow."""
    return FlowState(flow=FLOW_NAME, step=step.value, data=data)


def _int(value: StateValue) -> int:
    """A state value that must be an id."""
    return int(value) if value is not None else 0


@dataclass(frozen=True, slots=True)
class CaregiverPreparation:
    """The preparation of caregivers and other close adults."""

    # Where "15 dec" is read when an adult gives a family action a new date.
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Stockholm"))
    name: str = FLOW_NAME

    # --- entering steps -------------------------------------------------------------

    @property
    def home(self) -> FlowState:
        """The adults' menu."""
        return _state(Step.MENU)

    def start(self, ctx: StepContext) -> Transition:
        """Shows the menu (and remembers the chat, so reminders find the group)."""
        ctx.ports.families.note_chat(ctx.actor, ctx.ref, ctx.now)
        return self._menu(ctx)

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the current step again."""
        ctx.ports.families.note_chat(ctx.actor, ctx.ref, ctx.now)
        step = Step(state.step)
        if step is Step.LIST:
            return self._list(ctx)
        if step is Step.ADD_KIND:
            return self._add_kind(ctx)
        if step is Step.ADD_TEXT:
            return self._add_text(ctx, FamilyItemKind(str(state.data.get("kind"))))
        if step is Step.MINE:
            return self._mine(ctx)
        if step is Step.SHARE:
            return self._share(ctx)
        if step is Step.ABOUT:
            return self._about(ctx)
        if step is Step.READERS:
            shared = self._own(state, ctx)
            return self._readers(ctx, shared) if shared is not None else self._share(ctx)
        if step in (Step.ITEM, Step.EDIT, Step.DELETE):
            item = self._own(state, ctx)
            if item is None:
                return self._mine(ctx)
            if step is Step.EDIT:
                return self._edit(ctx, item)
            if step is Step.DELETE:
                return self._delete(ctx, item)
            return self._item(item, ctx)
        return self._menu(ctx)

    def help(self, state: FlowState) -> Reply:
        """Explains the current step."""
        step = Step(state.step)
        if step in (Step.SHARE, Step.READERS):
            return to_family(say("caregiver.share.help"))
        if step is Step.ABOUT:
            return to_family(say("caregiver.help.menu"))
        return to_family(say(f"caregiver.help.{step.value}"))

    def _menu(self, ctx: StepContext, *before: Reply) -> Transition:
        """The adults' menu: the list, add, change own, and the shared family choices."""
        meeting = ctx.ports.members.next_meeting(ctx.actor.case_id, ctx.now)
        mine = self._own_items(ctx)
        choices = [Choice("list", "caregiver.menu.list"), Choice("add", "caregiver.menu.add")]
        if mine:
            choices.append(Choice("mine", "caregiver.menu.mine"))
        # Sharing is one step of the menu, as for the young person (not under "Ändra").
        choices.append(Choice("share", "caregiver.share.menu"))
        choices.append(Choice("about", "caregiver.about.menu"))
        choices += family_menu_choices(ctx)
        reply = say(
            "caregiver.menu",
            *choices,
            name=ctx.actor.display_name,
            group=ctx.ref.is_group,
            meeting_at=meeting.starts_at if meeting else None,
        )
        return Transition(_state(Step.MENU), _for_chat(ctx, (*before, reply)))

    def _list(self, ctx: StepContext, *before: Reply) -> Transition:
        """The family list and own private items, each with who wrote it."""
        items = ctx.ports.families.family_items(ctx.actor.case_id, ctx.actor.person_id)
        choices = [Choice("add", "caregiver.menu.add")]
        if self._own_items(ctx):
            choices.append(Choice("mine", "caregiver.menu.mine"))
        choices.append(MENU_CHOICE)
        # A group chat may include the child, or someone the adults did not think of: it
        # shows the family list only; what is private is only ever shown in private chats.
        hidden = [i for i in items if not _may_show(i, ctx)]
        shown = [i for i in items if i not in hidden]
        groups: list[ParamValue] = []
        for kind in FamilyItemKind:
            entries: list[ParamValue] = [
                _entry(i, ctx.actor.person_id) for i in items if i.kind is kind and i not in hidden
            ]
            if entries:
                groups.append({"kind": kind.value, "items": entries})
        reply = say(
            "caregiver.list",
            *choices,
            groups=groups,
            group=ctx.ref.is_group,
            hidden=len(hidden),
        )
        return Transition(_state(Step.LIST), _for_chat(ctx, (*before, reply), *shown))

    def _add_kind(self, ctx: StepContext, *before: Reply) -> Transition:
        """Asks what kind of thing the adult wants to write (in a group, not the private kind)."""
        group = ctx.ref.is_group
        choices = [
            Choice(k.value, f"caregiver.kind.{k.value}")
            for k in FamilyItemKind
            if not (group and k in PRIVATE_ONLY)
        ]
        reply = say("caregiver.add_kind", *choices, CANCEL, group=group)
        return Transition(_state(Step.ADD_KIND), _for_chat(ctx, (*before, reply)))

    def _add_text(self, ctx: StepContext, kind: FamilyItemKind, *before: Reply) -> Transition:
        """Asks for the text of the new item."""
        reply = say(f"caregiver.ask.{kind.value}", CANCEL, max=ITEM_MAX_CHARS)
        return Transition(_state(Step.ADD_TEXT, kind=kind.value), _for_chat(ctx, (*before, reply)))

    def _mine(self, ctx: StepContext, *before: Reply) -> Transition:
        """Lists the adult's own items to pick one (never someone else's)."""
        mine = self._own_items(ctx)
        if not mine:
            return self._list(ctx, *before)
        choices = [Choice(f"i:{i.id}", "common.item", {"text": i.text}) for i in mine]
        reply = say("caregiver.mine", *choices, BACK)
        return Transition(_state(Step.MINE), _for_chat(ctx, (*before, reply), *mine))

    def _about(self, ctx: StepContext) -> Transition:
        """What a samverkansmöte is, written for the adults; holds nothing about anyone."""
        reply = to_family(say("caregiver.about", MENU_CHOICE))
        return Transition(_state(Step.ABOUT), (reply,))

    def _share(self, ctx: StepContext, *before: Reply) -> Transition:
        """The adult's own items with whether each is shared; one tap opens who reads it."""
        mine = self._own_items(ctx)
        if not mine:
            reply = say("caregiver.share.empty", Choice("add", "caregiver.menu.add"), MENU_CHOICE)
            return Transition(_state(Step.SHARE), _for_chat(ctx, (*before, reply)))
        choices = [
            Choice(
                f"s:{i.id}",
                "caregiver.share.item_shared" if i.shared else "caregiver.share.item_private",
                {"text": i.text},
            )
            for i in mine
        ]
        reply = say("caregiver.share.list", *choices, MENU_CHOICE)
        return Transition(_state(Step.SHARE), _for_chat(ctx, (*before, reply), *mine))

    def _readers(self, ctx: StepContext, item: FamilyItem, *before: Reply) -> Transition:
        """Who may read one own item: the one who runs the meeting, everyone, or agencies."""
        sharing = ctx.ports.sharing
        reply = readers_step(
            item.text,
            sharing.chosen_readers(ShareTarget.FAMILY, item.id, ctx.actor.person_id)
            if item.shared
            else None,
            sharing.default_readers(ctx.actor.person_id, ctx.actor.case_id),
            sharing.organisations(ctx.actor.case_id),
            message="sharing.readers",
        )
        state = _state(Step.READERS, item_id=item.id)
        return Transition(state, _for_chat(ctx, (*before, reply), item))

    def _on_share(self, event: Event, ctx: StepContext) -> Transition:
        """Opens who reads the picked own item, or adds, or goes to the menu."""
        choice = _choice(event)
        if choice is not None and choice.startswith("s:") and choice[2:].isdigit():
            item = ctx.ports.families.family_item(int(choice[2:]), ctx.actor.person_id)
            if item is not None and _may_show(item, ctx):
                return self._readers(ctx, item)
        if choice == "add":
            return self._add_kind(ctx)
        return self._menu(ctx)

    def _on_readers(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Shares the item with the chosen readers (at once), stops sharing it, or is done."""
        item = self._own(state, ctx)
        if item is None:
            return self._share(ctx)
        sharing, person = ctx.ports.sharing, ctx.actor.person_id
        current = (
            sharing.chosen_readers(ShareTarget.FAMILY, item.id, person) if item.shared else None
        )
        default = sharing.default_readers(person, ctx.actor.case_id)
        meant = read_readers_choice(_choice(event), current, default)
        if meant is None:
            return self._readers(ctx, item, say("common.not_understood"))
        if meant.done:
            return self._share(ctx)
        if meant.stop:
            sharing.share(ShareTarget.FAMILY, item.id, person, None, ctx.now)
            return self._share(ctx, say("sharing.stopped"))
        sharing.share(ShareTarget.FAMILY, item.id, person, meant.readers, ctx.now)
        updated = ctx.ports.families.family_item(item.id, person) or item
        return self._readers(ctx, updated, say("sharing.saved"))

    def _item(self, item: FamilyItem, ctx: StepContext, *before: Reply) -> Transition:
        """One own item: change it, delete it, show it to the other adults, share it."""
        choices = [
            Choice("edit", "caregiver.item.edit"),
            Choice("delete", "caregiver.item.delete"),
            Choice(
                "family",
                "caregiver.item.family_off" if item.in_family_list else "caregiver.item.family_on",
            ),
            Choice(
                "share", "caregiver.item.share_off" if item.shared else "caregiver.item.share_on"
            ),
            BACK,
        ]
        reply = say(
            "caregiver.item",
            *choices,
            text=item.text,
            kind=item.kind.value,
            family=item.in_family_list,
            shared=item.shared,
        )
        return Transition(
            _state(Step.ITEM, item_id=item.id), _for_chat(ctx, (*before, reply), item)
        )

    def _edit(self, ctx: StepContext, item: FamilyItem, *before: Reply) -> Transition:
        """Asks for the new text, showing the old one."""
        reply = say("caregiver.edit_ask", CANCEL, text=item.text)
        return Transition(
            _state(Step.EDIT, item_id=item.id), _for_chat(ctx, (*before, reply), item)
        )

    def _delete(self, ctx: StepContext, item: FamilyItem) -> Transition:
        """Asks to confirm deleting an own item."""
        reply = say(
            "caregiver.delete_confirm",
            Choice("yes", "caregiver.delete_yes"),
            Choice("no", "caregiver.delete_no"),
            text=item.text,
        )
        return Transition(_state(Step.DELETE, item_id=item.id), _for_chat(ctx, (reply,), item))

    # --- handling events --------------------------------------------------------------

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Routes the event to the handler of the current step."""
        ctx.ports.families.note_chat(ctx.actor, ctx.ref, ctx.now)
        if _choice(event) == NOTICE_ACTIONS:
            # A nudge about the family's actions ("Visa mina åtgärder"), from any step: her
            # own actions, each answered with the professionals' one-tap status dialog.
            return FamilyPlan(self.timezone).own_actions(ctx)
        step = Step(state.step)
        if step is Step.MENU:
            return self._on_menu(event, ctx)
        if step is Step.LIST:
            return self._on_list(event, ctx)
        if step is Step.ADD_KIND:
            return self._on_add_kind(event, ctx)
        if step is Step.ADD_TEXT:
            return self._on_add_text(state, event, ctx)
        if step is Step.MINE:
            return self._on_mine(event, ctx)
        if step is Step.ITEM:
            return self._on_item(state, event, ctx)
        if step is Step.EDIT:
            return self._on_edit(state, event, ctx)
        if step is Step.SHARE:
            return self._on_share(event, ctx)
        if step is Step.READERS:
            return self._on_readers(state, event, ctx)
        if step is Step.ABOUT:
            return self._menu(ctx)
        return self._on_delete(state, event, ctx)

    def _on_menu(self, event: Event, ctx: StepContext) -> Transition:
        """Opens what the adult picked."""
        match _choice(event):
            case "list":
                return self._list(ctx)
            case "add":
                return self._add_kind(ctx)
            case "mine":
                return self._mine(ctx)
            case "share":
                return self._share(ctx)
            case "about":
                return self._about(ctx)
        return self._menu(ctx, say("common.not_understood"))

    def _on_list(self, event: Event, ctx: StepContext) -> Transition:
        """Adds, changes own items, or goes to the menu."""
        match _choice(event):
            case "add":
                return self._add_kind(ctx)
            case "mine":
                return self._mine(ctx)
            case "menu":
                return self._menu(ctx)
        return self._list(ctx, say("common.not_understood"))

    def _on_add_kind(self, event: Event, ctx: StepContext) -> Transition:
        """Asks for the text of the chosen kind."""
        choice = _choice(event)
        if choice in {k.value for k in FamilyItemKind}:
            kind = FamilyItemKind(str(choice))
            if ctx.ref.is_group and kind in PRIVATE_ONLY:
                return self._add_kind(ctx, say("caregiver.private_only"))
            return self._add_text(ctx, kind)
        if choice == CANCEL.id:
            return self._list(ctx)
        return self._add_kind(ctx, say("common.not_understood"))

    def _on_add_text(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Stores the new item: on the family list when written in a group chat."""
        kind = FamilyItemKind(str(state.data.get("kind")))
        if _choice(event) == CANCEL.id:
            return self._list(ctx)
        if not isinstance(event, TextMessage):
            return self._add_text(ctx, kind, say("common.need_text"))
        checked = clean_text(event.text, ITEM_MAX_CHARS)
        if not isinstance(checked, CleanText):
            return self._add_text(ctx, kind, say(f"text.{checked.value}", max=ITEM_MAX_CHARS))
        ctx.ports.families.add_family_item(
            ctx.actor.case_id,
            ctx.actor.person_id,
            kind,
            checked.text,
            in_family_list=ctx.ref.is_group,
            now=ctx.now,
        )
        saved = say("caregiver.saved", group=ctx.ref.is_group, name=ctx.actor.display_name)
        return self._list(ctx, saved)

    def _on_mine(self, event: Event, ctx: StepContext) -> Transition:
        """Opens the picked own item."""
        choice = _choice(event)
        if choice is not None and choice.startswith("i:"):
            item = ctx.ports.families.family_item(int(choice[2:]), ctx.actor.person_id)
            if item is not None and _may_show(item, ctx):
                return self._item(item, ctx)
        return self._list(ctx)

    def _on_item(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Changes, deletes, moves or shares the item."""
        item = self._own(state, ctx)
        if item is None:
            return self._mine(ctx)
        families = ctx.ports.families
        match _choice(event):
            case "edit":
                return self._edit(ctx, item)
            case "delete":
                return self._delete(ctx, item)
            case "family":
                families.set_family_item_flags(
                    item.id, ctx.actor.person_id, ctx.now, in_family_list=not item.in_family_list
                )
            case "share":
                families.set_family_item_flags(
                    item.id, ctx.actor.person_id, ctx.now, shared=not item.shared
                )
            case "back":
                return self._mine(ctx)
            case _:
                return self._item(item, ctx, say("common.not_understood"))
        updated = families.family_item(item.id, ctx.actor.person_id)
        if updated is None or not _may_show(updated, ctx):
            # Taken off the family list in a group chat: it is private now, so not shown here.
            return self._mine(ctx, say("caregiver.item.updated"))
        return self._item(updated, ctx, say("caregiver.item.updated"))

    def _on_edit(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Stores the new text of an own item."""
        item = self._own(state, ctx)
        if item is None:
            return self._mine(ctx)
        if _choice(event) == CANCEL.id:
            return self._item(item, ctx)
        if not isinstance(event, TextMessage):
            return self._edit(ctx, item, say("common.need_text"))
        checked = clean_text(event.text, ITEM_MAX_CHARS)
        if not isinstance(checked, CleanText):
            return self._edit(ctx, item, say(f"text.{checked.value}", max=ITEM_MAX_CHARS))
        ctx.ports.families.edit_family_item(item.id, ctx.actor.person_id, checked.text, ctx.now)
        return self._list(ctx, say("caregiver.changed"))

    def _on_delete(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Deletes the item after a yes."""
        if _choice(event) == "yes":
            ctx.ports.families.delete_family_item(
                _int(state.data.get("item_id")), ctx.actor.person_id, ctx.now
            )
            return self._mine(ctx, say("caregiver.deleted"))
        return self._mine(ctx)

    def _own(self, state: FlowState, ctx: StepContext) -> FamilyItem | None:
        """The own item the state points at (a private-only one only in a private chat)."""
        item = ctx.ports.families.family_item(_int(state.data.get("item_id")), ctx.actor.person_id)
        return item if item is not None and _may_show(item, ctx) else None

    def _own_items(self, ctx: StepContext) -> tuple[FamilyItem, ...]:
        """The adult's own items in this case that may be shown in this chat."""
        items = ctx.ports.families.family_items(ctx.actor.case_id, ctx.actor.person_id)
        return tuple(i for i in items if i.author_id == ctx.actor.person_id and _may_show(i, ctx))


def _family_may_read(item: FamilyItem) -> bool:
    """True for an item on the family list that may be read in front of the child."""
    return item.in_family_list and item.kind not in PRIVATE_ONLY


def _may_show(item: FamilyItem, ctx: StepContext) -> bool:
    """In a group chat only what the family may read together; in a private chat, all."""
    return not ctx.ref.is_group or _family_may_read(item)


def _for_chat(
    ctx: StepContext, replies: tuple[Reply, ...], *shown: FamilyItem
) -> tuple[Reply, ...]:
    """The replies for this chat: in a group chat they are for the family, as long as every
    item they show is the family's to read; otherwise they stay for their reader alone."""
    if ctx.ref.is_group and all(_family_may_read(i) for i in shown):
        return tuple(to_family(r) for r in replies)
    return replies


def _entry(item: FamilyItem, viewer_id: int) -> dict[str, ParamValue]:
    """One line of the list: text, who wrote it, and who can see it."""
    return {
        "text": item.text,
        "author": item.author_name,
        "mine": item.author_id == viewer_id,
        "family": item.in_family_list,
        "shared": item.shared,
    }


def _choice(event: Event) -> str | None:
    """The id of the choice made, or None for any other event."""
    return event.choice_id if isinstance(event, ChoiceMade) else None
