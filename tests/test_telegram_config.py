"""The [telegram] config section: defaults, checks, and secrets only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, TelegramMode, load_config, telegram_secrets

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def config_file(tmp_path: Path, telegram: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"[telegram]\n{telegram}\n", encoding="utf-8")
    return path


def test_the_example_documents_every_key_and_keeps_telegram_off() -> None:
    settings = load_config(EXAMPLE, environ={}).telegram
    assert settings.enabled is False
    assert settings.mode is TelegramMode.POLLING
    assert settings.token_env == "SAMVERKAN_TELEGRAM_TOKEN"
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in settings.__dataclass_fields__:
        assert f"\n{key} = " in text, f"{key} is not in config.example.toml"


def test_the_token_comes_from_the_named_environment_variable(tmp_path: Path) -> None:
    path = config_file(tmp_path, 'enabled = true\ntoken_env = "MY_BOT_TOKEN"')
    settings = load_config(path, environ={}).telegram
    assert telegram_secrets(settings, {"MY_BOT_TOKEN": "1:abc"}).token == "1:abc"
    with pytest.raises(ConfigError, match="MY_BOT_TOKEN"):
        telegram_secrets(settings, {})


def test_webhook_mode_needs_an_https_address_and_a_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="https"):
        load_config(config_file(tmp_path, 'enabled = true\nmode = "webhook"'), environ={})
    path = config_file(
        tmp_path,
        'enabled = true\nmode = "webhook"\nwebhook_public_url = "https://bot.example.se/tg"',
    )
    settings = load_config(path, environ={}).telegram
    env = {"SAMVERKAN_TELEGRAM_TOKEN": "1:abc"}
    with pytest.raises(ConfigError, match="SAMVERKAN_TELEGRAM_WEBHOOK_SECRET"):
        telegram_secrets(settings, env)
    with pytest.raises(ConfigError, match="A-Z"):
        telegram_secrets(settings, {**env, "SAMVERKAN_TELEGRAM_WEBHOOK_SECRET": "has space"})
    secrets = telegram_secrets(settings, {**env, "SAMVERKAN_TELEGRAM_WEBHOOK_SECRET": "s3cr-t_"})
    assert secrets.webhook_secret == "s3cr-t_"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('mode = "push"', "polling"),
        ("webhook_port = 70000", "1-65535"),
        ('webhook_path = "telegram"', "start with"),
        ('token = "1:abc"', "unknown key"),
        ('enabled = "yes"', "bool"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(config_file(tmp_path, line), environ={})
