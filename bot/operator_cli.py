"""Operator commands that set up a case from the shell, with no chat step by a coordinator:
`case create`, `meeting add|move|cancel`, `org add` and `invite create [--org]`.
Registered by bot/cli.py.

Each prints one plain line of what it made (the invite code alone, so a script can take it);
a mistake is one plain line on standard error, never a traceback. None of them starts a
platform, so none needs a platform's secrets.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.clock import system_clock
from bot.config import Config
from flows.domain import MeetingKind, Role
from flows.family_domain import OrganisationKind
from flows.meeting_changes import cancel_meeting, move_meeting
from storage import models as m
from storage.access import Purpose
from storage.db import session_factory
from storage.unit_of_work import UnitOfWork

EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
# What a person typed for --kind, and what the meeting is called in the data.
MEETING_KINDS = {"first": MeetingKind.FIRST, "followup": MeetingKind.FOLLOW_UP}
# Roles that come from an organisation; the family's roles never do.
ORGANISATION_ROLES = (Role.PROFESSIONAL, Role.COORDINATOR, Role.NETWORK)
TIME_FORMAT = "%Y-%m-%d %H:%M"
# The longest reference the case table holds.
MAX_REFERENCE = 32


class OperatorError(Exception):
    """A mistake in an operator's command: the one line to print and the exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_operator_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    add_db_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Adds `case create`, `meeting …`, `org add` and `invite create --org` to the commands
    (after bot/cli.py and bot/coordinator_cli.py made `case`, `org` and `invite`)."""
    create_case = _actions(sub.choices["case"]).add_parser(
        "create",
        help="open a case; prints its reference",
        description="Without --reference the case is called K-<number>, as when a "
        "coordinator opens one in the chat.",
    )
    add_db_options(create_case)
    create_case.add_argument("--reference", help="your own reference, e.g. SIP-2026-7")

    meeting = sub.add_parser("meeting", help="operators: meetings of a case")
    meeting_sub = meeting.add_subparsers(dest="meeting_command", required=True, metavar="ACTION")
    add = meeting_sub.add_parser(
        "add", help="book a meeting; times are in [bot] timezone (Europe/Stockholm by default)"
    )
    add_db_options(add)
    add.add_argument("--case", required=True, help="case reference (K-7) or number")
    add.add_argument("--at", required=True, help='start, e.g. "2026-12-15 13:00"')
    add.add_argument("--minutes", type=int, default=90, help="how long (default 90)")
    add.add_argument("--place", help="where, as the family reads it")
    add.add_argument("--link", help="link for taking part by video")
    add.add_argument("--kind", choices=list(MEETING_KINDS), default="first")
    move = meeting_sub.add_parser(
        "move", help="give a meeting a new start; everyone in the case is told, reminders follow"
    )
    add_db_options(move)
    move.add_argument("--case", required=True, help="case reference (K-7) or number")
    move.add_argument("--id", required=True, type=int, help="meeting number")
    move.add_argument("--at", required=True, help='new start, e.g. "2026-12-15 13:00"')
    cancel = meeting_sub.add_parser(
        "cancel",
        help="cancel a meeting; everyone in the case is told, with a calendar cancellation",
    )
    add_db_options(cancel)
    cancel.add_argument("--case", required=True, help="case reference (K-7) or number")
    cancel.add_argument("--id", required=True, type=int, help="meeting number")

    org_add = _actions(sub.choices["org"]).add_parser(
        "add", help="add an organisation (verksamhet) that professionals can be invited from"
    )
    add_db_options(org_add)
    org_add.add_argument("--name", required=True, help='its name, e.g. "BUP Norr"')
    org_add.add_argument(
        "--kind",
        choices=[k.value for k in OrganisationKind],
        default=OrganisationKind.OTHER.value,
        help="the kind, for the default text the family reads (default other)",
    )
    org_add.add_argument("--description", help="the short 'who we are / what we offer' text")

    _actions(sub.choices["invite"]).choices["create"].add_argument(
        "--org",
        help="organisation number or exact name (see `samverkan org list`): the actions it "
        "owns reach this professional",
    )


def is_operator_command(args: argparse.Namespace) -> bool:
    """True for the commands this module runs."""
    action = {"case": "case_command", "org": "org_command", "invite": "invite_command"}
    chosen = (args.command, getattr(args, action.get(args.command, ""), None))
    return args.command == "meeting" or chosen in {
        ("case", "create"),
        ("org", "add"),
        ("invite", "create"),
    }


def run_operator_command(args: argparse.Namespace, config: Config, engine: Engine) -> int:
    """Runs one of this module's commands; a mistake is one line on standard error."""
    commands: dict[str, Callable[[argparse.Namespace, Config, UnitOfWork], str]] = {
        "case": _create_case,
        "meeting": _meeting,
        "org": _add_organisation,
        "invite": _create_invite,
    }
    try:
        with UnitOfWork(session_factory(engine)) as uow:
            made = commands[args.command](args, config, uow)
            uow.commit()
    except OperatorError as exc:
        print(f"samverkan: {exc}", file=sys.stderr)
        return exc.exit_code
    print(made)
    return 0


