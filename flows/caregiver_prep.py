"""Caregiver preparation: the adults' questions, "vår bild", wishes, and what not to raise
in front of the child, privately or together in a family group chat.

What is written in a group chat goes on the family list, which every adult of the case sees
with who wrote what; what is written privately stays with its author until they move it to
the family list, and a group chat never shows it (not even its author's own private items:
the others read along). Each reply says so as its audience: for the family when everything it
shows is on the family list, else for its author alone (and the pipeline keeps it out of a
group). Each adult changes only their own items. Nothing the young person wrote is
ever read here (it lives in other tables, behind the youth flow).

Each step is declared once in `STEPS` at the bottom (flows/steps.py); the items' steps live in
flows/caregiver_items.py, sharing's in flows/caregiver_sharing.py. The diagram below is
generated from that table (`python -m scripts.diagrams`); tests/test_step_diagrams.py fails
when it is stale.

```mermaid
stateDiagram-v2
    [*] --> menu
    menu --> list: list
    menu --> add_kind: add
    menu --> mine: mine
    menu --> share: share
    menu --> about: about
    list --> add_kind: add
    list --> mine: mine
    list --> menu: menu
    add_kind --> add_text: question / our_view / wish / not_with_child
    add_kind --> list: cancel
    add_text --> list: cancel / text
    mine --> item: i
    mine --> list: i / otherwise / (shown instead)
    item --> edit: edit
    item --> delete: delete
    item --> item: family / share
    item --> mine: family / share / back / otherwise / (shown instead)
    edit --> item: cancel
    edit --> list: text
    edit --> mine: text / otherwise / (shown instead)
    delete --> mine: yes / otherwise / (shown instead)
    share --> readers: s
    share --> menu: s / otherwise
    share --> add_kind: add
    readers --> share: otherwise / (shown instead)
    readers --> readers: otherwise
    about --> menu: menu / otherwise
```

The menu also lists the family's sidetracks (the meeting, the plan, the shared picture, a new
meeting, needs and interpreter, language); the engine opens those, so they are not steps here.

A nudge about the family's actions has a "Visa mina åtgärder" button: from any step it opens
the plan (flows/family_plan.py) on her own actions, each answered with the professionals'
one-tap status dialog.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flows import caregiver_items as items
from flows import caregiver_sharing as sharing
from flows.conversation import ChoiceMade, Event
from flows.engine import FlowState, StateValue, StepContext, Transition
from flows.family_domain import FamilyItemKind
from flows.family_menu import family_menu_choices
from flows.family_plan import FamilyPlan
from flows.professional import NOTICE_ACTIONS
from flows.replies import Audience, Choice, Reply, say, to_family
from flows.steps import Go, Step, StepFlow, Then, Turn, declared

FLOW_NAME = "caregiver_prep"


def _menu(turn: Turn) -> Reply:
    """The adults' menu: the list, add, change own, and the shared family choices."""
    ctx = turn.ctx
    meeting = ctx.ports.members.next_meeting(ctx.actor.case_id, ctx.now)
    choices = [Choice("list", "caregiver.menu.list"), items.ADD_CHOICE]
    if items.own_items(turn):
        choices.append(items.MINE_CHOICE)
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
    return items.for_chat(turn, reply)


def _about(turn: Turn) -> Reply:
    """What a samverkansmöte is, written for the adults; holds nothing about anyone."""
    return to_family(say("caregiver.about", items.MENU_CHOICE))


def _kind_chosen(turn: Turn) -> Transition:
    """Asks for the text of the chosen kind (looked up at each choice: a test breaks this one
    step to see a failing step undone, tests/test_group_audience.py)."""
    return items.choose_kind(turn)


# --- the steps ---------------------------------------------------------------------------

TO_LIST = Go("list")
TO_MINE = Go("mine")
TO_MENU = Go("menu")
TO_ADD = Go("add_kind")

