"""Configuration from a TOML file, with secrets from the environment."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_path

from bot.catalogue import available_locales

DATABASE_URL_ENV = "SAMVERKAN_DATABASE_URL"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# nio's pickle key when none is given; a store locked with it is as good as unlocked.
NIO_DEFAULT_PICKLE_KEY = "DEFAULT_KEY"
MIN_PICKLE_KEY_CHARS = 16


class ConfigError(ValueError):
    """The configuration is wrong; the message names the key and what is expected."""


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


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the bot reads at start."""

    database_url: str = field(default_factory=default_database_url)
    default_locale: str = "sv"
    timezone: str = "Europe/Stockholm"
    console_enabled: bool = True
    log_level: str = "INFO"
    matrix: MatrixConfig = field(default_factory=MatrixConfig)


def _get(table: dict[str, Any], section: str, key: str, kind: type, default: Any) -> Any:
    """One typed key of one section, with a clear error naming it."""
    value = table.get(section, {}).get(key, default)
    if not isinstance(value, kind):
        raise ConfigError(f"[{section}] {key} must be a {kind.__name__}, got {value!r}")
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
    known = {"database", "bot", "console", "logging", "matrix"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"unknown config section(s): {', '.join(sorted(unknown))}")
    config = Config(
        database_url=env.get(DATABASE_URL_ENV)
        or _get(data, "database", "url", str, default_database_url()),
        default_locale=_get(data, "bot", "default_locale", str, "sv"),
        timezone=_get(data, "bot", "timezone", str, "Europe/Stockholm"),
        console_enabled=_get(data, "console", "enabled", bool, True),
        log_level=_get(data, "logging", "level", str, "INFO").upper(),
        matrix=_matrix(data, env),
    )
    _validate(config)
    return config


def _matrix(data: dict[str, Any], env: Mapping[str, str]) -> MatrixConfig:
    """The [matrix] section; when enabled, the secrets it names must be in the environment."""
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
    return matrix


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
    if config.log_level not in LOG_LEVELS:
        raise ConfigError(f"[logging] level must be one of {', '.join(LOG_LEVELS)}")
