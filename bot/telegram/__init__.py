"""Telegram adapter: python-telegram-bot 22 in front of the platform-free flows."""