STEPS = (
    Step(
        "menu",
        show=_menu,
        choices={
            "list": TO_LIST,
            "add": TO_ADD,
            "mine": TO_MINE,
            "share": Go("share"),
            "about": Go("about"),
        },
    ),
    Step("list", show=items.family_list, choices={"add": TO_ADD, "mine": TO_MINE, "menu": TO_MENU}),
    Step(
        "add_kind",
        show=items.add_kind,
        choices={
            **{k.value: Then(_kind_chosen, to=("add_text",)) for k in FamilyItemKind},
            "cancel": TO_LIST,
        },
    ),
    Step(
        "add_text",
        show=items.add_text,
        choices={"cancel": TO_LIST},
        text=Then(items.add_item, to=("list",)),
        otherwise=Then(items.need_text),
    ),
    Step(
        "mine",
        show=items.mine,
        choices={"i:": Then(items.open_item, to=("item", "list"))},
        otherwise=TO_LIST,
        handovers=("list",),
    ),
    Step(
        "item",
        show=items.item,
        choices={
            "edit": Then(items.to_edit, to=("edit",)),
            "delete": Then(items.to_delete, to=("delete",)),
            "family": Then(items.toggle_family, to=("item", "mine")),
            "share": Then(items.toggle_shared, to=("item", "mine")),
            "back": TO_MINE,
        },
        otherwise=Then(items.item_not_understood, to=("mine",)),
        handovers=("mine",),
    ),
    Step(
        "edit",
        show=items.edit,
        choices={"cancel": Then(items.to_item, to=("item",))},
        text=Then(items.edit_text, to=("list", "mine")),
        otherwise=Then(items.edit_need_text, to=("mine",)),
        handovers=("mine",),
    ),
    Step(
        "delete",
        show=items.delete,
        choices={"yes": Then(items.delete_item, to=("mine",))},
        otherwise=TO_MINE,
        handovers=("mine",),
    ),
    Step(
        "share",
        show=sharing.share,
        choices={"s:": Then(sharing.open_readers, to=("readers", "menu")), "add": TO_ADD},
        otherwise=TO_MENU,
        help="caregiver.share.help",
    ),
    Step(
        "readers",
        show=sharing.readers,
        otherwise=Then(sharing.choose_readers, to=("share", "readers")),
        handovers=("share",),
        help="caregiver.share.help",
    ),
    Step(
        "about",
        show=_about,
        choices={"menu": TO_MENU},
        otherwise=TO_MENU,
        help="caregiver.help.menu",
    ),
)


@declared
class CaregiverPreparation(StepFlow):
    """The preparation of caregivers and other close adults."""

    def __init__(self, timezone: ZoneInfo | None = None) -> None:
        super().__init__(FLOW_NAME, STEPS, home_step="menu", help_prefix="caregiver.help.")
        # Where "15 dec" is read when an adult gives a family action a new date.
        self.timezone = timezone or ZoneInfo("Europe/Stockholm")

    def start(self, ctx: StepContext) -> Transition:
        """Shows the menu (and remembers the chat, so reminders find the group)."""
        ctx.ports.families.note_chat(ctx.actor, ctx.ref, ctx.now)
        return super().start(ctx)

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the current step again (and remembers the chat)."""
        ctx.ports.families.note_chat(ctx.actor, ctx.ref, ctx.now)
        return super().resume(state, ctx)

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Does what the step says (and remembers the chat); a nudge's button from any step."""
        ctx.ports.families.note_chat(ctx.actor, ctx.ref, ctx.now)
        if isinstance(event, ChoiceMade) and event.choice_id == NOTICE_ACTIONS:
            # A nudge about the family's actions ("Visa mina åtgärder"), from any step: her
            # own actions, each answered with the professionals' one-tap status dialog.
            return FamilyPlan(self.timezone).own_actions(ctx)
        return super().handle(state, event, ctx)

    def help(self, state: FlowState) -> Reply:
        """Explains the current step; it holds nothing about anyone, so the family may read it."""
        return to_family(super().help(state))

    def show(self, step: str, ctx: StepContext, *before: Reply, **data: StateValue) -> Transition:
        """Shows a step; in a group chat what is said before a prompt for the family (saved,
        not understood) is for the family too, and stays with its reader otherwise."""
        shown = super().show(step, ctx, *before, **data)
        replies = shown.replies
        if ctx.ref.is_group and replies and replies[-1].audience is Audience.FAMILY:
            return Transition(
                shown.state, tuple(to_family(r) for r in replies), shown.notices, shown.actor
            )
        return shown
