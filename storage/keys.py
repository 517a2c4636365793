"""Key rotation: re-encrypts every encrypted value that is not under the current key.

Runs while the bot runs: small batches, one short transaction each, and every update only
applies if the row still holds the value we read (a concurrent writer simply wins; its new
value is already under the current key).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Column, Engine, Table, Text, and_, select, update
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.sql.expression import column as sql_column
from sqlalchemy.sql.expression import table as sql_table

from storage import erasure
from storage.crypto import Keyring, key_id_of
from storage.models import Base
from storage.types import EncryptedJSON, EncryptedText

log = logging.getLogger(__name__)
BATCH = 200
# What `key_ids_in_use` reports for values written before their column was encrypted.
PLAINTEXT = "plaintext"


def encrypted_columns() -> list[tuple[Table, Column[object]]]:
    """Every column of every model table that stores ciphertext, found by introspection."""
    found: list[tuple[Table, Column[object]]] = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText | EncryptedJSON):
                found.append((table, column))
    return found


@dataclass(frozen=True, slots=True)
class RotationReport:
    """How many values were re-encrypted, and which key ids are still in use afterwards."""

    reencrypted: int
    key_ids_in_use: frozenset[str]


def rotate(engine: Engine, keyring: Keyring) -> RotationReport:
    """Re-encrypts everything under the keyring's current key; returns what it did."""
    total = 0
    for table, column in encrypted_columns():
        total += _rotate_column(engine, keyring, table, column)
    if total:
        # The values just replaced (plaintext, or under a key about to be dropped) must not
        # live on in SQLite's write-ahead log; secure_delete already zeroed their cells.
        erasure.scrub(engine)
    return RotationReport(total, key_ids_in_use(engine))


def _rotate_column(engine: Engine, keyring: Keyring, table: Table, column: Column[object]) -> int:
    """Re-encrypts one column in batches of short transactions."""
    raw = _raw_view(table, column)
    pk = [raw.c[c.name] for c in table.primary_key.columns]
    value = raw.c[column.name]
    done = 0
    after: object = None
    while True:
        stmt = select(*pk, value).where(value.is_not(None)).order_by(pk[0]).limit(BATCH)
        if after is not None:
            stmt = stmt.where(pk[0] > after)
        with engine.begin() as connection:
            rows = connection.execute(stmt).all()
            for row in rows:
                *keys, stored = row
                kid = key_id_of(stored)
                if kid == keyring.current.key_id:
                    continue
                plain = stored if kid is None else keyring.decrypt(stored)
                condition = and_(*(c == k for c, k in zip(pk, keys, strict=True)), value == stored)
                result = connection.execute(
                    update(raw).where(condition).values({column.name: keyring.encrypt(plain)})
                )
                done += getattr(result, "rowcount", 0)
        if len(rows) < BATCH:
            break
        after = rows[-1][0]
    if done:
        log.info("re-encrypted %d values in %s.%s", done, table.name, column.name)
    return done


def _raw_view(table: Table, column: Column[object]) -> TableClause:
    """The table with the encrypted column as plain text: we read and write ciphertext as is."""
    cols = [sql_column(c.name, c.type) for c in table.primary_key.columns]
    return sql_table(table.name, *cols, sql_column(column.name, Text()))


def key_ids_in_use(engine: Engine) -> frozenset[str]:
    """Key ids found in the database (and "plaintext" for legacy unencrypted values)."""
    used: set[str] = set()
    with engine.connect() as connection:
        for _table, column in encrypted_columns():
            value = _raw_view(_table, column).c[column.name]
            for (stored,) in connection.execute(select(value).where(value.is_not(None))):
                used.add(key_id_of(stored) or PLAINTEXT)
    return frozenset(used)
