"""Signed one-tap answer links for e-mail: `/l/<token>`, bound to one person and one answer.

A token is `base64url(payload) "." base64url(HMAC-SHA256(key, context + payload))`. The
payload names the person, the answer, the action (or the invite code, for joining), when the
link expires and a random nonce. Changing any of them breaks the MAC, so a link can only be
made by someone holding the key (SAMVERKAN_LINK_KEY). The MAC is compared in constant time.

Reading a link checks only the signature and the expiry: single use is checked where the
link is answered, in the same transaction as the answer (storage/link_nonces_repository.py),
since only the database knows whether a nonce was used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal
from urllib.parse import urlsplit

from bot.config import ConfigError

LINK_KEY_ENV = "SAMVERKAN_LINK_KEY"
LINK_KEY_BYTES = 32
# What the MAC covers besides the payload: a key used for something else one day cannot
# make a valid link by accident, and a new token format gets a new context.
MAC_CONTEXT = b"samverkan-link-v1\x00"
PAYLOAD_VERSION = 1
DEFAULT_DAYS = 14
# Far longer than any token the bot makes; anything longer is refused before decoding.
MAX_TOKEN_CHARS = 1024
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

RefusalReason = Literal["forged", "expired"]


class LinkAnswer(StrEnum):
    """What a link answers."""

    DONE = "done"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    NEW_DATE = "new_date"
    JOIN = "join"
    SWITCH_TO_CHAT = "switch_to_chat"


@dataclass(frozen=True)
class LinkClaim:
    """What a link says: who answers what about which action, until when."""

    person_id: int
    answer: LinkAnswer
    action_id: int | None
    expires_at: datetime
    nonce: str
    invite: str | None = None


class LinkRefused(Exception):
    """A link that is not ours ("forged") or too old ("expired"); it changes nothing."""

    def __init__(self, reason: RefusalReason) -> None:
        super().__init__(reason)
        self.reason: RefusalReason = reason


def new_claim(
    person_id: int,
    answer: LinkAnswer,
    action_id: int | None,
    now: datetime,
    *,
    days: int = DEFAULT_DAYS,
    invite: str | None = None,
) -> LinkClaim:
    """A claim with a fresh nonce that expires `days` from now (to the second)."""
    expires = (now + timedelta(days=days)).astimezone(UTC).replace(microsecond=0)
    return LinkClaim(person_id, answer, action_id, expires, secrets.token_urlsafe(18), invite)


def link_key_from_env(environ: Mapping[str, str]) -> bytes:
    """The link key from SAMVERKAN_LINK_KEY (base64 of 32 bytes), or a ConfigError saying why."""
    value = environ.get(LINK_KEY_ENV, "").strip()
    how = (
        "make one with: python -c 'import os,base64;"
        "print(base64.b64encode(os.urandom(32)).decode())'"
    )
    if not value:
        raise ConfigError(f"{LINK_KEY_ENV} is not set; {how}")
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{LINK_KEY_ENV} is not base64; {how}") from None
    if len(key) != LINK_KEY_BYTES:
        raise ConfigError(f"{LINK_KEY_ENV} must be {LINK_KEY_BYTES} bytes of base64; {how}")
    return key


class LinkSigner:
    """Makes and reads the answer links under one key and one public base URL."""

    def __init__(self, key: bytes, base_url: str) -> None:
        if len(key) < LINK_KEY_BYTES:
            raise ValueError(f"a link key has at least {LINK_KEY_BYTES} bytes")
        parts = urlsplit(base_url)
        # A link in an e-mail is a credential: it only travels over TLS, except to the
        # machine itself (tests, or a proxy on the same host during setup).
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
            raise ValueError("the public URL of the answer links must be https")
        self._key = key
        self._base = base_url.rstrip("/")

    def url(self, claim: LinkClaim) -> str:
        """The link to put in an e-mail."""
        return f"{self._base}/l/{self.token(claim)}"

    def token(self, claim: LinkClaim) -> str:
        """The signed token of a claim (the last part of its URL)."""
        fields: dict[str, object] = {
            "v": PAYLOAD_VERSION,
            "p": claim.person_id,
            "a": claim.answer.value,
            "x": claim.action_id,
            "e": int(claim.expires_at.timestamp()),
            "n": claim.nonce,
            "i": claim.invite,
        }
        payload = _b64(json.dumps(fields, separators=(",", ":"), sort_keys=True).encode())
        return f"{payload}.{_b64(self._mac(payload))}"

    def read(self, token: str, now: datetime) -> LinkClaim:
        """The claim of a genuine, unexpired token; LinkRefused("forged" | "expired") else."""
        if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            raise LinkRefused("forged")
        payload, mac = token.split(".")
        given = _unb64(mac)
        # compare_digest takes as long whatever the bytes: no timing hints at a valid MAC.
        if given is None or not hmac.compare_digest(given, self._mac(payload)):
            raise LinkRefused("forged")
        claim = _claim(_unb64(payload))
        if claim is None:
            # Signed by us but not a claim we know: never trust half a payload.
            raise LinkRefused("forged")
        if now >= claim.expires_at:
            raise LinkRefused("expired")
        return claim

    def _mac(self, payload: str) -> bytes:
        """The MAC of an encoded payload."""
        return hmac.new(self._key, MAC_CONTEXT + payload.encode("ascii"), hashlib.sha256).digest()


def _claim(raw: bytes | None) -> LinkClaim | None:
    """The claim in a decoded payload, or None when it is not one."""
    if raw is None:
        return None
    try:
        fields = json.loads(raw)
        if not isinstance(fields, dict) or fields.get("v") != PAYLOAD_VERSION:
            return None
        person, action, expires = fields["p"], fields["x"], fields["e"]
        nonce, invite = fields["n"], fields["i"]
        if not isinstance(person, int) or not isinstance(expires, int):
            return None
        if action is not None and not isinstance(action, int):
            return None
        if not isinstance(nonce, str) or not nonce:
            return None
        if invite is not None and not isinstance(invite, str):
            return None
        answer = LinkAnswer(fields["a"])
        return LinkClaim(
            person, answer, action, datetime.fromtimestamp(expires, UTC), nonce, invite
        )
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        return None


def _b64(data: bytes) -> str:
    """Unpadded base64url: safe in a URL path without escaping."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes | None:
    """Decodes unpadded base64url; None for anything else."""
    if not text or not text.isascii():
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
