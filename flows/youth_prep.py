"""Youth preparation: learn about the meeting, write questions, say how it is, choose what to share.

Nothing the young person writes is shared until they choose it, item by item, in the review.
Each step is declared once in `STEPS` at the bottom (flows/steps.py): its prompt, what each
choice (by id) and typed text do, and where it goes. The diagram below is generated from that
table (`python -m scripts.diagrams`); tests/test_step_diagrams.py fails when it is stale.

```mermaid
stateDiagram-v2
    [*] --> menu
    menu --> about: about
    menu --> questions: questions
    menu --> view: view
    menu --> participation: participation
    menu --> review: review
    menu --> menu: pause
    about --> questions: start
    about --> menu: menu / otherwise
    questions --> question_add: add / text
    questions --> question_pick: edit / delete
    questions --> view: next
    questions --> menu: menu
    questions --> questions: text
    question_add --> questions: cancel / text
    question_pick --> question_edit: q
    question_pick --> question_delete: q
    question_pick --> questions: otherwise / (shown instead)
    question_edit --> questions: cancel / text / otherwise / (shown instead)
    question_delete --> questions: yes / otherwise / (shown instead)
    view --> view: skip / text
    view --> participation: skip / text
    view --> menu: menu
    participation --> review: whole / part / remote / not_at_all / skip
    participation --> menu: (shown instead)
    review --> readers_pick: readers
    review --> menu: done / menu
    readers_pick --> readers: r
    readers_pick --> review: otherwise / (shown instead)
    readers --> review: otherwise / (shown instead)
```

The menu also lists the family's sidetracks (the meeting, the plan, the shared picture, a new
meeting, needs, language, help now); the engine opens those, so they are not steps here.

Text that may mean acute danger ("jag orkar inte mer", flows/danger_words.py), in any step, is
answered first with where to turn (flows/help_now.py), for her alone; the step then goes on as
always. Nothing else is stored, flagged or sent to anyone because of it.
"""

from __future__ import annotations

from dataclasses import replace

from flows import help_now, meeting_needs, youth_questions, youth_sharing
from flows.danger_words import may_mean_danger
from flows.domain import Participation, Preparation, ViewAspect
from flows.engine import Transition
from flows.family_menu import family_menu_choices
from flows.replies import Choice, ParamValue, Reply, say
from flows.steps import Go, Step, StepFlow, Then, Turn, declared
from flows.text_rules import VIEW_MAX_CHARS, CleanText, clean_text

FLOW_NAME = "youth_prep"
TOTAL_STEPS = 4
VIEW_ORDER = (ViewAspect.WORKS, ViewAspect.HARD, ViewAspect.HELP)
FIRST_VIEW = VIEW_ORDER[0].value

BACK = Choice("back", "common.back")
CANCEL = Choice("cancel", "common.cancel")
MENU_CHOICE = Choice("menu", "common.to_menu")
NOT_UNDERSTOOD = "common.not_understood"


def _progress(step: int) -> dict[str, ParamValue]:
    """The "Steg 2 av 4" parameters of a message."""
    return {"step": step, "total": TOTAL_STEPS}


def _prep(turn: Turn) -> Preparation:
    """Everything she has prepared so far."""
    ctx = turn.ctx
    return ctx.ports.preparation.preparation(ctx.actor.case_id, ctx.actor.person_id)


# --- menu and about ----------------------------------------------------------------------


def _menu(turn: Turn) -> Reply:
    """Main menu: the four steps and what a meeting is."""
    ctx = turn.ctx
    meeting = ctx.ports.members.next_meeting(ctx.actor.case_id, ctx.now)
    return say(
        "youth.menu",
        Choice("about", "youth.menu.about"),
        Choice("questions", "youth.menu.questions", _progress(1)),
        Choice("view", "youth.menu.view", _progress(2)),
        Choice("participation", "youth.menu.participation", _progress(3)),
        Choice("review", "youth.menu.review", _progress(4)),
        *family_menu_choices(ctx),
        help_now.MENU_CHOICE,
        Choice("pause", "youth.menu.pause"),
        meeting_at=meeting.starts_at if meeting else None,
    )


