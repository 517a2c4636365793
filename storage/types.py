"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Text
from sqlalchemy.types import TypeDecorator

from storage.crypto import active_keyring, key_id_of


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime; SQLite has no time zones, so store naive UTC and re-attach it."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuses naive datetimes: a time without a zone is a bug waiting for summer time."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Gives back an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EncryptedText(TypeDecorator[str]):
    """Free text, stored encrypted (storage/crypto.py); legacy plaintext is read as it is.

    Legacy plaintext exists only in databases from before encryption; `samverkan keys rotate`
    encrypts it in place.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """Encrypts under the current key."""
        if value is None:
            return None
        return active_keyring().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        """Decrypts with the key named in the value."""
        if value is None or key_id_of(value) is None:
            return value
        return active_keyring().decrypt(value)


class EncryptedJSON(TypeDecorator[Any]):
    """JSON that may hold user text (message parameters, conversation scratch data), encrypted."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Serialises, then encrypts."""
        if value is None:
            return None
        return active_keyring().encrypt(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        """Decrypts, then parses."""
        if value is None:
            return None
        if key_id_of(value) is not None:
            value = active_keyring().decrypt(value)
        return json.loads(value)
