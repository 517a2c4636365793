"""Adapters, CLI, configuration and wiring of Samverkansboten."""
