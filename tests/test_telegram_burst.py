"""100 people and three family groups write at once: the bot stays within Telegram's limits.

Telegram allows about 30 messages a second per bot, one a second per chat and 20 a minute
per group; above that it answers 429 and holds the whole bot. Here 100 people each write in
their private chat, and the eleven adults of each of three family groups write in their group,
all in the same instant, through the Bot API emulator to the running Telegram service. Then
everyone presses a button on what they got, again all at once: a real step, with its answer
to the press and the old buttons taken off.

The service runs with a pacer on a virtual clock (sleeping moves the clock, no wall time), so
a minute of a group's pacing takes no minute of the test; the messages themselves really go
through the emulator. Every Bot API call is recorded when it leaves the process, on that same
clock, whichever path sent it: a call that passes by the pacer shows up in the counts.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import Catalogue
from bot.telegram.pacer import Pacer
from flows.consent import TEXT_VERSION
from flows.conversation import ConversationRef
from flows.domain import ConsentScope, MeetingKind, Role
from storage import models as m
from storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.support.bot_api_calls import (
    RecordedCalls,
    SteppedTime,
    most_in_any_window,
    recorded_calls,
)
from tests.support.strict_bot_api import StrictBotApi
from tests.support.telegram_driver import RunningBot, running_bot, visible
from tests.support.telegram_emulator import BotMessage, EmulatedUser, EmulatorClient, SentUpdate

pytestmark = pytest.mark.slow

BOT_USERNAME = "TestNameBot"  # what the emulator's getMe answers
PEOPLE = [
    EmulatedUser(id=8000 + n, first_name=f"Person{n}", language_code="sv") for n in range(100)
]
GROUPS = (-100801, -100802, -100803)
ADULTS_PER_GROUP = 11
# Waiting for the bot in real time: the pacing is virtual, the emulator and database are not.
SETTLE_TIMEOUT = 45.0


@dataclass(frozen=True)
class Family:
    """A family group chat and the adults (case members who said yes) who write in it."""

    chat_id: int
    adults: tuple[EmulatedUser, ...]


def seed(sessions: sessionmaker[Session], clock: FakeClock) -> list[Family]:
    """The 100 people as caregivers who have not yet said yes to the bot (so anything they
    write is answered with a nudge and the consent question), and three families whose
    adults have said yes (so /hjalp in the group brings the help and their menu)."""
    now = clock.now
    families = []
    with UnitOfWork(sessions) as uow:
        case = uow.cases.create_case(now)
        uow.cases.add_meeting(case.id, MeetingKind.FIRST, now + timedelta(days=7), 90, "BUP")
        for user in PEOPLE:
            person = uow.cases.add_person(user.first_name, "sv", now)
            uow.cases.link_identity(person.id, private_ref(user))
            uow.cases.add_member(case.id, person.id, Role.CAREGIVER, now)
        for number, chat_id in enumerate(GROUPS):
            family = uow.cases.create_case(now)
            uow.cases.add_meeting(family.id, MeetingKind.FIRST, now + timedelta(days=7), 90, "BUP")
            adults = tuple(
                EmulatedUser(id=9000 + 100 * number + n, first_name=f"Vuxen{number}x{n}")
                for n in range(ADULTS_PER_GROUP)
            )
            for user in adults:
                person = uow.cases.add_person(user.first_name, "sv", now)
                uow.cases.link_identity(person.id, private_ref(user))
                uow.cases.add_member(family.id, person.id, Role.CAREGIVER, now)
                for scope in (ConsentScope.BOT, ConsentScope.SIP):
                    uow.privacy.record_consent(person.id, family.id, scope, True, TEXT_VERSION, now)
            families.append(Family(chat_id, adults))
        uow.commit()
    return families


def private_ref(user: EmulatedUser) -> ConversationRef:
    """The person's private chat with the bot."""
    return ConversationRef("telegram", str(user.id), str(user.id))


async def everyone_at_once(*actions: object) -> list[SentUpdate]:
    """Sends all the people's updates to the emulator in the same instant."""
    return list(await asyncio.gather(*actions))  # type: ignore[arg-type]


