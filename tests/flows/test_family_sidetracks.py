"""The family's sidetracks walked by choice id on the fast client, edge by edge of each
table: the plan and its status dialog, the notes from the meeting, the agenda for staff, the
meeting request while one is open, the picture's other answers, language, help now, meeting
info, people who matter and the check-in skipped."""

from __future__ import annotations

from datetime import date

from flows.conversation import ChoiceMade, TextMessage
from flows.coordination import ActionStatus, NewAction, Owner, OwnerKind
from flows.domain import ItemKind
from flows.engine import StepContext
from flows.family_domain import Verdict
from flows.meeting_notes_ports import QuestionStatus
from flows.member_home import MemberHome
from tests.flows.family import Family, family


def _family_action(f: Family, text: str) -> int:
    """The coordinator adds an action the family owns."""
    owner = Owner(OwnerKind.FAMILY, None, "")
    (action_id,) = f.bot.ports.coordination.add_actions(
        f.case.id, [NewAction(owner, text, date(2026, 12, 20))], f.coordinator.id, f.bot.clock.now
    )
    return action_id


def _status(f: Family, action_id: int, viewer: int) -> ActionStatus:
    """The action's status as the viewer reads it."""
    action = f.bot.ports.coordination.action(action_id, viewer)
    assert action is not None
    return action.status


def test_the_caregiver_answers_her_action_blocked_with_a_reason_and_sees_the_plan() -> None:
    f = family()
    robin = f.joined("CAREGIVER", "robin")
    action_id = _family_action(f, "Ansök om stöd")
    robin.send("/plan")
    assert robin.ids() == ["plan.family"]
    assert robin.click(f"a:{action_id}") == ["status.pick"]
    assert robin.click("s:blocked") == ["status.reason_ask"]
    assert robin.type("Väntar på blanketten") == ["status.note_ask"]
    assert robin.click("skip") == ["status.saved", "plan.family"]
    assert _status(f, action_id, robin.person_id) is ActionStatus.BLOCKED
    assert robin.step == "shown"
    assert robin.click("back")[-1] == "caregiver.menu"


def test_a_new_date_is_read_in_words_and_tillbaka_leaves_the_action_as_it_was() -> None:
    f = family()
    robin = f.joined("CAREGIVER", "robin")
    action_id = _family_action(f, "Ansök om stöd")
    robin.send("/plan")
    robin.click(f"a:{action_id}")
    assert robin.click("s:new_date") == ["status.date_ask"]
    assert robin.type("inte ett datum") == ["status.date_unknown", "status.date_ask"]
    assert robin.type("15 dec") == ["status.note_ask"]
    assert robin.type("Tar lite längre tid") == ["status.saved", "plan.family"]
    action = f.bot.ports.coordination.action(action_id, robin.person_id)
    assert action is not None and action.due == date(2026, 12, 15)
    robin.click(f"a:{action_id}")
    assert robin.click("back") == ["plan.family"]
    assert robin.reply("plan.family").params["mine"] is False


def test_a_nudges_own_actions_then_the_whole_plan() -> None:
    f = family()
    robin = f.joined("CAREGIVER", "robin")
    _family_action(f, "Ansök om stöd")
    assert robin.tap("n:actions") == ["plan.family"]
    assert robin.flow == "family_plan"
    assert robin.state is not None and robin.state.data == {"mine": 1}
    assert robin.reply("plan.family").params["mine"] is True
    assert robin.click("all") == ["plan.family"]
    assert robin.reply("plan.family").params["mine"] is False
    assert robin.state is not None and robin.state.data == {"mine": 0}


def test_staff_are_told_where_their_plan_is() -> None:
    f = family()
    kim = f.bot.client_of(f.coordinator.id)
    kim.send("/plan")
    assert kim.said("plan.not_here.coordinator")
    assert kim.flow != "family_plan"


def test_she_reads_the_notes_and_says_she_got_no_answer() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    ports, now = f.bot.ports, f.bot.clock.now
    question = ports.preparation.add_question(f.case.id, alex.person_id, "Vem bestämmer?", now)
    ports.preparation.set_shared(ItemKind.QUESTION, question, alex.person_id, True, now)
    ports.meeting_notes.save_notes(
        f.case.id,
        f.meeting.id,
        f.coordinator.id,
        "Vi kom överens om en plan.",
        None,
        [(question, QuestionStatus.ANSWERED)],
        now,
    )
    assert alex.tap("notes:open") == ["notes.summary", "plan.family", "notes.questions"]
    assert alex.click(f"noanswer:{question}") == [
        "notes.no_answer_told",
        "notes.summary",
        "plan.family",
        "notes.questions",
    ]
    assert [n.message for n in f.bot.notices_to(f.coordinator.id)] == ["coord.notes.no_answer"]
    assert f"noanswer:{question}" not in alex.offered  # once each
    assert alex.click("back")[-1] == "youth.menu"


