"""Answers both ways: a professional's "Hinder" reaches the coordinator at once, and the
coordinator answers a "Stämmer inte" comment so that it reaches the person privately."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from tests.chat import Chat
from tests.conftest import FakeClock
from tests.coord_seed import case_with_plan, chat, coordinator_code


@pytest.fixture
def maria(sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock) -> Chat:
    """Maria, the coordinator of K-1."""
    maria = chat(sessions, catalogue, clock, "maria")
    maria.send(f"/start {coordinator_code(sessions, clock, 'Maria')}")
    return maria


def test_hinder_with_a_reason_reaches_the_coordinator_at_once(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, maria: Chat
) -> None:
    code = case_with_plan(maria, "Alex", "BUP: Skicka remiss — 1 dec")
    sara = chat(sessions, catalogue, clock, "sara")
    sara.send(f"/start {code}")
    sara.send("/meny")
    sara.choose("Skicka remiss")
    sara.choose("Hinder")
    sara.send("Väntar på samtycke")
    sara.choose("Ingen kommentar")
    assert sara.ids()[0] == "status.saved"
    # Maria hears it now, not at the next follow-up report: which action, who, and why.
    maria.receive()
    assert maria.ids() == ["alert.blocked"]
    told = maria.text()
    assert "Skicka remiss" in told and "Sara" in told and "Väntar på samtycke" in told
    assert "K-1" in told
