"""The systemd units in deploy/: valid for systemd, hardened, state where systemd keeps it."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNITS = (
    "samverkansboten.service",
    "samverkansboten-backup.service",
    "samverkansboten-backup.timer",
)
SAMVERKAN = "/opt/samverkansboten/.venv/bin/samverkan"


def service(name: str) -> dict[str, list[str]]:
    """A unit's [Service] keys, each with every value it is given (keys may repeat)."""
    values: dict[str, list[str]] = {}
    section = ""
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]":
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


@pytest.mark.parametrize("name", ["samverkansboten.service", "samverkansboten-backup.service"])
def test_the_services_run_as_their_own_user_in_a_read_only_system(name: str) -> None:
    unit = service(name)
    hardening = {
        "User": ["samverkansboten"],
        "EnvironmentFile": ["/etc/samverkansboten/secrets.env"],
        "StateDirectory": ["samverkansboten"],
        "ProtectSystem": ["strict"],
        "ProtectHome": ["yes"],
        "PrivateTmp": ["yes"],
        "NoNewPrivileges": ["yes"],
        "CapabilityBoundingSet": [""],
        "RestrictAddressFamilies": ["AF_UNIX AF_INET AF_INET6"],
        "UMask": ["0077"],
    }
    assert {key: unit.get(key) for key in hardening} == hardening
    assert unit["ExecStart"][0].split()[0] in (SAMVERKAN, "/bin/sh")
    assert "--config /etc/samverkansboten/config.toml" in unit["ExecStart"][0]


def test_the_bot_stops_gracefully_and_restarts_only_after_a_crash() -> None:
    unit = service("samverkansboten.service")
    assert unit["ExecStart"] == [f"{SAMVERKAN} run --config /etc/samverkansboten/config.toml"]
    assert unit["Restart"] == ["on-failure"]
    # The Telegram and Matrix channels finish the updates in hand: well over their timeouts.
    assert int(unit["TimeoutStopSec"][0]) >= 60
    # A start refused for a reason only the operator can fix (bot/cli.py EXIT_*) is not retried.
    assert unit["RestartPreventExitStatus"] == ["2 3 4 5 6"]


def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here; the keys are checked above")
    for name in UNITS:
        # verify checks that ExecStart's program exists; the bot is not installed under
        # /opt here, so a copy runs /bin/true with the same arguments.
        text = (DEPLOY / name).read_text(encoding="utf-8").replace(SAMVERKAN, "/bin/true")
        (tmp_path / name).write_text(text, encoding="utf-8")
    checked = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Unknown keys and bad values are only warnings (exit 0): every line about our units counts.
    ours = [line for line in checked.stderr.splitlines() if "samverkansboten" in line]
    assert (checked.returncode, ours) == (0, [])


def test_verify_would_see_a_misspelt_key(tmp_path: Path) -> None:
    """The verify test above can fail: a typo in a hardening key is reported."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    text = (DEPLOY / UNITS[0]).read_text(encoding="utf-8").replace(SAMVERKAN, "/bin/true")
    unit = tmp_path / UNITS[0]
    unit.write_text(re.sub(r"^ProtectSystem=", "ProtectSystm=", text, flags=re.M))
    checked = subprocess.run(
        [analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, check=False
    )
    assert "Unknown key 'ProtectSystm'" in checked.stderr


def test_the_timer_runs_the_backup_every_night() -> None:
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(DEPLOY / "samverkansboten-backup.timer")
    assert timer["Timer"]["OnCalendar"] == "*-*-* 02:30:00"
    assert timer["Timer"]["Persistent"] == "true"
    backup = service("samverkansboten-backup.service")["ExecStart"][0]
    assert f"{SAMVERKAN} backup --config /etc/samverkansboten/config.toml --to " in backup
