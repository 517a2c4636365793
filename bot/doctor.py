"""`samverkan doctor`: checks a setup before it is started, one line per check with what to do.

Each line starts `ok` or `fel` (Swedish for wrong). Secrets are named, never shown: the
environment variables that hold them, and URLs with their password masked.
"""

from __future__ import annotations

import json
import os
import stat
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from bot.cli_errors import DATABASE_FAILURES, check_database_url, one_line, shown
from bot.config import (
    MIN_PICKLE_KEY_CHARS,
    Config,
    ConfigError,
    MatrixConfig,
    TelegramConfig,
    load_config,
    telegram_secrets,
)
from storage.crypto import DATA_KEY_ENV, DataKeyError, keyring_from_env
from storage.db import make_engine
from storage.schema import current_revisions, describe, head_revisions

HTTP_TIMEOUT_SECONDS = 10
# A clock before this year is certainly wrong (no NTP, a dead RTC battery).
EARLIEST_SANE_YEAR = 2025


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of one check: which, whether it passed, and what it found or what to do."""

    topic: str
    ok: bool
    detail: str

    def line(self) -> str:
        """The check as the operator reads it."""
        return f"{'ok' if self.ok else 'fel'} {self.topic}: {self.detail}"


def run_doctor(
    config_path: Path | None,
    database_url: str | None,
    out: TextIO,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Prints one line per check; 0 when every check is ok, 1 otherwise."""
    env = os.environ if environ is None else environ
    all_ok = True
    for check in checks(config_path, database_url, env):
        print(check.line(), file=out, flush=True)
        all_ok = all_ok and check.ok
    return 0 if all_ok else 1


def checks(
    config_path: Path | None, database_url: str | None, env: Mapping[str, str]
) -> Iterator[Check]:
    """The checks in order; without a readable config the others cannot run."""
    try:
        config = load_config(config_path, env)
    except ConfigError as exc:
        yield Check("config", False, str(exc))
        return
    if database_url:
        config = replace(config, database_url=database_url)
    yield Check("config", True, f"{config_path or 'no file, defaults'} read")
    yield data_key(env)
    yield from database(config, config_path)
    if config.telegram.enabled:
        yield telegram(config.telegram, env)
    if config.matrix.enabled:
        yield matrix(config.matrix, env)
    yield clock(config, datetime.now(UTC))


def data_key(env: Mapping[str, str]) -> Check:
    """The data key is set and well formed (its value never shown)."""
    try:
        keyring = keyring_from_env(dict(env))
    except DataKeyError as exc:
        return Check("data-key", False, f"{exc}: make a new one with `samverkan keys new`")
    if keyring is None:
        return Check(
            "data-key",
            False,
            f"{DATA_KEY_ENV} is not set: make one with `samverkan keys new`, set it in the "
            "bot's environment and back it up apart from the database",
        )
    return Check("data-key", True, f"{DATA_KEY_ENV} is set and valid")


def database(config: Config, config_path: Path | None) -> Iterator[Check]:
    """The database is reachable and its schema current; an SQLite file is private."""
    url = config.database_url
    try:
        check_database_url(url)
    except ConfigError as exc:
        yield Check("database", False, str(exc))
        return
    upgrade = f"samverkan db upgrade{f' --config {config_path}' if config_path else ''}"
    path = sqlite_path(url)
    if path is not None and not path.exists():
        # make_engine would create it: the doctor only looks.
        yield Check("database", False, f"{path} does not exist: `{upgrade}` creates it")
        return
    try:
        engine = make_engine(url)
        try:
            current, heads = current_revisions(engine), head_revisions(engine)
        finally:
            engine.dispose()
    except DATABASE_FAILURES as exc:
        line = one_line(exc, url)
        if line is None:
            raise
        yield Check("database", False, line)
        return
    if current != heads:
        yield Check(
            "database",
            False,
            f"schema {describe(current)}, the code needs {describe(heads)}: run `{upgrade}`",
        )
    else:
        yield Check("database", True, f"{shown(url)} reachable, schema current")
    if path is not None:
        yield private_files(path)


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL; None for a server database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).absolute()


