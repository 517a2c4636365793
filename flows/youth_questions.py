"""The young person's step 1: her questions (add, change, delete). The steps are declared in
flows/youth_prep.py's `STEPS`; these are their prompts and handlers."""

from __future__ import annotations

from flows.domain import Preparation
from flows.engine import Transition
from flows.replies import Choice, ParamValue, Reply, say
from flows.steps import Turn
from flows.text_rules import QUESTION_MAX_CHARS, CleanText, clean_text

TOTAL_STEPS = 4
CANCEL = Choice("cancel", "common.cancel")
MENU_CHOICE = Choice("menu", "common.to_menu")


def progress(step: int) -> dict[str, ParamValue]:
    """The "Steg 2 av 4" parameters of a message."""
    return {"step": step, "total": TOTAL_STEPS}


def preparation_of(turn: Turn) -> Preparation:
    """Everything she has prepared so far."""
    ctx = turn.ctx
    return ctx.ports.preparation.preparation(ctx.actor.case_id, ctx.actor.person_id)


def questions(turn: Turn) -> Reply:
    """Step 1: lists the questions and offers add, change, delete, next."""
    prep = preparation_of(turn)
    choices = [Choice("add", "youth.questions.add")]
    if prep.questions:
        choices += [
            Choice("edit", "youth.questions.edit"),
            Choice("delete", "youth.questions.delete"),
        ]
    choices += [Choice("next", "youth.questions.next"), MENU_CHOICE]
    return say(
        "youth.questions", *choices, questions=[q.text for q in prep.questions], **progress(1)
    )


def question_add(turn: Turn) -> Reply:
    """Asks for the text of a new question."""
    return say("youth.question.ask", CANCEL, max=QUESTION_MAX_CHARS)


def add_question(turn: Turn) -> Transition:
    """Stores the typed question, unshared, and shows the list."""
    checked = clean_text(turn.text or "", QUESTION_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return turn.go("question_add", say(f"text.{checked.value}", max=QUESTION_MAX_CHARS))
    ctx = turn.ctx
    ctx.ports.preparation.add_question(
        ctx.actor.case_id, ctx.actor.person_id, checked.text, ctx.now
    )
    return turn.go("questions", say("youth.question.saved"))


def question_pick(turn: Turn) -> Reply | Transition:
    """Asks which question to change or delete (the list again when there is none)."""
    prep = preparation_of(turn)
    if not prep.questions:
        return turn.go("questions")
    choices = [Choice(f"q:{q.id}", "common.item", {"text": q.text}) for q in prep.questions]
    return say(f"youth.question.pick_{turn.word('pick', 'edit')}", *choices, CANCEL)


def open_question(turn: Turn) -> Transition:
    """Opens the picked question for change or deletion."""
    ctx = turn.ctx
    question = ctx.ports.preparation.question(int((turn.choice or "q:0")[2:]), ctx.actor.person_id)
    if question is None:
        return turn.go("questions")
    step = "question_delete" if turn.word("pick") == "delete" else "question_edit"
    return turn.go(step, question_id=question.id)


def question_text(turn: Turn) -> str | None:
    """The text of the question this step is about, or None when it is gone."""
    ctx = turn.ctx
    question = ctx.ports.preparation.question(turn.number("question_id"), ctx.actor.person_id)
    return question.text if question is not None else None


def question_edit(turn: Turn) -> Reply | Transition:
    """Asks for the new text of a question, showing the old one."""
    text = question_text(turn)
    if text is None:
        return turn.go("questions")
    return say("youth.question.edit_ask", CANCEL, text=text)


def edit_question(turn: Turn) -> Transition:
    """Stores the new text of the question."""
    if question_text(turn) is None:
        return turn.go("questions")
    checked = clean_text(turn.text or "", QUESTION_MAX_CHARS)
    if not isinstance(checked, CleanText):
        return turn.again(say(f"text.{checked.value}", max=QUESTION_MAX_CHARS))
    ctx = turn.ctx
    ctx.ports.preparation.edit_question(
        turn.number("question_id"), ctx.actor.person_id, checked.text, ctx.now
    )
    return turn.go("questions", say("youth.question.changed"))


def need_text(turn: Turn) -> Transition:
    """A button where words were asked for: asks for words (the list if the question is gone)."""
    if turn.step == "question_edit" and question_text(turn) is None:
        return turn.go("questions")
    return turn.again(say("common.need_text"))


def question_delete(turn: Turn) -> Reply | Transition:
    """Asks to confirm deleting a question."""
    text = question_text(turn)
    if text is None:
        return turn.go("questions")
    return say(
        "youth.question.delete_confirm",
        Choice("yes", "youth.question.delete_yes"),
        Choice("no", "youth.question.delete_no"),
        text=text,
    )


def delete_question(turn: Turn) -> Transition:
    """Deletes the question after a yes."""
    ctx = turn.ctx
    ctx.ports.preparation.delete_question(turn.number("question_id"), ctx.actor.person_id)
    return turn.go("questions", say("youth.question.deleted"))