async def settled(bot: RunningBot, updates: list[SentUpdate]) -> None:
    """Waits (real time) until every update is recorded and nothing waits in the outbox."""
    keys = [f"{bot.bot_id}:{u.update_id}" for u in updates]

    def done() -> bool:
        with bot.sessions() as session:
            seen = session.scalar(
                select(func.count())
                .select_from(m.InboxEvent)
                .where(m.InboxEvent.platform_event_id.in_(keys))
            )
            pending = session.scalar(
                select(func.count())
                .select_from(m.Outbox)
                .where(m.Outbox.status.in_(("pending", "sending")))
            )
        return seen == len(keys) and not pending

    deadline = time.monotonic() + SETTLE_TIMEOUT
    while not await asyncio.to_thread(done):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(keys)} updates not settled in {SETTLE_TIMEOUT} s: {await stuck(bot, keys)}"
            )
        await asyncio.sleep(0.1)


async def stuck(bot: RunningBot, keys: list[str]) -> str:
    """What is still open: updates not recorded, outbox rows not sent (for the failure)."""

    def look() -> str:
        with bot.sessions() as session:
            seen = set(
                session.scalars(
                    select(m.InboxEvent.platform_event_id).where(
                        m.InboxEvent.platform_event_id.in_(keys)
                    )
                )
            )
            rows = session.execute(
                select(
                    m.Outbox.chat_id, m.Outbox.status, m.Outbox.attempts, m.Outbox.last_error
                ).where(m.Outbox.status.in_(("pending", "sending")))
            ).all()
        return f"{len(keys) - len(seen)} not recorded; unsent {[tuple(r) for r in rows][:10]}"

    return await asyncio.to_thread(look)


async def chats(emulator: EmulatorClient) -> dict[int, list[BotMessage]]:
    """What the bot has sent to each chat, oldest first (one look at the emulator)."""
    sent: dict[int, list[BotMessage]] = defaultdict(list)
    for entry in await emulator.updates_history():
        raw = entry.get("message")
        # The bot's messages are stored as its requests (with chat_id); users' are not.
        if isinstance(raw, dict) and "chat_id" in raw:
            message: BotMessage = {k: v for k, v in raw.items() if k != "botToken"}
            message["message_id"] = entry["messageId"]
            sent[int(raw["chat_id"])].append(message)
    for messages in sent.values():
        messages.sort(key=lambda message: int(message["message_id"]))
    return dict(sent)


def button(message: BotMessage, label: str) -> str:
    """The data of the message's button whose label contains `label`."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    [data] = [b["callback_data"] for row in rows for b in row if label in b["text"]]
    return str(data)


def menu_of(messages: list[BotMessage], name: str) -> BotMessage:
    """The menu in a group that greets `name`."""
    [menu] = [m for m in messages if visible(m).startswith(f"Hej {name}!")]
    return menu


def limits_kept(calls: RecordedCalls) -> list[str]:
    """Every way the recorded calls break Telegram's limits (empty when none)."""
    problems = []
    moments = sorted(c.at for c in calls.counted())
    busiest = most_in_any_window(moments, 1.0)
    if busiest > 30:
        problems.append(f"{busiest} messages within one second")
    for chat_id, chat_calls in calls.by_chat().items():
        if chat_id.startswith("-"):
            in_a_minute = most_in_any_window([c.at for c in chat_calls], 60.0)
            if in_a_minute > 20:
                problems.append(f"group {chat_id}: {in_a_minute} messages within 60 s")
        sends = [c.at for c in chat_calls if c.method.startswith("send")]
        too_close = [b - a for a, b in itertools.pairwise(sends) if b - a < 1.0]
        if too_close:
            problems.append(f"chat {chat_id}: messages {min(too_close):.2f} s apart")
    return problems