def private_files(path: Path) -> Check:
    """The database file, its WAL, its key file and its folder: no access for anyone else."""
    for each in (path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", ".key"))):
        if each.exists() and stat.S_IMODE(each.stat().st_mode) & 0o077:
            mode = stat.S_IMODE(each.stat().st_mode)
            return Check(
                "files", False, f"{each} is open to other users (mode {mode:o}): chmod 600 {each}"
            )
    folder = path.parent
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o007:
        return Check(
            "files",
            False,
            f"the folder {folder} is open to all users (mode {mode:o}): chmod 700 {folder}",
        )
    return Check("files", True, f"{path} and its folder are the bot's user's only")


def telegram(settings: TelegramConfig, env: Mapping[str, str]) -> Check:
    """The token's variable is set and the Bot API answers getMe with it."""
    try:
        secrets = telegram_secrets(settings, env)
    except ConfigError as exc:
        return Check("telegram", False, str(exc))
    host = _origin(settings.api_base_url)
    status = _get(f"{settings.api_base_url}{secrets.token}/getMe")
    if status is None:
        return Check(
            "telegram",
            False,
            f"cannot reach the Bot API at {host}: check the network, a proxy and "
            "[telegram] api_base_url",
        )
    if status in (401, 404):
        return Check(
            "telegram",
            False,
            f"the Bot API at {host} refused the token in {settings.token_env}: "
            "copy it again from BotFather",
        )
    if status != 200:
        return Check("telegram", False, f"the Bot API at {host} answered {status}: try again later")
    return Check("telegram", True, f"{settings.token_env} is set; {host} answered getMe")


def matrix(settings: MatrixConfig, env: Mapping[str, str]) -> Check:
    """The secrets' variables are set and the homeserver answers /versions."""
    if len(env.get(settings.pickle_key_env, "")) < MIN_PICKLE_KEY_CHARS:
        return Check(
            "matrix",
            False,
            f"{settings.pickle_key_env} is not set (at least {MIN_PICKLE_KEY_CHARS} "
            "characters, e.g. `openssl rand -hex 32`)",
        )
    if not env.get(settings.password_env) and not env.get(settings.access_token_env):
        return Check(
            "matrix",
            False,
            f"set {settings.password_env} or {settings.access_token_env} in the environment",
        )
    host = _origin(settings.homeserver)
    status = _get(f"{settings.homeserver.rstrip('/')}/_matrix/client/versions")
    if status is None:
        return Check(
            "matrix",
            False,
            f"cannot reach the homeserver {host}: check the network and [matrix] homeserver",
        )
    if status != 200:
        return Check(
            "matrix",
            False,
            f"{host} answered {status} to /versions: is [matrix] homeserver its client URL?",
        )
    return Check("matrix", True, f"the secrets' variables are set; {host} answered /versions")


def clock(config: Config, now: datetime) -> Check:
    """Now in the configured time zone, and whether the system clock is plausible."""
    local = now.astimezone(ZoneInfo(config.timezone))
    shown_now = f"{local:%Y-%m-%d %H:%M} {config.timezone} (UTC{local:%z}), {now:%H:%M} UTC"
    if now.year < EARLIEST_SANE_YEAR:
        return Check(
            "clock", False, f"the system clock says {shown_now}: set the time (NTP, timedatectl)"
        )
    return Check("clock", True, f"now {shown_now}; reminders follow [bot] timezone")


def _origin(url: str) -> str:
    """Scheme and host of a URL: what may be printed of an address that may hold a token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _get(url: str) -> int | None:
    """The HTTP status of a GET, or None when nothing answered (the URL is never printed)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            json.load(response)  # an answer that is not JSON is not the API
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None
