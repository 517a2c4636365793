"""Logging that keeps secrets and people's words out of the log, DEBUG included.

Three layers, because no single one is enough:

- Libraries speak only from WARNING. python-telegram-bot, httpx/httpcore, matrix-nio,
  aiohttp and peewee log whole requests and responses at DEBUG and INFO: the bot token in
  the Bot API URL, every message text, names. DEBUG and INFO are ours alone, and our own log
  calls carry ids, counts and type names, never content. A handler filter enforces this for
  every library, also the ones not named here.
- Every line is redacted: the Telegram token pattern, Matrix access tokens and passwords,
  credentials in URLs, invite codes, and the exact secret values registered at start
  (`register_secret`), wherever they appear, also inside a Bot API URL.
- A logged exception keeps its traceback (files, lines, types) but never its text: an
  exception's message may quote what a person wrote (a database error quotes the values of
  the failed statement). Wherever that text is repeated in the line, it is cut out too.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable, Mapping
from types import TracebackType

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"
WITHHELD = "[text withheld]"

# Loggers that may speak at DEBUG and INFO: ours, and libraries that narrate only their own
# work (schema versions, job runs), never a request or a message.
OWN_LOGGERS = frozenset({"bot", "flows", "storage", "bench", "samverkan", "alembic", "apscheduler"})
# Libraries known to log payloads below WARNING; their levels are set so the payload is not
# even formatted. The handler filter covers the rest.
PAYLOAD_LOGGERS = (
    "telegram",
    "httpx",
    "httpcore",
    "hpack",
    "h2",
    "h11",
    "nio",
    "peewee",
    "aiohttp",
    "urllib3",
    "websockets",
    "sqlalchemy",
    "asyncio",
)
# Registered values shorter than this are not redacted by value: a short password would
# cut common words out of every line. Their patterns still apply.
MIN_SECRET_CHARS = 8

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Telegram bot token: the bot's id, a colon, 35 characters (also inside /bot<TOKEN>/).
    (re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}"), REDACTED),
    # Synapse access tokens (syt_…) and older macaroon tokens (MDAx…).
    (re.compile(r"\bsyt_[A-Za-z0-9_-]+"), REDACTED),
    (re.compile(r"\bMDAx[A-Za-z0-9_-]{20,}"), REDACTED),
    # Any value given as a token, password or key: query strings, JSON, headers.
    (
        re.compile(
            r"(?i)((?:access_token|refresh_token|password|passwd|pickle_key|secret_token|"
            r"secret|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1" + REDACTED),
    # Credentials in a URL (postgresql://user:password@host/…).
    (re.compile(r"(://[^:/@\s]+:)[^@/\s]+@"), r"\1" + REDACTED + "@"),
    # Invite codes (storage/invite_codes.py): 26 characters, grouped 5-5-5-5-5-1 by dashes
    # or spaces, or not at all, in any case, as people type them.
    (
        re.compile(
            r"(?<![\w+/-])[0-9A-Za-z]{5}(?:[- ]?[0-9A-Za-z]{5}){4}[- ]?[0-9A-Za-z](?![\w+/-])"
        ),
        REDACTED,
    ),
)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Redacts this exact value (and the part after a colon, as in `id:secret`) from now on."""
    if not value:
        return
    candidates = {value.strip(), value.strip().partition(":")[2]}
    with _secrets_lock:
        _secrets.update(c for c in candidates if len(c) >= MIN_SECRET_CHARS)


def register_secrets_from_env(names: Iterable[str], environ: Mapping[str, str]) -> None:
    """Registers the values of the environment variables that hold secrets (comma lists too)."""
    for name in names:
        for value in environ.get(name, "").split(","):
            register_secret(value)


def redact(text: str) -> str:
    """The text with every registered secret and every secret-looking pattern replaced."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)  # the longer first: one may hold another
    for secret in known:
        text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class SafeFormatter(logging.Formatter):
    """Formats a record as usual, then redacts it; exception texts are never written."""

    def __init__(self, fmt: str = LOG_FORMAT) -> None:
        """A formatter with the given layout."""
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        """The redacted line; a traceback without the exceptions' texts."""
        # Not logging.Formatter.format: it caches the traceback with its text on the record,
        # where another handler may already have put the full one.
        try:
            record.message = record.getMessage()
        except Exception:  # logging's own report of this would print the arguments
            record.message = f"{record.msg} [arguments withheld: they did not fit the message]"
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            line = _without_texts(line, exc)
            line += "\n" + "".join(_traceback_lines(exc, set())).rstrip("\n")
        elif record.exc_text:
            line += "\n" + WITHHELD  # a traceback formatted elsewhere, text and all
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        # A lone surrogate (a broken client's text) would make the handler fail, and logging
        # then prints the whole record to stderr; escaped, it is written like any other line.
        return redact(line).encode("utf-8", "backslashreplace").decode("utf-8")


