"""Database failures as one plain line for the operator: what is wrong and what to do.

Every `samverkan` command opens the database the same way (bot/cli.py, then
storage.db.make_engine), so its failures are translated here, once. A line never holds an
exception's text (a database error may quote what people wrote) nor a password: URLs are
shown with the password masked.
"""

from __future__ import annotations

import errno
import sqlite3

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from bot.config import ConfigError

SUPPORTED_BACKENDS = ("sqlite", "postgresql")
URL_EXAMPLES = (
    "sqlite:////var/lib/samverkansboten/samverkan.sqlite3 (four slashes: an absolute path) "
    "or postgresql+psycopg://USER@HOST/DATABASE"
)
# What `samverkan` catches around a command: anything else is a bug and keeps its traceback.
DATABASE_FAILURES: tuple[type[BaseException], ...] = (sa_exc.DBAPIError, sqlite3.Error, OSError)
# PostgreSQL error codes (SQLSTATE) an operator can act on.
_PG_AUTH = ("28000", "28P01")
_PG_NO_DATABASE = "3D000"
_PG_DISK_FULL = "53100"
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def check_database_url(url: str) -> None:
    """Refuses a URL that is no URL, names an unsupported database or lacks its driver."""
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError:
        # Not shown: a mistyped URL may still hold a password.
        raise ConfigError(f"the database URL is not a database URL: write {URL_EXAMPLES}") from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise ConfigError(
            f"{shown(parsed)}: samverkan supports only sqlite and postgresql databases, "
            f"not {backend}: write {URL_EXAMPLES}"
        )
    try:
        parsed.get_dialect().import_dbapi()
    except (sa_exc.NoSuchModuleError, ImportError):
        raise ConfigError(
            f"{shown(parsed)}: the database driver {parsed.drivername!r} is not available: "
            f"write {URL_EXAMPLES}"
        ) from None


def shown(url: str | URL) -> str:
    """The URL as it may be printed: its password masked."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def one_line(failure: BaseException, url: str) -> str | None:
    """What went wrong with the database at `url` and what to do, or None when unknown."""
    if isinstance(failure, sa_exc.DBAPIError):
        cause: BaseException = failure.orig if failure.orig is not None else failure
    else:
        cause = failure
    if isinstance(cause, sqlite3.Error):
        return _sqlite_line(cause, make_url(url).database or url)
    if isinstance(failure, sa_exc.DBAPIError):
        return _server_line(failure, cause, shown(url))
    if isinstance(cause, OSError) and cause.filename is not None:
        return _file_line(cause)
    return None


def _sqlite_line(cause: sqlite3.Error, path: str) -> str:
    """SQLite's error code (never its message) as a line about the database file."""
    name = getattr(cause, "sqlite_errorname", "")
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return (
            f"{path} is not an SQLite database or is damaged: restore it from a backup "
            "(or move it away to start with an empty database)"
        )
    if name == "SQLITE_FULL":
        return f"the disk holding {path} is full: free some space, then try again"
    if name.startswith("SQLITE_IOERR"):
        return (
            f"cannot write or read {path} (a disk I/O error): check that its disk has free "
            "space and works (and the file-size limit), then try again"
        )
    if name.startswith("SQLITE_CANTOPEN"):
        return f"cannot open {path}: check that its folder exists and the bot's user may write it"
    if name.startswith("SQLITE_READONLY"):
        return f"{path} is read-only: give the bot's user write access to it and its folder"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return f"{path} is locked by another process: try again in a moment"
    return (
        f"the SQLite database {path} failed ({name or type(cause).__name__}): "
        "run `samverkan doctor` to see what is wrong"
    )


def _server_line(failure: sa_exc.DBAPIError, cause: BaseException, url: str) -> str:
    """A database server's failure by its SQLSTATE (never its message) as a line."""
    state = getattr(cause, "sqlstate", None)
    if state in _PG_AUTH:
        return f"{url} refused the user or password: check both (the password belongs in the URL)"
    if state == _PG_NO_DATABASE:
        return f"{url}: the database does not exist: create it (createdb), then run db upgrade"
    if state == _PG_DISK_FULL:
        return f"{url}: the database server's disk is full: free some space, then try again"
    if isinstance(failure, sa_exc.OperationalError) and state is None:
        return (
            f"cannot connect to the database {url}: check that PostgreSQL runs there and "
            "accepts connections (host, port, firewall)"
        )
    return (
        f"the database {url} failed ({type(cause).__name__}"
        f"{f' {state}' if state else ''}): run `samverkan doctor` to see what is wrong"
    )


def _file_line(cause: OSError) -> str:
    """A file the bot could not write (its database, its key) as a line."""
    if cause.errno in _DISK_FULL_ERRNOS:
        return (
            f"cannot write {cause.filename}: the disk is full or the file may not grow: "
            "free some space, then try again"
        )
    if cause.errno in (errno.EACCES, errno.EPERM):
        return f"no permission for {cause.filename}: let the bot's user read and write it"
    reason = errno.errorcode.get(cause.errno or 0, type(cause).__name__)
    return f"cannot use {cause.filename} ({reason}): check the path and its folder"
