"""E-mail: the fourth connector (bot/email/connector.py), for professionals who live in their
work e-mail. Outgoing only; answers come back through signed links (bot/email/links.py)."""

PLATFORM = "email"
