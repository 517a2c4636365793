"""Configuration from a TOML file, with secrets from the environment."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_path

from bot.catalogue import available_locales
from bot.channels import LeaseSettings
from bot.delivery import CONCURRENT_CHATS, PARK_AFTER, DeliveryPolicy
from bot.nudge_config import (
    NudgeConfig,
    ReportConfig,
    SettingError,
    nudge_config,
    report_config,
)
from bot.scheduler import TickerSettings
from storage.db import SqliteSynchronous

DATABASE_URL_ENV = "SAMVERKAN_DATABASE_URL"
# What Telegram accepts as a webhook secret_token.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# nio's pickle key when none is given; a store locked with it is as good as unlocked.
NIO_DEFAULT_PICKLE_KEY = "DEFAULT_KEY"
MIN_PICKLE_KEY_CHARS = 16


class ConfigError(ValueError):
    """The configuration is wrong; the message names the key and what is expected."""


class TelegramMode(StrEnum):
    """How the bot receives updates from Telegram."""

    POLLING = "polling"
    WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """The [telegram] section: how to reach Telegram; the secrets are named, never stored."""

    enabled: bool = False
    mode: TelegramMode = TelegramMode.POLLING
    token_env: str = "SAMVERKAN_TELEGRAM_TOKEN"
    api_base_url: str = "https://api.telegram.org/bot"
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_path: str = "/telegram"
    webhook_public_url: str = ""
    webhook_secret_env: str = "SAMVERKAN_TELEGRAM_WEBHOOK_SECRET"


@dataclass(frozen=True, slots=True)
class TelegramSecrets:
    """The bot token and the webhook secret, read from the environment at start."""

    token: str
    webhook_secret: str | None


def telegram_secrets(
    settings: TelegramConfig, environ: Mapping[str, str] | None = None
) -> TelegramSecrets:
    """Reads the secrets the [telegram] section names; a clear error if one is missing."""
    env = os.environ if environ is None else environ
    token = env.get(settings.token_env, "").strip()
    if not token:
        raise ConfigError(
            f"[telegram] is enabled but the environment variable {settings.token_env} "
            "(the bot token from BotFather) is not set"
        )
    secret: str | None = None
    if settings.mode is TelegramMode.WEBHOOK:
        secret = env.get(settings.webhook_secret_env, "").strip()
        if not secret:
            raise ConfigError(
                f'[telegram] mode = "webhook" needs a secret token in the environment '
                f"variable {settings.webhook_secret_env}"
            )
        if not _WEBHOOK_SECRET.fullmatch(secret):
            raise ConfigError(
                f"{settings.webhook_secret_env} must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
    return TelegramSecrets(token, secret)


def default_database_url() -> str:
    """SQLite in the user's data directory: what the demo and a bare start use."""
    return f"sqlite:///{user_data_path('samverkansboten') / 'samverkan.sqlite3'}"


def default_matrix_store_path() -> str:
    """The Matrix crypto store in the user's data directory."""
    return str(user_data_path("samverkansboten") / "matrix-store")


@dataclass(frozen=True, slots=True)
class MatrixConfig:
    """The [matrix] section: where the homeserver is, who the bot is, where secrets come from.

    Secrets are never in the file: the file names the environment variables that hold them.
    """

    enabled: bool = False
    homeserver: str = ""
    user_id: str = ""
    password_env: str = "SAMVERKAN_MATRIX_PASSWORD"
    access_token_env: str = "SAMVERKAN_MATRIX_ACCESS_TOKEN"
    pickle_key_env: str = "SAMVERKAN_MATRIX_PICKLE_KEY"
    store_path: str = field(default_factory=default_matrix_store_path)
    device_name: str = "Samverkansboten"
    sync_timeout_seconds: int = 30


class EmailSecurity(StrEnum):
    """How the SMTP connection is protected."""

    STARTTLS = "starttls"
    TLS = "tls"
    # Plain SMTP: only to a relay on this machine (127.0.0.1), never across a network.
    NONE = "none"


LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """The [email] section: the SMTP relay, the sender, the links' public URL.

    Secrets are never in the file: SAMVERKAN_SMTP_USER, SAMVERKAN_SMTP_PASSWORD and
    SAMVERKAN_LINK_KEY are read from the environment when e-mail starts.
    """

    enabled: bool = False
    smtp_host: str = "localhost"
    smtp_port: int = 587
    security: EmailSecurity = EmailSecurity.STARTTLS
    from_address: str = ""
    # Where the bot's HTTP listener is reachable from outside (the answer links start here).
    public_url: str = ""
    # The actions' texts in nudge e-mails; only with [nudges] content = "full" as well.
    full_content: bool = False
    # The address and port the listener of the answer links binds to.
    listen: str = LOOPBACK
    port: int = 8088


