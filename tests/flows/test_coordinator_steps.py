"""The coordinator's steps that the whole journey does not walk, on the fast client (choices
by id): who is who, a status reply on someone's behalf, an action given to another owner and
struck, a series stopped, a case switched, a notice's button from deep inside a step, and the
invitation and the reminders by e-mail. Every step taken is checked against the flow's table
(testkit/client.py), so these walk the table's edges."""

from __future__ import annotations

import pytest

from flows.coordination import ActionStatus
from flows.wiring import default_engine
from testkit.client import BotClient, FastBot
from testkit.memory.coordinators import coordinator_code


@pytest.fixture
def bot() -> FastBot:
    """A bot whose deployment sends e-mail (so the e-mail steps are offered)."""
    return FastBot(engine=default_engine(email_invites=True))


def open_case(bot: FastBot) -> BotClient:
    """Maria, a coordinator, with case K-1 for Alex and BUP in it."""
    maria = bot.client("maria")
    maria.join(coordinator_code(bot.world, "Maria"))
    maria.click("new_case")
    maria.type("Alex")
    maria.click("home")
    maria.click("orgs")
    maria.click("add")
    maria.type("BUP")
    maria.click("kind_bup")
    maria.click("home")
    return maria


def test_who_is_who_is_written_and_a_notice_button_works_from_inside_a_step(
    bot: FastBot,
) -> None:
    maria = open_case(bot)
    maria.click("orgs")
    maria.click("o:1")
    assert maria.ids() == ["orgs.show"]

    # Her own description, then back to the kind's default text.
    maria.click("desc")
    maria.type("Vi utreder och behandlar barn och unga.")
    assert maria.ids() == ["orgs.saved", "orgs.show"]
    assert "desc_default" in maria.offered
    maria.click("desc_default")
    assert "desc_default" not in maria.offered

    # A contact person, then removed; "avbryt" leaves it as it is.
    maria.click("contact")
    maria.click("cancel")
    assert maria.ids() == ["orgs.show"]
    maria.click("contact")
    maria.type("Maja, kurator, 070-123 45 67")
    assert "contact_remove" in maria.offered
    maria.click("contact_remove")
    assert "contact_remove" not in maria.offered

    # Another kind; the list of organisations; home.
    maria.click("kind")
    maria.click("kind_skola")
    assert maria.ids() == ["orgs.saved", "orgs.show"]
    maria.click("orgs")
    assert maria.ids() == ["coord.orgs"]

    # A reminder's button, tapped while she is writing a description: the plan opens.
    maria.click("o:1")
    maria.click("desc")
    maria.tap("n:plan:1")
    assert maria.ids() == ["coord.plan"]
    assert maria.step == "plan"


def test_the_coordinator_answers_for_an_action_gives_it_away_and_strikes_it(
    bot: FastBot,
) -> None:
    maria = open_case(bot)
    maria.click("plan")
    # Typed straight into the plan: read as a pasted plan.
    maria.type("BUP: Boka utredning — 15 dec\nFamiljen: Ansök om stöd — 20 dec")
    assert maria.ids() == ["coord.paste_confirm"]
    maria.click("yes")
    utredning, stod = bot.ports.coordination.actions(1, maria.person_id)

    # Blocked, on BUP's behalf: why, no note, back to the plan.
    maria.click(f"a:{utredning.id}")
    maria.click("status")
    assert maria.ids() == ["status.pick"]
    maria.click("s:blocked")
    assert maria.ids() == ["status.reason_ask"]
    maria.type("Väntar på remissen")
    maria.click("skip")
    assert maria.ids() == ["status.saved", "coord.plan"]
    blocked = bot.ports.coordination.action(utredning.id, maria.person_id)
    assert blocked is not None and blocked.status is ActionStatus.BLOCKED

    # A new date that cannot be read, then "tillbaka": nothing saved, the plan.
    maria.click(f"a:{utredning.id}")
    maria.click("status")
    maria.click("s:new_date")
    maria.type("någon gång")
    assert maria.ids() == ["status.date_unknown", "status.date_ask"]
    maria.click("back")
    assert maria.ids() == ["coord.plan"]

    # The family's action goes to BUP; then it is struck after a yes ("nej" first).
    maria.click(f"a:{stod.id}")
    maria.click("owner")
    maria.click("w:o:1")
    assert maria.ids() == ["coord.action_reassigned", "coord.action"]
    maria.click("cancel_action")
    maria.click("no")
    assert maria.ids() == ["coord.action"]
    maria.click("cancel_action")
    maria.click("yes")
    assert maria.ids() == ["coord.action_cancelled", "coord.plan"]
    struck = bot.ports.coordination.action(stod.id, maria.person_id)
    assert struck is not None and struck.status is ActionStatus.CANCELLED
    assert struck.owner.name == "BUP"


def test_a_series_is_booked_and_stopped_and_cases_are_switched(bot: FastBot) -> None:
    maria = open_case(bot)
    maria.click("meeting")
    maria.type("1 jan 2020 10.00")
    assert maria.ids() == ["coord.meeting_past", "coord.meeting_ask"]
    maria.type("varannan tisdag 13.00")
    maria.type("inte en länk")
    assert maria.ids() == ["coord.meeting_bad_link", "coord.meeting_link_ask"]
    maria.click("skip")
    maria.click("skip")
    maria.type("en timme")
    assert maria.ids() == ["meeting_edit.length_unknown", "meeting_edit.length_ask"]
    maria.type("75 min")
    assert maria.said("meeting_edit.series_booked")

    maria.click("meetings")
    (series,) = [c for c in maria.offered if c.startswith("s:")]
    maria.click(series)
    assert maria.ids() == ["meeting_edit.series_stopped", "coord.home"]

    # A second case, then back to the first from the list.
    maria.click("cases")
    maria.click("new_case")
    maria.type("Kim")
    assert maria.reply("coord.case_opened").params["case"] == "K-2"
    maria.click("home")
    maria.click("cases")
    maria.click("c:1")
    assert maria.ids() == ["coord.switched"]
    maria.click("home")
    assert maria.reply("coord.home").params["case"] == "K-1"


def test_a_professional_is_invited_by_email_and_chooses_email_reminders(
    bot: FastBot,
) -> None:
    maria = open_case(bot)
    maria.click("invite")
    maria.click("r:professional")
    maria.click("o:1")
    maria.type("Bea")
    assert maria.ids() == ["email.invite_how_ask"]
    maria.click("email")
    maria.type("inte en adress")
    assert maria.ids() == ["email.invite_address_bad", "email.invite_address_ask"]
    maria.type("bea@bup.example")
    assert maria.ids() == ["email.invite_emailed", "coord.home"]
    (letter,) = [n for n in maria.transition.notices if n.reply.message == "email.invite"]
    code = str(letter.reply.params["secret_code"])

    # Bea joins in the chat with the code; she turns e-mail reminders on, then off.
    bea = bot.client("bea")
    assert bea.join(code) == ["join.joined", "pro.home"]
    bea.click("email:on")
    assert bea.step == "email_address"
    bea.click("cancel")
    assert bea.ids() == ["pro.home"]
    bea.click("email:on")
    bea.type("bea@bup.example")
    assert bea.ids() == ["email_switch.turned_on", "pro.home"]
    assert "email:off" in bea.offered
    bea.click("email:off")
    assert bea.ids() == ["email_switch.turned_off", "pro.home"]
