"""Operator commands of the coordinator side: add a coordinator, list and show cases,
print the follow-up report. Registered by bot/cli.py."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine

from bot.catalogue import Catalogue
from bot.clock import system_clock
from bot.config import Config
from bot.followup_report import build_followup, render_followup, render_followup_timeline
from bot.reports import DocumentFormat
from flows.coordination import OwnerKind
from storage.access import Purpose
from storage.db import session_factory
from storage.private_paths import write_private_file
from storage.unit_of_work import UnitOfWork

EXIT_USAGE = 2
EXIT_NOT_FOUND = 3


def add_coordinator_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    add_db_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Adds `admin add-coordinator` and `case list|show` to the command line."""
    admin = sub.add_parser("admin", help="operators: coordinators")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    add = admin_sub.add_parser(
        "add-coordinator",
        help="print a one-time code with which a new coordinator starts in a private chat",
    )
    add_db_options(add)
    add.add_argument("--name", required=True, help="the coordinator's first name")
    add.add_argument("--days", type=int, default=7, help="days the code is valid (default 7)")
    add.add_argument("--bot-username", help="Telegram bot username, to print a t.me link too")

    case = sub.add_parser("case", help="operators: cases")
    case_sub = case.add_subparsers(dest="case_command", required=True, metavar="ACTION")
    add_db_options(case_sub.add_parser("list", help="every case with status and members"))
    show = case_sub.add_parser("show", help="one case: members, meetings, plan (no free text)")
    add_db_options(show)
    show.add_argument("--case", required=True, help="case reference (K-7) or number")


def run_coordinator_command(args: argparse.Namespace, config: Config, engine: Engine) -> int:
    """Runs `admin …` or `case …`."""
    sessions = session_factory(engine)
    now = system_clock()
    with UnitOfWork(sessions) as uow:
        if args.command == "admin":
            if args.days < 1:
                print("samverkan: --days must be at least 1", file=sys.stderr)
                return EXIT_USAGE
            code = uow.coordination.create_coordinator_invite(
                args.name, now, timedelta(days=args.days)
            )
            uow.commit()
            print(f"Code for {args.name} (valid {args.days} days, single use): {code}")
            print(f"In a private chat with the bot, send: /start {code}")
            if args.bot_username:
                print(f"Link: https://t.me/{args.bot_username}?start={code.replace('-', '')}")
            return 0
        if args.case_command == "list":
            print(f"{'case':<8} {'status':<8} {'opened':<11} members")
            for summary, opened, members in uow.coordination.all_cases():
                status = "open" if summary.open else "closed"
                print(f"{summary.reference:<8} {status:<8} {opened:%Y-%m-%d}  {members}")
            return 0
        found = uow.cases.find_case(args.case)
        if found is None:
            print(f"samverkan: no case {args.case!r}", file=sys.stderr)
            return EXIT_NOT_FOUND
        shown = uow.coordination.case(found.id)
        assert shown is not None
        # Operators see structure, not content: roles, dates and statuses, never free text.
        print(f"{shown.reference} ({'open' if shown.open else 'closed'})")
        print("members:")
        for member in uow.coordination.members(found.id):
            org = f", {member.organisation}" if member.organisation else ""
            print(f"  - person {member.person_id}: {member.role.value}{org}")
        print("upcoming meetings:")
        for meeting in uow.coordination.upcoming_meetings(found.id, now):
            # The id is what `meeting move/cancel --id` takes.
            when = f"{meeting.starts_at:%Y-%m-%d %H:%M} UTC"
            print(f"  - meeting {meeting.id}: {when} ({meeting.kind.value})")
        print("plan:")
        if not shown.open:
            # The gate reads open cases only; a closed case waits for its retention purge.
            print("  (closed case: not read)")
            return 0
        operator = uow.gate.for_system(Purpose.OPERATOR)
        for action in uow.coordination.actions(found.id, operator):
            owner = "family" if action.owner.kind is OwnerKind.FAMILY else action.owner.key
            print(f"  - action {action.id}: {owner}, due {action.due}, {action.status.value}")
    return 0


def followup_report(args: argparse.Namespace, config: Config, engine: Engine) -> int:
    """Prints (or writes) the follow-up report of a case."""
    catalogue = Catalogue(default_locale=config.default_locale, timezone=config.timezone)
    locale = args.locale or config.default_locale
    now = system_clock()
    with UnitOfWork(session_factory(engine)) as uow:
        case = uow.cases.find_case(args.case)
        if case is None:
            print(f"samverkan: no case {args.case!r}", file=sys.stderr)
            return EXIT_NOT_FOUND
        if case.status != "open":
            print(f"samverkan: case {case.reference} is closed; it has no report", file=sys.stderr)
            return EXIT_NOT_FOUND
        report = build_followup(uow, case.id, now, uow.gate.for_system(Purpose.OPERATOR))
    if args.format == "png":
        if args.output is None:
            print("samverkan: --format png needs --output FILE", file=sys.stderr)
            return EXIT_USAGE
        today = now.astimezone(catalogue.timezone).date()
        write_private_file(args.output, render_followup_timeline(report, catalogue, locale, today))
        return 0
    text = render_followup(report, catalogue, locale, DocumentFormat(args.format))
    if args.output is not None:
        write_private_file(args.output, text.encode())
    else:
        sys.stdout.write(text)
    return 0
