"""The [nudges] and [reports] sections: defaults, every key read, clear errors."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from bot.nudge_config import NudgeConfig, NudgeContent, ReportConfig


def test_without_sections_the_defaults_are_neutral_and_quiet_at_night(tmp_path: Path) -> None:
    config = load_config(None, environ={})
    assert config.nudges == NudgeConfig()
    assert config.nudges.content is NudgeContent.MINIMAL
    assert (config.nudges.quiet_start, config.nudges.quiet_end) == (time(20), time(8))
    assert config.reports == ReportConfig()


def test_every_key_is_read(tmp_path: Path) -> None:
    config = load_config(
        _write(
            tmp_path,
            """
[nudges]
enabled = true
days_before = 3
on_due_date = false
overdue_every_days = 2
escalate_after_days = 10
content = "full"
quiet_hours = "21:30-07:15"
weekends = true

[reports]
agenda_lead_hours = 24
followup_lead_hours = 72
""",
        ),
        environ={},
    )
    assert config.nudges == NudgeConfig(
        enabled=True,
        days_before=3,
        on_due_date=False,
        overdue_every_days=2,
        escalate_after_days=10,
        content=NudgeContent.FULL,
        quiet_start=time(21, 30),
        quiet_end=time(7, 15),
        weekends=True,
    )
    assert config.reports == ReportConfig(agenda_lead_hours=24, followup_lead_hours=72)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[nudges]\ncontent = "everything"', r"\[nudges\] content must be"),
        ('[nudges]\nquiet_hours = "late"', r"\[nudges\] quiet_hours must be HH:MM"),
        ("[nudges]\ndays_before = true", r"\[nudges\] days_before must be a int"),
        ("[nudges]\noverdue_every_days = 0", r"overdue_every_days is too small"),
        ("[nudges]\nsnooze = 1", r"\[nudges\] unknown key\(s\): snooze"),
        ("[reports]\nagenda_lead_hours = 0", r"lead hours must be at least 1"),
    ],
)
def test_wrong_values_are_named(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, body), environ={})


def test_the_example_config_documents_and_loads_both_sections() -> None:
    example = Path(__file__).parent.parent / "config.example.toml"
    config = load_config(example, environ={})
    assert config.nudges == NudgeConfig() and config.reports == ReportConfig()
    text = example.read_text(encoding="utf-8")
    for key in NudgeConfig.__dataclass_fields__:
        if key not in ("quiet_start", "quiet_end"):
            assert f"\n{key} = " in text, key


def _write(tmp_path: Path, body: str) -> Path:
    """A config file with this body."""
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path
