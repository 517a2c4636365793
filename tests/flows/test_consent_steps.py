"""The consent gate's tables walked by id: the longer explanation, typed answers, a no that
still reads about the meeting, /samtycke's organisations and SIP, erasure offered and declined,
a caregiver's yes given from /samtycke, and a former member's rights."""

from __future__ import annotations

from testkit.client import BotClient
from tests.flows.family import Family, family


def consented(f: Family) -> BotClient:
    """Alex (16) says yes herself, and no to SIP: every answer recorded, none assumed."""
    alex = f.bot.client("alex")
    alex.join("YOUTH")
    alex.click("yes")
    alex.type("16")
    alex.click("no")
    assert alex.said("youth.menu")
    return alex


def test_she_reads_more_and_says_yes_with_a_word() -> None:
    alex = family(consent=False).bot.client("alex")
    alex.join("YOUTH")
    assert alex.click("more") == ["consent.more"]
    assert alex.type("kanske") == ["consent.ask_again"]
    assert alex.offered == ("yes", "no")
    assert alex.type("Ja!") == ["consent.thanks_ask_age", "consent.age"]
    assert alex.tap("yes") == ["common.stale_choice", "consent.age"]
    assert alex.type("2010") == ["consent.sip"]
    assert alex.type("nej tack") == ["consent.sip.saved_no", "youth.menu"]


def test_after_a_no_she_reads_what_the_meeting_is_and_when_it_is() -> None:
    f = family(consent=False)
    alex = f.bot.client("alex")
    alex.join("YOUTH")
    assert alex.type("nej") == ["consent.declined"]
    assert alex.type("hej") == ["consent.declined"]  # not stored, not answered
    assert alex.click("about") == ["youth.about"]
    assert alex.click("back") == ["consent.declined"]
    assert alex.click("meeting") == ["meeting.info"]
    assert alex.step == "meeting"
    assert alex.click("back")[-1] == "consent.declined"
    assert alex.send("/mote")[0] == "meeting.info"
    assert f.bot.ports.privacy.consent(alex.person_id, f.case.id).bot is False


def test_a_caregiver_who_said_no_is_not_shown_the_youth_explanation() -> None:
    robin = family(consent=False).bot.client("robin")
    robin.join("CAREGIVER")
    assert robin.click("no") == ["consent.declined"]
    assert robin.offered == ("meeting", "again")
    assert robin.tap("about") == ["common.stale_choice", "consent.declined"]


def test_samtycke_changes_sip_and_each_organisation_one_by_one() -> None:
    f = family(consent=False)
    alex = consented(f)
    assert alex.send("/samtycke") == ["consent.status"]
    assert alex.click("sip") == ["consent.sip"]
    assert alex.click("yes") == ["consent.sip.saved_yes", "youth.menu"]
    alex.send("/samtycke")
    assert alex.click("exchange") == ["sharing.exchange"]
    toggle = f"x:{f.bup.id}"
    assert alex.click(toggle) == ["sharing.exchange.withdrawn", "sharing.exchange"]
    consents = f.bot.ports.sharing.exchange_consents(alex.person_id, f.case.id)
    assert {c.organisation_id: c.in_effect for c in consents}[f.bup.id] is False
    assert alex.click(toggle) == ["sharing.exchange.given", "sharing.exchange"]
    assert alex.click("back") == ["consent.status"]
    assert alex.click("back") == ["youth.menu"]


def test_after_withdrawing_erasure_is_offered_and_can_be_declined() -> None:
    f = family(consent=False)
    alex = consented(f)
    alex.send("/samtycke")
    alex.click("withdraw")
    assert alex.click("forget") == ["privacy.forget.confirm"]
    assert alex.click("forget_no") == ["privacy.forget.kept", "consent.declined"]
    assert f.bot.ports.privacy.consent(alex.person_id, f.case.id).bot is False


def test_a_caregiver_answers_no_for_a_child_then_gives_the_yes_from_samtycke() -> None:
    f = family(consent=False)
    alex, robin = f.bot.client("alex"), f.bot.client("robin")
    alex.join("YOUTH")
    alex.click("yes")
    alex.type("12")
    robin.join("CAREGIVER")
    robin.click("yes")
    assert robin.type("vet inte") == ["consent.choose", "consent.guardian"]
    assert robin.type("nej") == ["consent.guardian.saved_no", "consent.sip"]
    assert [n.message for n in alex.notices()] == ["consent.guardian.told_no"]
    robin.click("no")
    robin.send("/samtycke")
    assert robin.click(f"child_give:{alex.person_id}") == ["consent.guardian"]
    assert robin.click("yes") == ["consent.guardian.saved_yes", "caregiver.menu"]
    assert f.bot.ports.privacy.consent(alex.person_id, f.case.id).effective


def test_help_in_any_consent_step_explains_consent() -> None:
    alex = family(consent=False).bot.client("alex")
    alex.join("YOUTH")
    alex.click("yes")
    assert alex.send("/hjalp")[0] == "consent.help"
    assert alex.step == "age"