def _pause(turn: Turn) -> Transition:
    """Pauses at the menu: the next message she sends welcomes her back there."""
    menu = turn.go("menu")
    return Transition(replace(menu.state, paused=True), (say("common.paused"),))


def _about(turn: Turn) -> Reply:
    """Explains in plain words what a samverkansmöte is."""
    return say("youth.about", Choice("start", "youth.about.start"), MENU_CHOICE)


def _menu_not_understood(turn: Turn) -> Transition:
    """Anything but the two buttons: back to the menu, saying so."""
    return turn.go("menu", say(NOT_UNDERSTOOD))


# --- step 2: her view ------------------------------------------------------------------


def _view(turn: Turn) -> Reply:
    """Step 2: asks for one part of "min bild", showing what is already written."""
    aspect = ViewAspect(turn.word("aspect", FIRST_VIEW))
    existing = _prep(turn).view(aspect)
    return say(
        f"youth.view.{aspect.value}",
        Choice("skip", "youth.view.keep" if existing else "youth.view.skip"),
        MENU_CHOICE,
        current=existing.text if existing else None,
        part=VIEW_ORDER.index(aspect) + 1,
        parts=len(VIEW_ORDER),
        **_progress(2),
    )


def _next_view(turn: Turn, *before: Reply) -> Transition:
    """The next part of her view, or step 3 after the last."""
    position = VIEW_ORDER.index(ViewAspect(turn.word("aspect", FIRST_VIEW)))
    if position + 1 < len(VIEW_ORDER):
        return turn.go("view", *before, aspect=VIEW_ORDER[position + 1].value)
    return turn.go("participation", *before, say("youth.view.done"))


def _skip_view(turn: Turn) -> Transition:
    """Keeps this part as it is (or empty) and asks the next."""
    return _next_view(turn)


