"""The answer pages against the real listener on loopback: a link answers once, through the
chat's status dialog and the access gate; GET alone, forged and expired links change nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.email.links import LinkAnswer
from tests.conftest import FakeClock
from tests.link_seed import SARA, seed, serving, status_of


async def _get(url: str) -> tuple[int, str]:
    """GET a page."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def _post(url: str, form: dict[str, str] | None = None) -> tuple[int, str]:
    """POST the page's form."""
    async with aiohttp.ClientSession() as http, http.post(url, data=form or {}) as response:
        return response.status, await response.text()


def test_a_done_link_marks_the_action_done_once_with_one_history_entry(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case = seed(sessions, catalogue, clock)
    before = status_of(sessions, case.action)
    assert before[0] == "open"

    async def scenario() -> None:
        async with serving(sessions, catalogue, clock) as served:
            url = served.link(case.sara, LinkAnswer.DONE, case.action)
            # Opening the link (a person, or a mail scanner) only shows what would happen.
            status, page = await _get(url)
            assert status == 200 and "Skicka remiss" in page and 'method="post"' in page
            assert status_of(sessions, case.action) == before
            status, page = await _post(url)
            assert status == 200 and "Sparat" in page
            done = status_of(sessions, case.action)
            assert done[0] == "done" and done[1] == before[1] + 1
            # The same link again: says so plainly, changes nothing.
            for again in (_post(url), _get(url)):
                status, page = await again
                assert status == 410 and "redan använd" in page
            assert status_of(sessions, case.action) == done

    asyncio.run(scenario())
    # The coordinator hears nothing for "done"; the family would (no family in this case).
    case.maria.receive()


def test_a_blocked_link_asks_the_reason_and_saves_it_as_the_chat_does(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case = seed(sessions, catalogue, clock)
    before = status_of(sessions, case.action)

    async def scenario() -> None:
        async with serving(sessions, catalogue, clock) as served:
            url = served.link(case.sara, LinkAnswer.BLOCKED, case.action)
            status, page = await _get(url)
            assert status == 200 and '<label for="reason">' in page and 'id="reason"' in page
            # An empty reason is refused in the flow's own words, and the link still works.
            status, page = await _post(url, {"reason": "  "})
            assert status == 400 and 'role="alert"' in page
            assert status_of(sessions, case.action) == before
            status, page = await _post(url, {"reason": "Väntar på <samtycke>"})
            assert status == 200 and "hinder" in page

    asyncio.run(scenario())
    status, count, notes = status_of(sessions, case.action)
    assert status == "blocked" and count == before[1] + 1
    assert notes[-1] == "Väntar på <samtycke>"
    # As after a tap in chat: the coordinator hears it at once, with the reason.
    case.maria.receive()
    assert case.maria.ids() == ["alert.blocked"] and "Väntar på" in case.maria.text()


def test_a_new_date_link_moves_the_due_date(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case = seed(sessions, catalogue, clock)

    async def scenario() -> None:
        async with serving(sessions, catalogue, clock) as served:
            url = served.link(case.sara, LinkAnswer.NEW_DATE, case.action)
            status, page = await _get(url)
            assert status == 200 and 'type="date"' in page and '<label for="date">' in page
            status, page = await _post(url, {"date": "2020-01-01"})
            assert status == 400
            status, page = await _post(url, {"date": "2026-12-15"})
            assert status == 200

    asyncio.run(scenario())
    with_date = status_of(sessions, case.action)
    from storage import models as m
    from storage.unit_of_work import UnitOfWork

    with UnitOfWork(sessions) as uow:
        row = uow.session.get(m.PlanAction, case.action)
        assert row is not None and row.due_date.isoformat() == "2026-12-15"
    assert with_date[0] == "open"


def test_forged_and_expired_links_are_refused_and_change_nothing(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case = seed(sessions, catalogue, clock)
    before = status_of(sessions, case.action)

    async def scenario() -> None:
        async with serving(sessions, catalogue, clock) as served:
            url = served.link(case.sara, LinkAnswer.DONE, case.action, days=1)
            payload, mac = url.rsplit(".", 1)
            forged = f"{payload}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"
            for attempt in (_get(forged), _post(forged)):
                status, page = await attempt
                assert status == 403 and "fungerar inte" in page
            clock.now += timedelta(days=1)
            for attempt in (_get(url), _post(url)):
                status, page = await attempt
                assert status == 410 and "gått ut" in page

    asyncio.run(scenario())
    assert status_of(sessions, case.action) == before


def test_a_link_for_someone_the_gate_does_not_let_in_changes_nothing(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case = seed(sessions, catalogue, clock)
    before = status_of(sessions, case.action)

    async def scenario() -> None:
        async with serving(sessions, catalogue, clock) as served:
            # A valid signature for a person who is not in the case (a wrong address list).
            url = served.link(case.sara + 100, LinkAnswer.DONE, case.action)
            status, _page = await _post(url)
            assert status in (403, 410)

    asyncio.run(scenario())
    assert status_of(sessions, case.action) == before


def test_a_join_link_joins_as_start_code_would_and_only_once(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock
) -> None:
    case = seed(sessions, catalogue, clock)
    maria = case.maria
    maria.send("/meny")
    maria.choose("Bjud in")
    maria.choose("Yrkesperson")
    maria.choose("BUP")
    maria.send("Kim")
    from tests.coord_seed import code_in

    code = code_in(maria.text())
    kim = 4242

    async def scenario() -> None:
        async with serving(sessions, catalogue, clock) as served:
            url = served.link(kim, LinkAnswer.JOIN, None, invite=code)
            status, page = await _get(url)
            assert status == 200 and "Gå med" in page
            status, page = await _post(url)
            assert status == 200 and "Du är med" in page
            status, page = await _post(url)
            assert status == 410

    asyncio.run(scenario())
    from bot.email.answers import email_ref
    from storage.unit_of_work import UnitOfWork

    with UnitOfWork(sessions) as uow:
        actor = uow.members.actor_for(email_ref(kim))
    assert actor is not None and actor.display_name == "Kim"
    assert SARA.platform != "email"


def test_samverkan_run_serves_the_links_only_with_email_on_and_a_key(
    sessions: sessionmaker[Session], catalogue: Catalogue
) -> None:
    import base64
    from dataclasses import dataclass

    import pytest

    from bot.config import ConfigError
    from bot.email.listener import serve_links

    @dataclass(frozen=True)
    class Email:
        enabled: bool = True
        listen: str = "127.0.0.1"
        port: int = 0
        public_url: str = "https://bot.example.org"

    async def submit(_inbound: object) -> None:
        raise AssertionError("nothing is submitted here")

    key = {"SAMVERKAN_LINK_KEY": base64.b64encode(bytes(32)).decode()}
    assert serve_links(None, sessions, catalogue, submit, key) is None
    assert serve_links(Email(enabled=False), sessions, catalogue, submit, {}) is None
    assert serve_links(Email(), sessions, catalogue, submit, key) is not None
    with pytest.raises(ConfigError, match="SAMVERKAN_LINK_KEY"):
        serve_links(Email(), sessions, catalogue, submit, {})
    with pytest.raises(ConfigError, match="https"):
        serve_links(Email(public_url="http://bot.example.org"), sessions, catalogue, submit, key)


def test_retention_forgets_the_nonces_of_expired_links_only(
    engine: Engine, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    from sqlalchemy import select

    from bot.config import PrivacyConfig
    from storage import models as m
    from storage.retention import run_retention
    from storage.unit_of_work import UnitOfWork

    with UnitOfWork(sessions) as uow:
        uow.link_nonces.use("old", clock.now, clock.now + timedelta(days=1))
        uow.link_nonces.use("open", clock.now, clock.now + timedelta(days=14))
        uow.commit()
    run_retention(engine, PrivacyConfig(), clock.now + timedelta(days=2))
    with UnitOfWork(sessions) as uow:
        assert list(uow.session.scalars(select(m.UsedLinkNonce.nonce))) == ["open"]
        assert uow.link_nonces.is_used("open") and not uow.link_nonces.is_used("old")
