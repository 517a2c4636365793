"""Youth preparation: learn about the meeting, write questions, say how it is, choose what to share.

Nothing the young person writes is shared until they choose it, item by item, in the review.

```mermaid
stateDiagram-v2
    [*] --> menu
    menu --> about: Vad är ett möte?
    about --> questions: Börja
    menu --> questions: Steg 1
    questions --> question_add: Ny fråga
    question_add --> questions: text / avbryt
    questions --> question_pick: Ändra / Ta bort
    question_pick --> question_edit: ändra
    question_pick --> question_delete: ta bort
    question_edit --> questions: text / avbryt
    question_delete --> questions: ja / nej
    questions --> view: Nästa steg
    menu --> view: Steg 2
    view --> view: works → hard → help (text or skip)
    view --> participation: klar
    menu --> participation: Steg 3 (until the meeting starts)
    menu --> menu: Steg 3 after the meeting began (too late, the choice is kept)
    participation --> review: val / hoppa över
    menu --> review: Steg 4
    review --> review: dela / sluta dela
    review --> menu: klar
    review --> readers_pick: Vem får läsa?
    readers_pick --> readers: en delad sak
    readers --> readers: bara den som håller i mötet / alla i mötet / verksamheter
    readers --> review: klar / sluta dela
    menu --> [*]: mötet, gemensam bild, nytt möte, tolk och behov, språk, hjälp nu (sidetracks)
```

Text that may mean acute danger ("jag orkar inte mer", flows/danger_words.py), in any step, is
answered first with where to turn (flows/help_now.py), for her alone; the step then goes on as
always. Nothing else is stored, flagged or sent to anyone because of it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from flows import help_now, meeting_needs
from flows.conversation import ChoiceMade, Event, TextMessage
from flows.danger_words import may_mean_danger
from flows.domain import ItemKind, Participation, Preparation, ViewAspect
from flows.engine import FlowState, StateValue, StepContext, Transition
from flows.family_menu import family_menu_choices
from flows.replies import Choice, ParamValue, Reply, say
from flows.share_step import read_readers_choice, readers_step
from flows.sharing import ShareTarget
from flows.text_rules import QUESTION_MAX_CHARS, VIEW_MAX_CHARS, CleanText, clean_text

FLOW_NAME = "youth_prep"
TOTAL_STEPS = 4
VIEW_ORDER = (ViewAspect.WORKS, ViewAspect.HARD, ViewAspect.HELP)


class Step(StrEnum):
    """The steps of the youth preparation flow."""

    MENU = "menu"
    ABOUT = "about"
    QUESTIONS = "questions"
    QUESTION_ADD = "question_add"
    QUESTION_PICK = "question_pick"
    QUESTION_EDIT = "question_edit"
    QUESTION_DELETE = "question_delete"
    VIEW = "view"
    PARTICIPATION = "participation"
    REVIEW = "review"
    READERS_PICK = "readers_pick"
    READERS = "readers"


class Pick(StrEnum):
    """What the young person picks a question for."""

    EDIT = "edit"
    DELETE = "delete"


BACK = Choice("back", "common.back")
CANCEL = Choice("cancel", "common.cancel")
MENU_CHOICE = Choice("menu", "common.to_menu")


def _state(step: Step, **data: StateValue) -> FlowState:
    """A state of this flow."""
    return FlowState(flow=FLOW_NAME, step=step.value, data=data)


def _progress(step: int) -> dict[str, ParamValue]:
    """The "Steg 2 av 4" parameters of a message."""
    return {"step": step, "total": TOTAL_STEPS}


@dataclass(frozen=True, slots=True)
class YouthPreparation:
    """The young person's preparation flow."""

    name: str = FLOW_NAME

    # --- entering steps -------------------------------------------------------------

    @property
    def home(self) -> FlowState:
        """The main menu."""
        return _state(Step.MENU)

    def start(self, ctx: StepContext) -> Transition:
        """Shows the main menu."""
        return self._menu(ctx)

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the current step again, as it was."""
        step = Step(state.step)
        data = state.data
        if step is Step.ABOUT:
            return self._about()
        if step is Step.QUESTIONS:
            return self._questions(ctx)
        if step is Step.QUESTION_ADD:
            return self._question_add()
        if step is Step.QUESTION_PICK:
            return self._question_pick(ctx, Pick(str(data.get("pick", Pick.EDIT))))
        if step in (Step.QUESTION_EDIT, Step.QUESTION_DELETE):
            question = ctx.ports.preparation.question(
                _int(data.get("question_id")), ctx.actor.person_id
            )
            if question is None:
                return self._questions(ctx)
            if step is Step.QUESTION_EDIT:
                return self._question_edit(question.id, question.text)
            return self._question_delete(question.id, question.text)
        if step is Step.VIEW:
            return self._view(ctx, ViewAspect(str(data.get("aspect", ViewAspect.WORKS))))
        if step is Step.PARTICIPATION:
            return self._participation(ctx)
        if step is Step.REVIEW:
            return self._review(ctx)
        if step is Step.READERS_PICK:
            return self._readers_pick(ctx)
        if step is Step.READERS:
            return self._readers(ctx, str(data.get("kind")), _int(data.get("item_id")))
        return self._menu(ctx)

    def help(self, state: FlowState) -> Reply:
        """Explains the current step and the commands."""
        step = Step(state.step)
        if step in (Step.READERS_PICK, Step.READERS):
            return say("sharing.help.youth")
        return say(f"youth.help.{step.value}")

    def _menu(self, ctx: StepContext, *before: Reply) -> Transition:
        """Main menu: the four steps and what a meeting is."""
        meeting = ctx.ports.members.next_meeting(ctx.actor.case_id, ctx.now)
        choices = (
            Choice("about", "youth.menu.about"),
            Choice("questions", "youth.menu.questions", _progress(1)),
            Choice("view", "youth.menu.view", _progress(2)),
            Choice("participation", "youth.menu.participation", _progress(3)),
            Choice("review", "youth.menu.review", _progress(4)),
            *family_menu_choices(ctx),
            help_now.MENU_CHOICE,
            Choice("pause", "youth.menu.pause"),
        )
        menu = say(
            "youth.menu",
            *choices,
            meeting_at=meeting.starts_at if meeting else None,
        )
        return Transition(_state(Step.MENU), (*before, menu))

    def _about(self) -> Transition:
        """Explains in plain words what a samverkansmöte is."""
        reply = say("youth.about", Choice("start", "youth.about.start"), MENU_CHOICE)
        return Transition(_state(Step.ABOUT), (reply,))

    def _questions(self, ctx: StepContext, *before: Reply) -> Transition:
        """Step 1: lists the questions and offers add, change, delete, next."""
        prep = ctx.ports.preparation.preparation(ctx.actor.case_id, ctx.actor.person_id)
        choices = [Choice("add", "youth.questions.add")]
        if prep.questions:
            choices += [
                Choice("edit", "youth.questions.edit"),
                Choice("delete", "youth.questions.delete"),
            ]
        choices += [Choice("next", "youth.questions.next"), MENU_CHOICE]
        reply = say(
            "youth.questions",
            *choices,
            questions=[q.text for q in prep.questions],
            **_progress(1),
        )
        return Transition(_state(Step.QUESTIONS), (*before, reply))

    def _question_add(self, *before: Reply) -> Transition:
        """Asks for the text of a new question."""
        reply = say("youth.question.ask", CANCEL, max=QUESTION_MAX_CHARS)
        return Transition(_state(Step.QUESTION_ADD), (*before, reply))

    def _question_pick(self, ctx: StepContext, pick: Pick) -> Transition:
        """Asks which question to change or delete."""
        prep = ctx.ports.preparation.preparation(ctx.actor.case_id, ctx.actor.person_id)
        if not prep.questions:
            return self._questions(ctx)
        choices = [Choice(f"q:{q.id}", "common.item", {"text": q.text}) for q in prep.questions]
        reply = say(f"youth.question.pick_{pick.value}", *choices, CANCEL)
        return Transition(_state(Step.QUESTION_PICK, pick=pick.value), (reply,))

    def _question_edit(self, question_id: int, text: str, *before: Reply) -> Transition:
        """Asks for the new text of a question, showing the old one."""
        reply = say("youth.question.edit_ask", CANCEL, text=text)
        return Transition(_state(Step.QUESTION_EDIT, question_id=question_id), (*before, reply))

    def _question_delete(self, question_id: int, text: str) -> Transition:
        """Asks to confirm deleting a question."""
        reply = say(
            "youth.question.delete_confirm",
            Choice("yes", "youth.question.delete_yes"),
            Choice("no", "youth.question.delete_no"),
            text=text,
        )
        return Transition(_state(Step.QUESTION_DELETE, question_id=question_id), (reply,))

    def _view(self, ctx: StepContext, aspect: ViewAspect, *before: Reply) -> Transition:
        """Step 2: asks for one part of "min bild", showing what is already written."""
        prep = ctx.ports.preparation.preparation(ctx.actor.case_id, ctx.actor.person_id)
        existing = prep.view(aspect)
        choices = [
            Choice("skip", "youth.view.keep" if existing else "youth.view.skip"),
            MENU_CHOICE,
        ]
        reply = say(
            f"youth.view.{aspect.value}",
            *choices,
            current=existing.text if existing else None,
            part=VIEW_ORDER.index(aspect) + 1,
            parts=len(VIEW_ORDER),
            **_progress(2),
        )
        return Transition(_state(Step.VIEW, aspect=aspect.value), (*before, reply))

    def _participation(self, ctx: StepContext, *before: Reply) -> Transition:
        """Step 3: asks how the young person wants to take part (until the meeting starts)."""
        prep = ctx.ports.preparation.preparation(ctx.actor.case_id, ctx.actor.person_id)
        current = prep.preference.participation.value if prep.preference else None
        if meeting_needs.participation_closed(ctx):
            return self._menu(ctx, *before, meeting_needs.too_late_reply(current))
        choices = [Choice(p.value, f"participation.{p.value}") for p in Participation]
        reply = say(
            "youth.participation",
            *choices,
            Choice("skip", "youth.participation.skip"),
            current=current,
            **_progress(3),
        )
        return Transition(_state(Step.PARTICIPATION), (*before, reply))

    def _review(self, ctx: StepContext, *before: Reply) -> Transition:
        """Step 4: every item with its sharing state; tapping one shares or unshares it."""
        prep = ctx.ports.preparation.preparation(ctx.actor.case_id, ctx.actor.person_id)
        items = _review_items(prep)
        if not items:
            reply = say("youth.review.empty", MENU_CHOICE, **_progress(4))
            return Transition(_state(Step.REVIEW), (*before, reply))
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
        reply = say(
            "youth.review",
            *choices,
            Choice("done", "youth.review.done"),
            shared_count=sum(1 for *_, shared in items if shared),
            **_progress(4),
        )
        return Transition(_state(Step.REVIEW), (*before, reply))

    def _readers_pick(self, ctx: StepContext, *before: Reply) -> Transition:
        """Her shared items, to choose who reads one of them."""
        prep = ctx.ports.preparation.preparation(ctx.actor.case_id, ctx.actor.person_id)
        shared = [(k, i, t) for k, i, t, is_shared in _review_items(prep) if is_shared]
        if not shared:
            return self._review(ctx, *before)
        choices = [
            Choice(
                f"r:{kind.value}:{item_id}",
                "sharing.youth.item",
                {"text": text, "kind": kind.value},
            )
            for kind, item_id, text in shared
        ]
        reply = say("sharing.youth.pick", *choices, BACK)
        return Transition(_state(Step.READERS_PICK), (*before, reply))

    def _readers(self, ctx: StepContext, kind: str, item_id: int, *before: Reply) -> Transition:
        """Who may read one shared item: the one who runs the meeting, everyone, or agencies."""
        prep = ctx.ports.preparation.preparation(ctx.actor.case_id, ctx.actor.person_id)
        found = next(
            (t for k, i, t, sh in _review_items(prep) if k.value == kind and i == item_id and sh),
            None,
        )
        if found is None:
            return self._review(ctx, *before)
        sharing = ctx.ports.sharing
        target = ShareTarget(kind)
        reply = readers_step(
            found if kind != ItemKind.PREFERENCE.value else "",
            sharing.chosen_readers(target, item_id, ctx.actor.person_id),
            sharing.default_readers(ctx.actor.person_id, ctx.actor.case_id),
            sharing.organisations(ctx.actor.case_id),
            message="sharing.readers",
        )
        return Transition(_state(Step.READERS, kind=kind, item_id=item_id), (*before, reply))

    def _on_readers_pick(self, event: Event, ctx: StepContext) -> Transition:
        """Opens the readers of the picked item, or goes back to the review."""
        choice = _choice(event)
        if choice is not None and choice.startswith("r:"):
            _, kind, item_id = choice.split(":", 2)
            return self._readers(ctx, kind, int(item_id))
        return self._review(ctx)

    def _on_readers(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Shares the item with the chosen readers (at once), stops sharing it, or is done."""
        kind, item_id = str(state.data.get("kind")), _int(state.data.get("item_id"))
        sharing, person = ctx.ports.sharing, ctx.actor.person_id
        target = ShareTarget(kind)
        current = sharing.chosen_readers(target, item_id, person)
        default = sharing.default_readers(person, ctx.actor.case_id)
        meant = read_readers_choice(_choice(event), current, default)
        if meant is None:
            return self._readers(ctx, kind, item_id, say("common.not_understood"))
        if meant.done:
            return self._review(ctx)
        if meant.stop:
            sharing.share(target, item_id, person, None, ctx.now)
            return self._review(ctx, say("sharing.stopped"))
        sharing.share(target, item_id, person, meant.readers, ctx.now)
        return self._readers(ctx, kind, item_id, say("sharing.saved"))

    # --- handling events --------------------------------------------------------------

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Handles the event in the current step; words that may mean danger get help first."""
        transition = self._route(state, event, ctx)
        if isinstance(event, TextMessage) and may_mean_danger(event.text):
            # Help at once, then the step's own answer: what she wrote is saved (or not) as the
            # step always does, and nothing else is kept or told to anyone. Any step, not only
            # the free-text ones: "jag vill dö" typed at the menu must not get "Det förstod jag
            # inte" alone. The flow runs in private chats only (flows/private_chat.py).
            return replace(transition, replies=(*help_now.urgent_help(), *transition.replies))
        return transition

    def _route(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Routes the event to the handler of the current step."""
        step = Step(state.step)
        if step is Step.MENU:
            return self._on_menu(event, ctx)
        if step is Step.ABOUT:
            return self._on_about(event, ctx)
        if step is Step.QUESTIONS:
            return self._on_questions(event, ctx)
        if step is Step.QUESTION_ADD:
            return self._on_question_add(event, ctx)
        if step is Step.QUESTION_PICK:
            return self._on_question_pick(state, event, ctx)
        if step is Step.QUESTION_EDIT:
            return self._on_question_edit(state, event, ctx)
        if step is Step.QUESTION_DELETE:
            return self._on_question_delete(state, event, ctx)
        if step is Step.VIEW:
            return self._on_view(state, event, ctx)
        if step is Step.PARTICIPATION:
            return self._on_participation(event, ctx)
        if step is Step.READERS_PICK:
            return self._on_readers_pick(event, ctx)
        if step is Step.READERS:
            return self._on_readers(state, event, ctx)
        return self._on_review(event, ctx)

    def _on_menu(self, event: Event, ctx: StepContext) -> Transition:
        """Opens the step the young person picked in the menu."""
        match _choice(event):
            case "about":
                return self._about()
            case "questions":
                return self._questions(ctx)
            case "view":
                return self._view(ctx, VIEW_ORDER[0])
            case "participation":
                return self._participation(ctx)
            case "review":
                return self._review(ctx)
            case "pause":
                menu = self._menu(ctx)
                return Transition(
                    FlowState(menu.state.flow, menu.state.step, paused=True),
                    (say("common.paused"),),
                )
        return self._menu(ctx, say("common.not_understood"))

    def _on_about(self, event: Event, ctx: StepContext) -> Transition:
        """Goes on to the questions, or back to the menu."""
        match _choice(event):
            case "start":
                return self._questions(ctx)
            case "menu":
                return self._menu(ctx)
        return self._menu(ctx, say("common.not_understood"))

    def _on_questions(self, event: Event, ctx: StepContext) -> Transition:
        """Adds, changes or deletes a question, or moves on to step 2."""
        match _choice(event):
            case "add":
                return self._question_add()
            case "edit":
                return self._question_pick(ctx, Pick.EDIT)
            case "delete":
                return self._question_pick(ctx, Pick.DELETE)
            case "next":
                return self._view(ctx, VIEW_ORDER[0])
            case "menu":
                return self._menu(ctx)
        if isinstance(event, TextMessage):
            # Someone who just types a question here means to add it; don't make them tap first.
            return self._on_question_add(event, ctx)
        return self._questions(ctx, say("common.not_understood"))

    def _on_question_add(self, event: Event, ctx: StepContext) -> Transition:
        """Stores the new question, unshared, and shows the list."""
        if _choice(event) == "cancel":
            return self._questions(ctx)
        if not isinstance(event, TextMessage):
            return self._question_add(say("common.need_text"))
        checked = clean_text(event.text, QUESTION_MAX_CHARS)
        if not isinstance(checked, CleanText):
            return self._question_add(say(f"text.{checked.value}", max=QUESTION_MAX_CHARS))
        ctx.ports.preparation.add_question(
            ctx.actor.case_id, ctx.actor.person_id, checked.text, ctx.now
        )
        return self._questions(ctx, say("youth.question.saved"))

    def _on_question_pick(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Opens the picked question for change or deletion."""
        choice = _choice(event)
        if choice is None or choice == "cancel" or not choice.startswith("q:"):
            return self._questions(ctx)
        question = ctx.ports.preparation.question(int(choice[2:]), ctx.actor.person_id)
        if question is None:
            return self._questions(ctx)
        if state.data.get("pick") == Pick.DELETE.value:
            return self._question_delete(question.id, question.text)
        return self._question_edit(question.id, question.text)

    def _on_question_edit(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Stores the new text of the question."""
        question_id = _int(state.data.get("question_id"))
        if _choice(event) == "cancel":
            return self._questions(ctx)
        question = ctx.ports.preparation.question(question_id, ctx.actor.person_id)
        if question is None:
            return self._questions(ctx)
        if not isinstance(event, TextMessage):
            return self._question_edit(question_id, question.text, say("common.need_text"))
        checked = clean_text(event.text, QUESTION_MAX_CHARS)
        if not isinstance(checked, CleanText):
            problem = say(f"text.{checked.value}", max=QUESTION_MAX_CHARS)
            return self._question_edit(question_id, question.text, problem)
        ctx.ports.preparation.edit_question(question_id, ctx.actor.person_id, checked.text, ctx.now)
        return self._questions(ctx, say("youth.question.changed"))

    def _on_question_delete(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Deletes the question after a yes."""
        if _choice(event) == "yes":
            ctx.ports.preparation.delete_question(
                _int(state.data.get("question_id")), ctx.actor.person_id
            )
            return self._questions(ctx, say("youth.question.deleted"))
        return self._questions(ctx)

    def _on_view(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Stores one part of "min bild" (or skips it) and asks the next part."""
        aspect = ViewAspect(str(state.data.get("aspect", ViewAspect.WORKS)))
        choice = _choice(event)
        if choice == "menu":
            return self._menu(ctx)
        before: tuple[Reply, ...] = ()
        if isinstance(event, TextMessage):
            checked = clean_text(event.text, VIEW_MAX_CHARS)
            if not isinstance(checked, CleanText):
                return self._view(ctx, aspect, say(f"text.{checked.value}", max=VIEW_MAX_CHARS))
            ctx.ports.preparation.set_view(
                ctx.actor.case_id, ctx.actor.person_id, aspect, checked.text, ctx.now
            )
            before = (say("youth.view.saved"),)
        elif choice != "skip":
            return self._view(ctx, aspect, say("common.not_understood"))
        position = VIEW_ORDER.index(aspect)
        if position + 1 < len(VIEW_ORDER):
            return self._view(ctx, VIEW_ORDER[position + 1], *before)
        return self._participation(ctx, *before, say("youth.view.done"))

    def _on_participation(self, event: Event, ctx: StepContext) -> Transition:
        """Stores how the young person wants to take part, then opens the review."""
        choice = _choice(event)
        if choice == "skip":
            return self._review(ctx)
        if choice in {p.value for p in Participation}:
            if meeting_needs.participation_closed(ctx):
                # She was in this step when the meeting began: her earlier choice is kept.
                return self._participation(ctx)
            ctx.ports.preparation.set_participation(
                ctx.actor.case_id, ctx.actor.person_id, Participation(choice), ctx.now
            )
            return self._review(ctx, say("youth.participation.saved"))
        return self._participation(ctx, say("common.not_understood"))

    def _on_review(self, event: Event, ctx: StepContext) -> Transition:
        """Shares or unshares the tapped item; "klar" sums up and returns to the menu."""
        choice = _choice(event)
        if choice in ("done", "menu"):
            prep = ctx.ports.preparation.preparation(ctx.actor.case_id, ctx.actor.person_id)
            shared = sum(1 for *_, is_shared in _review_items(prep) if is_shared)
            return self._menu(ctx, say("youth.review.summary", shared_count=shared))
        if choice == "readers":
            return self._readers_pick(ctx)
        if choice is not None and choice.startswith("t:"):
            _, kind, item_id = choice.split(":", 2)
            prep = ctx.ports.preparation.preparation(ctx.actor.case_id, ctx.actor.person_id)
            current = {(k, i): s for k, i, _, s in _review_items(prep)}
            key = (ItemKind(kind), int(item_id))
            if key in current:
                ctx.ports.preparation.set_shared(
                    key[0], key[1], ctx.actor.person_id, not current[key], ctx.now
                )
            return self._review(ctx)
        return self._review(ctx, say("common.not_understood"))


def _review_items(prep: Preparation) -> list[tuple[ItemKind, int, str, bool]]:
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


def _choice(event: Event) -> str | None:
    """The id of the choice made, or None for any other event."""
    return event.choice_id if isinstance(event, ChoiceMade) else None


def _int(value: StateValue) -> int:
    """A state value that must be an id."""
    return int(value) if value is not None else 0