class LibraryFilter(logging.Filter):
    """Lets a library's record through only from WARNING; ours at every level."""

    def filter(self, record: logging.LogRecord) -> bool:
        """True if the record may be written."""
        return record.levelno >= logging.WARNING or record.name.partition(".")[0] in OWN_LOGGERS


def quiet_libraries(level: str) -> None:
    """Caps the libraries that log payloads at WARNING; at INFO, also the narrating ones."""
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if level != "DEBUG":
        # Alembic narrates every schema check at INFO; operators only need its warnings.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        # APScheduler narrates every job run; our jobs log what they do themselves.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        _add_once(logging.getLogger("apscheduler.scheduler"), OverrunIsNormal())


class OverrunIsNormal(logging.Filter):
    """Keeps APScheduler's "skipped: maximum number of running instances" out of the log.

    A dispatch that sends a backlog (the catch-up after a long stop: 13,000 messages in
    bench/memory.py) runs longer than its 5 s interval, and APScheduler warned every 5 s that
    the next run was skipped: a warning an operator cannot act on, for the bot working as
    meant (max_instances=1 is the point: the running dispatch sends the rest). Shown at DEBUG.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False for the skipped-run warning (its message template is APScheduler's own)."""
        overrun = isinstance(record.msg, str) and "maximum number of running instances" in (
            record.msg
        )
        return not overrun


def _add_once(logger: logging.Logger, added: logging.Filter) -> None:
    """Adds a filter unless one of its kind is there (logging is set up once per run, tests
    set it up again)."""
    if not any(type(f) is type(added) for f in logger.filters):
        logger.addFilter(added)


def configure_logging(level: str, handler: logging.Handler | None = None) -> logging.Handler | None:
    """Sets up the root logger with the safe formatter and filter (stderr unless given).

    As logging.basicConfig, it adds no stderr handler when logging is already set up (a
    test runner's capture); the libraries are capped either way.
    """
    quiet_libraries(level)
    root = logging.getLogger()
    if handler is None:
        if root.handlers:
            return None
        handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter())
    handler.addFilter(LibraryFilter())
    root.addHandler(handler)
    root.setLevel(level)
    # An exception nobody caught, and a library's warning, are logged the same way, not
    # printed with their texts beside the log.
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    logging.captureWarnings(True)
    return handler


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """Logs an uncaught exception through the safe formatter."""
    logging.getLogger("samverkan").critical("uncaught %s", kind.__name__, exc_info=(kind, exc, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    """Logs an exception that ended a thread through the safe formatter."""
    if args.exc_value is None:
        return
    logging.getLogger("samverkan").critical(
        "uncaught %s in a thread",
        args.exc_type.__name__,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def _chain(exc: BaseException, seen: set[int]) -> list[BaseException]:
    """The exception with its causes, contexts and grouped exceptions."""
    if id(exc) in seen:
        return []
    seen.add(id(exc))
    found = [exc]
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None:
            found += _chain(linked, seen)
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found += _chain(inner, seen)
    return found


def _without_texts(line: str, exc: BaseException) -> str:
    """The line with the texts of the exception (and its chain) cut out where repeated."""
    texts: set[str] = set()
    for linked in _chain(exc, set()):
        texts.update((str(linked), repr(linked)))
        texts.update(str(arg) for arg in linked.args)
    for text in sorted((t for t in texts if len(t) >= 4), key=len, reverse=True):
        line = line.replace(text, WITHHELD)
    return line


def _traceback_lines(exc: BaseException, seen: set[int]) -> list[str]:
    """A traceback as Python prints it, with each exception's type and not its text."""
    if id(exc) in seen:
        return []
    seen.add(id(exc))
    lines: list[str] = []
    if exc.__cause__ is not None:
        lines += _traceback_lines(exc.__cause__, seen)
        lines.append("\nThe above exception was the direct cause of the following exception:\n\n")
    elif exc.__context__ is not None and not exc.__suppress_context__:
        lines += _traceback_lines(exc.__context__, seen)
        lines.append("\nDuring handling of the above exception, another exception occurred:\n\n")
    if exc.__traceback__ is not None:
        lines.append("Traceback (most recent call last):\n")
        lines += traceback.format_tb(exc.__traceback__)
    kind = type(exc)
    module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    lines.append(f"{module}{kind.__qualname__}: {WITHHELD}\n")
    if isinstance(exc, BaseExceptionGroup):
        for number, inner in enumerate(exc.exceptions, 1):
            lines.append(f"+---- grouped exception {number}:\n")
            lines += _traceback_lines(inner, seen)
    return lines
