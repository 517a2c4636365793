"""The sidetracks any member opens from the menu and returns from: the meeting and who is
who, asking for a meeting, language, help now, the shared picture, needs, cannot come,
people who matter and the check-in after a meeting."""

from __future__ import annotations

from flows.family_domain import Verdict
from flows.loop_ports import Felt, Heard
from flows.meeting_needs import MeetingNeed
from tests.flows.family import family


def test_the_meeting_and_who_is_who_then_back_to_her_menu() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    assert alex.click("meeting:open") == ["meeting.info"]
    assert alex.reply("meeting.info").params["starts_at"] == f.meeting.starts_at
    assert alex.click("who") == ["meeting.who"]
    people = alex.reply("meeting.who").params
    assert "Kim" in str(people) and "BUP Norr" in str(people)
    assert alex.click("back")[-1] == "youth.menu"


def test_she_asks_for_a_meeting_and_the_coordinator_is_told() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    assert alex.click("request:open") == ["request.ask"]
    assert alex.type("Jag vill prata om skolan") == ["request.sent", "youth.menu"]
    assert [n.message for n in f.bot.notices_to(f.coordinator.id)] == ["alert.meeting_request"]
    assert [n.message for n in f.bot.notices_to(f.professional.id)] == []
    request = f.bot.ports.families.open_request(f.case.id, alex.person_id)
    assert request is not None and request.reason == "Jag vill prata om skolan"


def test_a_language_chosen_is_the_one_she_is_written_to_in() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    assert alex.click("language:open") == ["language.pick"]
    assert alex.click("lang:en") == ["language.saved", "youth.menu"]
    actor = f.bot.ports.members.actor_for(alex.ref)
    assert actor is not None and actor.locale == "en"


def test_help_now_is_one_tap_from_her_menu() -> None:
    alex = family().joined("YOUTH", "alex")
    assert alex.click("help_now:open") == ["help_now.info"]
    assert alex.click("back") == ["youth.menu"]


def test_she_answers_the_shared_picture_and_her_comment_reaches_the_coordinator() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    assert "picture:open" not in alex.offered  # nothing published yet
    f.bot.ports.families.publish(f.case.id, f.coordinator.id, "Alex mår bättre.", f.bot.clock.now)
    alex.send("/meny")
    assert alex.click("picture:open") == ["picture.show"]
    alex.click("partly")
    alex.type("Skolan är fortfarande svår")
    assert alex.said("youth.menu")
    (answer,) = f.bot.ports.families.answers.values()
    assert (answer.verdict, answer.comment) == (Verdict.PARTLY, "Skolan är fortfarande svår")
    assert [n.message for n in f.bot.notices_to(f.coordinator.id)] == ["alert.picture"]


def test_her_needs_reach_the_coordinators_agenda_only() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    assert alex.click("needs:open") == ["needs.interpreter_ask"]
    assert alex.click("yes") == ["needs.language_ask"]
    assert alex.type("arabiska") == ["needs.other_ask"]
    assert alex.type("Pauser") == ["needs.saved", "youth.menu"]
    assert f.bot.ports.meeting_needs.need(f.case.id, alex.person_id) == MeetingNeed(
        True, "arabiska", "Pauser"
    )
    now = f.bot.clock.now
    (need,) = f.bot.ports.sharing.agenda(f.case.id, now).needs
    assert (need.display_name, need.language) == ("Alex", "arabiska")
    assert f.bot.ports.sharing.agenda(f.case.id, now, f.professional.id).needs == ()


def test_she_says_she_cannot_come_and_the_coordinator_is_told() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    assert alex.click("absent:open") == ["absent.ask"]
    assert alex.click("send") == ["absent.sent", "youth.menu"]
    assert [n.message for n in f.bot.notices_to(f.coordinator.id)] == ["convene.cannot_come"]


def test_people_who_matter_asks_a_name_and_a_relation_and_can_be_cancelled() -> None:
    alex = family().joined("YOUTH", "alex")
    assert alex.click("matter:open") == ["matter.ask_name"]
    assert alex.type("Moster Lisa") == ["matter.ask_relation"]
    assert alex.click("cancel")[-1] == "youth.menu"


def test_after_the_meeting_she_says_how_it_was() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    f.bot.clock.advance(days=8)  # the meeting was yesterday
    assert alex.tap("checkin:open") == ["meeting.checkin.felt"]
    assert alex.click("felt:good") == ["meeting.checkin.heard"]
    assert alex.click("heard:partly") == ["meeting.checkin.words"]
    assert alex.type("Bra att jag fick prata") == ["meeting.checkin.thanks", "youth.menu"]
    (checkin,) = f.bot.ports.loop.checkins
    assert (checkin.felt, checkin.heard, checkin.words) == (
        Felt.GOOD,
        Heard.PARTLY,
        "Bra att jag fick prata",
    )
    assert [n.message for n in f.bot.notices_to(f.coordinator.id)] == ["alert.checkin"]
    # Answered once: the same meeting is not asked about again.
    assert alex.tap("checkin:open")[0] != "meeting.checkin.felt"


def test_her_request_is_what_the_coordinator_reads_and_answers() -> None:
    """One store for both sides: what Alex asks is on Kim's list, and once Kim answered it,
    Alex has no open request left."""
    f = family()
    alex = f.joined("YOUTH", "alex")
    alex.click("request:open")
    alex.type("Jag vill prata om skolan")
    (open_request,) = f.bot.ports.convening.open_requests(f.coordinator.id)
    assert open_request.reason == "Jag vill prata om skolan"
    f.bot.ports.convening.answer_request(
        open_request.id, f.coordinator.id, "Vi ses på tisdag", f.bot.clock.now
    )
    assert f.bot.ports.families.open_request(f.case.id, alex.person_id) is None
