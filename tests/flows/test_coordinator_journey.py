"""The coordinator's whole journey on the fast client: no database, choices by id.

Maria opens a case, adds BUP, invites a professional, the young person and a caregiver, books
a meeting and moves and cancels it, writes the shared picture, pastes a plan, adds and edits
an action, marks the young person's shared question after the meeting and closes the case.
"""

from __future__ import annotations

from testkit.client import BotClient, FastBot
from testkit.memory.coordinators import coordinator_code


def invite(maria: BotClient, role: str, name: str, organisation: str | None = None) -> str:
    """Maria invites someone by role (a professional through an organisation); the code."""
    maria.click("invite")
    maria.click(f"r:{role}")
    if organisation is not None:
        maria.click(organisation)
    maria.type(name)
    assert maria.ids() == ["coord.invite_created", "coord.home"]
    return str(maria.reply("coord.invite_created").params["secret_code"])


def test_a_coordinator_convenes_plans_follows_up_and_closes_a_case() -> None:
    bot = FastBot()
    maria = bot.client("maria")

    # An operator's code makes Maria a coordinator with no case yet.
    assert maria.join(coordinator_code(bot.world, "Maria")) == [
        "join.joined",
        "coord.home_no_case",
    ]
    maria.click("new_case")
    maria.type("Alex")
    assert maria.ids() == ["coord.case_opened", "coord.case_next_steps"]
    assert maria.reply("coord.case_opened").params["case"] == "K-1"
    maria.click("home")

    # BUP takes part.
    maria.click("orgs")
    maria.click("add")
    maria.type("BUP")
    assert maria.said("coord.org_added")
    maria.click("kind_bup")
    maria.click("home")

    # A professional at BUP, the young person and a caregiver are invited and join.
    bea = bot.client("bea")
    alex = bot.client("alex")
    sara = bot.client("sara")
    assert bea.join(invite(maria, "professional", "Bea", organisation="o:1")) == [
        "join.joined",
        "pro.home",
    ]
    assert alex.join(invite(maria, "youth", "Alex")) == ["join.joined", "youth.menu"]
    assert sara.join(invite(maria, "caregiver", "Sara")) == ["join.joined", "caregiver.menu"]
    maria.click("members")
    assert maria.said("coord.members")

    # A meeting with a place and a length: everyone else hears of it, with a calendar file.
    maria.click("home")
    maria.click("meeting")
    maria.type("15 dec 13.00")
    maria.click("skip")  # no video link
    maria.type("Skolan, rum 2")
    maria.click("90")
    assert maria.ids() == ["coord.meeting_booked", "meeting_edit.everyone_told", "coord.home"]
    assert [n.message for n in sara.notices()] == ["meeting_changes.booked"]
    booked = bot.ports.members.next_meeting(1, bot.clock.now)
    assert booked is not None and booked.place == "Skolan, rum 2"
    assert booked.duration_minutes == 90

    # Moved a day: the family's next meeting moves with it, and they are told.
    maria.click("meetings")
    maria.click(f"m:{booked.id}")
    maria.click("move")
    maria.type("16 dec 10.00")
    assert maria.said("meeting_edit.moved_done")
    moved = bot.ports.members.next_meeting(1, bot.clock.now)
    assert moved is not None and (moved.starts_at.day, moved.starts_at.hour) == (16, 10)
    assert sara.notices()[-1].message == "meeting_changes.moved"

    # Cancelled after a yes: there is no next meeting any more.
    maria.click("meetings")
    maria.click(f"m:{booked.id}")
    maria.click("cancel_meeting")
    maria.click("yes")
    assert maria.said("meeting_edit.cancelled_done")
    assert bot.ports.members.next_meeting(1, bot.clock.now) is None
    assert sara.notices()[-1].message == "meeting_changes.cancelled"

    # A new meeting; Alex writes a question and shares it with the meeting.
    maria.click("meeting")
    maria.type("17 dec 13.00")
    maria.click("skip")
    maria.click("skip")  # no place
    maria.click("60")
    alex.click("questions")
    alex.click("add")
    alex.type("Kan jag byta klass?")
    alex.click("menu")
    alex.click("review")
    (question,) = [c for c in alex.offered if c.startswith("t:question:")]
    alex.click(question)
    assert alex.reply("youth.review").params["shared_count"] == 1

    # Her shared question is on Maria's agenda for the meeting.
    maria.click("agenda")
    (alex_shared,) = maria.reply("coord.agenda").params["people"]
    assert alex_shared["questions"] == ["Kan jag byta klass?"]

    # The shared picture: shown back, published after a yes; the family is asked to answer.
    maria.click("picture")
    maria.type("Alex trivs med kompisarna men skolan är tung.")
    assert maria.ids() == ["coord.picture.confirm"]
    maria.click("publish")
    assert "picture.published" in [n.message for n in alex.notices()]

    # A pasted plan, confirmed.
    maria.click("plan")
    maria.click("paste")
    maria.type("BUP: Boka utredning — 15 jan\nFamiljen: Ansök om stöd — 20 jan")
    assert maria.ids() == ["coord.paste_confirm"]
    maria.click("yes")
    assert maria.said("coord.plan")
    assert [a.description for a in bot.ports.coordination.actions(1, maria.person_id)] == [
        "Boka utredning",
        "Ansök om stöd",
    ]

    # One action added by hand, for Bea herself, then its text edited.
    maria.click("add")
    maria.click(f"w:p:{bea.person_id}")
    maria.type("Ring skolan")
    maria.type("10 jan")
    assert maria.ids() == ["coord.plan_added", "coord.plan"]
    (ring,) = [
        a
        for a in bot.ports.coordination.actions(1, maria.person_id)
        if a.description == "Ring skolan"
    ]
    maria.click(f"a:{ring.id}")
    maria.click("edit")
    maria.type("Ring skolans kurator")
    assert maria.ids() == ["coord.action_changed", "coord.action"]
    edited = bot.ports.coordination.action(ring.id, maria.person_id)
    assert edited is not None and edited.description == "Ring skolans kurator"
    assert edited.owner.name == "Bea" and len(edited.history) == 1

    # After the meeting: the notes, then Alex's shared question is marked answered.
    maria.click("back")
    maria.click("home")
    bot.clock.advance(days=30)
    maria.click("notes")
    maria.type("Vi pratade om skolan och om stöd hemma.")
    maria.click("same")
    assert maria.said("coord.notes.question")
    maria.click("answered")
    assert maria.said("coord.home")
    assert alex.notices()[-1].message.startswith("notes.")

    # The case is closed after a yes: nobody reaches it any more.
    maria.click("close")
    maria.click("yes")
    assert maria.said("coord.closed")
    assert bot.world.cases[1].closed
    assert bot.ports.members.actor_for(sara.ref) is None
