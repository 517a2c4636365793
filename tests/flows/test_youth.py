"""The young person's preparation, as she walks it: menu, about, questions, view, taking part,
review and sharing, and who reads what she shared."""

from __future__ import annotations

import pytest

from flows.domain import Participation, ViewAspect
from flows.sharing import EVERYONE, ReaderScope, ShareTarget
from testkit.client import NotOffered
from tests.flows.family import family


def test_alex_joins_and_sees_her_menu_with_the_meeting_date() -> None:
    f = family()
    alex = f.bot.client("alex")
    assert alex.join("YOUTH") == ["join.joined", "youth.menu"]
    assert alex.reply("youth.menu").params["meeting_at"] == f.meeting.starts_at
    assert alex.offered[:5] == ("about", "questions", "view", "participation", "review")


def test_about_leads_to_her_questions() -> None:
    alex = family().joined("YOUTH", "alex")
    assert alex.click("about") == ["youth.about"]
    assert alex.click("start") == ["youth.questions"]


def test_she_adds_edits_and_deletes_a_question_and_it_stays_hers() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    alex.click("questions")
    alex.click("add")
    assert alex.type("Får jag vara med hela tiden?") == ["youth.question.saved", "youth.questions"]
    prep = f.bot.ports.preparation.preparation(f.case.id, alex.person_id)
    (question,) = prep.questions
    assert (question.text, question.shared) == ("Får jag vara med hela tiden?", False)

    alex.click("edit")
    alex.click(f"q:{question.id}")
    assert alex.type("Får jag gå ut en stund?") == ["youth.question.changed", "youth.questions"]
    assert f.bot.ports.preparation.question(question.id, alex.person_id) is not None
    assert f.bot.ports.preparation.question(question.id, alex.person_id).text == (
        "Får jag gå ut en stund?"
    )

    alex.click("delete")
    alex.click(f"q:{question.id}")
    assert alex.click("yes") == ["youth.question.deleted", "youth.questions"]
    assert f.bot.ports.preparation.preparation(f.case.id, alex.person_id).questions == ()


def test_a_choice_that_is_not_on_screen_fails_the_test_loudly() -> None:
    alex = family().joined("YOUTH", "alex")
    with pytest.raises(NotOffered):
        alex.click("delete")  # no questions yet: the menu offers no "delete"


def test_her_view_has_three_parts_then_she_chooses_how_to_take_part() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    assert alex.click("view") == ["youth.view.works"]
    assert alex.type("Fotbollen") == ["youth.view.saved", "youth.view.hard"]
    assert alex.click("skip") == ["youth.view.help"]
    assert alex.type("Någon att prata med") == [
        "youth.view.saved",
        "youth.view.done",
        "youth.participation",
    ]
    prep = f.bot.ports.preparation.preparation(f.case.id, alex.person_id)
    assert [(v.aspect, v.text) for v in prep.views] == [
        (ViewAspect.WORKS, "Fotbollen"),
        (ViewAspect.HELP, "Någon att prata med"),
    ]
    assert alex.click("remote") == ["youth.participation.saved", "youth.review"]
    prep = f.bot.ports.preparation.preparation(f.case.id, alex.person_id)
    assert prep.preference is not None
    assert prep.preference.participation is Participation.REMOTE


def test_nothing_is_shared_until_she_shares_it_and_then_the_agenda_shows_it() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    alex.click("questions")
    alex.click("add")
    alex.type("Vem bestämmer?")
    assert f.bot.ports.sharing.agenda(f.case.id, f.bot.clock.now).contributions == ()

    alex.send("/meny")
    assert alex.click("review") == ["youth.review"]
    (item,) = [c for c in alex.offered if c.startswith("t:question:")]
    alex.click(item)
    assert alex.reply("youth.review").params["shared_count"] == 1
    agenda = f.bot.ports.sharing.agenda(f.case.id, f.bot.clock.now)
    assert [c.questions for c in agenda.contributions] == [("Vem bestämmer?",)]

    # What she shares reaches the coordinator; the professional reads it as her first
    # answer said (assumed yes: everyone in the meeting).
    coordinator_view = f.bot.ports.sharing.agenda(f.case.id, f.bot.clock.now, f.coordinator.id)
    assert coordinator_view.contributions[0].questions == ("Vem bestämmer?",)


def test_she_chooses_who_reads_a_shared_question() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    alex.click("questions")
    alex.click("add")
    alex.type("Kan skolan hjälpa mig?")
    alex.send("/meny")
    alex.click("review")
    item = next(c for c in alex.offered if c.startswith("t:question:"))
    alex.click(item)
    assert alex.click("readers") == ["sharing.youth.pick"]
    question_id = int(item.rsplit(":", 1)[1])
    assert alex.click(f"r:question:{question_id}") == ["sharing.readers"]
    sharing = f.bot.ports.sharing
    assert sharing.default_readers(alex.person_id, f.case.id) == EVERYONE

    # Only the school: the professional from BUP no longer reads it, the coordinator does.
    assert alex.click(f"org:{f.skola.id}") == ["sharing.saved", "sharing.readers"]
    readers = sharing.chosen_readers(ShareTarget.QUESTION, question_id, alex.person_id)
    assert readers is not None and readers.scope is ReaderScope.ORGANISATIONS
    now = f.bot.clock.now
    assert sharing.agenda(f.case.id, now, f.professional.id).contributions == ()
    assert sharing.agenda(f.case.id, now, f.coordinator.id).contributions[0].questions == (
        "Kan skolan hjälpa mig?",
    )

    assert alex.click("stop_sharing") == ["sharing.stopped", "youth.review"]
    assert sharing.agenda(f.case.id, now).contributions == ()
