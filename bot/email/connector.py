"""The e-mail connector: each outbox row to an address becomes one e-mail sent over SMTP.

E-mail has no buttons. A message's choices become signed links where they answer an action
(each of a professional's actions gets done, in progress, blocked and a new date; see
bot/email/links.py), the join link of an invite; other choices are answered in the chat, and
the e-mail says so. Files are attachments; a calendar file is also a `text/calendar` part
with its method, so a calendar program updates the one event (same UID, higher SEQUENCE).

The outbox's chat id on "email" is an opaque key (storage/email_repository.py): the address
is read, decrypted, only here and only to send. A 5xx refusal of the recipient (a hard
bounce) is a PermanentSendError: the deliverer marks the address unreachable and tells the
person's coordinators once (bot/delivery.py), as for a chat that blocked the bot.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import aiosmtplib
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue, RenderedMessage, TextFormat, is_right_to_left
from bot.clock import Clock, system_clock
from bot.config import EmailConfig, EmailSecurity
from bot.connector import Capabilities, SendLimits, Translated
from bot.delivery import PermanentSendError
from bot.email import PLATFORM
from bot.email.compose import Letter, Link, LinkGroup, build
from bot.email.links import LinkAnswer, LinkSigner, new_claim
from flows.coordinator.invites import EMAIL_JOIN
from flows.professional import NOTICE_ACTIONS
from flows.replies import ParamValue
from storage.email_repository import EmailRecipient
from storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SMTP_USER_ENV = "SAMVERKAN_SMTP_USER"
SMTP_PASSWORD_ENV = "SAMVERKAN_SMTP_PASSWORD"
SMTP_TIMEOUT_S = 30.0
# The choice of an e-mailed invite: the e-mail shows it as the join link.
JOIN_CHOICE = EMAIL_JOIN
# An invite code as shown (storage/invite_codes.py): five groups of five and one more.
_INVITE_CODE = re.compile(r"\b[0-9A-Z]{5}(?:-[0-9A-Z]{5}){4}-[0-9A-Z]\b")
# A professional's list shows one choice per action (flows/professional.py).
_ACTION_CHOICE = re.compile(r"a:([0-9]+)")
ANSWERS = (LinkAnswer.DONE, LinkAnswer.IN_PROGRESS, LinkAnswer.BLOCKED, LinkAnswer.NEW_DATE)

# HTML and plain text, no buttons, files attached; a relay takes a few messages a second.
# Reminders stay neutral unless the operator allows the texts ([email] full_content).
CAPABILITIES = Capabilities(
    text_format=TextFormat.HTML,
    buttons=False,
    files=True,
    max_text_length=100_000,
    max_buttons=100,
    full_content=False,
    limits=SendLimits(per_second=5),
)


class AddressGone(PermanentSendError):
    """The chat key names no address any more (erased): no retry can send it."""


class HardBounce(PermanentSendError):
    """The SMTP server refused the recipient for good (a 5xx reply)."""


@dataclass(frozen=True, slots=True)
class SmtpLogin:
    """The relay's login, from the environment (never the config file)."""

    user: str
    password: str


def smtp_login(environ: Mapping[str, str] | None = None) -> SmtpLogin | None:
    """The login in SAMVERKAN_SMTP_USER / SAMVERKAN_SMTP_PASSWORD; None for a relay without."""
    env = os.environ if environ is None else environ
    user = env.get(SMTP_USER_ENV, "")
    return SmtpLogin(user, env.get(SMTP_PASSWORD_ENV, "")) if user else None


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """What the database says about one e-mail: to whom, and the actions it may answer."""

    recipient: EmailRecipient
    # (id, heading) of each action the reader may answer by link.
    actions: tuple[tuple[int, str], ...]


