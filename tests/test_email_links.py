"""Signed answer links (bot/email/links.py): bound to the person, the answer, the action and
the invite; refused when forged, tampered with or expired."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import ConfigError
from bot.email.links import (
    LINK_KEY_ENV,
    LinkAnswer,
    LinkRefused,
    LinkSigner,
    link_key_from_env,
    new_claim,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
KEY = bytes(range(32))
BASE = "https://bot.example.org"


def _token(url: str) -> str:
    """The token part of a link."""
    assert url.startswith(f"{BASE}/l/")
    return url.removeprefix(f"{BASE}/l/")


def _unb64(part: str) -> bytes:
    """Decodes unpadded base64url."""
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64(data: bytes) -> str:
    """Encodes unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_signed_link_reads_back_as_the_same_claim() -> None:
    signer = LinkSigner(KEY, BASE)
    claim = new_claim(7, LinkAnswer.DONE, 42, NOW)
    assert claim.expires_at == NOW + timedelta(days=14)
    assert signer.read(_token(signer.url(claim)), NOW) == claim


def test_a_join_link_carries_its_invite_code() -> None:
    signer = LinkSigner(KEY, BASE)
    claim = new_claim(7, LinkAnswer.JOIN, None, NOW, days=3, invite="ABCD-1234")
    read = signer.read(_token(signer.url(claim)), NOW)
    assert read.invite == "ABCD-1234" and read.action_id is None


def test_each_claim_has_its_own_nonce() -> None:
    first = new_claim(7, LinkAnswer.DONE, 42, NOW)
    second = new_claim(7, LinkAnswer.DONE, 42, NOW)
    assert first.nonce != second.nonce and len(first.nonce) >= 16


def test_an_expired_link_is_refused_as_expired() -> None:
    signer = LinkSigner(KEY, BASE)
    token = _token(signer.url(new_claim(7, LinkAnswer.DONE, 42, NOW, days=1)))
    signer.read(token, NOW + timedelta(hours=23))
    with pytest.raises(LinkRefused) as refused:
        signer.read(token, NOW + timedelta(days=1))
    assert refused.value.reason == "expired"


def test_a_link_signed_under_another_key_is_forged() -> None:
    theirs = LinkSigner(bytes(32), BASE)
    token = _token(theirs.url(new_claim(7, LinkAnswer.DONE, 42, NOW)))
    with pytest.raises(LinkRefused) as refused:
        LinkSigner(KEY, BASE).read(token, NOW)
    assert refused.value.reason == "forged"


@pytest.mark.parametrize(
    "change",
    [
        lambda fields: fields | {"a": "blocked"},  # another answer
        lambda fields: fields | {"x": 43},  # another action
        lambda fields: fields | {"p": 8},  # another person
        lambda fields: fields | {"e": fields["e"] + 86400 * 365},  # a later expiry
        lambda fields: fields | {"i": "EFGH-5678"},  # another invite
    ],
)
def test_a_tampered_field_makes_the_link_forged(change: object) -> None:
    signer = LinkSigner(KEY, BASE)
    token = _token(signer.url(new_claim(7, LinkAnswer.DONE, 42, NOW, invite="ABCD-1234")))
    payload, mac = token.split(".")
    fields = json.loads(_unb64(payload))
    assert callable(change)
    tampered = _b64(json.dumps(change(fields), separators=(",", ":")).encode())
    with pytest.raises(LinkRefused) as refused:
        signer.read(f"{tampered}.{mac}", NOW)
    assert refused.value.reason == "forged"


@pytest.mark.parametrize("token", ["", "x", "a.b", "a.b.c", "!!.??", "é.é", "."])
def test_garbage_is_forged_not_an_error(token: str) -> None:
    with pytest.raises(LinkRefused) as refused:
        LinkSigner(KEY, BASE).read(token, NOW)
    assert refused.value.reason == "forged"


def test_a_valid_mac_over_a_malformed_payload_is_forged() -> None:
    import hashlib
    import hmac

    from bot.email.links import MAC_CONTEXT

    payload = _b64(b'{"v":1}')
    mac = _b64(hmac.new(KEY, MAC_CONTEXT + payload.encode(), hashlib.sha256).digest())
    with pytest.raises(LinkRefused) as refused:
        LinkSigner(KEY, BASE).read(f"{payload}.{mac}", NOW)
    assert refused.value.reason == "forged"


def test_the_link_key_comes_from_the_environment_as_32_bytes_of_base64() -> None:
    key = base64.b64encode(KEY).decode()
    assert link_key_from_env({LINK_KEY_ENV: key}) == KEY
    for bad in ({}, {LINK_KEY_ENV: ""}, {LINK_KEY_ENV: "not base64!"}, {LINK_KEY_ENV: "QUJD"}):
        with pytest.raises(ConfigError) as error:
            link_key_from_env(bad)
        # The message names the variable and how to make a key, never the value.
        assert LINK_KEY_ENV in str(error.value)


def test_the_base_url_must_be_https_except_on_loopback() -> None:
    with pytest.raises(ValueError):
        LinkSigner(KEY, "http://bot.example.org")
    assert (
        LinkSigner(KEY, "http://127.0.0.1:8088/")
        .url(replace(new_claim(1, LinkAnswer.DONE, 1, NOW), nonce="n"))
        .startswith("http://127.0.0.1:8088/l/")
    )