@dataclass(frozen=True, slots=True)
class ReminderConfig:
    """When families are reminded: before a meeting, and of an unanswered shared picture."""

    meeting_hours_before: tuple[float, ...] = (48.0, 2.0)
    picture_after_hours: float = 72.0
    picture_max_reminders: int = 1


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """The [delivery] section: retries, the ticker, channel leases."""

    tick_seconds: int = 30
    dispatch_seconds: int = 5
    max_attempts: int = 12
    claim_seconds: int = 120
    late_note_after_minutes: int = 15
    lease_seconds: int = 90
    park_after_seconds: int = int(PARK_AFTER.total_seconds())
    concurrent_chats: int = CONCURRENT_CHATS

    def policy(self) -> DeliveryPolicy:
        """The retry policy of the deliverer."""
        return DeliveryPolicy(
            max_attempts=self.max_attempts,
            claim_for=timedelta(seconds=self.claim_seconds),
            late_after=timedelta(minutes=self.late_note_after_minutes),
            park_after=timedelta(seconds=self.park_after_seconds),
            concurrent_chats=self.concurrent_chats,
        )

    def ticker(self) -> TickerSettings:
        """How often the periodic jobs run (leases are renewed three times per lease)."""
        return TickerSettings(
            tick_every=timedelta(seconds=self.tick_seconds),
            dispatch_every=timedelta(seconds=self.dispatch_seconds),
            keep_every=timedelta(seconds=self.lease_seconds / 3),
        )

    def leases(self) -> LeaseSettings:
        """Channel lease timing: renewed every third, given up at half of the lease."""
        ttl = timedelta(seconds=self.lease_seconds)
        return LeaseSettings(ttl=ttl, renew_every=ttl / 3, margin=ttl / 2)


@dataclass(frozen=True, slots=True)
class HealthConfig:
    """The [health] section: the optional /healthz and /metrics listener (bot/health.py)."""

    enabled: bool = False
    # Loopback by default: the metrics say how busy the bot is, for the monitoring only.
    listen: str = "127.0.0.1"
    port: int = 9464


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the bot reads at start."""

    database_url: str = field(default_factory=default_database_url)
    # NORMAL survives a crash of the bot; FULL also a power loss (storage/db.py).
    sqlite_synchronous: SqliteSynchronous = SqliteSynchronous.NORMAL
    default_locale: str = "sv"
    timezone: str = "Europe/Stockholm"
    console_enabled: bool = True
    log_level: str = "INFO"
    matrix: MatrixConfig = field(default_factory=MatrixConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    nudges: NudgeConfig = field(default_factory=NudgeConfig)
    reports: ReportConfig = field(default_factory=ReportConfig)
    reminders: ReminderConfig = field(default_factory=ReminderConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    privacy: PrivacyConfig = field(default_factory=lambda: PrivacyConfig())
    health: HealthConfig = field(default_factory=HealthConfig)


@dataclass(frozen=True, slots=True)
class PrivacyConfig:
    """Consent age and how long data is kept ([privacy] in the config file)."""

    # Under this age a caregiver must consent too (13 in Sweden for information society
    # services, dataskyddslagen 2018:218 1 kap. 5 §).
    consent_age: int = 13
    # Closed cases are erased this many days after they were closed.
    closed_case_days: int = 365
    # Pseudonymised audit rows of purged cases are kept this many days after the purge.
    audit_days: int = 3650
    # Sent or failed outgoing messages (they may hold quoted user text) are deleted after this.
    outbox_days: int = 7
    # Who runs the bot and answers for the data (personuppgiftsansvarig), named in the consent
    # explanation; empty: "the municipality that invited you".
    operator_name: str = ""
    # The running bot erases closed cases past `closed_case_days` once a day at this local
    # time (bot/retention_job.py); pick a quiet hour.
    retention_at: time = time(3, 30)


OPERATOR_NAME_MAX_CHARS = 80
_TIME_OF_DAY = re.compile(r"(?P<hours>[01]?\d|2[0-3]):(?P<minutes>[0-5]\d)")


def _get(
    table: dict[str, Any],
    section: str,
    key: str,
    kind: type | tuple[type, ...],
    default: Any,
) -> Any:
    """One typed key of one section, with a clear error naming it."""
    value = table.get(section, {}).get(key, default)
    if not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise ConfigError(f"[{section}] {key} must be a {names}, got {value!r}")
    return value


def load_config(path: Path | None, environ: Mapping[str, str] | None = None) -> Config:
    """Reads the config file (if any); the environment may override the database URL."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    known = {
        "database",
        "bot",
        "console",
        "logging",
        "matrix",
        "email",
        "telegram",
        "nudges",
        "reports",
        "reminders",
        "delivery",
        "privacy",
        "health",
    }
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"unknown config section(s): {', '.join(sorted(unknown))}")
    try:
        nudges = nudge_config(data.get("nudges", {}))
        reports = report_config(data.get("reports", {}))
    except SettingError as exc:
        raise ConfigError(str(exc)) from exc
    config = Config(
        database_url=env.get(DATABASE_URL_ENV) or _database_url(data),
        sqlite_synchronous=_sqlite_synchronous(data),
        default_locale=_get(data, "bot", "default_locale", str, "sv"),
        timezone=_get(data, "bot", "timezone", str, "Europe/Stockholm"),
        console_enabled=_get(data, "console", "enabled", bool, True),
        log_level=_get(data, "logging", "level", str, "INFO").upper(),
        matrix=_matrix(data),
        email=_email(data),
        telegram=_telegram(data),
        nudges=nudges,
        reports=reports,
        reminders=_reminders(data),
        delivery=_delivery(data),
        privacy=_privacy(data),
        health=_health(data),
    )
    _validate(config)
    return config


