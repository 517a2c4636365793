"""A professional reached by e-mail only, end to end, as `samverkan run` composes it.

Maria (the coordinator) works in her chat (tests/chat.py); Sara from BUP never opens a chat
app. Everything Sara gets crosses a real SMTP server on 127.0.0.1 (aiosmtpd), everything she
answers is a POST to the real answer-link listener on 127.0.0.1; the connector, the delivery
loop, the pipeline, the tick and the listener are the ones `bot/cli.py` `_serve` builds from
the configuration. The test's clock moves; nothing sleeps.

invite by e-mail → join by link → a nudge → "done" by link (once; forged and expired links
refused) → a meeting moved and cancelled as one calendar event → a 550 marks the address
unreachable and tells Maria once.
"""

from __future__ import annotations

import asyncio
import base64
import re
import socket
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlparse

import aiohttp
import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.config import Config, load_config
from bot.delivery_loop import DeliveryLoop
from bot.email.links import LINK_KEY_ENV, LinkAnswer, LinkClaim, LinkSigner
from bot.email.listener import LinkListener, serve_links
from bot.email.service import email_connector
from bot.followup_report import file_makers
from bot.handler import EventHandler
from bot.ics import meeting_file_makers
from bot.pipeline import Pipeline
from bot.reminder_kinds import reminder_kinds
from bot.runtime import Runtime
from flows.conversation import ConversationRef
from flows.wiring import default_engine
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.coord_seed import coordinator_code

KEY = bytes(range(32))
PUBLIC = "https://samverkan.example.org"
SENDER = "samverkan@kommun.example.se"
SARA = "sara.lind@bup.example.se"
T = TypeVar("T")


class Mailbox:
    """The SMTP server's side: every e-mail it took, and a 550 for the addresses refused."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refused: set[str] = set()
        self.refusals = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        """Refuses a refused address for good (the mailbox is gone); takes any other."""
        if address in self.refused:
            self.refusals += 1
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keeps the e-mail, parsed."""
        assert envelope.rcpt_tos == [SARA]
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(cast(EmailMessage, parsed))
        return "250 Message accepted"

    def new(self, since: int) -> list[EmailMessage]:
        """The e-mails taken after the first `since`."""
        return self.messages[since:]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on 127.0.0.1, on a port nobody else uses."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def product_config(tmp_path: Path, smtp_port: int) -> Config:
    """The operator's config file: e-mail on, plain SMTP to loopback, listener on any port."""
    path = tmp_path / "config.toml"
    path.write_text(
        "[email]\n"
        "enabled = true\n"
        'smtp_host = "127.0.0.1"\n'
        f"smtp_port = {smtp_port}\n"
        'security = "none"\n'
        f'from_address = "{SENDER}"\n'
        f'public_url = "{PUBLIC}"\n'
        'listen = "127.0.0.1"\n'
        "port = 0\n"
    )
    return load_config(path, {})


def text_parts(email: EmailMessage) -> dict[str, str]:
    """The text parts of an e-mail by content type (the calendar part too)."""
    found: dict[str, str] = {}
    for part in email.walk():
        if part.get_content_maintype() == "text" and not part.get_filename():
            found[part.get_content_type()] = part.get_content()
    return found


def links(email: EmailMessage, now: Any) -> list[tuple[LinkClaim, str]]:
    """Every signed link of the plain-text part, with what it claims."""
    signer = LinkSigner(KEY, PUBLIC)
    urls = re.findall(re.escape(PUBLIC) + r"/l/[A-Za-z0-9_.-]+", text_parts(email)["text/plain"])
    return [(signer.read(urlparse(url).path.removeprefix("/l/"), now), url) for url in urls]


def calendar_event(email: EmailMessage) -> tuple[str, str, int]:
    """METHOD, UID and SEQUENCE of the e-mail's text/calendar part, read by icalendar."""
    (part,) = [p for p in email.walk() if p.get_content_type() == "text/calendar"][:1]
    parsed = Calendar.from_ical(part.get_content())
    assert str(parsed["METHOD"]) == part.get_param("method")
    (event,) = parsed.walk("VEVENT")
    return str(parsed["METHOD"]), str(event["UID"]), int(event.get("SEQUENCE", 0))


def action_state(sessions: sessionmaker[Session], action: int) -> tuple[str, int]:
    """The action's status and its number of history entries."""
    with UnitOfWork(sessions) as uow:
        row = uow.session.get(m.PlanAction, action)
        assert row is not None
        count = uow.session.scalar(
            select(func.count())
            .select_from(m.ActionUpdate)
            .where(m.ActionUpdate.action_id == action)
        )
        return row.status, int(count or 0)


async def in_chat(step: Callable[..., T], *args: Any) -> T:
    """A step of Maria's chat (the harness runs its own event loop) beside the bot's loop."""
    return await asyncio.to_thread(step, *args)