class EmailConnector:
    """Sends rendered messages as e-mails through an SMTP relay."""

    platform = PLATFORM
    capabilities = CAPABILITIES

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: EmailConfig,
        catalogue: Catalogue,
        signer: LinkSigner | None,
        *,
        login: SmtpLogin | None = None,
        full_content: bool = False,
        clock: Clock = system_clock,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._catalogue = catalogue
        self._signer = signer
        self._login = login
        self._clock = clock
        if full_content:
            # The operator allowed the texts ([email] full_content and [nudges] content).
            self.capabilities = replace(CAPABILITIES, full_content=True)

    def translate(self, update: object) -> Translated:
        """Nothing: e-mail is outgoing only; answers come back through the signed links."""
        return None

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Sends one message as one e-mail; raises HardBounce when the address is refused."""
        outgoing = await asyncio.to_thread(self._look_up, chat_id, message)
        if outgoing is None:
            raise AddressGone("no address")
        now = self._clock()
        letter = self._letter(outgoing, message, now)
        email = build(
            letter,
            self._settings.from_address,
            outgoing.recipient.address,
            idempotency_key,
            date=now.timestamp(),
        )
        await self._deliver(email, outgoing.recipient.address)

    # --- the database ---------------------------------------------------------------------

    def _look_up(self, chat_id: str, message: RenderedMessage) -> _Outgoing | None:
        """The recipient, and the actions the message's choices let them answer."""
        with UnitOfWork(self._sessions) as uow:
            recipient = uow.email.recipient(chat_id)
            if recipient is None:
                return None
            actions: list[tuple[int, str]] = []
            ids = [c.id for c in message.choices]
            person = recipient.person_id
            if person is not None and NOTICE_ACTIONS in ids:
                # "Show my actions" of a nudge: here, each open action and its answers.
                locale = recipient.locale or self._catalogue.default_locale
                for action in uow.coordination.actions_owned_by(person):
                    params: dict[str, ParamValue] = {
                        "case": action.case_reference,
                        "due": action.due,
                    }
                    if self.capabilities.full_content:
                        params["text"] = action.description
                    heading = self._catalogue.render(
                        "email.action", params, locale, TextFormat.PLAIN
                    )
                    actions.append((action.id, heading))
            uow.commit()  # the address is bound to the person the first time (see recipient)
        # A professional's list shows one choice per action: "a:<id>", labelled already.
        actions += [
            (int(found.group(1)), c.label)
            for c in message.choices
            if (found := _ACTION_CHOICE.fullmatch(c.id))
        ]
        return _Outgoing(recipient, tuple(dict.fromkeys(actions)))

    # --- the letter -----------------------------------------------------------------------

    def _letter(self, outgoing: _Outgoing, message: RenderedMessage, now: datetime) -> Letter:
        """The e-mail's words and links in the reader's language."""
        recipient = outgoing.recipient
        locale = recipient.locale or self._catalogue.default_locale
        person = recipient.person_id
        groups: list[LinkGroup] = []
        footer: list[Link] = []
        handled: set[str] = set()
        if self._signer is not None and person is not None:
            handled.add(NOTICE_ACTIONS)
            for action_id, heading in outgoing.actions:
                links = tuple(
                    Link(
                        self._words(f"email.answer.{answer.value}", locale),
                        self._signer.url(new_claim(person, answer, action_id, now)),
                    )
                    for answer in ANSWERS
                )
                groups.append(LinkGroup(heading, links))
            handled |= {c.id for c in message.choices if c.id.startswith("a:")}
            footer.append(
                Link(
                    self._words("email.switch_to_chat", locale),
                    self._signer.url(new_claim(person, LinkAnswer.SWITCH_TO_CHAT, None, now)),
                )
            )
        if JOIN_CHOICE in {c.id for c in message.choices}:
            code = _INVITE_CODE.search(message.text)
            if self._signer is not None and code is not None:
                # No person yet: the invite's code says who joins (B's page redeems it).
                claim = new_claim(0, LinkAnswer.JOIN, None, now, invite=code.group(0))
                groups.append(
                    LinkGroup(
                        self._words("email.join_heading", locale),
                        (Link(self._words("email.join", locale), self._signer.url(claim)),),
                    )
                )
            handled.add(JOIN_CHOICE)
        rest = [c for c in message.choices if c.id not in handled]
        return Letter(
            subject=self._subject(message, locale),
            body=replace(message, choices=()),
            groups=tuple(groups),
            open_chat=self._words("email.open_chat", locale) if rest else None,
            footer=tuple(footer),
            locale=locale,
            right_to_left=is_right_to_left(locale),
        )

    def _subject(self, message: RenderedMessage, locale: str) -> str:
        """A neutral subject: what kind of e-mail, never what it says."""
        if message.file is not None and message.file.media_type == "text/calendar":
            return self._words("email.subject_meeting", locale)
        if JOIN_CHOICE in {c.id for c in message.choices}:
            return self._words("email.subject_invite", locale)
        return self._words("email.subject", locale)

    def _words(self, message_id: str, locale: str) -> str:
        """One of the e-mail's own texts."""
        return self._catalogue.render(message_id, {}, locale, TextFormat.PLAIN)

    # --- SMTP -----------------------------------------------------------------------------

    async def _deliver(self, email: object, address: str) -> None:
        """Hands the e-mail to the relay; a 5xx refusal of the recipient is a hard bounce,
        anything else is retried by the deliverer. Errors never carry the address on."""
        settings = self._settings
        security = settings.security
        try:
            await aiosmtplib.send(
                email,  # type: ignore[arg-type]
                sender=settings.from_address,
                recipients=[address],
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=self._login.user if self._login else None,
                password=self._login.password if self._login else None,
                use_tls=security is EmailSecurity.TLS,
                start_tls=security is EmailSecurity.STARTTLS,
                timeout=SMTP_TIMEOUT_S,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            if codes and all(500 <= code < 600 for code in codes):
                log.info("e-mail refused for good by the relay (%s)", codes[0])
                raise HardBounce("recipient refused") from None
            raise TemporaryRefusal("recipient deferred") from None
        except aiosmtplib.SMTPResponseException as exc:
            # The server's text may quote the address: only the class and the code go on.
            raise SmtpFailed(f"SMTP {exc.code}") from None


class TemporaryRefusal(Exception):
    """The relay deferred the recipient (4xx): tried again later."""


class SmtpFailed(Exception):
    """The relay refused the e-mail for another reason (login, size, a 4xx): retried."""