def _sqlite_synchronous(data: dict[str, Any]) -> SqliteSynchronous:
    """[database] sqlite_synchronous: NORMAL or FULL, spelled exactly (no silent fallback)."""
    value = data.get("database", {}).get("sqlite_synchronous", SqliteSynchronous.NORMAL.value)
    if value not in {s.value for s in SqliteSynchronous}:
        raise ConfigError(
            '[database] sqlite_synchronous must be "NORMAL" or "FULL", got '
            f"{value!r} (NORMAL: a crash of the bot loses nothing, a power loss may roll back the "
            "last commits; FULL: survives a power loss too, at an fsync per commit)"
        )
    return SqliteSynchronous(value)


def _database_url(data: dict[str, Any]) -> str:
    """[database] url; an SQLite path in it must be absolute."""
    url: str = _get(data, "database", "url", str, default_database_url())
    # "sqlite:///var/lib/x" is the relative path var/lib/x: the database would land in
    # whatever folder the bot happens to start in. Refused rather than guessed at.
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        path = url.removeprefix(prefix).partition("?")[0]
        if path and path != ":memory:":
            raise ConfigError(
                f"[database] url: the SQLite path {path!r} is relative, so the database would "
                "depend on the folder the bot starts in: write an absolute path, with four "
                f"slashes: sqlite:////{path}"
            )
    return url


def _matrix(data: dict[str, Any]) -> MatrixConfig:
    """The [matrix] section; the secrets it names are read only when Matrix starts."""
    defaults = MatrixConfig()
    unknown = set(data.get("matrix", {})) - set(MatrixConfig.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"[matrix] unknown key(s): {', '.join(sorted(unknown))}")
    matrix = MatrixConfig(
        **{
            name: _get(data, "matrix", name, type(getattr(defaults, name)), getattr(defaults, name))
            for name in MatrixConfig.__dataclass_fields__
        }
    )
    if not matrix.enabled:
        return matrix
    if not matrix.homeserver.startswith(("https://", "http://")):
        raise ConfigError("[matrix] homeserver must be a URL such as https://matrix.example.org")
    localpart, colon, server = matrix.user_id.partition(":")
    if not localpart.startswith("@") or len(localpart) < 2 or not colon or not server:
        raise ConfigError("[matrix] user_id must be a full Matrix id, e.g. @samverkan:example.org")
    if matrix.sync_timeout_seconds < 1:
        raise ConfigError("[matrix] sync_timeout_seconds must be at least 1")
    return matrix


def _email(data: dict[str, Any]) -> EmailConfig:
    """The [email] section; its secrets are read only when e-mail starts."""
    defaults = EmailConfig()
    unknown = set(data.get("email", {})) - set(EmailConfig.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"[email] unknown key(s): {', '.join(sorted(unknown))}")
    values = {
        name: _get(data, "email", name, type(getattr(defaults, name)), getattr(defaults, name))
        for name in EmailConfig.__dataclass_fields__
        if name != "security"
    }
    security = _get(data, "email", "security", str, defaults.security.value)
    if security not in {s.value for s in EmailSecurity}:
        raise ConfigError(f"[email] security must be starttls, tls or none, got {security!r}")
    email = EmailConfig(security=EmailSecurity(security), **values)
    if not email.enabled:
        return email
    if email.security is EmailSecurity.NONE and email.smtp_host != LOOPBACK:
        # Without TLS the password and every e-mail would cross the network in the clear.
        raise ConfigError(f'[email] security = "none" is only allowed with smtp_host {LOOPBACK}')
    if "@" not in email.from_address:
        raise ConfigError("[email] from_address must be an e-mail address")
    if not email.public_url.startswith("https://") and not email.public_url.startswith(
        f"http://{LOOPBACK}"
    ):
        raise ConfigError("[email] public_url must be an https:// URL")
    return email


