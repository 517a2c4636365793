"""What every benchmark shares: seeding, a fake Telegram network, timing and the table.

Benchmarks measure; they never assert a time. Every figure is printed next to a baseline
measured in the same run on the same machine, because absolute numbers on a shared 2-core
box say little on their own.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, insert, select, text
from sqlalchemy.orm import Session, sessionmaker
from telegram import (
    Update,
)

from bench.telegram_fakes import (
    BOT_ID,
    BOT_USER,
    NOW,
    TOKEN,
    FakeTelegramNetwork,
    build_application,
)
from bot.catalogue import Catalogue, RenderedMessage
from bot.config import TelegramConfig
from bot.delivery_loop import DeliveryLoop
from bot.handler import EventHandler
from bot.pacing import PacerLimits
from bot.pipeline import Pipeline
from bot.telegram.pacer import Pacer
from bot.telegram.service import TelegramService
from bot.telegram.transport import CAPABILITIES as TELEGRAM
from bot.telegram.updates import BotIdentity, translate
from flows.consent import DEFAULT_AGE_LIMIT
from flows.consent import TEXT_VERSION as CONSENT_TEXT_VERSION
from flows.conversation import Inbound, ReminderDue
from flows.domain import ConsentScope, MeetingKind, Participation, Role, ViewAspect
from flows.family_domain import Verdict
from flows.reminder_ports import ReminderPorts
from flows.replies import Reply, say
from flows.wiring import default_engine
from storage import models as m
from storage.crypto import (
    DATA_KEY_ENV,
    DataKey,
    DataKeyError,
    Keyring,
    active_keyring,
    install_keyring,
    keyring_from_env,
)
from storage.db import make_engine, session_factory
from storage.schema import upgrade
from storage.unit_of_work import UnitOfWork

REPO_ROOT = Path(__file__).resolve().parent.parent
PLATFORM = "telegram"
TODAY = NOW.date()
DUE_PER_STAGE = 50  # plan actions falling due per nudge stage, the same at every scale
# Follow-up meetings starting within the due-sources' lead window (the next 48 hours: agendas,
# follow-up reports, meeting reminders), the same at every scale; the others start later.
MEETINGS_IN_WINDOW = 20
LEAD_WINDOW = timedelta(hours=48)
# Cases whose newest shared picture is 3–5 days old and not answered by the caregivers, so the
# picture reminder (72 hours after publishing, by default) has them to remind, the same at
# every scale; every other case's pictures are older and answered.
PICTURES_IN_WINDOW = 20


# --- the data key ---------------------------------------------------------------------------


def use_bench_data_key() -> Keyring:
    """The data key for the bench's made-up people: the operator's if set, else a new one.

    Free text and names are encrypted at rest, as in production, so the benchmarks pay for
    the encryption too. The key is also put in the environment, so the processes a benchmark
    starts (`samverkan run`, the memory children) read the same database.
    """
    try:
        return active_keyring()
    except DataKeyError:
        pass
    keyring = keyring_from_env(os.environ) or Keyring(DataKey.generate("bench"))
    install_keyring(keyring)
    os.environ[DATA_KEY_ENV] = keyring.current.encode()
    return keyring


# --- commit accounting -------------------------------------------------------------------


class CommitMeter:
    """Counts the CPU spent inside UnitOfWork.commit, so a figure can leave the commit out."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.count = 0
        self._original: Callable[[UnitOfWork], None] | None = None

    def install(self) -> CommitMeter:
        """Wraps UnitOfWork.commit for the rest of the process."""
        original = UnitOfWork.commit
        meter = self

        def commit(uow: UnitOfWork) -> None:
            started = time.process_time()
            try:
                original(uow)
            finally:
                meter.cpu += time.process_time() - started
                meter.count += 1

        self._original = original
        UnitOfWork.commit = commit  # type: ignore[method-assign,assignment]
        return self

    def uninstall(self) -> None:
        """Puts the original commit back."""
        if self._original is not None:
            UnitOfWork.commit = self._original  # type: ignore[method-assign,assignment]
            self._original = None