def _create_case(args: argparse.Namespace, config: Config, uow: UnitOfWork) -> str:
    """Opens a case as the coordinator's chat does; its reference."""
    reference: str | None = None
    if args.reference is not None:
        # Stored as find_case looks it up: upper case, no spaces around.
        reference = args.reference.strip().upper()
        if not reference or len(reference) > MAX_REFERENCE:
            raise OperatorError(f"--reference must be 1 to {MAX_REFERENCE} characters")
        if reference.isdecimal():
            # A bare number names a case by its number (`--case 7`): it cannot be a reference.
            raise OperatorError("--reference needs a letter, e.g. K-7")
        if uow.cases.find_case(reference) is not None:
            raise OperatorError(f"a case {reference} exists already")
    now = system_clock()
    case = uow.cases.create_case(now, reference)
    uow.audit.record(now, None, case.id, "case.open", "case", case.id)
    return case.reference


def _meeting(args: argparse.Namespace, config: Config, uow: UnitOfWork) -> str:
    """Books, moves or cancels a meeting of an open case."""
    zone = ZoneInfo(config.timezone)
    case = _open_case(uow, args.case)
    now = system_clock()
    if args.meeting_command == "add":
        if args.minutes < 1:
            raise OperatorError("--minutes must be at least 1")
        starts_at = _local_time(args.at, zone)
        kind = MEETING_KINDS[args.kind]
        meeting_id = uow.cases.add_meeting(
            case.id, kind, starts_at, args.minutes, args.place, args.link
        )
        uow.audit.record(now, None, case.id, "meeting.add", "meeting", meeting_id)
        return (
            f"{case.reference}: meeting {meeting_id} ({args.kind}) on "
            f"{_shown(starts_at, zone)}, {args.minutes} minutes"
        )
    # Moves and cancels tell everyone in the case as the coordinator's chat does.
    port = uow.meeting_changes.acting_as(uow.gate.for_system(Purpose.OPERATOR))
    if args.meeting_command == "move":
        starts_at = _local_time(args.at, zone)
        moved = move_meeting(port, case.id, args.id, starts_at, now)
        if moved is None:
            raise OperatorError(f"case {case.reference} has no meeting {args.id}", EXIT_NOT_FOUND)
        uow.outbox.enqueue_notices(moved[1], now, config.default_locale)
        return f"{case.reference}: meeting {args.id} moved to {_shown(starts_at, zone)}"
    cancelled = cancel_meeting(port, case.id, args.id, now)
    if cancelled is None:
        raise OperatorError(f"case {case.reference} has no meeting {args.id}", EXIT_NOT_FOUND)
    uow.outbox.enqueue_notices(cancelled[1], now, config.default_locale)
    return f"{case.reference}: meeting {args.id} cancelled"


def _add_organisation(args: argparse.Namespace, config: Config, uow: UnitOfWork) -> str:
    """Adds an organisation; its number, name and kind."""
    name = args.name.strip()
    if not name:
        raise OperatorError("--name is empty")
    existing = uow.families.find_organisation(name)
    if existing is not None:
        raise OperatorError(f"organisation {existing.id} is called {name!r} already")
    description = (args.description or "").strip() or None
    org_id = uow.families.add_organisation(name, args.kind, description)
    uow.audit.record(system_clock(), None, None, "organisation.add", "organisation", org_id)
    return f"organisation {org_id}: {name} ({args.kind})"


def _create_invite(args: argparse.Namespace, config: Config, uow: UnitOfWork) -> str:
    """A single-use invite code, with the organisation the person comes from; the code."""
    if args.days < 1:
        raise OperatorError("--days must be at least 1")
    role = Role(args.role)
    if args.org is not None and role not in ORGANISATION_ROLES:
        raise OperatorError("--org is for professionals, coordinators and network members")
    case = _open_case(uow, args.case)
    organisation_id: int | None = None
    if args.org is not None:
        org = uow.families.find_organisation(args.org)
        if org is None:
            raise OperatorError(f"no organisation {args.org!r}", EXIT_NOT_FOUND)
        # The organisation joins the case too, so the coordinator can give it actions.
        uow.coordination.link_organisation(case.id, org.id)
        organisation_id = org.id
    return uow.coordination.create_invite(
        case.id, role, args.name, organisation_id, None, system_clock(), timedelta(days=args.days)
    )


def _open_case(uow: UnitOfWork, reference: str) -> m.Case:
    """The open case by its reference or number; an OperatorError otherwise."""
    case = uow.cases.find_case(reference)
    if case is None:
        raise OperatorError(f"no case {reference!r}", EXIT_NOT_FOUND)
    if case.status != "open":
        raise OperatorError(f"case {case.reference} is closed", EXIT_NOT_FOUND)
    return case


def _local_time(text: str, zone: ZoneInfo) -> datetime:
    """A wall-clock time typed as 2026-12-15 13:00, in `zone`, as UTC."""
    try:
        local = datetime.strptime(text.strip(), TIME_FORMAT)
    except ValueError:
        raise OperatorError(f"--at {text!r} is not a time like 2026-12-15 13:00") from None
    return local.replace(tzinfo=zone).astimezone(UTC)


def _shown(moment: datetime, zone: ZoneInfo) -> str:
    """A stored time as the operator typed it, with the zone named."""
    return f"{moment.astimezone(zone).strftime(TIME_FORMAT)} {zone.key}"


def _actions(
    parser: argparse.ArgumentParser,
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """The subcommands of a command made elsewhere, to add one to them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise LookupError(f"{parser.prog} has no subcommands")