def check_matrix_secrets(matrix: MatrixConfig, environ: Mapping[str, str] | None = None) -> None:
    """Refuses to start Matrix without the secrets the [matrix] section names, naming them.

    Asked only by what starts Matrix: an operator's `db upgrade` or `invite create` needs
    none of the bot account's secrets in their shell."""
    env = os.environ if environ is None else environ
    pickle_key = env.get(matrix.pickle_key_env, "")
    if len(pickle_key) < MIN_PICKLE_KEY_CHARS or pickle_key == NIO_DEFAULT_PICKLE_KEY:
        raise ConfigError(
            f"[matrix] the environment variable {matrix.pickle_key_env} must hold the key that "
            f"locks the encryption store: a random secret of at least {MIN_PICKLE_KEY_CHARS} "
            "characters (e.g. from `openssl rand -hex 32`), kept safe and never changed"
        )
    if not env.get(matrix.password_env) and not env.get(matrix.access_token_env):
        raise ConfigError(
            f"[matrix] set {matrix.password_env} (the bot account's password) or "
            f"{matrix.access_token_env} (an access token) in the environment"
        )


def _privacy(data: dict[str, Any]) -> PrivacyConfig:
    """The [privacy] section: whole numbers in sensible ranges, unknown keys refused."""
    section = data.get("privacy", {})
    defaults = PrivacyConfig()
    known = set(PrivacyConfig.__dataclass_fields__)
    unknown = set(section) - known
    if unknown:
        raise ConfigError(f"unknown key(s) in [privacy]: {', '.join(sorted(unknown))}")
    limits = {
        "consent_age": (0, 18),
        "closed_case_days": (1, 3650),
        "audit_days": (1, 36500),
        "outbox_days": (1, 365),
    }
    values: dict[str, Any] = {}
    for key, (low, high) in limits.items():
        value = section.get(key, getattr(defaults, key))
        # bool is an int in Python; `true` is never a meaningful number of days.
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ConfigError(
                f"[privacy] {key} must be a whole number from {low} to {high}, got {value!r}"
            )
        values[key] = value
    values["operator_name"] = _operator_name(section.get("operator_name", defaults.operator_name))
    values["retention_at"] = _local_time(section.get("retention_at", defaults.retention_at))
    return PrivacyConfig(**values)


def _local_time(value: object) -> time:
    """A time of day: "03:30" (or a TOML time, 03:30:00), in [bot] timezone."""
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    found = _TIME_OF_DAY.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is not None:
        return time(int(found["hours"]), int(found["minutes"]))
    raise ConfigError(
        f'[privacy] retention_at must be a time of day such as "03:30", got {value!r}'
    )


def _operator_name(value: object) -> str:
    """The data controller's name as people will read it: one short line of text."""
    if not isinstance(value, str):
        raise ConfigError(f"[privacy] operator_name must be a string, got {value!r}")
    name = " ".join(value.split())
    if len(name) > OPERATOR_NAME_MAX_CHARS or any(not ch.isprintable() for ch in value):
        raise ConfigError(
            f"[privacy] operator_name must be one line of at most {OPERATOR_NAME_MAX_CHARS} "
            f'characters, such as "Exempelstads kommun", got {value!r}'
        )
    return name