def test_no_notes_yet_says_so_with_a_way_back() -> None:
    alex = family().joined("YOUTH", "alex")
    assert alex.tap("notes:open") == ["notes.none"]
    assert alex.click("back") == ["youth.menu"]


def test_the_professional_reads_the_agenda_and_the_family_is_pointed_to_their_menu() -> None:
    f = family()
    pat = f.bot.client_of(f.professional.id)
    pat.send("/dagordning")
    assert pat.said("sharing.agenda_chat") and pat.flow == "agenda_reading"
    assert pat.click("back")[-1] == "pro.home"
    alex = f.joined("YOUTH", "alex")
    assert alex.send("/dagordning") == ["sharing.agenda_chat.not_here", "youth.menu"]


def test_an_open_request_is_shown_and_she_may_ask_again() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    alex.click("request:open")
    assert alex.click("cancel") == ["request.cancelled", "youth.menu"]
    assert alex.click("request:open") == ["request.ask"]
    assert alex.type("Jag vill prata om skolan") == ["request.sent", "youth.menu"]
    assert alex.click("request:open") == ["request.waiting"]
    assert alex.click("again") == ["request.ask"]
    assert alex.click("cancel") == ["request.cancelled", "youth.menu"]
    assert alex.click("request:open") == ["request.waiting"]
    assert alex.click("back") == ["youth.menu"]


def test_picture_agree_later_and_a_cancelled_comment() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    f.bot.ports.families.publish(f.case.id, f.coordinator.id, "Alex mår bättre.", f.bot.clock.now)
    assert alex.tap("picture:open") == ["picture.show"]
    assert alex.click("later") == ["picture.later_ok", "youth.menu"]
    alex.tap("picture:open")
    assert alex.click("disagree") == ["picture.comment.disagree"]
    assert alex.click("cancel") == ["picture.show"]
    assert alex.type("hmm") == ["common.not_understood", "picture.show"]
    assert alex.click("agree") == ["picture.thanks.agree", "youth.menu"]
    (answer,) = f.bot.ports.families.answers.values()
    assert answer.verdict is Verdict.AGREE


def test_language_back_changes_nothing_and_help_now_goes_back_on_any_word() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    assert alex.click("language:open") == ["language.pick"]
    assert alex.click("back") == ["youth.menu"]
    actor = f.bot.ports.members.actor_for(alex.ref)
    assert actor is not None and actor.locale == "sv"
    alex.click("help_now:open")
    assert alex.type("ok") == ["youth.menu"]


def test_who_is_who_and_back_to_the_meeting() -> None:
    alex = family().joined("YOUTH", "alex")
    alex.click("meeting:open")
    assert alex.click("who") == ["meeting.who"]
    assert alex.click("meeting") == ["meeting.info"]
    assert alex.click("back") == ["youth.menu"]


def test_someone_who_matters_is_suggested_to_the_coordinator() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    alex.click("matter:open")
    assert alex.type("Lisa 1234") == ["matter.name_rules", "matter.ask_name"]
    assert alex.type("Lisa") == ["matter.ask_relation"]
    assert alex.reply("matter.ask_relation").params["name"] == "Lisa"
    assert alex.type("min moster") == ["matter.sent", "youth.menu"]
    assert [n.message for n in f.bot.notices_to(f.coordinator.id)] == ["convene.alert_suggestion"]


def test_a_skipped_checkin_is_saved_with_nothing_told() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    assert alex.tap("checkin:open") == ["meeting.checkin.none", "youth.menu"]
    f.bot.clock.advance(days=8)
    alex.tap("checkin:open")
    assert alex.type("bra") == ["common.not_understood", "meeting.checkin.felt"]
    assert alex.click("skip") == ["meeting.checkin.heard"]
    assert alex.click("skip") == ["meeting.checkin.words"]
    assert alex.click("no_words") == ["meeting.checkin.skipped", "youth.menu"]
    assert f.bot.notices_to(f.coordinator.id) == []


def test_member_home_shows_itself_again_on_anything() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    actor = f.bot.ports.members.actor_for(alex.ref)
    assert actor is not None
    ctx = StepContext(alex.ref, f.bot.clock.now, actor, f.bot.ports)
    home = MemberHome()
    shown = home.start(ctx)
    assert [r.message for r in shown.replies] == ["member.home"]
    assert shown.replies[0].params["meeting_at"] == f.meeting.starts_at
    for event in (ChoiceMade("refresh"), TextMessage("hej")):
        again = home.handle(shown.state, event, ctx)
        assert (again.state, [r.message for r in again.replies]) == (shown.state, ["member.home"])
