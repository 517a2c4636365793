"""Invite codes: 128 random bits, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

# Crockford-style alphabet: no I, L, O, U, so a code read aloud or typed by hand survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_CHARS = 26  # 26 × 5 bits = 130 bits ≥ 128
GROUP = 5


def new_code() -> str:
    """A fresh code like `7K2QF-…`, grouped for reading."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_CHARS))
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def normalise(code: str) -> str:
    """The canonical form people may type it in: any case, with or without dashes or spaces."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return cleaned.translate(str.maketrans("ILO", "110"))


def hash_code(code: str) -> str:
    """The stored form of a code; a 130-bit secret needs no slow hash, only a one-way one."""
    return hashlib.sha256(normalise(code).encode("ascii", "ignore")).hexdigest()