async def get(url: str) -> tuple[int, str]:
    """Opens a link, as a browser (or a mail scanner) does."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def post(url: str) -> tuple[int, str]:
    """Sends the link's page form."""
    async with aiohttp.ClientSession() as http, http.post(url, data={}) as response:
        return response.status, await response.text()


def test_a_professional_by_email_only_from_invite_to_bounce(
    engine: Engine,
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    mailbox: tuple[Mailbox, int],
    tmp_path: Path,
) -> None:
    box, smtp_port = mailbox
    config = product_config(tmp_path, smtp_port)
    environ = {LINK_KEY_ENV: base64.b64encode(KEY).decode()}

    # As bot/cli.py `_serve` composes it (with the test's clock).
    flows = default_engine(timezone=config.timezone, email_invites=config.email.enabled)
    handler = EventHandler(
        sessions, flows, config.default_locale, clock=clock, labels=catalogue.label
    )
    makers = {**file_makers(clock), **meeting_file_makers()}
    delivery = DeliveryLoop(sessions, catalogue, clock=clock, file_makers=makers)
    pipeline = Pipeline(handler, delivery)
    mailer = email_connector(config, sessions, catalogue, environ, clock=clock)
    runtime = Runtime(engine, sessions, delivery, "e2e", reminder_kinds(config), clock=clock)
    listener = serve_links(config.email, sessions, catalogue, pipeline.submit, environ, clock=clock)
    assert isinstance(listener, LinkListener)

    maria = Chat(
        sessions, catalogue, clock, ConversationRef(PLATFORM, "maria", "maria"), makers, flows
    )

    async def journey() -> None:
        await listener.start()
        # The e-mail channel's holder: the connector sends while attached (bot/email/service.py).
        delivery.attach(mailer)
        try:
            await steps()
        finally:
            delivery.detach(mailer.platform)
            await listener.stop()

    def local(url: str) -> str:
        """The link as the reverse proxy hands it to the listener."""
        return url.replace(PUBLIC, f"http://127.0.0.1:{listener.port}", 1)

    async def dispatch() -> None:
        """A while later: the ticker's sweep sends what the chat's steps left for Sara."""
        clock.advance(minutes=1)
        await runtime.dispatch_once()

    async def steps() -> None:
        # Maria opens a case with a plan for BUP and invites Sara by e-mail.
        await in_chat(maria.send, f"/start {coordinator_code(sessions, clock, 'Maria')}")
        for step, arg in [
            (maria.send, "/meny"),
            (maria.choose, "Öppna ett nytt ärende"),
            (maria.send, "Alex"),
            (maria.choose, "Till ärendet"),
            (maria.choose, "Verksamheter"),
            (maria.choose, "Lägg till en verksamhet"),
            (maria.send, "BUP"),
            (maria.choose, "Till ärendet"),
            (maria.choose, "Planen"),
            (maria.choose, "Klistra in"),
            (maria.send, "BUP: Skicka remiss — 4 dec"),
            (maria.choose, "Ja"),
            (maria.choose, "Till ärendet"),
            (maria.choose, "Bjud in"),
            (maria.choose, "Yrkesperson"),
            (maria.choose, "BUP"),
            (maria.send, "Sara"),
            (maria.choose, "Med e-post"),
            (maria.send, SARA),
        ]:
            await in_chat(step, arg)
        assert maria.said("email.invite_emailed")
        with UnitOfWork(sessions) as uow:
            (action,) = uow.session.scalars(select(m.PlanAction.id)).all()

        # The invite arrives; its join link is posted.
        await dispatch()
        (invite,) = box.messages
        ((join, join_url),) = links(invite, clock.now)
        assert join.answer is LinkAnswer.JOIN
        status, page = await get(local(join_url))
        assert status == 200
        with UnitOfWork(sessions) as uow:
            key = uow.email.key_for_invite(join.invite or "")
            assert key is not None
            assert uow.members.actor_for(ConversationRef("email", key, key)) is None
        status, page = await post(local(join_url))
        assert status == 200 and "Du är med" in page
        with UnitOfWork(sessions) as uow:
            sara = uow.members.actor_for(ConversationRef("email", key, key))
        assert sara is not None and sara.display_name == "Sara"
        welcomed = len(box.messages)
        assert welcomed > 1, "the welcome goes to her by e-mail"

        # Nothing is due yet; on Wednesday 2 December the nudge is (two days before).
        await runtime.tick_once()
        assert len(box.messages) == welcomed
        clock.advance(days=9)
        await runtime.tick_once()
        (nudge,) = box.new(welcomed)
        answers = {c.answer: u for c, u in links(nudge, clock.now) if c.action_id == action}
        assert set(answers) == {
            LinkAnswer.DONE,
            LinkAnswer.IN_PROGRESS,
            LinkAnswer.BLOCKED,
            LinkAnswer.NEW_DATE,
        }
        assert all(c.person_id == sara.person_id for c, _ in links(nudge, clock.now))

        # "Done": opening changes nothing, posting marks it done with one history entry.
        before = action_state(sessions, action)
        status, page = await get(local(answers[LinkAnswer.DONE]))
        assert status == 200 and 'method="post"' in page
        assert action_state(sessions, action) == before
        status, page = await post(local(answers[LinkAnswer.DONE]))
        assert status == 200 and "Sparat" in page
        done = action_state(sessions, action)
        assert done == ("done", before[1] + 1)
        with UnitOfWork(sessions) as uow:
            entries = uow.session.scalars(
                select(m.ActionUpdate.status).where(m.ActionUpdate.action_id == action)
            ).all()
        assert list(entries).count("done") == 1
        # The same link again: used, changes nothing.
        for again in (post, get):
            status, page = await again(local(answers[LinkAnswer.DONE]))
            assert status == 410 and "redan använd" in page
        assert action_state(sessions, action) == done

        # A forged link (one character of its signature changed), then an expired one.
        url = local(answers[LinkAnswer.IN_PROGRESS])
        payload, mac = url.rsplit(".", 1)
        forged = f"{payload}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"
        for attempt in (get, post):
            status, page = await attempt(forged)
            assert status == 403 and "fungerar inte" in page
        clock.advance(days=15)
        for attempt in (get, post):
            status, page = await attempt(url)
            assert status == 410 and "gått ut" in page
        assert action_state(sessions, action) == done

        # Maria books two meetings, moves the first and cancels it: one calendar event.
        await in_chat(maria.send, "/meny")
        for when in ("2 feb 13.00", "12 jan 13.00"):
            for step, arg in [
                (maria.choose, "Boka möte"),
                (maria.send, when),
                (maria.choose, "Ingen länk"),
                (maria.send, "BUP, Storgatan 3"),
                (maria.choose, "90 minuter"),
            ]:
                await in_chat(step, arg)
            assert maria.said("coord.meeting_booked")
            if when.startswith("12"):
                sent = len(box.messages)
            await dispatch()
        for step, arg in [
            (maria.choose, "Ändra eller ställ in ett möte"),
            (maria.choose, "12 januari"),
            (maria.choose, "Flytta"),
            (maria.send, "14 jan 10.00"),
        ]:
            await in_chat(step, arg)
        assert maria.said("meeting_edit.moved_done")
        await dispatch()
        for step, arg in [
            (maria.choose, "Ändra eller ställ in ett möte"),
            (maria.choose, "14 januari"),
            (maria.choose, "Ställ in"),
            (maria.choose, "Ja, ställ in"),
        ]:
            await in_chat(step, arg)
        assert maria.said("meeting_edit.cancelled_done")
        await dispatch()
        events = [calendar_event(e) for e in box.new(sent)]
        assert [method for method, _, _ in events] == ["REQUEST", "REQUEST", "CANCEL"]
        assert len({uid for _, uid, _ in events}) == 1
        sequences = [sequence for _, _, sequence in events]
        assert sequences == sorted(set(sequences)) and len(sequences) == 3

        # Sara's mailbox is gone: the relay says 550. Maria moves the other meeting twice;
        # she is told once that Sara cannot be reached, not twice.
        await in_chat(maria.receive)
        seen = len(maria.history)
        bounced_from = clock.now
        box.refused.add(SARA)
        for old, new in (("2 februari", "9 feb 13.00"), ("9 februari", "16 feb 13.00")):
            for step, arg in [
                (maria.choose, "Ändra eller ställ in ett möte"),
                (maria.choose, old),
                (maria.choose, "Flytta"),
                (maria.send, new),
            ]:
                await in_chat(step, arg)
            assert maria.said("meeting_edit.moved_done")
            await dispatch()
        # Maria reads it with her next turn or when she looks: either way, once.
        await in_chat(maria.receive)
        told = [s for s in maria.history[seen:] if s.message_id == "delivery.unreachable"]
        assert len(told) == 1 and "Sara" in told[0].rendered.text
        assert box.refusals >= 1
        with UnitOfWork(sessions) as uow:
            unreachable = uow.session.scalars(
                select(m.UnreachableChat.chat_id).where(m.UnreachableChat.platform == "email")
            ).all()
        assert unreachable == [key]
        # Both moves' e-mails failed (the first at the relay, the second on the mark);
        # nothing is left waiting to be tried again.
        with UnitOfWork(sessions) as uow:
            outcomes = uow.session.execute(
                select(m.Outbox.status, m.Outbox.last_error)
                .where(m.Outbox.platform == "email", m.Outbox.created_at >= bounced_from)
                .order_by(m.Outbox.id)
            ).all()
        assert [tuple(o) for o in outcomes] == [
            ("failed", "HardBounce"),
            ("failed", "RecipientUnreachable"),
        ]

    asyncio.run(journey())