def _write_view(turn: Turn) -> Transition:
    """Stores one part of "min bild" and asks the next."""
    checked = clean_text(turn.text or "", VIEW_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return turn.again(say(f"text.{checked.value}", max=VIEW_MAX_CHARS))
    ctx = turn.ctx
    aspect = ViewAspect(turn.word("aspect", FIRST_VIEW))
    ctx.ports.preparation.set_view(
        ctx.actor.case_id, ctx.actor.person_id, aspect, checked.text, ctx.now
    )
    return _next_view(turn, say("youth.view.saved"))


# --- step 3: how she takes part --------------------------------------------------------


def _participation(turn: Turn) -> Reply | Transition:
    """Step 3: asks how she wants to take part (until the meeting starts)."""
    prep = _prep(turn)
    current = prep.preference.participation.value if prep.preference else None
    if meeting_needs.participation_closed(turn.ctx):
        return turn.go("menu", meeting_needs.too_late_reply(current))
    return say(
        "youth.participation",
        *(Choice(p.value, f"participation.{p.value}") for p in Participation),
        Choice("skip", "youth.participation.skip"),
        current=current,
        **_progress(3),
    )


def _take_part(turn: Turn) -> Transition:
    """Stores how she wants to take part, then opens the review."""
    ctx = turn.ctx
    if meeting_needs.participation_closed(ctx):
        # She was in this step when the meeting began: her earlier choice is kept.
        return turn.again()
    participation = Participation(turn.choice or "")
    ctx.ports.preparation.set_participation(
        ctx.actor.case_id, ctx.actor.person_id, participation, ctx.now
    )
    return turn.go("review", say("youth.participation.saved"))


# --- words of danger, in any step ------------------------------------------------------


def _help_first(turn: Turn, transition: Transition) -> Transition:
    """Words that may mean danger get where to turn first, then the step's own answer."""
    if turn.text is not None and may_mean_danger(turn.text):
        # What she wrote is saved (or not) as the step always does, and nothing else is kept
        # or told to anyone. Any step, not only the free-text ones: "jag vill dö" typed at the
        # menu must not get "Det förstod jag inte" alone. The flow runs in private chats only
        # (flows/private_chat.py).
        return replace(transition, replies=(*help_now.urgent_help(), *transition.replies))
    return transition


# --- the steps ---------------------------------------------------------------------------

TO_QUESTIONS = Go("questions")
TO_MENU = Go("menu")

STEPS = (
    Step(
        "menu",
        show=_menu,
        choices={
            "about": Go("about"),
            "questions": TO_QUESTIONS,
            "view": Go("view", aspect=FIRST_VIEW),
            "participation": Go("participation"),
            "review": Go("review"),
            "pause": Then(_pause, to=("menu",)),
        },
    ),
    Step(
        "about",
        show=_about,
        choices={"start": TO_QUESTIONS, "menu": TO_MENU},
        otherwise=Then(_menu_not_understood, to=("menu",)),
    ),
    Step(
        "questions",
        show=youth_questions.questions,
        choices={
            "add": Go("question_add"),
            "edit": Go("question_pick", pick="edit"),
            "delete": Go("question_pick", pick="delete"),
            "next": Go("view", aspect=FIRST_VIEW),
            "menu": TO_MENU,
        },
        # Someone who just types a question here means to add it; don't make them tap first.
        text=Then(youth_questions.add_question, to=("questions", "question_add")),
    ),
    Step(
        "question_add",
        show=youth_questions.question_add,
        choices={"cancel": TO_QUESTIONS},
        text=Then(youth_questions.add_question, to=("questions",)),
        otherwise=Then(youth_questions.need_text, to=()),
    ),
    Step(
        "question_pick",
        show=youth_questions.question_pick,
        choices={
            "q:": Then(youth_questions.open_question, to=("question_edit", "question_delete"))
        },
        otherwise=TO_QUESTIONS,
        handovers=("questions",),
    ),
    Step(
        "question_edit",
        show=youth_questions.question_edit,
        choices={"cancel": TO_QUESTIONS},
        text=Then(youth_questions.edit_question, to=("questions",)),
        otherwise=Then(youth_questions.need_text, to=("questions",)),
        handovers=("questions",),
    ),
    Step(
        "question_delete",
        show=youth_questions.question_delete,
        choices={"yes": Then(youth_questions.delete_question, to=("questions",))},
        otherwise=TO_QUESTIONS,
        handovers=("questions",),
    ),
    Step(
        "view",
        show=_view,
        choices={"skip": Then(_skip_view, to=("view", "participation")), "menu": TO_MENU},
        text=Then(_write_view, to=("view", "participation")),
    ),
    Step(
        "participation",
        show=_participation,
        choices={
            **{p.value: Then(_take_part, to=("review",)) for p in Participation},
            "skip": Go("review"),
        },
        handovers=("menu",),
    ),
    Step(
        "review",
        show=youth_sharing.review,
        choices={
            "t:": Then(youth_sharing.toggle, to=()),
            "readers": Go("readers_pick"),
            "done": Then(youth_sharing.review_done, to=("menu",)),
            "menu": Then(youth_sharing.review_done, to=("menu",)),
        },
    ),
    Step(
        "readers_pick",
        show=youth_sharing.readers_pick,
        choices={"r:": Then(youth_sharing.open_readers, to=("readers",))},
        otherwise=Go("review"),
        handovers=("review",),
        help="sharing.help.youth",
    ),
    Step(
        "readers",
        show=youth_sharing.readers,
        otherwise=Then(youth_sharing.choose_readers, to=("review",)),
        handovers=("review",),
        help="sharing.help.youth",
    ),
)


@declared
class YouthPreparation(StepFlow):
    """The young person's preparation flow."""

    def __init__(self) -> None:
        super().__init__(
            FLOW_NAME, STEPS, home_step="menu", help_prefix="youth.help.", handle_hook=_help_first
        )
