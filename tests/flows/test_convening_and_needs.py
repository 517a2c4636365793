"""The coordinator's "Att svara på" (requests and suggestions answered, by id) and the family's
interpreter and needs sidetrack, walked edge by edge on the fast client."""

from __future__ import annotations

from flows.convening_port import OPEN_CHOICE
from flows.meeting_needs import MeetingNeed
from testkit.client import BotClient
from tests.flows.family import Family, family


def kim_with_a_request_and_a_suggestion(f: Family) -> tuple[BotClient, BotClient]:
    """Alex asks for a meeting and suggests her aunt; Kim opens the list."""
    alex = f.joined("YOUTH", "alex")
    alex.click("request:open")
    alex.type("Jag vill prata om skolan")
    alex.click("matter:open")
    alex.type("Moster Lisa")
    alex.type("min moster")
    kim = f.bot.client_of(f.coordinator.id)
    kim.send("/meny")
    return alex, kim


def test_kim_answers_a_request_with_words_and_alex_gets_them_privately() -> None:
    f = family()
    alex, kim = kim_with_a_request_and_a_suggestion(f)
    assert kim.click(OPEN_CHOICE) == ["convene.list"]
    (request,) = [c for c in kim.offered if c.startswith("r:")]
    assert kim.click(request) == ["convene.request"]
    assert kim.click("back") == ["convene.list"]
    kim.click(request)
    assert kim.click("words") == ["convene.answer_ask"]
    assert kim.click("cancel") == ["convene.list"]
    kim.click(request)
    kim.click("words")
    assert kim.type("Vi ses på tisdag") == ["convene.answered", "convene.list"]
    assert [n.message for n in alex.notices()][-1] == "request.answered"
    assert not [c for c in kim.offered if c.startswith("r:")]
    assert kim.click("home")[-1] == "coord.home"


def test_kim_books_a_meeting_from_a_request_in_the_coordinator_flow() -> None:
    f = family()
    _alex, kim = kim_with_a_request_and_a_suggestion(f)
    kim.click(OPEN_CHOICE)
    (request,) = [c for c in kim.offered if c.startswith("r:")]
    kim.click(request)
    assert kim.click("book")[0] == "convene.book_intro"
    assert kim.flow != "convening"


def test_kim_approves_a_suggested_person_and_the_one_who_suggested_is_told() -> None:
    f = family()
    alex, kim = kim_with_a_request_and_a_suggestion(f)
    kim.click(OPEN_CHOICE)
    (suggestion,) = [c for c in kim.offered if c.startswith("s:")]
    assert kim.click(suggestion) == ["convene.suggestion"]
    assert kim.click("back") == ["convene.list"]
    kim.click(suggestion)
    assert kim.click("yes") == ["coord.invite_created", "convene.list"]
    assert kim.reply("coord.invite_created").params["secret_code"]
    assert [n.message for n in alex.notices()][-1] == "matter.approved"


def test_kim_declines_a_suggested_person() -> None:
    f = family()
    alex, kim = kim_with_a_request_and_a_suggestion(f)
    kim.click(OPEN_CHOICE)
    (suggestion,) = [c for c in kim.offered if c.startswith("s:")]
    kim.click(suggestion)
    assert kim.click("no") == ["convene.declined", "convene.list"]
    assert [n.message for n in alex.notices()][-1] == "matter.declined"


def test_the_list_is_not_for_the_family() -> None:
    alex = family().joined("YOUTH", "alex")
    assert alex.tap(OPEN_CHOICE)[0] == "convene.not_here"


def test_a_caregiver_needs_no_interpreter_and_says_nothing_more() -> None:
    f = family()
    robin = f.joined("CAREGIVER", "robin")
    assert robin.click("needs:open") == ["needs.interpreter_ask"]
    assert robin.click("no") == ["needs.other_ask"]
    assert robin.click("none") == ["needs.saved", "caregiver.menu"]
    assert f.bot.ports.meeting_needs.need(f.case.id, robin.person_id) == MeetingNeed(
        False, None, None
    )
    assert robin.click("needs:open") == ["needs.interpreter_ask"]
    assert robin.reply("needs.interpreter_ask").params["saved"] is True
    assert robin.click("back") == ["caregiver.menu"]


def test_the_language_is_written_and_cancel_asks_again() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    alex.click("needs:open")
    assert alex.click("yes") == ["needs.language_ask"]
    assert alex.click("cancel") == ["needs.interpreter_ask"]
    alex.click("yes")
    assert alex.type("somaliska") == ["needs.other_ask"]
    assert alex.click("none") == ["needs.saved", "youth.menu"]
    assert f.bot.ports.meeting_needs.need(f.case.id, alex.person_id) == MeetingNeed(
        True, "somaliska", None
    )


def test_needs_are_not_asked_of_the_staff() -> None:
    f = family()
    kim = f.bot.client_of(f.coordinator.id)
    kim.send("/meny")
    assert kim.tap("needs:open")[0] == "needs.not_here.coordinator"


def test_what_another_coordinator_answered_meanwhile_is_gone() -> None:
    f = family()
    _alex, kim = kim_with_a_request_and_a_suggestion(f)
    kim.click(OPEN_CHOICE)
    (request,) = [c for c in kim.offered if c.startswith("r:")]
    (suggestion,) = [c for c in kim.offered if c.startswith("s:")]
    kim.click(request)
    convening, now = f.bot.ports.convening, f.bot.clock.now
    convening.answer_request(int(request[2:]), f.coordinator.id, "Redan svarat", now)
    assert kim.click("book") == ["convene.gone", "convene.list"]
    kim.click(suggestion)
    convening.decide(int(suggestion[2:]), f.coordinator.id, False, now)
    assert kim.click("yes") == ["convene.gone", "convene.list"]
