"""One e-mail from one rendered message: plain text and HTML alike, links for the choices.

Pure: given the rendered message, the reader's words and the links, it builds the MIME
message; sending and looking up the address are the connector's (bot/email/connector.py).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from bot.catalogue import RenderedFile, RenderedMessage, html_to_plain

CALENDAR = "text/calendar"
_METHOD = re.compile(rb"^METHOD:(\w+)\r?$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Link:
    """A labelled link: one answer to one action, the join link, the switch link."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class LinkGroup:
    """Links that belong together (one action's four answers), under a heading."""

    heading: str
    links: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class Letter:
    """Everything one e-mail says, already in the reader's language."""

    subject: str
    body: RenderedMessage
    groups: tuple[LinkGroup, ...] = ()
    # Said when some choices can only be answered in the chat.
    open_chat: str | None = None
    footer: tuple[Link, ...] = field(default_factory=tuple)
    locale: str = "sv"
    right_to_left: bool = False


def message_id(idempotency_key: str, sender: str) -> str:
    """The Message-ID of an outbox row: the same on every resend, so a copy sent again
    after a crash is recognisable; a hash, so the key itself shows nowhere."""
    domain = sender.rpartition("@")[2] or "samverkansboten"
    if not idempotency_key:
        return make_msgid(domain=domain)
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def calendar_method(file: RenderedFile) -> str | None:
    """REQUEST, CANCEL or PUBLISH of a calendar file; None for any other file."""
    if file.media_type != CALENDAR:
        return None
    found = _METHOD.search(file.data)
    return found.group(1).decode("ascii").upper() if found else "PUBLISH"


def _plain(letter: Letter) -> str:
    """The plain-text part."""
    parts = [html_to_plain(letter.body.text)]
    for group in letter.groups:
        lines = [group.heading] + [f"  {link.label}: {link.url}" for link in group.links]
        parts.append("\n".join(lines))
    if letter.open_chat:
        parts.append(letter.open_chat)
    if letter.footer:
        parts.append("--\n" + "\n".join(f"{link.label}: {link.url}" for link in letter.footer))
    return "\n\n".join(parts) + "\n"


def _anchor(link: Link) -> str:
    """One link as HTML."""
    return f'<a href="{html.escape(link.url)}">{html.escape(link.label)}</a>'


def _html(letter: Letter) -> str:
    """The HTML part: the message's own HTML subset (already escaped), with links."""
    direction = "rtl" if letter.right_to_left else "ltr"
    body = letter.body.text.replace("\n", "<br>\n")
    parts = [f"<p>{body}</p>"]
    for group in letter.groups:
        items = "".join(f"<li>{_anchor(link)}</li>" for link in group.links)
        parts.append(f"<p>{html.escape(group.heading)}</p>\n<ul>{items}</ul>")
    if letter.open_chat:
        parts.append(f"<p>{html.escape(letter.open_chat)}</p>")
    if letter.footer:
        links = "<br>".join(_anchor(link) for link in letter.footer)
        parts.append(f'<hr>\n<p style="font-size:small">{links}</p>')
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(letter.locale)}" dir="{direction}">'
        f'<head><meta charset="utf-8"><title>{html.escape(letter.subject)}</title></head>\n'
        f"<body>\n{chr(10).join(parts)}\n</body></html>\n"
    )


def build(
    letter: Letter, sender: str, recipient: str, idempotency_key: str, *, date: float
) -> EmailMessage:
    """The MIME message: multipart/alternative plain + HTML (+ a calendar invitation), and
    any file attached."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = recipient
    email["Subject"] = letter.subject
    email["Date"] = formatdate(date, usegmt=True)
    email["Message-ID"] = message_id(idempotency_key, sender)
    # RFC 3834: a robot wrote this; vacation replies stay away.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(_plain(letter))
    email.add_alternative(_html(letter), subtype="html")
    file = letter.body.file
    if file is not None:
        _attach(email, file)
    # After the parts: setting the content replaces every Content-* header.
    email["Content-Language"] = letter.locale
    return email


def _attach(email: EmailMessage, file: RenderedFile) -> None:
    """Attaches a file; a calendar file is the invitation's alternative part as well."""
    method = calendar_method(file)
    if method is not None:
        # In the alternative too, with its method: Outlook and Thunderbird then show the
        # invitation (or the cancellation) and update the event with the same UID.
        email.add_alternative(
            file.data.decode("utf-8"), subtype="calendar", params={"method": method}
        )
    maintype, _, subtype = file.media_type.partition("/")
    email.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=file.filename)


def choice_ids(message: RenderedMessage) -> Sequence[str]:
    """The ids of a message's choices."""
    return [choice.id for choice in message.choices]