class StatementMeter:
    """Counts the statements and commits an engine sends (SQLAlchemy engine events), so a
    figure can say how much database work each message took."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements = 0
        self.commits = 0

    def _statement(self, *_args: Any) -> None:
        """Counts one statement (a BEGIN too: it is a trip through the driver)."""
        self.statements += 1

    def _commit(self, _conn: Any) -> None:
        """Counts one commit (a one-statement transaction's too: SQLAlchemy still commits)."""
        self.commits += 1

    def install(self) -> StatementMeter:
        """Starts counting."""
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def uninstall(self) -> None:
        """Stops counting."""
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)

    def snapshot(self) -> tuple[int, int]:
        """(statements, commits) so far; subtract two snapshots for a stretch of work."""
        return self.statements, self.commits


# --- our bot behind python-telegram-bot ------------------------------------------------------


class NullTransport:
    """Takes every message and does nothing: the core path without any platform."""

    platform = PLATFORM
    capabilities = TELEGRAM

    async def send(self, chat_id: str, message: RenderedMessage, idempotency_key: str) -> None:
        """Drops the message."""


# Pacing is waiting, not work: the per-message benchmarks let every send through at once.
UNPACED = PacerLimits(per_second=1_000_000, chat_interval=0.0, group_per_minute=1_000_000)
IDENTITY = BotIdentity(BOT_ID, str(BOT_USER["username"]))


def inbound_from(update: Update) -> Inbound | None:
    """The Telegram adapter's own translation of an update (None if it has no event)."""
    translated = translate(update, IDENTITY)
    return translated if isinstance(translated, Inbound) else None


@dataclass
class OurBot:
    """Our full path behind a python-telegram-bot Application on the fake network."""

    app: Any
    handler: EventHandler
    delivery: DeliveryLoop
    network: FakeTelegramNetwork


def build_our_bot(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    null_transport: bool = False,
    limits: PacerLimits = UNPACED,
) -> OurBot:
    """The product's Telegram connector (TelegramService, its pipeline and delivery loop)
    on a python-telegram-bot Application that talks to the fake network.

    Only the Application is the benchmark's: the updates go through the service's own
    handlers, translation, pipeline and delivery, exactly as in `samverkan run`. With
    `null_transport` the sends are dropped before the Bot API: the core path alone.
    """
    use_bench_data_key()
    network = FakeTelegramNetwork()
    app = build_application(network)
    handler = EventHandler(sessions, default_engine(), clock=lambda: NOW, labels=catalogue.label)
    delivery = DeliveryLoop(sessions, catalogue, clock=lambda: NOW)
    service = TelegramService(
        TelegramConfig(enabled=True),
        TOKEN,
        sessions,
        handler,
        catalogue,
        pacer=Pacer(limits),
        clock=lambda: NOW,
        pipeline=Pipeline(handler, delivery),
        application=app,
    )
    service.ready_with(IDENTITY)
    if null_transport:
        delivery.attach(NullTransport())
    return OurBot(app, handler, delivery, network)


# --- running updates and measuring them -----------------------------------------------------


async def process_timed(
    app: Any, updates: Sequence[Update], meter: CommitMeter | None = None
) -> tuple[list[float], list[float]]:
    """Feeds updates one by one; returns each one's CPU seconds, and its commit CPU."""
    cpu: list[float] = []
    commits: list[float] = []
    for update in updates:
        before_commit = meter.cpu if meter else 0.0
        started = time.process_time()
        await app.process_update(update)
        cpu.append(time.process_time() - started)
        commits.append((meter.cpu - before_commit) if meter else 0.0)
        # Updates arrive one by one from the network; let other tasks run in between, as the
        # loop would while waiting for the next one.
        await asyncio.sleep(0)
    return cpu, commits


class Heartbeat:
    """A task that wakes every `interval` s and records how late it woke: the loop's stalls."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.max_gap = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.interval)
            now = loop.time()
            self.max_gap = max(self.max_gap, now - last - self.interval)
            last = now

    def start(self) -> None:
        """Starts beating on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._beat())

    async def stop(self) -> float:
        """Stops; returns the longest stall in seconds."""
        assert self._task is not None
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task
        return self.max_gap


async def with_heartbeat(work: Callable[[], Awaitable[Any]]) -> tuple[Any, float]:
    """Runs `work` with a heartbeat beside it; returns its result and the longest stall."""
    beat = Heartbeat()
    beat.start()
    await asyncio.sleep(0)  # let the heartbeat take its first time reading
    result = await work()
    await asyncio.sleep(beat.interval * 2)
    return result, await beat.stop()


# --- seeding -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    """What a seed created: counts, and the young people who can chat."""

    cases: int
    youth_user_ids: list[int]
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        """Rows inserted, all tables together."""
        return sum(self.rows.values())


