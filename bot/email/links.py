"""Signed answer links (A's stand-in for B's module, to the shared contract; B's replaces it).

A link carries a claim (whose, which answer, which action, until when) signed with
HMAC-SHA256 under SAMVERKAN_LINK_KEY, as one base64url token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class LinkAnswer(StrEnum):
    """What following a link answers."""

    DONE = "done"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    NEW_DATE = "new_date"
    JOIN = "join"
    SWITCH_TO_CHAT = "switch_to_chat"


@dataclass(frozen=True)
class LinkClaim:
    """What a link says, signed: bound to a person, an answer, an action and an expiry."""

    person_id: int
    answer: LinkAnswer
    action_id: int | None
    expires_at: datetime
    nonce: str
    invite: str | None = None


class LinkRefused(Exception):
    """A link that was forged or has expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """The bytes of base64url without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    """Signs claims into URLs and reads them back."""

    def __init__(self, key: bytes, base_url: str) -> None:
        self._key = key
        self._base = base_url.rstrip("/")

    def url(self, claim: LinkClaim) -> str:
        """The link of a claim under the public URL."""
        body = json.dumps(
            [
                claim.person_id,
                claim.answer.value,
                claim.action_id,
                claim.expires_at.isoformat(),
                claim.nonce,
                claim.invite,
            ],
            separators=(",", ":"),
        ).encode()
        mac = hmac.new(self._key, body, hashlib.sha256).digest()
        return f"{self._base}/l/{_b64(body)}.{_b64(mac)}"

    def read(self, token: str, now: datetime) -> LinkClaim:
        """The claim of a token; LinkRefused("forged" or "expired") otherwise."""
        try:
            body_text, _, mac_text = token.partition(".")
            body, mac = _unb64(body_text), _unb64(mac_text)
        except ValueError as exc:
            raise LinkRefused("forged") from exc
        if not hmac.compare_digest(mac, hmac.new(self._key, body, hashlib.sha256).digest()):
            raise LinkRefused("forged")
        person, answer, action, expires, nonce, invite = json.loads(body)
        claim = LinkClaim(
            person, LinkAnswer(answer), action, datetime.fromisoformat(expires), nonce, invite
        )
        if now >= claim.expires_at:
            raise LinkRefused("expired")
        return claim


def new_claim(
    person_id: int,
    answer: LinkAnswer,
    action_id: int | None,
    now: datetime,
    *,
    days: int = 14,
    invite: str | None = None,
) -> LinkClaim:
    """A fresh claim, valid for `days`, with a random nonce (for single use)."""
    return LinkClaim(
        person_id, answer, action_id, now + timedelta(days=days), secrets.token_urlsafe(12), invite
    )
