"""A professional switches between chat and e-mail: in the chat's menu, or from the link.

Sara from BUP is in a chat. "Påminnelser med e-post" asks her address; from then on a notice
to her goes to the chat and, through a real SMTP server on 127.0.0.1 (aiosmtpd), by e-mail.
"Sluta med e-post" ends that. The "switch to chat" link of an e-mail stops e-mail for a
person who is in a chat already, once.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.email.answers import LinkAnswers, PageKind
from bot.email.links import LinkAnswer, LinkSigner, new_claim
from bot.email.pages import PageRenderer
from flows.conversation import ConversationRef
from flows.engine import Notice
from flows.replies import say
from flows.wiring import default_engine
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code
from tests.test_email import (
    ADDRESS,
    KEY,
    PUBLIC,
    Mailbox,
    add_address,
    connector,
    mailbox,
    person_of,
    send_email,
)

__all__ = ["mailbox"]  # the SMTP server fixture, used by name


def sara_in_chat(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """Maria opens a case with a plan for BUP; Sara joins in a chat of a bot that sends e-mail."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    code = case_with_plan(maria, "Alex", "BUP: Skicka remiss — 25 nov")
    ref = ConversationRef(PLATFORM, "sara", "sara")
    sara = Chat(sessions, catalogue, clock, ref, engine=default_engine(email_invites=True))
    sara.send(f"/start {code}")
    return sara


def notify(sessions: sessionmaker[Session], clock: FakeClock, person: int) -> None:
    """One notice to the person, routed as every notice is: to each of their chats."""
    with UnitOfWork(sessions) as uow:
        uow.outbox.enqueue_notice(Notice(say("nudge.show"), person_id=person), clock.now, "sv")
        uow.commit()


def test_a_professional_turns_email_on_in_the_chat_and_off_again(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    sara = sara_in_chat(sessions, catalogue, clock)
    person = person_of(sessions, "sara")
    mailer = connector(sessions, catalogue, clock, port)
    sara.send("/meny")
    assert "Sluta med e-post" not in sara.choices()
    sara.choose("Påminnelser med e-post")
    sara.send("inte en adress")
    assert sara.said("email.invite_address_bad")
    sara.send(ADDRESS)
    assert sara.said("email_switch.turned_on")
    assert "Sluta med e-post" in sara.choices()
    assert ADDRESS not in sara.text(), "the address is not repeated into the chat"

    notify(sessions, clock, person)
    assert [s.message_id for s in sara.receive()] == ["nudge.show"]
    assert send_email(sessions, catalogue, clock, mailer) == 1
    assert box.recipients == [ADDRESS]

    sara.choose("Sluta med e-post")
    assert sara.said("email_switch.turned_off")
    assert "Påminnelser med e-post" in sara.choices()
    notify(sessions, clock, person)
    assert [s.message_id for s in sara.receive()] == ["nudge.show"]
    assert send_email(sessions, catalogue, clock, mailer) == 0
    assert box.recipients == [ADDRESS], "no second e-mail"
    with UnitOfWork(sessions) as uow:
        addresses = uow.session.scalars(select(m.EmailAddress.id)).all()
    assert addresses == [], "the address is not kept once it is not used"


def test_the_menu_offers_no_email_when_the_bot_sends_none(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    code = case_with_plan(maria, "Alex", "BUP: Skicka remiss — 25 nov")
    sara = chat(sessions, catalogue, clock, "sara")
    sara.send(f"/start {code}")
    sara.send("/meny")
    assert "Påminnelser med e-post" not in sara.choices()


def _answers(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> tuple[LinkAnswers, LinkSigner]:
    """The answer links as the listener serves them."""
    signer = LinkSigner(KEY, PUBLIC)
    return LinkAnswers(sessions, signer, catalogue, clock=clock), signer


def test_the_switch_link_stops_email_once_for_a_person_in_a_chat(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    sara_in_chat(sessions, catalogue, clock)
    person = person_of(sessions, "sara")
    add_address(sessions, clock, "sara", ADDRESS)
    answers, signer = _answers(sessions, catalogue, clock)
    url = signer.url(new_claim(person, LinkAnswer.SWITCH_TO_CHAT, None, clock.now))
    token = urlparse(url).path.removeprefix("/l/")

    shown = asyncio.run(answers.show(token))
    assert shown.kind is PageKind.STOP_EMAIL
    html = PageRenderer(catalogue).render(shown)
    assert '<form method="post">' in html and "Sluta med e-post" in html
    with UnitOfWork(sessions) as uow:
        assert uow.email.key_for_person(person) is not None, "GET changes nothing"

    assert asyncio.run(answers.answer(token, {})).kind is PageKind.EMAIL_STOPPED
    with UnitOfWork(sessions) as uow:
        assert uow.email.key_for_person(person) is None
        assert uow.email.has_chat(person)
    assert asyncio.run(answers.answer(token, {})).kind is PageKind.USED


def test_the_switch_link_explains_the_chat_to_a_person_reached_by_email_only(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    sara_in_chat(sessions, catalogue, clock)
    person = person_of(sessions, "sara")
    add_address(sessions, clock, "sara", ADDRESS)
    with UnitOfWork(sessions) as uow:
        # As if Sara had joined by the e-mail link: no chat of her own.
        uow.session.query(m.ChatIdentity).filter(m.ChatIdentity.platform == PLATFORM).delete()
        uow.commit()
    answers, signer = _answers(sessions, catalogue, clock)
    url = signer.url(new_claim(person, LinkAnswer.SWITCH_TO_CHAT, None, clock.now))
    token = urlparse(url).path.removeprefix("/l/")
    assert asyncio.run(answers.show(token)).kind is PageKind.SWITCH
    assert asyncio.run(answers.answer(token, {})).kind is PageKind.SWITCH
    with UnitOfWork(sessions) as uow:
        assert uow.email.key_for_person(person) is not None, "still reached by e-mail"


@pytest.mark.parametrize("locale", ["sv", "en", "ar", "fa", "so", "uk"])
def test_the_switch_texts_exist_in_every_language(catalogue: Catalogue, locale: str) -> None:
    for key in ("turn_on", "turn_off", "address_ask", "page", "button", "stopped"):
        assert catalogue.render(f"email_switch.{key}", {}, locale)
