"""Matrix event content for rendered messages, and the text of incoming messages.

A message goes out as `body` (plain text, choices as "1) …") and `formatted_body` (the
catalogue's HTML subset, choices as an ordered list). Both come from the catalogue's
rendering, where everything a user wrote is already escaped, so hostile text stays text.
"""

from __future__ import annotations

import html
import re
from typing import Any

from bot.catalogue import ALLOWED_TAGS, RenderedFile, RenderedMessage, html_to_plain

HTML_FORMAT = "org.matrix.custom.html"
# What formatted_body may contain: the catalogue's tags plus the ones added here.
FORMATTED_TAGS = frozenset((*ALLOWED_TAGS, "br", "ol", "li"))
_TAG_NAME = re.compile(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9]*)")
# Rich replies quote the replied-to message in `body` as "> " lines and a blank line.
_REPLY_FALLBACK = re.compile(r"\A(?:>[^\n]*\n)+\n")


def message_content(message: RenderedMessage) -> dict[str, Any]:
    """The m.room.message content of a rendered message (its file goes in its own event)."""
    plain = html_to_plain(message.text)
    lines = [plain, *(f"{n}) {c.label}" for n, c in enumerate(message.choices, start=1))]
    formatted = message.text.replace("\n", "<br>")
    if message.choices:
        items = "".join(f"<li>{html.escape(c.label)}</li>" for c in message.choices)
        formatted += f"<ol>{items}</ol>"
    content: dict[str, Any] = {"msgtype": "m.text", "body": "\n".join(lines)}
    if formatted_is_safe(formatted):
        content["format"] = HTML_FORMAT
        content["formatted_body"] = formatted
    return content


def formatted_is_safe(formatted: str) -> bool:
    """True when only the allowed tags occur: a last guard if a template ever misbehaved."""
    return all(tag.lower() in FORMATTED_TAGS for tag in _TAG_NAME.findall(formatted))


def file_content(
    file: RenderedFile, content_uri: str, decryption: dict[str, Any] | None
) -> dict[str, Any]:
    """The content of an uploaded file: m.image for pictures, m.file for the rest.

    In an encrypted room the upload is ciphertext and the key travels in `file`
    (inside the encrypted event); in a plain room the content URI is given as `url`.
    """
    msgtype = "m.image" if file.media_type.startswith("image/") else "m.file"
    content: dict[str, Any] = {
        "msgtype": msgtype,
        "body": file.filename,
        "filename": file.filename,
        "info": {"mimetype": file.media_type, "size": len(file.data)},
    }
    if decryption is None:
        content["url"] = content_uri
    else:
        content["file"] = {**decryption, "url": content_uri}
    return content


def incoming_text(content: dict[str, Any]) -> str | None:
    """The text a person wrote in an m.text event; None for edits, which are not new input."""
    relates = content.get("m.relates_to")
    if isinstance(relates, dict) and relates.get("rel_type") == "m.replace":
        return None
    body = content.get("body")
    if not isinstance(body, str):
        return None
    if isinstance(relates, dict) and "m.in_reply_to" in relates:
        body = _REPLY_FALLBACK.sub("", body, count=1)
    return body
