"""E-mail for professionals, against a real SMTP server on loopback (aiosmtpd).

The bot's e-mail connector (bot/email/) hands each outbox row to the server as one e-mail:
an invite with its join link, a nudge with the four answer links of each action, calendar
invitations that update one event, and a 550 that marks the address unreachable and tells
the coordinator once. Nothing leaves 127.0.0.1; the test's clock moves, nothing sleeps.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import urlparse

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedFile, RenderedMessage
from bot.config import ConfigError, EmailConfig, EmailSecurity, load_config
from bot.connector import Capabilities
from bot.delivery import Deliverer
from bot.email.connector import EmailConnector
from bot.email.links import LinkAnswer, LinkSigner
from bot.followup_report import file_makers
from bot.ics import MeetingIcsMaker, meeting_file_makers
from flows.coordinator_reminders import NudgeConfig, NudgeContent
from flows.replies import Reply
from flows.wiring import default_engine
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code, run_tick

KEY = bytes(range(32))
PUBLIC = "https://samverkan.example.org"
SENDER = "samverkan@kommun.example.se"
ADDRESS = "sara.lind@bup.example.se"
BOUNCING = "bounce.lind@bup.example.se"


class Mailbox:
    """The SMTP server's side: what it took, and a 550 for an address that does not exist."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[str] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        """Refuses the bouncing address for good; takes any other."""
        if address == BOUNCING:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keeps the e-mail, parsed."""
        self.recipients += envelope.rcpt_tos
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(cast(EmailMessage, parsed))
        return "250 Message accepted"


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


def connector(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    port: int,
    *,
    full_content: bool = False,
) -> EmailConnector:
    """The connector as `samverkan run` makes it, plain SMTP to the loopback server."""
    settings = EmailConfig(
        enabled=True,
        smtp_host="127.0.0.1",
        smtp_port=port,
        security=EmailSecurity.NONE,
        from_address=SENDER,
        public_url=PUBLIC,
    )
    signer = LinkSigner(KEY, PUBLIC)
    return EmailConnector(
        sessions, settings, catalogue, signer, full_content=full_content, clock=clock
    )


def send_email(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, mailer: EmailConnector
) -> int:
    """One delivery round of the e-mail platform, through the real deliverer."""
    makers = {**file_makers(clock), **meeting_file_makers()}
    deliverer = Deliverer(sessions, catalogue, {"email": mailer}, clock, makers)
    return asyncio.run(deliverer.drain())


def parts(email: EmailMessage) -> dict[str, str]:
    """The text parts of an e-mail by content type."""
    found: dict[str, str] = {}
    for part in email.walk():
        if part.get_content_maintype() == "text" and not part.get_filename():
            found[part.get_content_type()] = part.get_content()
    return found


def claims(text: str, now: datetime) -> list[Any]:
    """Every signed link in a text, read back with the key."""
    signer = LinkSigner(KEY, PUBLIC)
    urls = re.findall(re.escape(PUBLIC) + r"/l/[A-Za-z0-9_.-]+", text)
    return [signer.read(urlparse(u).path.removeprefix("/l/"), now) for u in urls]


def person_of(sessions: sessionmaker[Session], user: str) -> int:
    """The person behind a test chat user."""
    with UnitOfWork(sessions) as uow:
        person = uow.session.scalar(
            select(m.ChatIdentity.person_id).where(
                m.ChatIdentity.platform == PLATFORM, m.ChatIdentity.external_user_id == user
            )
        )
    assert person is not None
    return person


def sara_joins(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """Maria opens a case with a plan for BUP; Sara from BUP joins in a chat."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    code = case_with_plan(
        maria, "Alex", "BUP: Skicka remiss — 25 nov\nBUP: Boka utredning — 15 dec"
    )
    sara = chat(sessions, catalogue, clock, "sara")
    sara.send(f"/start {code}")
    return maria


def add_address(sessions: sessionmaker[Session], clock: FakeClock, user: str, address: str) -> str:
    """Reaches a member by e-mail as well; the address's chat key."""
    with UnitOfWork(sessions) as uow:
        key = uow.email.add_for_person(person_of(sessions, user), address, clock.now)
        uow.commit()
    return key