def _telegram(data: dict[str, Any]) -> TelegramConfig:
    """The [telegram] section, checked key by key."""
    section = data.get("telegram", {})
    default = TelegramConfig()
    unknown = set(section) - set(TelegramConfig.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"unknown key(s) in [telegram]: {', '.join(sorted(unknown))}")
    mode = _get(data, "telegram", "mode", str, default.mode.value)
    if mode not in {m.value for m in TelegramMode}:
        raise ConfigError(f'[telegram] mode must be "polling" or "webhook", got {mode!r}')
    port = _get(data, "telegram", "webhook_port", int, default.webhook_port)
    if not 0 < port < 65536:
        raise ConfigError(f"[telegram] webhook_port must be 1-65535, got {port}")
    path = _get(data, "telegram", "webhook_path", str, default.webhook_path)
    if not path.startswith("/"):
        raise ConfigError(f"[telegram] webhook_path must start with '/', got {path!r}")
    settings = TelegramConfig(
        enabled=_get(data, "telegram", "enabled", bool, default.enabled),
        mode=TelegramMode(mode),
        token_env=_get(data, "telegram", "token_env", str, default.token_env),
        api_base_url=_get(data, "telegram", "api_base_url", str, default.api_base_url),
        webhook_listen=_get(data, "telegram", "webhook_listen", str, default.webhook_listen),
        webhook_port=port,
        webhook_path=path,
        webhook_public_url=_get(
            data, "telegram", "webhook_public_url", str, default.webhook_public_url
        ),
        webhook_secret_env=_get(
            data, "telegram", "webhook_secret_env", str, default.webhook_secret_env
        ),
    )
    if settings.enabled and settings.mode is TelegramMode.WEBHOOK:
        public = urlsplit(settings.webhook_public_url)
        if public.scheme != "https" or not public.hostname:
            raise ConfigError(
                "[telegram] webhook_public_url must be the https:// address Telegram posts to"
            )
    return settings


def _reminders(data: dict[str, Any]) -> ReminderConfig:
    """The [reminders] section, checked: hours are positive numbers, the count is not negative."""
    defaults = ReminderConfig()
    before = _get(
        data, "reminders", "meeting_hours_before", list, list(defaults.meeting_hours_before)
    )
    if not all(isinstance(h, int | float) and not isinstance(h, bool) and h > 0 for h in before):
        raise ConfigError("[reminders] meeting_hours_before must be a list of positive hours")
    after = _get(
        data, "reminders", "picture_after_hours", (int, float), defaults.picture_after_hours
    )
    if isinstance(after, bool) or after <= 0:
        raise ConfigError("[reminders] picture_after_hours must be a positive number of hours")
    count = _get(data, "reminders", "picture_max_reminders", int, defaults.picture_max_reminders)
    if isinstance(count, bool) or count < 0:
        raise ConfigError("[reminders] picture_max_reminders must be 0 or more")
    return ReminderConfig(tuple(float(h) for h in before), float(after), count)


def _delivery(data: dict[str, Any]) -> DeliveryConfig:
    """The [delivery] section; every number must be a positive whole number."""
    defaults = DeliveryConfig()
    values = {
        key: _get(data, "delivery", key, int, getattr(defaults, key))
        for key in DeliveryConfig.__dataclass_fields__
    }
    for key, value in values.items():
        if value < 1:
            raise ConfigError(f"[delivery] {key} must be at least 1, got {value}")
    unknown = set(data.get("delivery", {})) - set(values)
    if unknown:
        raise ConfigError(f"unknown [delivery] key(s): {', '.join(sorted(unknown))}")
    return DeliveryConfig(**values)


def _health(data: dict[str, Any]) -> HealthConfig:
    """The [health] section: a switch, an address to listen on and a port."""
    defaults = HealthConfig()
    unknown = set(data.get("health", {})) - set(HealthConfig.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"unknown [health] key(s): {', '.join(sorted(unknown))}")
    enabled = _get(data, "health", "enabled", bool, defaults.enabled)
    listen = _get(data, "health", "listen", str, defaults.listen).strip()
    port = _get(data, "health", "port", int, defaults.port)
    if not listen:
        raise ConfigError('[health] listen must be an address such as "127.0.0.1"')
    if isinstance(port, bool) or not 1 <= port <= 65535:
        raise ConfigError(f"[health] port must be a whole number from 1 to 65535, got {port!r}")
    return HealthConfig(enabled, listen, port)


def _validate(config: Config) -> None:
    """Checks values that have a fixed set of meanings."""
    locales = available_locales()
    if config.default_locale not in locales:
        raise ConfigError(
            f"[bot] default_locale must be one of {', '.join(locales)}, "
            f"got {config.default_locale!r}"
        )
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"[bot] timezone is not a known time zone: {config.timezone!r}") from exc
    if (
        config.matrix.enabled
        and config.matrix.sync_timeout_seconds * 3 > config.delivery.lease_seconds
    ):
        # A sync started just before the lease margin must end before another process may
        # take the channel over (see bot/channels.py).
        raise ConfigError(
            "[matrix] sync_timeout_seconds must be at most a third of [delivery] lease_seconds"
        )
    if config.log_level not in LOG_LEVELS:
        raise ConfigError(f"[logging] level must be one of {', '.join(LOG_LEVELS)}")
