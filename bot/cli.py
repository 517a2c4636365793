"""The `samverkan` command: demo, run, migrations, invites, reports, status and the outbox."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

# Start-up makes ~120,000 objects that live as long as the process (modules, the catalogue),
# and the collector would walk them again and again while they are made: 0.09 s of a 1 s
# start (issue 26, bench/startup.py). So it is off from here until start-up is done: main()
# turns it on again, and `run` once Runtime.start has frozen what start-up made. Only when
# this is the program (the installed script or `python -m bot.cli`), not a module imported.
if __name__ == "__main__" or Path(sys.argv[0]).name == "samverkan":
    gc.disable()

import argparse
import asyncio
import logging
import os
import signal
from collections.abc import Callable, Coroutine, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from bot.backup import add_backup_commands, run_backup_command
from bot.catalogue import Catalogue, TextFormat, available_locales
from bot.channels import TaskChannel
from bot.cli_errors import DATABASE_FAILURES, check_database_url, one_line
from bot.clock import system_clock
from bot.config import (
    Config,
    ConfigError,
    check_matrix_secrets,
    load_config,
    telegram_secrets,
)
from bot.console import LOCAL_USER, ConsoleConnector, run_console
from bot.coordinator_cli import (
    add_coordinator_commands,
    followup_report,
    run_coordinator_command,
)
from bot.delivery_loop import DeliveryLoop
from bot.demo import DEMO_ROLES, demo_user, seed_demo
from bot.doctor import run_doctor
from bot.email.links import LINK_KEY_ENV
from bot.email.listener import listening as links_listening
from bot.email.listener import serve_links
from bot.followup_report import file_makers
from bot.handler import EventHandler
from bot.health import listening, serve_health
from bot.ics import meeting_file_makers
from bot.instance import AnotherProcessRunning, new_process_id
from bot.later import Later
from bot.log_safety import configure_logging, register_secrets_from_env
from bot.malloc_arenas import limit_malloc_arenas
from bot.metrics import Metrics
from bot.operator_cli import add_operator_commands, is_operator_command, run_operator_command
from bot.pipeline import Pipeline
from bot.privacy_files import PersonalDataFile
from bot.reminder_kinds import reminder_kinds
from bot.reports import DocumentFormat, render_agenda
from bot.retention_job import RetentionSchedule
from bot.runtime import Runtime
from bot.status import print_status
from bot.telegram.service import TelegramService
from flows.conversation import ConversationRef
from flows.domain import Role
from flows.engine import Engine as FlowEngine
from flows.meeting_request import answer_notice
from flows.picture_loop import publication_notices
from storage.access import AccessDenied, Purpose
from storage.crypto import (
    DATA_KEY_ENV,
    OLD_KEYS_ENV,
    DataKey,
    DataKeyError,
    Keyring,
    active_keyring,
    install_keyring,
    keyring_from_env,
    load_or_create_key_file,
)
from storage.db import make_engine, session_factory
from storage.keys import PLAINTEXT, key_ids_in_use, rotate
from storage.outbox_repository import DropOutcome
from storage.retention import audit_trail, run_retention
from storage.schema import (
    SchemaOutOfDate,
    current_revisions,
    describe,
    head_revisions,
    require_current,
    upgrade,
)
from storage.unit_of_work import UnitOfWork

log = logging.getLogger("samverkan")

EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_SCHEMA = 4
EXIT_BUSY = 5
EXIT_KEY = 6
EXIT_DATABASE = 7
EXIT_INTERRUPTED = 130  # as a shell reports a command ended by Ctrl-C


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, documented for `samverkan --help`."""
    parser = argparse.ArgumentParser(
        prog="samverkan",
        description=(
            "Samverkansboten: helps young people and families prepare for a samverkansmöte. "
            "Without configuration, everything uses an SQLite database in your data directory."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_db_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", type=Path, help="TOML config file (see config.example.toml)")
        p.add_argument("--db", metavar="URL", help="SQLAlchemy database URL (overrides the config)")

    demo = sub.add_parser(
        "demo",
        help="try the bot in the terminal as the young person of a demo case",
        description="Creates (once) a demo case with a meeting next week and opens the "
        "terminal chat as its young person. Pipe lines into it to script a conversation.",
    )
    add_db_options(demo)
    demo.add_argument(
        "--locale",
        choices=available_locales(),
        help="language of the demo user (ar, fa, so and uk are drafts)",
    )
    demo.add_argument(
        "--as",
        dest="as_role",
        choices=[r.value for r in DEMO_ROLES],
        default=Role.YOUTH.value,
        help="who you are in the demo case: the young person Alex (default), the caregiver "
        "Kim, the coordinator Sara or the professional Jonas",
    )

    run = sub.add_parser("run", help="start the configured chat adapters")
    add_db_options(run)

    doctor = sub.add_parser(
        "doctor",
        help="check a setup: config, data key, database, files, platforms, clock",
        description="One line per check, `ok` or `fel` with what to do; exit code 0 when "
        "everything is ok. Secrets are named, never shown.",
    )
    add_db_options(doctor)

    keys = sub.add_parser("keys", help="data keys for encryption at rest")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    keys_sub.add_parser("new", help=f"print a new key for {DATA_KEY_ENV}")
    rotate_parser = keys_sub.add_parser(
        "rotate",
        help="re-encrypt everything under the current key (safe while the bot runs)",
        description=f"Set the new key in {DATA_KEY_ENV} and the old ones in {OLD_KEYS_ENV}, "
        "then run this. When it reports that only the new key is in use, drop the old keys.",
    )
    add_db_options(rotate_parser)

    audit = sub.add_parser("audit", help="who read or changed what in a case (never content)")
    add_db_options(audit)
    audit.add_argument("--case", required=True, help="case reference (K-7) or number")

    retention = sub.add_parser("retention", help="erase closed cases after the retention period")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True)
    add_db_options(retention_sub.add_parser("run", help="run the daily retention job now"))

    db = sub.add_parser("db", help="database migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for name, text in (("upgrade", "apply all migrations"), ("current", "show the schema version")):
        add_db_options(db_sub.add_parser(name, help=text))

    invite = sub.add_parser("invite", help="invite codes")
    invite_sub = invite.add_subparsers(dest="invite_command", required=True, metavar="ACTION")
    create = invite_sub.add_parser("create", help="create a single-use invite code for a case")
    add_db_options(create)
    create.add_argument("--case", required=True, help="case reference (K-7) or number")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", required=True, help="first name or pseudonym of the invitee")
    create.add_argument("--days", type=int, default=14, help="days the code is valid (default 14)")

    status = sub.add_parser(
        "status",
        help="health: outbox counts, oldest waiting message, last tick, who polls which channel",
    )
    add_db_options(status)

    outbox = sub.add_parser("outbox", help="outgoing messages waiting to be sent or given up on")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    listing = outbox_sub.add_parser("list", help="list outgoing messages (no content is shown)")
    add_db_options(listing)
    kind = listing.add_mutually_exclusive_group(required=True)
    kind.add_argument("--failed", action="store_true", help="messages the bot gave up on")
    kind.add_argument(
        "--pending", action="store_true", help="messages not sent yet (waiting or being sent)"
    )
    listing.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    drop = outbox_sub.add_parser(
        "drop", help="drop a waiting or failed message: it is never sent, its chat goes on"
    )
    add_db_options(drop)
    drop.add_argument("--id", type=int, required=True, dest="id", help="a message id")
    retry = outbox_sub.add_parser("retry", help="send failed messages again, with fresh attempts")
    add_db_options(retry)
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", type=int, action="append", dest="ids", help="a message id")
    which.add_argument("--all", action="store_true", help="every failed message")

    report = sub.add_parser("report", help="print reports")
    report_sub = report.add_subparsers(dest="report_command", required=True, metavar="REPORT")
    agenda = report_sub.add_parser(
        "agenda", help="agenda of the next meeting: only what people chose to share"
    )
    add_db_options(agenda)
    agenda.add_argument("--case", required=True, help="case reference (K-7) or number")
    agenda.add_argument("--format", choices=[f.value for f in DocumentFormat], default="md")
    agenda.add_argument("--locale", choices=["sv", "en"], help="language of the report")
    followup = report_sub.add_parser(
        "followup", help="follow-up report: each action's status and history, answers, requests"
    )
    add_db_options(followup)
    followup.add_argument("--case", required=True, help="case reference (K-7) or number")
    followup.add_argument(
        "--format", choices=[*(f.value for f in DocumentFormat), "png"], default="md"
    )
    followup.add_argument("--output", type=Path, help="write to this file (needed for png)")
    followup.add_argument("--locale", choices=["sv", "en"], help="language of the report")
    add_coordinator_commands(sub, add_db_options)
    add_backup_commands(sub, add_db_options)

    picture = sub.add_parser("picture", help="the shared picture (gemensam bild)")
    picture_sub = picture.add_subparsers(dest="picture_command", required=True, metavar="ACTION")
    publish = picture_sub.add_parser(
        "publish",
        help="publish a new version of a case's shared picture and ask the family to answer",
        description="Stores the text as the next version and queues a message to each young "
        "person and adult of the case; the running bot sends it.",
    )
    add_db_options(publish)
    publish.add_argument("--case", required=True, help="case reference (K-7) or number")
    publish.add_argument(
        "--file", required=True, type=Path, help="UTF-8 text file with the shared picture"
    )

    request = sub.add_parser(
        "request", help="requests for a new meeting from young people and adults"
    )
    request_sub = request.add_subparsers(dest="request_command", required=True, metavar="ACTION")
    request_list = request_sub.add_parser("list", help="the unanswered requests of a case")
    add_db_options(request_list)
    request_list.add_argument("--case", required=True, help="case reference (K-7) or number")
    request_answer = request_sub.add_parser(
        "answer", help="answer a request; the person who asked gets the answer in the chat"
    )
    add_db_options(request_answer)
    request_answer.add_argument("--id", required=True, type=int, help="request number")
    request_answer.add_argument("--text", required=True, help="the answer, e.g. a new time")

    org = sub.add_parser("org", help="organisations (verksamheter) and their presentations")
    org_sub = org.add_subparsers(dest="org_command", required=True, metavar="ACTION")
    org_list = org_sub.add_parser("list", help="list organisations with number and kind")
    add_db_options(org_list)
    describe_org = org_sub.add_parser(
        "set-description",
        help="set the short 'who we are / what we offer' text the family reads",
        description="Without --text or --file, the description is cleared and the default "
        "text for the organisation's kind is shown again.",
    )
    add_db_options(describe_org)
    describe_org.add_argument("--org", required=True, help="organisation number or exact name")
    text_source = describe_org.add_mutually_exclusive_group()
    text_source.add_argument("--text", help="the description")
    text_source.add_argument("--file", type=Path, help="UTF-8 text file with the description")
    add_operator_commands(sub, add_db_options)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console command."""
    args = build_parser().parse_args(argv)
    if args.command not in ("run", "demo"):
        gc.enable()  # start-up is done (for `run` and `demo`: once the runtime has started)
    if args.command == "doctor":  # it reports a broken config itself, as one of its checks
        return run_doctor(args.config, args.db, sys.stdout)
    try:
        config = _config(args)
    except ConfigError as exc:
        print(f"samverkan: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return _run(args, config)
    except DATABASE_FAILURES as exc:
        line = one_line(exc, config.database_url)
        if line is None:
            raise  # not the database's: a bug, whose traceback says where
        print(f"samverkan: {line}", file=sys.stderr)
        return EXIT_DATABASE


def _run(args: argparse.Namespace, config: Config) -> int:
    """Runs a command with its keys and its database."""
    # Before anything logs: no token, code or message text reaches the log, at any level.
    register_secrets_from_env(_secret_envs(config), os.environ)
    configure_logging(_log_level(args, config))
    if args.command == "keys" and args.keys_command == "new":
        print(DataKey.generate().encode())
        return 0
    try:
        install_keyring(_keyring(args, config))
    except DataKeyError as exc:  # a key that is set but malformed
        print(f"samverkan: {exc}", file=sys.stderr)
        return EXIT_KEY
    if args.command not in ("db", "demo"):
        try:
            active_keyring()  # everything else reads or writes free text: say so up front
        except DataKeyError as exc:
            print(f"samverkan: {exc}", file=sys.stderr)
            return EXIT_KEY
    engine = make_engine(config.database_url, config.sqlite_synchronous)
    try:
        return _dispatch(args, config, engine)
    except DataKeyError as exc:
        print(f"samverkan: {exc}", file=sys.stderr)
        return EXIT_KEY
    except SchemaOutOfDate as exc:
        print(f"samverkan: {exc}", file=sys.stderr)
        return EXIT_SCHEMA
    except KeyboardInterrupt:  # Ctrl-C before the chat runs (it stops the chat gracefully)
        return EXIT_INTERRUPTED
    finally:
        engine.dispose()


def _dispatch(args: argparse.Namespace, config: Config, engine: Engine) -> int:
    """Runs the chosen subcommand."""
    if is_operator_command(args):
        require_current(engine)
        return run_operator_command(args, config, engine)
    match args.command:
        case "demo":
            return _demo(args, config, engine)
        case "run":
            try:  # read only now: commands that start no platform need none of its secrets
                if config.matrix.enabled:
                    check_matrix_secrets(config.matrix)
            except ConfigError as exc:
                print(f"samverkan: {exc}", file=sys.stderr)
                return EXIT_USAGE
            require_current(engine)
            active_keyring()  # refuses to start without a data key, with the fix in the message
            # Before any thread starts: each would otherwise grow a malloc arena of its own.
            limit_malloc_arenas()
            return _serve(config, engine)
        case "db":
            return _db(args, engine)
        case "backup" | "restore":
            return run_backup_command(args, config)
        case "report":
            require_current(engine)
            if args.report_command == "followup":
                return followup_report(args, config, engine)
            return _report(args, config, engine)
        case "admin" | "case":
            require_current(engine)
            return run_coordinator_command(args, config, engine)
        case "keys":
            require_current(engine)
            report = rotate(engine, active_keyring())
            print(
                f"re-encrypted {report.reencrypted} values; keys in use: "
                f"{', '.join(sorted(report.key_ids_in_use)) or 'none'}"
            )
            return 0
        case "audit":
            require_current(engine)
            return _audit(args, engine)
        case "retention":
            require_current(engine)
            purged = run_retention(engine, config.privacy, system_clock())
            print(f"retention: {purged.cases} closed cases erased, {purged.messages} old messages")
            return 0
        case "picture":
            require_current(engine)
            return _publish_picture(args, config, engine)
        case "org":
            require_current(engine)
            return _org(args, engine)
        case "request":
            require_current(engine)
            return _request(args, config, engine)
        case "status":
            require_current(engine)
            print_status(engine, system_clock(), sys.stdout)
            return 0
        case "outbox":
            require_current(engine)
            return _outbox(args, engine)
    return EXIT_USAGE


def _keyring(args: argparse.Namespace, config: Config) -> Keyring | None:
    """The data key from the environment, else the demo's own key file beside its database.

    `samverkan demo` makes that file; operator commands (invite, report, audit, …) on the
    demo database use it too. `samverkan run` never does: it needs SAMVERKAN_DATA_KEY.
    Without any key, the first use of encrypted data stops with a message naming the fix.
    """
    keyring = keyring_from_env(os.environ)
    if keyring is not None or args.command == "run":
        return keyring
    url = make_url(config.database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    key_file = Path(f"{url.database}.key")
    if args.command == "demo" or key_file.exists():
        return load_or_create_key_file(key_file)
    return None


def _log_level(args: argparse.Namespace, config: Config) -> str:
    """The configured log level; the demo's terminal shows stderr beside the chat, so there
    only warnings and errors are logged (routine lines would read as part of the chat)."""
    if args.command == "demo" and logging.getLevelName(config.log_level) < logging.WARNING:
        return "WARNING"
    return config.log_level


def _secret_envs(config: Config) -> tuple[str, ...]:
    """The environment variables the config names for secrets: their values are redacted."""
    return (
        config.telegram.token_env,
        config.telegram.webhook_secret_env,
        config.matrix.password_env,
        config.matrix.access_token_env,
        config.matrix.pickle_key_env,
        DATA_KEY_ENV,
        OLD_KEYS_ENV,
        LINK_KEY_ENV,
    )


def _config(args: argparse.Namespace) -> Config:
    """The config file's settings with the command line's --db on top."""
    config = load_config(getattr(args, "config", None))
    if getattr(args, "db", None):
        config = replace(config, database_url=args.db)
    check_database_url(config.database_url)
    return config


def _demo(args: argparse.Namespace, config: Config, engine: Engine) -> int:
    """Migrates the demo database, seeds the demo case and opens the terminal chat."""
    # The demo is for trying things out, so it brings its own database up to date;
    # `run` never migrates on its own (operators decide when the schema changes).
    upgrade(engine)
    sessions = session_factory(engine)
    catalogue = Catalogue(default_locale=config.default_locale, timezone=config.timezone)
    user = demo_user(Role(args.as_role))
    with UnitOfWork(sessions) as uow:
        demo = seed_demo(uow, system_clock(), config.timezone)
        if args.locale:
            uow.cases.set_locale_for(user, args.locale)
        uow.commit()
        actor = uow.members.actor_for(user)
    name = actor.display_name if actor is not None else demo.youth_name
    locale = args.locale or config.default_locale
    intro = {"case": demo.reference, "name": name, "role": args.as_role}
    print(catalogue.render("console.intro", {}, locale, TextFormat.PLAIN))
    print(catalogue.render("console.demo_case", intro, locale, TextFormat.PLAIN))
    print()
    return _serve(config, engine, catalogue, console_user=user, console_locale=locale)


def _serve(
    config: Config,
    engine: Engine,
    catalogue: Catalogue | None = None,
    console_user: ConversationRef = LOCAL_USER,
    console_locale: str | None = None,
) -> int:
    """Runs the enabled adapters until they end (or SIGTERM), with the ticker beside them.

    Telegram and Matrix are inbound channels under a lease: with several processes on one
    PostgreSQL database, each is polled by one process at a time (bot/channels.py).
    """
    catalogue = catalogue or Catalogue(
        default_locale=config.default_locale, timezone=config.timezone
    )
    sessions = session_factory(engine)
    # The language menu lists the default language first, then the others.
    languages = sorted(catalogue.locales, key=lambda code: code != catalogue.default_locale)
    process_id = new_process_id()
    policy = config.delivery.policy()

    def build_conversations() -> FlowEngine:
        """Every conversation of the bot, ready to step."""
        # Imported here, in the worker thread: the flows take ~0.1 s to import, and the
        # first poll does not need them (issue 26: start-up; bench/startup.py).
        from flows.wiring import default_engine

        return default_engine(
            locales=languages,
            consent_age=config.privacy.consent_age,
            operator=config.privacy.operator_name,
            timezone=config.timezone,
            email_invites=config.email.enabled,
        )

    # Built behind the start: once Telegram polls, or at once without Telegram, and in any
    # case when the first event needs it (that event waits for it).
    conversations = Later(build_conversations)
    handler = EventHandler(
        sessions,
        conversations,
        config.default_locale,
        process_id=process_id,
        claim_for=policy.claim_for,
        # A typed label is read as the choice it names, in the words the person saw.
        labels=catalogue.label,
    )
    if not (config.console_enabled or config.telegram.enabled or config.matrix.enabled):
        print("samverkan: no chat adapter is enabled in the config", file=sys.stderr)
        return EXIT_USAGE
    # Calendar files for the families, reports and timelines for the coordinators.
    makers = {
        **file_makers(),
        **meeting_file_makers(),
        PersonalDataFile.kind: PersonalDataFile(),
    }
    # Counted only for the [health] listener's /metrics.
    metrics = Metrics(sessions) if config.health.enabled else None
    # One delivery loop and one pipeline for every connector of the process.
    delivery = DeliveryLoop(
        sessions,
        catalogue,
        file_makers=makers,
        process_id=process_id,
        policy=policy,
        metrics=metrics,
    )
    pipeline = Pipeline(handler, delivery, metrics)
    start_errors: tuple[type[Exception], ...] = (ConfigError,)
    channels: list[TaskChannel] = []
    if config.telegram.enabled:
        try:
            secrets = telegram_secrets(config.telegram)
        except ConfigError as exc:
            print(f"samverkan: {exc}", file=sys.stderr)
            return EXIT_USAGE

        async def run_telegram(stop: asyncio.Event) -> None:
            service = TelegramService(
                config.telegram,
                secrets.token,
                sessions,
                handler,
                catalogue,
                webhook_secret=secrets.webhook_secret,
                pipeline=pipeline,
            )
            building = asyncio.ensure_future(_start_when_set(service.ready, conversations))
            try:
                # Telegram finishes the updates in hand before it stops: stopped, not cancelled.
                await _until_stopped(service.run(handle_signals=False), stop, service.stop)
            finally:
                building.cancel()

        channels.append(TaskChannel("telegram", run_telegram))
    if config.matrix.enabled:
        # Imported only when enabled: nio takes seconds to import (bench/startup.py), and a
        # bot without Matrix should not wait for it.
        from bot.matrix.login import MatrixStartError
        from bot.matrix.service import run_matrix

        start_errors = (ConfigError, MatrixStartError)
        # Messages of a channel are sent by its adapter, so only its holder sends them.
        channels.append(
            TaskChannel(
                "matrix",
                lambda stop: run_matrix(
                    config.matrix,
                    sessions,
                    handler,
                    catalogue,
                    default_locale=config.default_locale,
                    stop=stop,
                    pipeline=pipeline,
                ),
            )
        )
    if config.email.enabled:
        from bot.email.service import email_connector, run_email

        try:
            mailer = email_connector(config, sessions, catalogue)
        except ConfigError as exc:
            print(f"samverkan: {exc}", file=sys.stderr)
            return EXIT_USAGE
        # Outgoing only, but under a lease like the chats: one process sends each e-mail.
        channels.append(TaskChannel("email", lambda stop: run_email(mailer, pipeline, stop)))
    sources = reminder_kinds(config)
    runtime = Runtime(
        engine,
        sessions,
        delivery,
        process_id,
        sources=sources,
        channels=channels,
        default_locale=config.default_locale,
        ticker=config.delivery.ticker(),
        leases=config.delivery.leases(),
        retention=RetentionSchedule(
            config.privacy, config.privacy.retention_at, ZoneInfo(config.timezone)
        ),
        metrics=metrics,
    )
    health = serve_health(config, engine, sessions, runtime, channels, metrics)
    try:
        # The answer pages of the e-mail links ([email] enabled): GET/POST /l/<token>.
        # (getattr until the [email] section lands; then `config.email`.)
        links = serve_links(config.email, sessions, catalogue, pipeline.submit, os.environ)
    except ConfigError as exc:
        print(f"samverkan: {exc}", file=sys.stderr)
        return EXIT_USAGE

    async def serve() -> None:
        async with listening(health), links_listening(links):
            await run()

    async def run() -> None:
        await runtime.start()
        gc.enable()  # what start-up made is frozen now (Runtime.start): the collector's again
        if not config.telegram.enabled:  # (with Telegram: once it polls)
            conversations.start()
        # A channel's runner only ends in an error (e.g. a refused login); SIGTERM cancels
        # the waits, and runtime.stop() then stops the channels gracefully.
        adapters = [Adapter(channel.failure()) for channel in channels]
        if config.console_enabled:
            terminal = ConsoleConnector(
                sys.stdout, console_user, catalogue=catalogue, locale=console_locale
            )
            console = run_console(pipeline, terminal, sys.stdin, sys.stdout)
            adapters.append(Adapter(console))
        try:
            await _run_side_by_side(adapters)
        finally:
            await runtime.stop()

    try:
        asyncio.run(serve())
    except AnotherProcessRunning as exc:
        print(f"samverkan: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except start_errors as exc:  # found only on connecting
        print(f"samverkan: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


async def _start_when_set(ready: asyncio.Event, later: Later[Any]) -> None:
    """Starts building `later` once `ready` is set (a channel listens)."""
    await ready.wait()
    later.start()


async def _until_stopped(
    main: Coroutine[Any, Any, None], stop: asyncio.Event, ask_to_stop: Callable[[], None]
) -> None:
    """Runs `main` until it ends or `stop` is set; then asks it to stop and waits for it."""
    task = asyncio.ensure_future(main)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            ask_to_stop()
        await task
    finally:
        stopped.cancel()


@dataclass
class Adapter:
    """A running chat adapter: its main coroutine, and how to stop it gracefully if it can."""

    main: Coroutine[Any, Any, None]
    stop: Callable[[], None] | None = None


async def _run_side_by_side(adapters: list[Adapter]) -> None:
    """Runs the adapters together until all end; SIGTERM/SIGINT stop them (state is in the DB)."""
    tasks = [asyncio.ensure_future(adapter.main) for adapter in adapters]

    def stop_all() -> None:
        for adapter, task in zip(adapters, tasks, strict=True):
            if adapter.stop is not None:
                adapter.stop()
            else:
                task.cancel()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with suppress(NotImplementedError):  # no signal handlers on Windows
            loop.add_signal_handler(sig, stop_all)
    # return_exceptions: a cancelled adapter must not cut short another's graceful stop.
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result


def _db(args: argparse.Namespace, engine: Engine) -> int:
    """Applies migrations or shows the schema version."""
    if args.db_command == "upgrade":
        upgrade(engine)
    current, heads = current_revisions(engine), head_revisions(engine)
    print(f"schema: {describe(current)} (newest: {describe(heads)})")
    if current == heads and PLAINTEXT in key_ids_in_use(engine):
        # Migrations run without the data key, so values from before a column was encrypted
        # stay plaintext until the rotation (which holds the key) encrypts them.
        print(
            "some names or texts from before encryption are still stored as plaintext: "
            "run `samverkan keys rotate` (with SAMVERKAN_DATA_KEY set) to encrypt them"
        )
    return 0


def _outbox(args: argparse.Namespace, engine: Engine) -> int:
    """Lists waiting or failed messages, drops one, or makes failed ones pending again."""
    with UnitOfWork(session_factory(engine)) as uow:
        if args.outbox_command == "list" and args.pending:
            waiting = uow.outbox.waiting(args.limit)
            if not waiting:
                print("no messages waiting")
            for entry in waiting:
                # Ids, times, counts and the error class only: never what the message says.
                print(
                    f"{entry.id}  {entry.created_at:%Y-%m-%d %H:%M} UTC"
                    f"  {entry.platform}:{entry.chat_id}  {entry.message_id}  {entry.status}"
                    f"  attempts {entry.attempts}  {entry.last_error or '-'}"
                    f"  next {entry.next_attempt_at:%H:%M:%S} UTC"
                )
            return 0
        if args.outbox_command == "drop":
            outcome = uow.outbox.drop(args.id, system_clock())
            uow.commit()
            return _dropped(args.id, outcome)
        if args.outbox_command == "list":
            failed = uow.outbox.failed(args.limit)
            if not failed:
                print("no failed messages")
            for row in failed:
                print(
                    f"{row.id}  {row.created_at:%Y-%m-%d %H:%M} UTC  {row.platform}:{row.chat_id}"
                    f"  {row.message_id}  attempts {row.attempts}  {row.last_error or '-'}"
                )
            return 0
        count = uow.outbox.retry_failed(system_clock(), None if args.all else args.ids)
        uow.commit()
    print(f"{count} message(s) will be sent again by the running bot")
    return 0 if count or args.all else EXIT_NOT_FOUND


def _dropped(outbox_id: int, outcome: DropOutcome) -> int:
    """Says what `outbox drop` did; an exit code that is not 0 unless a message was dropped."""
    match outcome:
        case DropOutcome.DROPPED:
            print(f"message {outbox_id} dropped: it will not be sent; its chat goes on")
            return 0
        case DropOutcome.NOT_FOUND:
            print(f"samverkan: no message {outbox_id} in the outbox", file=sys.stderr)
        case DropOutcome.FINISHED:
            print(
                f"samverkan: message {outbox_id} was already sent or dropped: nothing to drop",
                file=sys.stderr,
            )
        case DropOutcome.BEING_SENT:
            print(
                f"samverkan: message {outbox_id} is being sent right now; try again in a minute",
                file=sys.stderr,
            )
    return EXIT_NOT_FOUND


def _report(args: argparse.Namespace, config: Config, engine: Engine) -> int:
    """Prints a report of a case."""
    catalogue = Catalogue(default_locale=config.default_locale, timezone=config.timezone)
    with UnitOfWork(session_factory(engine)) as uow:
        case = uow.cases.find_case(args.case)
        if case is None:
            print(f"samverkan: no case {args.case!r}", file=sys.stderr)
            return EXIT_NOT_FOUND
        agenda = uow.agenda.agenda(case.id, system_clock())
    locale = args.locale or config.default_locale
    sys.stdout.write(render_agenda(agenda, catalogue, locale, DocumentFormat(args.format)))
    return 0


def _publish_picture(args: argparse.Namespace, config: Config, engine: Engine) -> int:
    """Publishes a shared picture from a file and queues the questions to the family."""
    text = _read_text(args.file)
    if text is None:
        return EXIT_USAGE
    now = system_clock()
    with UnitOfWork(session_factory(engine)) as uow:
        case = uow.cases.find_case(args.case)
        if case is None:
            print(f"samverkan: no case {args.case!r}", file=sys.stderr)
            return EXIT_NOT_FOUND
        if case.status != "open":
            print(f"samverkan: case {case.reference} is closed", file=sys.stderr)
            return EXIT_NOT_FOUND
        # The operator publishes through the gate's audited operator path.
        operator = uow.gate.for_system(Purpose.OPERATOR)
        published = uow.families.publish(case.id, operator, text, now)
        notices = publication_notices(
            published.picture, published.recipients.person_ids, published.recipients.group_chats
        )
        queued = sum(len(uow.outbox.enqueue_notice(n, now, config.default_locale)) for n in notices)
        uow.commit()
    version = published.picture.version
    print(f"{case.reference}: shared picture version {version}, {queued} messages queued")
    return 0


def _org(args: argparse.Namespace, engine: Engine) -> int:
    """Lists organisations or sets one's description."""
    with UnitOfWork(session_factory(engine)) as uow:
        if args.org_command == "list":
            for each in uow.families.all_organisations():
                marker = "" if each.description else " (default text)"
                print(f"{each.id}\t{each.kind}\t{each.name}{marker}")
            return 0
        org = uow.families.find_organisation(args.org)
        if org is None:
            print(f"samverkan: no organisation {args.org!r}", file=sys.stderr)
            return EXIT_NOT_FOUND
        text: str | None = args.text
        if args.file is not None:
            text = _read_text(args.file)
            if text is None:
                return EXIT_USAGE
        cleaned = text.strip() if text else None
        uow.families.set_organisation_description(org.id, cleaned or None)
        uow.audit.record(system_clock(), None, None, "describe", "organisation", org.id)
        uow.commit()
    print(f"{org.name}: {'description set' if cleaned else 'default text restored'}")
    return 0


def _request(args: argparse.Namespace, config: Config, engine: Engine) -> int:
    """Lists open meeting requests of a case, or answers one."""
    now = system_clock()
    with UnitOfWork(session_factory(engine)) as uow:
        if args.request_command == "list":
            case = uow.cases.find_case(args.case)
            if case is None:
                print(f"samverkan: no case {args.case!r}", file=sys.stderr)
                return EXIT_NOT_FOUND
            if case.status != "open":
                print(f"samverkan: case {case.reference} is closed", file=sys.stderr)
                return EXIT_NOT_FOUND
            operator = uow.gate.for_system(Purpose.OPERATOR)
            for open_request, _ in uow.families.open_requests(case.id, operator):
                asked = f"{open_request.created_at:%Y-%m-%d %H:%M} UTC"
                print(f"{open_request.id}\t{asked}\t{open_request.reason or ''}")
            return 0
        answer = args.text.strip()
        if not answer:
            print("samverkan: the answer is empty", file=sys.stderr)
            return EXIT_USAGE
        operator = uow.gate.for_system(Purpose.OPERATOR)
        try:
            asked_by = uow.families.answer_request(args.id, operator, answer, now)
        except AccessDenied:
            # The gate reads and changes open cases only.
            print(f"samverkan: request {args.id} belongs to a closed case", file=sys.stderr)
            return EXIT_NOT_FOUND
        if asked_by is None:
            print(f"samverkan: no open request {args.id}", file=sys.stderr)
            return EXIT_NOT_FOUND
        uow.outbox.enqueue_notice(
            answer_notice(asked_by, args.id, answer), now, config.default_locale
        )
        uow.commit()
    print(f"request {args.id} answered")
    return 0


def _read_text(path: Path) -> str | None:
    """A UTF-8 text file's content, or None (with a message) when it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"samverkan: cannot read {path}: {type(exc).__name__}", file=sys.stderr)
        return None
    if not text:
        print(f"samverkan: {path} is empty", file=sys.stderr)
        return None
    return text


def _audit(args: argparse.Namespace, engine: Engine) -> int:
    """Prints a case's audit trail: when, who (id or pseudonym), what; never content."""
    with UnitOfWork(session_factory(engine)) as uow:
        case = uow.cases.find_case(args.case)
        if case is None:
            print(f"samverkan: no case {args.case!r}", file=sys.stderr)
            return EXIT_NOT_FOUND
        for row in audit_trail(uow.session, case.id):
            print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
