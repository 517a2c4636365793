"""Configuration: the example documents every key, and mistakes get clear errors."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from bot.config import DATABASE_URL_ENV, ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def test_the_example_config_loads() -> None:
    config = load_config(EXAMPLE, environ={})
    assert config.default_locale == "sv"
    assert config.timezone == "Europe/Stockholm"


def test_every_key_in_the_example_has_a_comment_above_it() -> None:
    lines = EXAMPLE.read_text().splitlines()
    for n, line in enumerate(lines):
        if re.match(r"^[a-z_]+\s*=", line):
            assert lines[n - 1].startswith("#"), f"key without a comment: {line}"
    assert tomllib.loads(EXAMPLE.read_text())


def test_the_environment_supplies_the_database_url(tmp_path: Path) -> None:
    config = load_config(None, environ={DATABASE_URL_ENV: "postgresql+psycopg://x@h/db"})
    assert config.database_url == "postgresql+psycopg://x@h/db"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[bot]\ndefault_locale = "de"\n', "default_locale must be one of ar, en, fa, so, sv, uk"),
        ('[bot]\ntimezone = "Mars/Olympus"\n', "not a known time zone"),
        ("[console]\nenabled = 1\n", r"\[console\] enabled must be a bool"),
        ("[telegramm]\n", "unknown config section"),
        ("[bot\n", "not valid TOML"),
        ('[logging]\nlevel = "LOUD"\n', "level must be one of"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_config(path, environ={})


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_reminders_are_configurable_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[reminders]\nmeeting_hours_before = [24, 1.5]\npicture_after_hours = 48\n"
        "picture_max_reminders = 2\n"
    )
    reminders = load_config(path, environ={}).reminders
    assert reminders.meeting_hours_before == (24.0, 1.5)
    assert (reminders.picture_after_hours, reminders.picture_max_reminders) == (48.0, 2)
    assert load_config(EXAMPLE, environ={}).reminders.meeting_hours_before == (48.0, 2.0)
    for bad, key in (
        ("meeting_hours_before = [24, -1]", "meeting_hours_before"),
        ('meeting_hours_before = "48"', "meeting_hours_before"),
        ("picture_after_hours = 0", "picture_after_hours"),
        ("picture_max_reminders = -1", "picture_max_reminders"),
        ("picture_max_reminders = 1.5", "picture_max_reminders"),
    ):
        path.write_text(f"[reminders]\n{bad}\n")
        with pytest.raises(ConfigError, match=key):
            load_config(path, environ={})
