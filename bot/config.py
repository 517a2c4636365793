"""Configuration from a TOML file, with secrets from the environment."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_path

from bot.catalogue import available_locales

DATABASE_URL_ENV = "SAMVERKAN_DATABASE_URL"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(ValueError):
    """The configuration is wrong; the message names the key and what is expected."""


def default_database_url() -> str:
    """SQLite in the user's data directory: what the demo and a bare start use."""
    return f"sqlite:///{user_data_path('samverkansboten') / 'samverkan.sqlite3'}"


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the bot reads at start."""

    database_url: str = field(default_factory=default_database_url)
    default_locale: str = "sv"
    timezone: str = "Europe/Stockholm"
    console_enabled: bool = True
    log_level: str = "INFO"


def _get(table: dict[str, Any], section: str, key: str, kind: type, default: Any) -> Any:
    """One typed key of one section, with a clear error naming it."""
    value = table.get(section, {}).get(key, default)
    if not isinstance(value, kind):
        raise ConfigError(f"[{section}] {key} must be a {kind.__name__}, got {value!r}")
    return value


def load_config(path: Path | None, environ: dict[str, str] | None = None) -> Config:
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
    known = {"database", "bot", "console", "logging"}
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
    )
    _validate(config)
    return config


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
