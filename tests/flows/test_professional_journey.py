"""The professional's journey on the fast client: her open actions, and one-tap status replies
(done, blocked with a reason, a new date) that the coordinator and the family hear of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from flows.coordination import ActionStatus
from testkit.client import BotClient, FastBot
from testkit.memory.coordinators import coordinator_code


@dataclass
class People:
    """The bot and the chats of the coordinator, the professional and the caregiver."""

    bot: FastBot
    maria: BotClient
    bea: BotClient
    sara: BotClient


@pytest.fixture
def case() -> People:
    """Maria's case K-1 with BUP; Bea (BUP) and Sara (caregiver) joined; a pasted plan with
    two actions for BUP, one for the family."""
    bot = FastBot()
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
    bea, sara = bot.client("bea"), bot.client("sara")
    for role, name, chat in (("professional", "Bea", bea), ("caregiver", "Sara", sara)):
        maria.click("invite")
        maria.click(f"r:{role}")
        if role == "professional":
            maria.click("o:1")
        maria.type(name)
        chat.join(str(maria.reply("coord.invite_created").params["secret_code"]))
    maria.click("plan")
    maria.click("paste")
    maria.type(
        "BUP: Boka utredning — 15 dec\n"
        "BUP: Skicka remiss — 20 dec\n"
        "Familjen: Ansök om stöd — 22 dec"
    )
    maria.click("yes")
    return People(bot, maria, bea, sara)


def actions_of(bea: BotClient) -> list[str]:
    """The action buttons on Bea's list."""
    return [c for c in bea.offered if c.startswith("a:")]


def test_a_professional_answers_for_her_actions_and_the_coordinator_is_told(
    case: People,
) -> None:
    bot, maria, bea, sara = case.bot, case.maria, case.bea, case.sara

    # Her list: BUP's two actions (hers through BUP), not the family's.
    bea.click("refresh")
    assert bea.ids() == ["pro.home"]
    assert bea.reply("pro.home").params["count"] == 2
    utredning, remiss = actions_of(bea)

    # Done, with no note: it leaves her list; the family hears of it, Maria does not.
    bea.click(utredning)
    assert bea.ids() == ["status.pick"]
    bea.click("s:done")
    bea.click("skip")
    assert bea.ids() == ["status.saved", "pro.home"]
    assert actions_of(bea) == [remiss]
    assert [n.message for n in sara.notices()] == ["plan.told"]
    assert maria.notices() == []

    # Blocked, with a reason: Maria is told at once, with the reason and who said it.
    bea.click(remiss)
    bea.click("s:blocked")
    assert bea.ids() == ["status.reason_ask"]
    bea.type("Väntar på svar från vårdcentralen")
    bea.click("skip")
    assert bea.said("status.saved")
    (alert,) = maria.notices()
    assert alert.message == "alert.blocked"
    assert alert.params["reason"] == "Väntar på svar från vårdcentralen"
    assert alert.params["name"] == "Bea"

    # A new date, with a note: the due date moves and the history keeps every reply.
    bea.click(remiss)
    bea.click("s:new_date")
    assert bea.ids() == ["status.date_ask"]
    bea.type("10 jan")
    bea.type("Remissen skickas efter nyår")
    assert bea.said("status.saved")
    action = bot.ports.coordination.action(int(remiss[2:]), maria.person_id)
    assert action is not None and action.due == date(2027, 1, 10)
    assert [(h.author, h.status, h.note) for h in action.history] == [
        ("Bea", ActionStatus.BLOCKED, "Väntar på svar från vårdcentralen"),
        ("Bea", ActionStatus.BLOCKED, "Remissen skickas efter nyår"),
    ]
    # The alert's button opens Maria's plan, which shows where each action stands.
    assert [c.id for c in alert.choices] == ["n:plan:1"]
    maria.tap("n:plan:1")
    assert maria.ids() == ["coord.plan"]
    statuses = {
        str(c.params["text"]): c.params["status"]
        for c in maria.last.choices
        if c.id.startswith("a:")
    }
    assert statuses == {
        "Boka utredning": "done",
        "Skicka remiss": "blocked",
        "Ansök om stöd": "open",
    }


def test_a_professional_cannot_answer_for_the_familys_action(case: People) -> None:
    bot, maria, bea = case.bot, case.maria, case.bea
    (family,) = [
        a for a in bot.ports.coordination.actions(1, maria.person_id) if a.owner.name == ""
    ]
    # Not on her list; a guessed button is refused, and nothing changes.
    assert f"a:{family.id}" not in bea.offered
    bea.tap(f"a:{family.id}")
    assert bea.ids() == ["common.stale_choice", "pro.home"]
    assert not bot.ports.coordination.may_update(family.id, bea.person_id)
    still = bot.ports.coordination.action(family.id, maria.person_id)
    assert still is not None and still.status is ActionStatus.OPEN
