"""Conversations and rules of Samverkansboten: platform-free, ORM-free, I/O only through ports."""
