"""In the family group chat, everyone reads along: what is for one person goes to their
private chat, and the group gets a short pointer there instead (bot/handler.py's audience rule).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.handler import EventHandler
from flows import caregiver_items
from flows.conversation import ConversationRef, Inbound, TextMessage
from flows.domain import Role
from flows.engine import Notice
from flows.replies import PRIVATE_CHAT_LINK, Choice, say, to_family
from flows.wiring import default_engine
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.family_seed import SARA, FamilyCase, publish, received, seed_family_case

QUESTION = "KanarieFråga4711"
REASON = "KanarieSkäl0815"
COMMENT = "KanarieKommentar2323"


@pytest.fixture
def case(sessions: sessionmaker[Session], clock: FakeClock) -> FamilyCase:
    """A family case with a meeting next week and unused invites."""
    return seed_family_case(sessions, clock.now)


@pytest.fixture
def alex(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> Chat:
    """Alex joined privately, wrote a question and asked for a meeting with a reason."""
    chat = Chat.for_user(sessions, catalogue, clock, user="alex")
    chat.send(f"/start {case.youth_code}")
    chat.choose("Mina frågor")
    chat.send(QUESTION)
    chat.send("/nyttmote")
    chat.send(REASON)
    return chat


def in_group(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, user: str
) -> Chat:
    """The person in the family group chat."""
    return Chat.for_user(sessions, catalogue, clock, user=user, chat="family")


def group_text(sessions: sessionmaker[Session], catalogue: Catalogue) -> str:
    """Everything ever queued for the family group chat, as read there."""
    ref = ConversationRef(PLATFORM, "family", "family")
    return "\n".join(r.text for r in received(sessions, catalogue, ref))


def test_my_data_in_the_group_points_to_the_private_chat_and_sends_no_file(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, alex: Chat
) -> None:
    group = in_group(sessions, catalogue, clock, "alex")
    group.send("/minadata")
    assert group.ids() == ["common.private_only"]
    assert group.turn[0].rendered.file is None
    assert "privat" in group.text()
    assert QUESTION not in group.text() and REASON not in group.text()
    # Privately, the same command does send the file, with Alex's words in it.
    alex.send("/minadata")
    files = [s.rendered.file for s in alex.turn if s.rendered.file is not None]
    assert len(files) == 1 and QUESTION.encode() in files[0].data


def test_asking_for_a_meeting_in_the_group_does_not_quote_the_earlier_reason(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, alex: Chat
) -> None:
    group = in_group(sessions, catalogue, clock, "alex")
    group.send("/nyttmote")
    assert group.ids() == ["common.private_only"]
    assert REASON not in group.text()
    alex.send("/nyttmote")
    assert REASON in alex.text()


def test_answering_the_picture_in_the_group_does_not_quote_the_last_comment(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
) -> None:
    kim = Chat.for_user(sessions, catalogue, clock, user="kim")
    kim.send(f"/start {case.caregiver_codes[0]}")
    publish(sessions, case, "Bilden, version 1.", clock.now)
    kim.send("/bild")
    kim.choose("Stämmer delvis")
    kim.send(COMMENT)
    kim_in_group = in_group(sessions, catalogue, clock, "kim")
    kim_in_group.send("/bild")
    assert kim_in_group.ids() == ["common.private_only"]
    # Even a button of the picture tapped in the group shows nothing of it.
    kim_in_group.tap("partly")
    assert COMMENT not in kim_in_group.text()
    assert COMMENT not in group_text(sessions, catalogue)
    # Privately Kim is reminded of what she wrote.
    kim.send("/bild")
    kim.choose("Stämmer delvis")
    assert COMMENT in kim.text()


def test_consent_is_asked_in_the_private_chat_never_in_the_group(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    robin = in_group(sessions, catalogue, clock, "robin")
    robin.send(f"/start {case.caregiver_codes[1]}")
    assert robin.ids() == ["join.in_group"]
    assert "det du skriver ser bara du" not in group_text(sessions, catalogue)
    with UnitOfWork(sessions) as uow:
        assert uow.members.actor_for(robin.ref) is None
    # A member who has not said yes yet is asked privately, not in the group.
    private = Chat(sessions, catalogue, clock, ConversationRef(PLATFORM, "robin", "robin"))
    private._auto_consent = False
    private.send(f"/start {case.caregiver_codes[1]}")
    assert private.said("consent.explain")
    robin.send("/meny")
    assert robin.ids() == ["common.private_only"]
    assert "det du skriver ser bara du" not in group_text(sessions, catalogue)


def test_the_coordinators_menu_and_codes_stay_out_of_the_group(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    sara = Chat.for_user(sessions, catalogue, clock, user=SARA.user_id, chat="family")
    before = group_text(sessions, catalogue)
    for command in ("/meny", "/start", "/hjälp", "1", "2", "hej"):
        sara.send(command)
        assert sara.ids() == ["common.private_only"], command
    assert group_text(sessions, catalogue).count("privat") >= 6
    assert "Socialtjänsten" not in group_text(sessions, catalogue)[len(before) :]


def test_a_step_refused_in_the_group_changes_nothing(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    Chat.for_user(sessions, catalogue, clock, user="kim").send(f"/start {case.caregiver_codes[0]}")
    kim = in_group(sessions, catalogue, clock, "kim")
    kim.send("/meny")
    kim.send("/nyttmote")
    assert kim.ids() == ["common.private_only"]
    kim.send("Ett skäl skrivet i gruppen")
    with UnitOfWork(sessions) as uow:
        assert uow.session.scalar(select(func.count()).select_from(m.MeetingRequest)) == 0
        stored = uow.conversations.load(kim.ref)
    # Kim's group conversation is where it was: at the adults' menu, not in the request.
    assert stored is not None and stored[0].flow == "caregiver_prep"


def test_the_pointer_offers_the_private_chat_link_only_where_a_platform_can_open_it(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, alex: Chat
) -> None:
    group = in_group(sessions, catalogue, clock, "alex")
    group.send("/minadata")
    # The test transport cannot open a private chat: the link is left out, the text says it.
    assert group.turn[0].reply.choices == (Choice(PRIVATE_CHAT_LINK, "common.open_private"),)
    assert group.turn[0].rendered.choices == ()


def test_a_notice_for_one_person_is_never_queued_for_a_group_chat(
    sessions: sessionmaker[Session], clock: FakeClock, case: FamilyCase
) -> None:
    group = ConversationRef(PLATFORM, "family", "kim")
    with UnitOfWork(sessions) as uow:
        personal = Notice(say("alert.picture"), chat=group)
        family = Notice(to_family(say("meeting.reminder", starts_at=clock.now)), chat=group)
        assert uow.outbox.enqueue_notice(personal, clock.now, "sv") == []
        assert len(uow.outbox.enqueue_notice(family, clock.now, "sv")) == 1


def test_a_failing_step_is_answered_and_the_conversation_starts_over(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    case: FamilyCase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kim = Chat.for_user(sessions, catalogue, clock, user="kim")
    kim.send(f"/start {case.caregiver_codes[0]}")
    kim.choose("Skriv något nytt")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("KanarieIFel")

    monkeypatch.setattr(caregiver_items, "choose_kind", broken)
    kim.choose("En fråga till mötet")
    assert kim.ids() == ["common.step_failed"]
    monkeypatch.undo()
    # The next message is answered from the menu, not with the same error again.
    kim.send("hej")
    assert kim.ids()[-1] == "caregiver.menu"


def test_the_handler_answers_a_member_with_no_case_role_without_crashing(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    ref = ConversationRef(PLATFORM, "family", "jonas")
    with UnitOfWork(sessions) as uow:
        jonas = uow.cases.add_person("Jonas B", "sv", clock.now)
        uow.cases.link_identity(jonas.id, ConversationRef(PLATFORM, "jonas", "jonas"))
        uow.cases.add_member(case.case_id, jonas.id, Role.PROFESSIONAL, clock.now)
        uow.commit()
    handler = EventHandler(sessions, default_engine(), clock=clock)
    clock.advance(minutes=1)
    out = handler.handle(Inbound(ref, TextMessage("hej")))
    assert [p.reply.message for p in out.claimed] == ["common.private_only"]


def test_erasure_takes_the_persons_lines_out_of_what_the_group_was_sent(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, case: FamilyCase
) -> None:
    line = "KanarieRad9191"
    for user, code in (("kim", case.caregiver_codes[0]), ("robin", case.caregiver_codes[1])):
        Chat.for_user(sessions, catalogue, clock, user=user).send(f"/start {code}")
    kim = in_group(sessions, catalogue, clock, "kim")
    kim.send("/meny")
    kim.choose("Skriv något nytt")
    kim.choose("En fråga till mötet")
    kim.send(line)
    robin = in_group(sessions, catalogue, clock, "robin")
    robin.send("/meny")
    robin.choose("Vår lista")
    assert f"{line} (Kim)" in robin.text()

    kim_private = Chat.for_user(sessions, catalogue, clock, user="kim")
    kim_private.send("/glommig")
    kim_private.choose("Ja, glöm mig")
    with UnitOfWork(sessions) as uow:
        rows = uow.session.scalars(select(m.Outbox)).all()
        stored = " ".join(f"{r.params} {r.choices}" for r in rows)
    assert line not in stored
    # The group goes on: Robin's list is there, without Kim's line.
    robin.send("/meny")
    robin.choose("Vår lista")
    assert line not in robin.text()