def test_an_invite_by_email_arrives_with_a_join_link_and_the_code_stays_out_of_the_chat(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    maria = Chat(
        sessions,
        catalogue,
        clock,
        chat(sessions, catalogue, clock, "maria").ref,
        engine=default_engine(email_invites=True),
    )
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    maria.send("/meny")
    maria.choose("Öppna ett nytt ärende")
    maria.send("Alex")
    maria.choose("Till ärendet")
    maria.choose("Verksamheter")
    maria.choose("Lägg till en verksamhet")
    maria.send("BUP")
    maria.choose("Till ärendet")
    maria.choose("Bjud in")
    maria.choose("Yrkesperson")
    maria.choose("BUP")
    maria.send("Sara")
    maria.choose("Med e-post")
    maria.send("inte en adress")
    assert maria.said("email.invite_address_bad")
    maria.send(ADDRESS)
    assert maria.said("email.invite_emailed")
    assert not re.search(r"[0-9A-Z]{5}-[0-9A-Z]{5}", maria.text()), "the code goes by e-mail only"

    assert send_email(sessions, catalogue, clock, connector(sessions, catalogue, clock, port)) == 1
    (email,) = box.messages
    assert box.recipients == [ADDRESS]
    text = parts(email)
    assert set(text) == {"text/plain", "text/html"}
    (join,) = claims(text["text/plain"], clock.now)
    assert join.answer is LinkAnswer.JOIN and join.invite is not None
    # The link's invite is the code in the e-mail, and finds the address it went to.
    assert join.invite in text["text/plain"]
    with UnitOfWork(sessions) as uow:
        key = uow.email.key_for_invite(join.invite)
        assert key is not None
        recipient = uow.email.recipient(key)
    assert recipient is not None and recipient.address == ADDRESS
    assert claims(text["text/html"], clock.now)[0].invite == join.invite
    # The address is stored encrypted, never in the clear.
    with UnitOfWork(sessions) as uow:
        raw = uow.session.connection().exec_driver_sql("SELECT address FROM email_address")
        (stored,) = raw.scalars().all()
    assert ADDRESS not in stored and "bup.example" not in stored


def test_a_nudge_email_has_both_parts_and_four_answer_links_per_action_and_stays_neutral(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    sara_joins(sessions, catalogue, clock)
    add_address(sessions, clock, "sara", ADDRESS)
    sara = person_of(sessions, "sara")
    # The operator asked for full nudges; e-mail stays neutral unless [email] allows it too.
    assert run_tick(sessions, clock, NudgeConfig(content=NudgeContent.FULL))
    assert send_email(sessions, catalogue, clock, connector(sessions, catalogue, clock, port)) == 1
    (email,) = box.messages
    text = parts(email)
    assert set(text) == {"text/plain", "text/html"}
    assert email["Content-Language"] == "sv"
    for body in text.values():
        assert "remiss" not in body and "utredning" not in body, "neutral by default"
    found = claims(text["text/plain"], clock.now)
    with UnitOfWork(sessions) as uow:
        actions = {a.id for a in uow.coordination.actions_owned_by(sara)}
    answers = {(c.action_id, c.answer) for c in found if c.action_id is not None}
    expected = {LinkAnswer.DONE, LinkAnswer.IN_PROGRESS, LinkAnswer.BLOCKED, LinkAnswer.NEW_DATE}
    assert answers == {(a, answer) for a in actions for answer in expected}
    assert all(c.person_id == sara for c in found)
    # Every e-mail to a member can switch to a chat.
    assert [c.answer for c in found if c.action_id is None] == [LinkAnswer.SWITCH_TO_CHAT]
    # The same links in the HTML part.
    assert len(claims(text["text/html"], clock.now)) == len(found)


def test_the_operator_may_allow_the_actions_texts_by_email(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    sara_joins(sessions, catalogue, clock)
    add_address(sessions, clock, "sara", ADDRESS)
    assert run_tick(sessions, clock, NudgeConfig(content=NudgeContent.FULL))
    mailer = connector(sessions, catalogue, clock, port, full_content=True)
    assert send_email(sessions, catalogue, clock, mailer) == 1
    assert "Skicka remiss" in parts(box.messages[0])["text/plain"]


class _Meetings:
    """The one meeting row the calendar file maker reads, changed by the test."""

    def __init__(self) -> None:
        self.row = SimpleNamespace(
            id=41,
            starts_at=datetime(2026, 12, 3, 13, 0, tzinfo=UTC),
            duration_minutes=90,
            sequence=0,
            place="Skolan, rum 2",
            remote_link=None,
        )

    def meeting(self, meeting_id: int) -> Any:
        """The meeting, as FamiliesRepository.meeting gives it."""
        return self.row if meeting_id == self.row.id else None


def test_a_booked_moved_and_cancelled_meeting_updates_one_calendar_event(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    sara_joins(sessions, catalogue, clock)
    key = add_address(sessions, clock, "sara", ADDRESS)
    mailer = connector(sessions, catalogue, clock, port)
    meetings = _Meetings()
    uow = cast(UnitOfWork, SimpleNamespace(families=meetings))
    maker = MeetingIcsMaker()

    def calendar(params: dict[str, Any]) -> RenderedFile:
        return maker.make(uow, params, "sv", catalogue)

    booked = calendar({"meeting_id": 41, "method": "request"})
    meetings.row.sequence, meetings.row.starts_at = 1, datetime(2026, 12, 4, 13, 0, tzinfo=UTC)
    moved = calendar({"meeting_id": 41, "method": "request"})
    cancelled = calendar(
        {
            "meeting_id": 41,
            "method": "cancel",
            "sequence": 2,
            "starts_at": "2026-12-04T13:00:00+00:00",
            "minutes": 90,
        }
    )
    for n, file in enumerate((booked, moved, cancelled)):
        message = RenderedMessage("Mötet är <b>bokat</b>.", (), file)
        asyncio.run(mailer.send(key, message, f"meeting-{n}"))

    events = []
    for email in box.messages:
        (part,) = [p for p in email.walk() if p.get_content_type() == "text/calendar"][:1]
        method = part.get_param("method")
        parsed = Calendar.from_ical(part.get_content())
        assert parsed["METHOD"] == method
        (event,) = parsed.walk("VEVENT")
        events.append((method, str(event["UID"]), int(event["SEQUENCE"])))
        assert "text/plain" in parts(email) and "text/html" in parts(email)
    assert [method for method, _, _ in events] == ["REQUEST", "REQUEST", "CANCEL"]
    assert len({uid for _, uid, _ in events}) == 1
    sequences = [sequence for _, _, sequence in events]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    # A resend of the same outbox row keeps its Message-ID; another row has another.
    ids = [email["Message-ID"] for email in box.messages]
    asyncio.run(mailer.send(key, RenderedMessage("x", (), booked), "meeting-0"))
    assert box.messages[-1]["Message-ID"] == ids[0] and len(set(ids)) == 3


def test_a_hard_bounce_marks_the_address_unreachable_and_tells_the_coordinator_once(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    mailbox: tuple[Mailbox, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    box, port = mailbox
    maria = sara_joins(sessions, catalogue, clock)
    key = add_address(sessions, clock, "sara", BOUNCING)
    mailer = connector(sessions, catalogue, clock, port)
    sara = person_of(sessions, "sara")
    caplog.set_level(logging.DEBUG)
    for _ in range(2):
        with UnitOfWork(sessions) as uow:
            uow.outbox.enqueue("email", key, (Reply("nudge.show"),), "sv", clock.now)
            uow.commit()
        assert send_email(sessions, catalogue, clock, mailer) == 0
        clock.advance(minutes=1)
    assert box.messages == []
    with UnitOfWork(sessions) as uow:
        unreachable = uow.session.scalars(
            select(m.UnreachableChat.chat_id).where(m.UnreachableChat.platform == "email")
        ).all()
    assert unreachable == [key]
    told = [s for s in maria.receive() if s.message_id == "delivery.unreachable"]
    assert len(told) == 1 and "Sara" in told[0].rendered.text
    assert maria.receive() == []
    # Sara's chat is not touched: only the address is unreachable.
    with UnitOfWork(sessions) as uow:
        chats = uow.session.scalars(select(m.UnreachableChat.platform)).all()
    assert chats == ["email"] and sara
    logged = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("bot", "storage"))
    )
    assert BOUNCING not in logged and "bounce.lind" not in logged
    assert key not in logged


def test_sending_logs_neither_the_address_nor_the_content(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
    mailbox: tuple[Mailbox, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _box, port = mailbox
    sara_joins(sessions, catalogue, clock)
    add_address(sessions, clock, "sara", ADDRESS)
    caplog.set_level(logging.DEBUG)
    run_tick(sessions, clock)
    assert send_email(sessions, catalogue, clock, connector(sessions, catalogue, clock, port))
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]
    logged = "\n".join(r.getMessage() for r in ours)
    assert ADDRESS not in logged and "sara.lind" not in logged
    assert "K-1" not in logged and PUBLIC not in logged


def test_email_says_what_it_can_show() -> None:
    capabilities = EmailConnector.capabilities
    assert isinstance(capabilities, Capabilities)
    assert not capabilities.buttons and capabilities.files
    assert not capabilities.full_content, "e-mail is not end-to-end encrypted: neutral"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('smtp_host = "smtp.example.org"\nsecurity = "none"', "only allowed with smtp_host"),
        ('security = "ssl"', "security must be starttls, tls or none"),
        ('public_url = "http://samverkan.example.org"', "public_url must be an https"),
    ],
)
def test_email_settings_refuse_plain_smtp_across_a_network(
    tmp_path: Path, section: str, message: str
) -> None:
    path = tmp_path / "config.toml"
    url = "" if "public_url" in section else 'public_url = "https://x.se"\n'
    path.write_text(f'[email]\nenabled = true\nfrom_address = "a@b.se"\n{url}{section}\n')
    with pytest.raises(ConfigError, match=message):
        load_config(path)