def report(calls: RecordedCalls) -> str:
    """What was measured, for the test's output."""
    counted = calls.counted()
    groups = {c: v for c, v in calls.by_chat().items() if c.startswith("-")}
    per_group = max(most_in_any_window([c.at for c in v], 60.0) for v in groups.values())
    methods = Counter(c.method for c in counted)
    return (
        f"{len(counted)} messages ({dict(methods)}) over {max(c.at for c in counted):.1f}"
        f" virtual s; most in any 1 s: {most_in_any_window(sorted(c.at for c in counted), 1.0)};"
        f" most in a group in any 60 s: {per_group}"
    )


def texts(messages: list[BotMessage]) -> list[str]:
    """The visible texts of the bot's messages, oldest first."""
    return [visible(message) for message in messages]


def test_100_people_and_three_family_groups_at_once_stay_within_telegrams_limits(
    telegram: tuple[EmulatorClient, StrictBotApi],
    db: sessionmaker[Session],
    catalogue: Catalogue,
    clock: FakeClock,
) -> None:
    emulator, strict = telegram
    families = seed(db, clock)
    adults = [(family.chat_id, adult) for family in families for adult in family.adults]
    # Half of the people press a button in the second round, the other half write again.
    pressing, writing = PEOPLE[::2], PEOPLE[1::2]
    virtual = SteppedTime()
    pacer = Pacer(clock=virtual.clock, sleep=virtual.sleep)

    async def conversation() -> dict[int, list[BotMessage]]:
        async with running_bot(emulator, strict, db, catalogue, clock=clock, pacer=pacer) as bot:
            # Everyone writes at once: a greeting in private, /hjalp in the family groups.
            await settled(
                bot,
                await everyone_at_once(
                    *(emulator.send_message(p.id, p, "hej") for p in PEOPLE),
                    *(
                        emulator.send_command(chat, a, f"/hjalp@{BOT_USERNAME}", "", "group")
                        for chat, a in adults
                    ),
                ),
            )
            sent = await chats(emulator)
            # Then, at once again: half of the people press "Berätta mer" under the consent
            # question, the others write again; each adult in a group presses "Vår lista".
            await settled(
                bot,
                await everyone_at_once(
                    *(
                        emulator.send_callback(
                            p.id, p, sent[p.id][0]["message_id"], button(sent[p.id][0], "Berätta")
                        )
                        for p in pressing
                    ),
                    *(emulator.send_message(p.id, p, "hej igen") for p in writing),
                    *(
                        emulator.send_callback(
                            chat,
                            adult,
                            menu_of(sent[chat], adult.first_name)["message_id"],
                            button(menu_of(sent[chat], adult.first_name), "Vår lista"),
                        )
                        for chat, adult in adults
                    ),
                ),
            )
            return await chats(emulator)

    wall = time.monotonic()
    with recorded_calls(virtual.clock) as calls:
        sent = asyncio.run(conversation())
    print(f"{report(calls)}; {time.monotonic() - wall:.1f} s wall")

    assert strict.state.rejected == []
    problems = limits_kept(calls)
    assert problems == [], "\n".join(problems)
    # Nobody lost anything, and each chat got its replies in order.
    for person in pressing:
        # The answer replaced the consent question in place (issue 26: it was a second
        # message below it), the pressed buttons with it.
        [more] = sent[person.id]
        assert visible(more).startswith("Lite mer:")
        assert "Berätta" not in json.dumps(more.get("reply_markup", {}), ensure_ascii=False)
    for person in writing:
        # Text instead of an answer to the consent question: asked again, briefly.
        assert [visible(m)[:20] for m in sent[person.id]] == [
            "Innan vi börjar vill",
            "Svara ja eller nej. ",
        ]
    for family in families:
        greeted = [visible(m).split("!")[0] for m in sent[family.chat_id][:ADULTS_PER_GROUP]]
        assert sorted(greeted) == sorted(f"Hej {a.first_name}" for a in family.adults)
        lists = sent[family.chat_id][ADULTS_PER_GROUP:]
        assert [visible(m).split("\n")[0] for m in lists] == ["Vår lista"] * ADULTS_PER_GROUP