CHUNK = 5_000


def fresh_sqlite(path: Path) -> Engine:
    """A migrated SQLite database at `path` (replacing any file there).

    Migrations run once per directory, into a template file that later databases copy:
    the benchmarks measure the bot, not Alembic.
    """
    use_bench_data_key()
    template = path.parent / "_migrated-template.sqlite3"
    if not template.exists():
        engine = make_engine(f"sqlite:///{template}")
        upgrade(engine)
        engine.dispose()  # the last connection to close checkpoints the WAL into the file
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, path)
    return make_engine(f"sqlite:///{path}")


def seed(engine: Engine, cases: int, rng_seed: int = 7, plan_only: bool = False) -> Seeded:
    """Bulk-inserts `cases` active cases with realistic rows (SQLAlchemy core, executemany).

    Per case: a young person and two caregivers; three professionals and a coordinator from
    shared pools (one social worker has many cases); a past and a coming meeting; one to three
    versions of the shared picture with the family's answers; the youth's three questions,
    three views and participation wish, a caregiver's question; five plan actions owned by
    professionals, each with two updates of history; ten sent messages and ten inbound events
    of history; the youth's conversation state at the menu; audit rows. Plan actions fall due
    far from today except `DUE_PER_STAGE` per nudge stage, follow-up meetings start 3–62 days
    ahead except `MEETINGS_IN_WINDOW` within the next 48 hours, and pictures are old and
    answered except `PICTURES_IN_WINDOW`, whatever the number of cases, so a tick has the
    same work at every scale.
    `plan_only` seeds just cases, people and plan actions (for the PostgreSQL query check).
    """
    use_bench_data_key()
    rng = random.Random(rng_seed)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in _SEED_ORDER}
    counts: Counter[str] = Counter()
    created = NOW - timedelta(days=120)
    organisations = [
        ("BUP", "bup"), ("Socialtjänsten", "social"), ("Skolan", "school"),
        ("Vårdcentralen", "primary_care"), ("Försäkringskassan", "fk"),
        ("Arbetsförmedlingen", "af"),
    ]  # fmt: skip
    for n, (name, kind) in enumerate(organisations, start=1):
        rows["organisation"].append({"id": n, "name": name, "kind": kind, "description": None})

    n_professionals = max(10, cases // 8)
    n_coordinators = max(5, cases // 25)
    person_id = 0

    def person(name: str) -> int:
        nonlocal person_id
        person_id += 1
        rows["person"].append(
            {"id": person_id, "display_name": name, "locale": "sv", "created_at": created}
        )
        if not plan_only:
            rows["chat_identity"].append(
                {
                    "id": person_id,
                    "person_id": person_id,
                    "platform": PLATFORM,
                    "external_user_id": str(1_000_000 + person_id),
                    "private_chat_id": str(1_000_000 + person_id),
                }
            )
        return person_id

    professionals = [person(f"Handläggare {i}") for i in range(n_professionals)]
    coordinators = [person(f"Samordnare {i}") for i in range(n_coordinators)]
    youth_user_ids: list[int] = []
    due_days = [TODAY + timedelta(days=3), TODAY, TODAY - timedelta(days=1)]
    due_quota = {d: DUE_PER_STAGE for d in due_days}
    # Which follow-up meetings fall in the lead window is drawn from a generator of its own,
    # so every other row is what it was before the window had a quota.
    soon = random.Random(rng_seed + 1)
    window_quota = [MEETINGS_IN_WINDOW]
    # The shared pictures draw from a generator of their own too, for the same reason.
    drawing = random.Random(rng_seed + 2)
    picture_quota = [PICTURES_IN_WINDOW]
    ids: Counter[str] = Counter()

    def next_id(table: str) -> int:
        ids[table] += 1
        return ids[table]

    for case_id in range(1, cases + 1):
        rows["case_file"].append(
            {
                "id": case_id,
                "reference": f"K-{case_id}",
                "status": "open",
                "created_at": created,
                "closed_at": None,
            }
        )
        youth = person(f"Ung {case_id}")
        caregivers = [person(f"Vuxen {case_id}a"), person(f"Vuxen {case_id}b")]
        owners = rng.sample(professionals, 3)
        coordinator = rng.choice(coordinators)
        if not plan_only:
            youth_user_ids.append(1_000_000 + youth)
            joined = created + timedelta(days=rng.randint(0, 30))
            members: list[tuple[int, Role, int | None]] = [(youth, Role.YOUTH, None)]
            members += [(c, Role.CAREGIVER, None) for c in caregivers]
            members += [(p, Role.PROFESSIONAL, rng.randint(1, 6)) for p in owners]
            members += [(coordinator, Role.COORDINATOR, 2)]
            for who, role, org in members:
                rows["membership"].append(
                    {
                        "id": next_id("membership"),
                        "case_id": case_id,
                        "person_id": who,
                        "role": role,
                        "organisation_id": org,
                        "active": True,
                        "joined_at": joined,
                        "left_at": None,
                    }
                )
            # The family side said yes to the bot and to sharing (SIP), as at first contact;
            # the young person is over the consent age. Without these the consent gate
            # would take every conversation over.
            for who in (youth, *caregivers):
                for scope in ConsentScope:
                    rows["consent"].append(
                        {
                            "id": next_id("consent"),
                            "person_id": who,
                            "case_id": case_id,
                            "scope": scope.value,
                            "text_version": CONSENT_TEXT_VERSION,
                            "given": True,
                            "recorded_at": joined,
                            "given_by_id": None,
                            "revoked_at": None,
                        }
                    )
            rows["age_statement"].append(
                {
                    "person_id": youth,
                    "under_limit": False,
                    "age_limit": DEFAULT_AGE_LIMIT,
                    "recorded_at": joined,
                }
            )
            for kind, offset in (
                (MeetingKind.FIRST, -rng.randint(20, 90)),
                (MeetingKind.FOLLOW_UP, rng.randint(1, 60)),
            ):
                starts_at = NOW + timedelta(days=offset, hours=rng.randint(0, 6))
                if kind is MeetingKind.FOLLOW_UP:
                    starts_at = _followup_start(soon, window_quota, starts_at)
                rows["meeting"].append(
                    {
                        "id": next_id("meeting"),
                        "case_id": case_id,
                        "kind": kind,
                        "starts_at": starts_at,
                        "duration_minutes": 90,
                        "place": "BUP, Storgatan 1",
                        "remote_link": None,
                        "series_id": None,
                    }
                )
            _pictures(
                rows, next_id, drawing, picture_quota, case_id, coordinator, (youth, *caregivers)
            )
            texts = ("Varför ska vi ha möte?", "Vem bestämmer om skolan?", "Får mamma läsa?")
            for i, question in enumerate(texts):
                rows["question"].append(
                    _question(next_id("question"), case_id, youth, question, i == 0, created)
                )
            rows["question"].append(
                _question(
                    next_id("question"), case_id, caregivers[0], "Hur går det?", True, created
                )
            )
            for aspect in ViewAspect:
                rows["view"].append(
                    {
                        "id": next_id("view"),
                        "case_id": case_id,
                        "author_id": youth,
                        "aspect": aspect,
                        "text": "Det är olika från dag till dag, men mest okej.",
                        "shared": aspect is ViewAspect.WORKS,
                        "updated_at": created,
                    }
                )
            rows["preference"].append(
                {
                    "id": next_id("preference"),
                    "case_id": case_id,
                    "person_id": youth,
                    "participation": Participation.PART,
                    "shared": True,
                    "updated_at": created,
                }
            )
            rows["conversation_state"].append(
                {
                    "id": next_id("conversation_state"),
                    "platform": PLATFORM,
                    "chat_id": str(1_000_000 + youth),
                    "user_id": str(1_000_000 + youth),
                    "flow": "youth_prep",
                    "step": "menu",
                    "data": {},
                    "offered": ["about", "questions", "view", "participation", "review", "pause"],
                    "paused": False,
                    "version": 7,
                    "updated_at": created,
                }
            )
            for i in range(10):
                rows["outbox"].append(
                    {
                        "id": next_id("outbox"),
                        "platform": PLATFORM,
                        "chat_id": str(1_000_000 + (youth if i % 2 else owners[i % 3])),
                        "message_id": "youth.menu",
                        "params": {"meeting_at": {"$datetime": NOW.isoformat()}},
                        "choices": [["questions", "youth.menu.questions", {"step": 1}]],
                        "attachment": None,
                        "locale": "sv",
                        "status": "sent",
                        "attempts": 1,
                        "next_attempt_at": created,
                        "idempotency_key": uuid.UUID(int=rng.getrandbits(128)).hex,
                        "created_at": created,
                        "sent_at": created,
                        "last_error": None,
                    }
                )
                rows["inbox_event"].append(
                    {
                        "id": next_id("inbox_event"),
                        "platform": PLATFORM,
                        "platform_event_id": f"seed-{case_id}-{i}",
                        "received_at": created,
                    }
                )
            for i in range(5):
                rows["audit_event"].append(
                    {
                        "id": next_id("audit_event"),
                        "at": created,
                        "actor_person_id": youth,
                        "case_id": case_id,
                        "action": "share",
                        "object_type": "question",
                        "object_id": i,
                    }
                )
        for i in range(5):
            action_id = next_id("plan_action")
            due, status = _due_date(rng, due_quota, due_days, case_id)
            rows["plan_action"].append(
                {
                    "id": action_id,
                    "case_id": case_id,
                    "owner_person_id": owners[i % 3],
                    "owner_organisation_id": rng.randint(1, 6),
                    "description": "Ta kontakt med skolan om anpassningar.",
                    "due_date": due,
                    "status": status,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            if not plan_only:
                for j, step in enumerate(("in_progress", status)):
                    rows["action_update"].append(
                        {
                            "id": next_id("action_update"),
                            "action_id": action_id,
                            "author_id": owners[i % 3],
                            "status": step,
                            "note": "Ringt skolan." if j == 0 else None,
                            "new_due_date": None,
                            "created_at": created + timedelta(days=10 * (j + 1)),
                        }
                    )
    with engine.begin() as connection:
        for table in _SEED_ORDER:
            batch = rows[table]
            for start in range(0, len(batch), CHUNK):
                connection.execute(
                    insert(m.Base.metadata.tables[table]), batch[start : start + CHUNK]
                )
            counts[table] = len(batch)
        if engine.dialect.name == "postgresql":
            # Explicit ids leave the sequences behind; move them past the seeded rows.
            for table in _SEED_ORDER:
                if counts[table] and "id" in m.Base.metadata.tables[table].c:
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
                    )
    analyse(engine)
    return Seeded(cases, youth_user_ids, {k: v for k, v in counts.items() if v})


_SEED_ORDER = (
    "organisation", "person", "chat_identity", "case_file", "membership", "consent",
    "age_statement", "meeting", "shared_picture", "picture_response", "question",
    "view", "preference", "conversation_state", "outbox", "inbox_event", "audit_event",
    "plan_action", "action_update",
)  # fmt: skip


def _pictures(
    rows: dict[str, list[dict[str, Any]]],
    next_id: Callable[[str], int],
    rng: random.Random,
    quota: list[int],
    case_id: int,
    coordinator: int,
    family: tuple[int, ...],
) -> None:
    """One to three versions of a case's shared picture, published over the past months.

    Every version is answered by the whole family, except the newest of `quota` cases
    (about every other case until it runs out): published 3–5 days ago, answered only by the
    young person, so the picture reminder has the caregivers to remind.
    """
    in_window = quota[0] > 0 and rng.random() < 0.5
    if in_window:
        quota[0] -= 1
    versions = rng.randint(1, 3)
    days_ago = sorted(rng.sample(range(10, 110), versions), reverse=True)
    for version, days in enumerate(days_ago, start=1):
        newest = version == versions
        published = NOW - timedelta(days=days)
        if newest and in_window:
            published = NOW - timedelta(hours=rng.randint(73, 119))
        picture_id = next_id("shared_picture")
        rows["shared_picture"].append(
            {
                "id": picture_id,
                "case_id": case_id,
                "version": version,
                "text": "Alex mår bättre i skolan men sover dåligt. Vi ses igen om sex veckor.",
                "author_id": coordinator,
                "published_at": published,
            }
        )
        for who in family[:1] if newest and in_window else family:
            rows["picture_response"].append(
                {
                    "id": next_id("picture_response"),
                    "picture_id": picture_id,
                    "person_id": who,
                    "verdict": rng.choice(list(Verdict)).value,
                    "comment": None,
                    "answered_at": published + timedelta(days=1),
                }
            )


def _question(
    qid: int, case_id: int, author: int, text_: str, shared: bool, at: datetime
) -> dict[str, Any]:
    """One question row."""
    return {
        "id": qid,
        "case_id": case_id,
        "author_id": author,
        "text": text_,
        "shared": shared,
        "created_at": at,
        "updated_at": at,
    }


def _due_date(
    rng: random.Random, quota: dict[date, int], stages: list[date], case_id: int
) -> tuple[date, str]:
    """A plan action's due date and status: a few fall due now, the rest far from today."""
    for day in stages:
        if quota[day] > 0 and rng.random() < 0.5:
            quota[day] -= 1
            return day, "open"
    if rng.random() < 0.4:
        return TODAY - timedelta(days=rng.randint(14, 200)), "done"
    return TODAY + timedelta(days=rng.randint(14, 365)), "open"


def _followup_start(rng: random.Random, quota: list[int], drawn: datetime) -> datetime:
    """When a follow-up meeting starts: in the lead window while its quota lasts (about every
    other case until then), otherwise `drawn` (1–60 days ahead) moved two days on, past it."""
    if quota[0] > 0 and rng.random() < 0.5:
        quota[0] -= 1
        return NOW + timedelta(minutes=rng.randint(30, int(LEAD_WINDOW.total_seconds()) // 60))
    return drawn + timedelta(days=2)


def analyse(engine: Engine) -> None:
    """Refreshes the planner's statistics, as an operator's maintenance would."""
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


# --- a realistic due-source for nudges ------------------------------------------------------


class PlanActionNudges:
    """Nudges the owner of an open plan action three days before, on, and a day after its date.

    The bench's own minimal reminder kind (the real one belongs to the coordinator work): one
    indexed query for the three dates, and a dedup key per action and stage, so a tick that
    runs twice enqueues nothing new.
    """

    name = "bench-plan-actions"

    def due(self, ports: ReminderPorts, now: datetime) -> Iterator[ReminderDue]:
        """The nudges due today."""
        assert isinstance(ports, UnitOfWork)  # the bench reads its own query
        uow = ports
        today = now.date()
        stages = {
            today + timedelta(days=3): "soon",
            today: "today",
            today - timedelta(days=1): "overdue",
        }
        for action_id, owner, due_date in uow.session.execute(due_rows_query(today)):
            if owner is None:
                continue
            stage = stages[due_date]
            yield ReminderDue(
                self.name,
                f"nudge:action:{action_id}:{stage}:{due_date.isoformat()}",
                person_id=owner,
            )

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply:
        """A plain text, whatever is due."""
        return say("common.paused")


def due_rows_query(today: date) -> Any:
    """Open plan actions due in three days, today, or yesterday."""
    days = [today + timedelta(days=3), today, today - timedelta(days=1)]
    return (
        select(m.PlanAction.id, m.PlanAction.owner_person_id, m.PlanAction.due_date)
        .where(m.PlanAction.status == "open", m.PlanAction.due_date.in_(days))
        .order_by(m.PlanAction.due_date, m.PlanAction.id)
    )


def indexes_in(plan: Sequence[str]) -> str:
    """The index names a plan mentions (ours are all named ix_…, uq_… or pk_…)."""
    import re

    found = dict.fromkeys(re.findall(r"\b((?:ix|uq|pk)_[a-z_]+)", " ".join(plan)))
    return ", ".join(found) or "none (full scan)"


def explain(engine: Engine, stmt: Any) -> list[str]:
    """The database's plan for a statement, one line per step."""
    compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            result = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
            return [str(row[-1]) for row in result]
        result = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {compiled}")
        return [str(row[0]) for row in result]


def time_query(engine: Engine, stmt: Any, repeat: int) -> list[float]:
    """Wall seconds per execution of a query, fetching every row, on one open connection."""
    times: list[float] = []
    with engine.connect() as connection:
        connection.execute(stmt).all()  # warm the statement cache
        for _ in range(repeat):
            started = time.perf_counter()
            connection.execute(stmt).all()
            times.append(time.perf_counter() - started)
    return times


@contextmanager
def sqlite_database(directory: Path, name: str, cases: int) -> Iterator[tuple[Engine, Seeded]]:
    """A migrated, seeded SQLite database that is removed afterwards."""
    path = directory / f"{name}.sqlite3"
    engine = fresh_sqlite(path)
    try:
        yield engine, seed(engine, cases)
    finally:
        engine.dispose()


def sessions_for(engine: Engine) -> sessionmaker[Session]:
    """The bot's own session factory."""
    return session_factory(engine)


def catalogue() -> Catalogue:
    """The real message catalogue."""
    return Catalogue()


def python() -> str:
    """The interpreter running this benchmark (the venv's after `make install`)."""
    return sys.executable
