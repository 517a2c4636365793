"""Helpers for coordinator-side tests: a coordinator in a chat, invite codes from replies."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.followup_report import file_makers
from bot.ics import meeting_file_makers
from bot.nudge_config import NudgeConfig, ReportConfig
from bot.nudges import coordinator_sources
from bot.scheduler import tick
from flows.conversation import ConversationRef
from storage.unit_of_work import UnitOfWork
from tests.chat import PLATFORM, Chat
from tests.conftest import FakeClock

_CODE = re.compile(r"/start (\S+)")


def chat(
    sessions: sessionmaker[Session], catalogue: Catalogue, clock: FakeClock, user: str
) -> Chat:
    """A private chat of one user, with the report and calendar file makers registered (as
    the product has them, bot/cli.py)."""
    ref = ConversationRef(PLATFORM, user, user)
    makers = {**file_makers(clock), **meeting_file_makers()}
    return Chat(sessions, catalogue, clock, ref, file_makers=makers)


def coordinator_code(sessions: sessionmaker[Session], clock: FakeClock, name: str) -> str:
    """What `samverkan admin add-coordinator` hands the operator."""
    with UnitOfWork(sessions) as uow:
        code = uow.coordination.create_coordinator_invite(name, clock.now)
        uow.commit()
    return code


def code_in(text: str) -> str:
    """The invite code in the bot's "invite created" message."""
    found = _CODE.search(text)
    assert found is not None, text
    return found.group(1)


def case_with_plan(maria: Chat, youth: str, plan: str) -> str:
    """Maria opens a case with BUP and a plan, and invites Sara from BUP; Sara's code."""
    maria.send("/meny")
    if "Öppna ett nytt ärende" not in maria.choices():
        maria.choose("Byt ärende")
    maria.choose("Öppna ett nytt ärende")
    maria.send(youth)
    maria.choose("Till ärendet")
    maria.choose("Verksamheter")
    maria.choose("Lägg till en verksamhet")
    maria.send("BUP")
    maria.choose("Till ärendet")
    maria.choose("Planen")
    maria.choose("Klistra in")
    maria.send(plan)
    maria.choose("Ja")
    maria.choose("Till ärendet")
    maria.choose("Bjud in")
    maria.choose("Yrkesperson")
    maria.choose("BUP")
    maria.send("Sara")
    return code_in(maria.text())


def run_tick(
    sessions: sessionmaker[Session],
    clock: FakeClock,
    nudges: NudgeConfig | None = None,
    reports: ReportConfig | None = None,
) -> list[int]:
    """One scheduler run over the coordinator side's due-sources."""
    sources = coordinator_sources(
        nudges or NudgeConfig(), reports or ReportConfig(), "Europe/Stockholm"
    )
    return tick(sessions, sources, clock.now)
