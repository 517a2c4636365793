"""Tests for the throwaway PostgreSQL cluster used by the storage tests."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import create_engine, make_url, text

from tests.support.postgres import URL_ENV, throwaway_postgres


def _accepts_connections(port: int) -> bool:
    """Return whether anything accepts TCP connections on the loopback port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


@pytest.mark.postgres
@pytest.mark.slow
def test_throwaway_cluster_serves_postgres_15_and_is_gone_after_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cluster answers SQL while open and stops listening once closed."""
    # This test is about the local cluster, so an external override must not apply.
    monkeypatch.delenv(URL_ENV, raising=False)
    # No skip when PostgreSQL is missing: CI must run both databases, so that is a failure.
    with throwaway_postgres() as url:
        port = make_url(url).port
        assert port is not None
        assert make_url(url).database == "samverkan_test"
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                version = conn.execute(text("select version()")).scalar_one()
        finally:
            engine.dispose()
        assert "PostgreSQL 15" in version
        assert _accepts_connections(port)

    assert not _accepts_connections(port)


def test_external_url_is_yielded_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the override set, the given URL is used and nothing is started."""
    external = "postgresql+psycopg://someone@db.invalid:5432/elsewhere"
    monkeypatch.setenv(URL_ENV, external)
    with throwaway_postgres() as url:
        assert url == external
