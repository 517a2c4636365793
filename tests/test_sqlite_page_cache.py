"""Each pooled SQLite connection keeps a small page cache (storage/db.py).

The bot holds up to five pooled connections (more for a moment under load), and SQLite keeps
each one's cache of database pages for as long as the connection lives: at SQLite's default
of 2 MiB each, a busy moment left 5-15 MiB of pages in the bot's memory (bench/memory.py
--probe allocators). The operating system caches the file anyway; a page missed here is read
back from it.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

from sqlalchemy import text

from storage.db import SQLITE_CACHE_KIB, make_engine


def sqlite_heap_bytes() -> int:
    """SQLite's own heap in this process (every connection's page cache is in it)."""
    library = ctypes.CDLL("libsqlite3.so.0")
    library.sqlite3_memory_used.restype = ctypes.c_int64
    return int(library.sqlite3_memory_used())


def test_reading_a_large_table_keeps_at_most_the_small_page_cache(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    writer = make_engine(url)
    with writer.begin() as connection:
        connection.execute(text("CREATE TABLE history (id INTEGER PRIMARY KEY, body TEXT)"))
        # 8 MiB of rows: four times SQLite's default cache, sixteen times ours.
        rows = [{"body": "x" * 1000} for _ in range(8 * 1024)]
        connection.execute(text("INSERT INTO history (body) VALUES (:body)"), rows)
    writer.dispose()
    engine = make_engine(url)  # a fresh connection, its cache still empty
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
            before = sqlite_heap_bytes()
            connection.exec_driver_sql("SELECT sum(length(body)) FROM history").scalar()
            kept = sqlite_heap_bytes() - before
        # The scan went through every page; the connection keeps only its small cache of them.
        assert kept <= SQLITE_CACHE_KIB * 1024 * 1.25
    finally:
        engine.dispose()
