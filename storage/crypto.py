"""Encryption at rest of free text: AES-256-GCM under keys from the environment, rotatable.

A stored value looks like ``enc1:<key id>:<base64(nonce + ciphertext + tag)>``. The key id
travels with the ciphertext, so after a new key is made current the old rows stay readable
(the old key is still in the keyring) until `samverkan keys rotate` has re-encrypted them;
then the old key can be dropped. No downtime: readers accept every key in the ring.

The keyring is installed once at start (`install_keyring`); column types read it when they
bind or load a value. Reading a value whose key is missing fails loudly, never silently.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.private_paths import make_private_folder

PREFIX = "enc1"
NONCE_BYTES = 12
KEY_BYTES = 32
DATA_KEY_ENV = "SAMVERKAN_DATA_KEY"
OLD_KEYS_ENV = "SAMVERKAN_OLD_DATA_KEYS"
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class DataKeyError(RuntimeError):
    """A key is missing, malformed, or does not open a stored value."""


@dataclass(frozen=True, slots=True)
class DataKey:
    """One AES-256 key and the short id stored beside everything it encrypts."""

    key_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _KEY_ID.match(self.key_id):
            raise DataKeyError("a key id is 1-32 letters, digits, '-' or '_'")
        if len(self.secret) != KEY_BYTES:
            raise DataKeyError(f"a data key is {KEY_BYTES} bytes ({KEY_BYTES * 8} bits)")

    def encode(self) -> str:
        """The key as one line for the environment: ``<id>:<base64 key>``."""
        return f"{self.key_id}:{base64.urlsafe_b64encode(self.secret).decode()}"

    @classmethod
    def parse(cls, text: str) -> DataKey:
        """Reads ``<id>:<base64 key>``; the error never repeats the secret."""
        key_id, sep, encoded = text.strip().partition(":")
        if not sep:
            raise DataKeyError("a data key looks like '<id>:<base64 of 32 bytes>'")
        try:
            secret = base64.urlsafe_b64decode(encoded.encode())
        except (binascii.Error, ValueError) as exc:
            raise DataKeyError(f"data key {key_id!r} is not valid base64") from exc
        return cls(key_id, secret)

    @classmethod
    def generate(cls, key_id: str | None = None) -> DataKey:
        """A fresh random key."""
        return cls(key_id or f"k{secrets.token_hex(4)}", secrets.token_bytes(KEY_BYTES))


class Keyring:
    """The current key (for writing) and older keys (for reading until rotation is done)."""

    def __init__(self, current: DataKey, older: tuple[DataKey, ...] = ()) -> None:
        self.current = current
        self._keys = {k.key_id: k for k in (*older, current)}
        self._aead = {k.key_id: AESGCM(k.secret) for k in self._keys.values()}

    @property
    def key_ids(self) -> frozenset[str]:
        """Ids of every key that can read."""
        return frozenset(self._keys)

    def encrypt(self, plaintext: str) -> str:
        """Encrypts under the current key; the key id is bound in as associated data."""
        nonce = os.urandom(NONCE_BYTES)
        kid = self.current.key_id
        sealed = self._aead[kid].encrypt(nonce, plaintext.encode(), kid.encode())
        return f"{PREFIX}:{kid}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str) -> str:
        """Opens a stored value with the key named in it."""
        kid = key_id_of(stored)
        if kid is None:
            raise DataKeyError("value is not encrypted")
        aead = self._aead.get(kid)
        if aead is None:
            raise DataKeyError(f"data key {kid!r} is needed to read this database but is not set")
        blob = base64.b64decode(stored.split(":", 2)[2])
        try:
            return aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], kid.encode()).decode()
        except InvalidTag as exc:
            raise DataKeyError(f"data key {kid!r} does not open this value") from exc

    def seal(self, data: bytes, context: bytes) -> tuple[str, bytes]:
        """Encrypts bytes (a backup) under the current key: (key id, nonce + ciphertext + tag).

        The key id and `context` (what the bytes are) are bound in as associated data, as
        `encrypt` binds the key id: a sealed blob opens only as what it was sealed as.
        """
        nonce = os.urandom(NONCE_BYTES)
        kid = self.current.key_id
        return kid, nonce + self._aead[kid].encrypt(nonce, data, kid.encode() + b"|" + context)

    def unseal(self, kid: str, blob: bytes, context: bytes) -> bytes:
        """Opens what `seal` made, with the key it names; DataKeyError if it cannot."""
        aead = self._aead.get(kid)
        if aead is None:
            raise DataKeyError(f"data key {kid!r} is needed to open this but is not set")
        try:
            return aead.decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], kid.encode() + b"|" + context
            )
        except InvalidTag as exc:
            raise DataKeyError(
                f"data key {kid!r} does not open this (another key, or damaged)"
            ) from exc

    def pseudonym(self, kind: str, value: int) -> str:
        """A stable keyed pseudonym (HMAC) of an id, for audit rows kept after a purge."""
        mac = hmac.new(self.current.secret, f"{kind}:{value}".encode(), hashlib.sha256)
        return mac.hexdigest()[:32]


def key_id_of(stored: str) -> str | None:
    """The key id of an encrypted value, or None for legacy plaintext."""
    if not stored.startswith(PREFIX + ":"):
        return None
    parts = stored.split(":", 2)
    return parts[1] if len(parts) == 3 else None


def keyring_from_env(environ: dict[str, str] | os._Environ[str]) -> Keyring | None:
    """The keyring in SAMVERKAN_DATA_KEY (+ SAMVERKAN_OLD_DATA_KEYS, comma separated)."""
    current = environ.get(DATA_KEY_ENV, "").strip()
    if not current:
        return None
    older = tuple(
        DataKey.parse(part) for part in environ.get(OLD_KEYS_ENV, "").split(",") if part.strip()
    )
    return Keyring(DataKey.parse(current), older)


def load_or_create_key_file(path: Path) -> Keyring:
    """The demo's own key, in a file beside its database (made once, readable by us only)."""
    if path.exists():
        return Keyring(DataKey.parse(path.read_text()))
    make_private_folder(path.parent)
    key = DataKey.generate("demo")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.encode() + "\n")
    return Keyring(key)


_installed: Keyring | None = None


def install_keyring(keyring: Keyring | None) -> None:
    """Makes a keyring the one every encrypted column uses (once at start; tests per test)."""
    global _installed
    _installed = keyring


def active_keyring() -> Keyring:
    """The installed keyring; without one nothing can be stored or read."""
    if _installed is None:
        raise DataKeyError(
            f"no data key: everything people write is encrypted, so {DATA_KEY_ENV} must be "
            "set. Make a key with `samverkan keys new`, keep it safe (apart from the database "
            "backups), and set it in the environment."
        )
    return _installed
