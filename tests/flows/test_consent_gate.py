"""The consent gate between joining and the role's flow: yes, no, the age question, a
caregiver's yes for a child, SIP, withdrawing, /minadata and /glommig."""

from __future__ import annotations

from flows.domain import ConsentScope
from tests.flows.family import family


def test_nothing_opens_before_she_answers_and_no_keeps_it_closed() -> None:
    alex = family(consent=False).bot.client("alex")
    assert alex.join("YOUTH") == ["join.joined", "consent.explain"]
    assert alex.send("/meny") == ["consent.explain"]
    assert alex.click("no") == ["consent.declined"]
    assert alex.offered == ("about", "meeting", "again")
    assert alex.click("again") == ["consent.explain"]


def test_over_the_age_limit_she_is_asked_about_sip_then_reaches_her_menu() -> None:
    f = family(consent=False)
    alex = f.bot.client("alex")
    alex.join("YOUTH")
    assert alex.click("yes") == ["consent.thanks_ask_age", "consent.age"]
    assert alex.type("tjugofem år") == ["consent.age.invalid", "consent.age"]
    assert alex.type("16") == ["consent.sip"]
    assert alex.click("no") == ["consent.sip.saved_no", "youth.menu"]
    status = f.bot.ports.privacy.consent(alex.person_id, f.case.id)
    assert (status.bot, status.sip, status.under_age_limit) == (True, False, False)


def test_under_the_age_limit_a_caregiver_must_say_yes_too() -> None:
    f = family(consent=False)
    alex, robin = f.bot.client("alex"), f.bot.client("robin")
    alex.join("YOUTH")
    alex.click("yes")
    assert alex.type("12") == ["consent.waiting"]
    assert alex.click("check") == ["consent.waiting"]

    robin.join("CAREGIVER")
    assert robin.click("yes") == ["consent.guardian"]
    assert robin.click("yes") == ["consent.guardian.saved_yes", "consent.sip"]
    assert [n.message for n in alex.notices()] == ["consent.guardian.told_yes"]
    robin.click("yes")

    assert alex.click("check") == ["consent.sip"]
    assert alex.click("yes") == ["consent.sip.saved_yes", "youth.menu"]


def test_withdrawing_consent_stops_her_sharing_at_once() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    alex.click("questions")
    alex.click("add")
    alex.type("Vem bestämmer?")
    alex.send("/meny")
    alex.click("review")
    alex.click(next(c for c in alex.offered if c.startswith("t:question:")))
    now = f.bot.clock.now
    assert f.bot.ports.sharing.agenda(f.case.id, now).contributions != ()

    assert alex.send("/samtycke") == ["consent.status"]
    assert alex.click("withdraw") == ["consent.withdrawn", "consent.withdrawn.offer"]
    assert alex.reply("consent.withdrawn").params["stopped"] == 1
    assert f.bot.ports.sharing.agenda(f.case.id, now).contributions == ()
    assert alex.click("keep") == ["consent.declined"]
    # Her words are kept (not shared) until she erases them.
    assert f.bot.ports.preparation.items


def test_a_caregiver_takes_back_the_yes_for_a_child() -> None:
    f = family(consent=False)
    alex, robin = f.bot.client("alex"), f.bot.client("robin")
    alex.join("YOUTH")
    alex.click("yes")
    alex.type("12")
    robin.join("CAREGIVER")
    robin.click("yes")
    robin.click("yes")
    robin.click("yes")
    alex.click("check")
    alex.click("yes")
    assert alex.said("youth.menu")

    robin.send("/samtycke")
    robin.click(f"child_withdraw:{alex.person_id}")
    assert robin.said("consent.guardian.withdrawn")
    assert not f.bot.ports.privacy.consent(alex.person_id, f.case.id).effective
    assert alex.send("/meny") == ["consent.waiting"]


def test_my_data_and_forget_me() -> None:
    f = family()
    alex = f.joined("YOUTH", "alex")
    alex.click("questions")
    alex.click("add")
    alex.type("Vem bestämmer?")
    assert alex.send("/minadata")[0] == "privacy.export"
    counts = dict(f.bot.ports.privacy.data_summary(alex.person_id).counts)
    assert counts["question"] == 1
    person = alex.person_id
    assert alex.send("/glommig") == ["privacy.forget.confirm"]
    assert alex.click("forget_yes") == ["privacy.forgotten"]
    assert f.bot.ports.privacy.data_summary(person).total == 0
    assert f.bot.ports.preparation.items == {}
    # The chat is a stranger's again: a code is needed.
    assert alex.send("hej") == ["onboarding.need_code"]


def test_changing_sip_in_samtycke_keeps_her_consent_to_the_bot() -> None:
    """A family that said yes at first contact changes only the SIP answer in /samtycke; her
    consent to use the bot stands and her menu still opens."""
    f = family()
    alex = f.joined("YOUTH", "alex")
    f.bot.ports.privacy.record_consent(
        alex.person_id, f.case.id, ConsentScope.SIP, False, "v1", f.bot.clock.now
    )
    status = f.bot.ports.privacy.consent(alex.person_id, f.case.id)
    assert (status.bot, status.sip) == (True, False)
    assert alex.send("/meny")[-1] == "youth.menu"
