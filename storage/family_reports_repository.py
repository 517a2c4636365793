"""What the family's follow-up and the closing notices read (reminder_ports.FamilyReportsPort).

It leans on the coordinator side's reads of the same transaction (the meetings, the outbox's
keys, the failed rows, the coordinators): the family's follow-up goes out at the same time and
with the same promise as the coordinator's report, so it is found the same way. Who of the
family may be messaged is the access gate's answer (`reachable`: consent in effect).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.domain import FAMILY_ROLES, Role
from flows.reminder_ports import ClosedCase, FailedFamilyReport, ReportMeeting
from storage import models as m
from storage.access import AccessGate
from storage.coordinator_reminders_repository import CoordinatorReminderReads
from storage.db import in_chunks

# The family's follow-up message; a row of it that finally failed is told to the coordinators.
FAMILY_REPORT_MESSAGES = ("family_report.followup",)
# Who of the family gets the follow-up: the young person and the caregivers.
FOLLOWUP_ROLES = frozenset({Role.YOUTH, Role.CAREGIVER})
# Who is told that a case is closed: the whole family and the professionals (the coordinator
# who closed it was answered in the chat).
CLOSING_ROLES = FAMILY_ROLES | {Role.PROFESSIONAL}


class FamilyReportReads:
    """The family's follow-up and closing notices' reads, for one transaction."""

    def __init__(
        self, session: Session, gate: AccessGate, coordinator_reads: CoordinatorReminderReads
    ) -> None:
        self._s = session
        self._gate = gate
        self._coordinator_reads = coordinator_reads

    def _members(
        self, case_ids: Iterable[int], roles: Iterable[Role]
    ) -> dict[int, list[tuple[int, Role]]]:
        """Active members of these roles the bot may reach, by case, in one query per chunk."""
        rows: list[tuple[int, int, Role]] = []
        for chunk in in_chunks(sorted(set(case_ids))):
            rows += [
                (c, p, Role(r))
                for c, p, r in self._s.execute(
                    select(m.Membership.case_id, m.Membership.person_id, m.Membership.role)
                    .where(
                        m.Membership.case_id.in_(chunk),
                        m.Membership.active.is_(True),
                        m.Membership.role.in_(sorted(roles)),
                    )
                    .order_by(m.Membership.person_id)
                )
            ]
        reached = self._gate.reachable(rows)
        found: dict[int, list[tuple[int, Role]]] = defaultdict(list)
        for case_id, person_id, role in rows:
            if (case_id, person_id) in reached:
                found[case_id].append((person_id, role))
        return found

    def family_to_tell(
        self, meetings: Sequence[ReportMeeting], keys: Callable[[int, int], tuple[str, ...]]
    ) -> list[tuple[ReportMeeting, list[int]]]:
        """Each meeting with its young person and caregivers the bot may reach and has not
        sent these notices yet."""
        members = self._members((mt.case_id for mt in meetings), FOLLOWUP_ROLES)
        people = {case_id: [p for p, _ in found] for case_id, found in members.items()}
        return self._coordinator_reads.people_to_tell(meetings, people, keys)

    def failed_family_reports(self, since: datetime) -> list[FailedFamilyReport]:
        """Family follow-ups created after `since` that finally failed, one per coordinator."""
        rows = self._coordinator_reads.failed_rows(since, FAMILY_REPORT_MESSAGES)
        cases: dict[int, int] = {}
        for outbox_id, _, params in rows:
            case_id = params.get("case_id")
            if isinstance(case_id, int):
                cases[outbox_id] = case_id
        roles: dict[tuple[int, int], Role] = {}
        for chunk in in_chunks(sorted(set(cases.values()))):
            for case_id, person_id, role in self._s.execute(
                select(m.Membership.case_id, m.Membership.person_id, m.Membership.role).where(
                    m.Membership.case_id.in_(chunk)
                )
            ):
                roles[(case_id, person_id)] = Role(role)
        coordinators = self._coordinator_reads.coordinators_of(cases.values())
        found = []
        for outbox_id, person_id, _ in rows:
            case_id = cases.get(outbox_id)
            if case_id is None:
                continue
            role = roles.get((case_id, person_id), Role.CAREGIVER)
            found += [
                FailedFamilyReport(outbox_id, coordinator, case_id, role)
                for coordinator in coordinators[case_id]
            ]
        return found

    def closed_since(self, since: datetime) -> list[ClosedCase]:
        """Cases closed after `since`, with their family (consent in effect) and professionals."""
        cases = self._s.execute(
            select(m.Case.id, m.Case.reference, m.Case.closed_at).where(
                m.Case.status == "closed", m.Case.closed_at > since
            )
        ).all()
        members = self._members((c for c, _, _ in cases), CLOSING_ROLES)
        return [
            ClosedCase(case_id, reference, closed_at, tuple(members.get(case_id, ())))
            for case_id, reference, closed_at in cases
            if closed_at is not None
        ]
