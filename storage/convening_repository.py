"""Convening behind the access gate: meeting requests answered in the chat, and people the
family suggests (flows/convening_port.py is the port; storage/access.py rule 9 the rule)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.convening_port import OpenRequest, Suggestion, WaitingRequest
from flows.domain import Role
from storage import models as m
from storage.access import AccessGate, Purpose
from storage.db import in_chunks

# Who may suggest someone who matters: the young person and the caregivers.
SUGGESTING_ROLES = frozenset({Role.YOUTH, Role.CAREGIVER})


class ConveningRepository:
    """What the coordinator answers and decides, and what the family suggests."""

    def __init__(self, session: Session, gate: AccessGate) -> None:
        self._s = session
        self._gate = gate

    # --- meeting requests -------------------------------------------------------------------

    def open_requests(self, coordinator_id: int) -> Sequence[OpenRequest]:
        """Unanswered requests of every open case this person coordinates, oldest first."""
        result: list[OpenRequest] = []
        for case_id in self._coordinated(coordinator_id):
            self._gate.requests_reader(coordinator_id, case_id)
            result += self._requests(case_id)
        return sorted(result, key=lambda r: (r.created_at, r.id))

    def open_request(self, request_id: int, coordinator_id: int) -> OpenRequest | None:
        """One unanswered request of a case this person coordinates; None otherwise."""
        row = self._s.get(m.MeetingRequest, request_id)
        if row is None or row.answered_at is not None:
            return None
        if row.case_id not in self._coordinated(coordinator_id):
            return None
        self._gate.requests_reader(coordinator_id, row.case_id)
        return next((r for r in self._requests(row.case_id) if r.id == request_id), None)

    def answer_request(
        self, request_id: int, coordinator_id: int, answer: str | None, now: datetime
    ) -> int | None:
        """Marks a request answered (words, or None for a booking); returns who asked."""
        row = self._s.get(m.MeetingRequest, request_id)
        if row is None or row.answered_at is not None:
            return None
        action = "answer" if answer is not None else "answer_by_booking"
        self._gate.require_coordinator(
            coordinator_id, row.case_id, now, action, "meeting_request", request_id
        )
        row.answered_at, row.answer = now, answer
        self._s.flush()
        return row.requested_by_id

    def waiting_requests(self, asked_before: datetime) -> Sequence[WaitingRequest]:
        """Unanswered requests of open cases asked before this time, with the coordinators."""
        self._gate.require_purpose(self._gate.for_system(Purpose.REPORT), Purpose.REPORT)
        rows = self._s.execute(
            select(m.MeetingRequest.id, m.MeetingRequest.case_id, m.Case.reference)
            .add_columns(m.MeetingRequest.created_at)
            .join(m.Case, m.Case.id == m.MeetingRequest.case_id)
            .where(
                m.Case.status == "open",
                m.MeetingRequest.answered_at.is_(None),
                m.MeetingRequest.created_at <= asked_before,
            )
            .order_by(m.MeetingRequest.created_at, m.MeetingRequest.id)
        ).all()
        coordinators = self._coordinators({case_id for _, case_id, _, _ in rows})
        return [
            WaitingRequest(rid, case_id, ref, created, coordinators.get(case_id, ()))
            for rid, case_id, ref, created in rows
        ]

    def still_waiting(self, request_ids: Sequence[int]) -> dict[int, str]:
        """Of these requests, the unanswered ones of open cases, with the case's reference."""
        self._gate.require_purpose(self._gate.for_system(Purpose.REPORT), Purpose.REPORT)
        found: dict[int, str] = {}
        for chunk in in_chunks(sorted(set(request_ids))):
            rows = self._s.execute(
                select(m.MeetingRequest.id, m.Case.reference)
                .join(m.Case, m.Case.id == m.MeetingRequest.case_id)
                .where(
                    m.MeetingRequest.id.in_(chunk),
                    m.MeetingRequest.answered_at.is_(None),
                    m.Case.status == "open",
                )
            ).all()
            found.update({rid: ref for rid, ref in rows})
        return found

    def _requests(self, case_id: int) -> list[OpenRequest]:
        """A case's unanswered requests with who asked (the callers have asked the gate)."""
        rows = self._s.execute(
            select(m.MeetingRequest, m.Person.display_name, m.Case.reference)
            .join(m.Case, m.Case.id == m.MeetingRequest.case_id)
            .outerjoin(m.Person, m.Person.id == m.MeetingRequest.requested_by_id)
            .where(m.MeetingRequest.case_id == case_id, m.MeetingRequest.answered_at.is_(None))
            .order_by(m.MeetingRequest.created_at, m.MeetingRequest.id)
        ).all()
        roles = self._family_roles(case_id)
        return [
            OpenRequest(
                row.id,
                case_id,
                reference,
                row.reason,
                row.created_at,
                row.requested_by_id,
                name,
                roles.get(row.requested_by_id) if row.requested_by_id else None,
            )
            for row, name, reference in rows
        ]

    # --- people who matter ------------------------------------------------------------------

    def suggest(self, case_id: int, person_id: int, name: str, relation: str, now: datetime) -> int:
        """Stores the young person's or a caregiver's suggestion; returns its id."""
        self._gate.require_role(
            person_id, case_id, SUGGESTING_ROLES, "only the young person and caregivers suggest"
        )
        row = m.SuggestedPerson(
            case_id=case_id, suggested_by_id=person_id, name=name, relation=relation, created_at=now
        )
        self._s.add(row)
        self._s.flush()
        self._gate.audit(now, person_id, case_id, "suggestion.create", "suggested_person", row.id)
        return row.id

    def open_suggestions(self, coordinator_id: int) -> Sequence[Suggestion]:
        """Undecided suggestions of every open case this person coordinates, oldest first."""
        result: list[Suggestion] = []
        for case_id in self._coordinated(coordinator_id):
            self._gate.requests_reader(coordinator_id, case_id)
            rows = self._s.execute(
                select(m.SuggestedPerson)
                .where(m.SuggestedPerson.case_id == case_id, m.SuggestedPerson.decided_at.is_(None))
                .order_by(m.SuggestedPerson.created_at, m.SuggestedPerson.id)
            ).scalars()
            result += [self._suggestion(row) for row in rows]
        return sorted(result, key=lambda s: (s.created_at, s.id))

    def decide(
        self, suggestion_id: int, coordinator_id: int, approved: bool, now: datetime
    ) -> Suggestion | None:
        """Approves or declines an undecided suggestion (audited); None when not open."""
        row = self._s.get(m.SuggestedPerson, suggestion_id)
        if row is None or row.decided_at is not None:
            return None
        action = "suggestion.approve" if approved else "suggestion.decline"
        self._gate.require_coordinator(
            coordinator_id, row.case_id, now, action, "suggested_person", suggestion_id
        )
        row.decided_at, row.approved = now, approved
        self._s.flush()
        return self._suggestion(row)

    def _suggestion(self, row: m.SuggestedPerson) -> Suggestion:
        """A suggestion row as a domain value, with who suggested it (callers asked the gate)."""
        by = self._s.get(m.Person, row.suggested_by_id) if row.suggested_by_id else None
        role = self._family_roles(row.case_id).get(by.id) if by else None
        reference = self._s.get_one(m.Case, row.case_id).reference
        return Suggestion(
            row.id,
            row.case_id,
            reference,
            row.name,
            row.relation,
            row.suggested_by_id,
            by.display_name if by else None,
            role,
            row.created_at,
        )

    # --- who is who -------------------------------------------------------------------------

    def _coordinated(self, person_id: int) -> list[int]:
        """The open cases this person is an active coordinator of."""
        return list(
            self._s.scalars(
                select(m.Membership.case_id)
                .join(m.Case, m.Case.id == m.Membership.case_id)
                .where(
                    m.Membership.person_id == person_id,
                    m.Membership.role == Role.COORDINATOR,
                    m.Membership.active.is_(True),
                    m.Case.status == "open",
                )
                .order_by(m.Membership.case_id)
            )
        )

    def _coordinators(self, case_ids: set[int]) -> dict[int, tuple[int, ...]]:
        """The active coordinators of these cases."""
        found: dict[int, list[int]] = {}
        for chunk in in_chunks(sorted(case_ids)):
            rows = self._s.execute(
                select(m.Membership.case_id, m.Membership.person_id)
                .where(
                    m.Membership.case_id.in_(chunk),
                    m.Membership.role == Role.COORDINATOR,
                    m.Membership.active.is_(True),
                )
                .order_by(m.Membership.person_id)
            ).all()
            for case_id, person_id in rows:
                found.setdefault(case_id, []).append(person_id)
        return {case_id: tuple(people) for case_id, people in found.items()}

    def _family_roles(self, case_id: int) -> dict[int, Role]:
        """Each active family member's role in a case (to name who asked or suggested)."""
        rows = self._s.execute(
            select(m.Membership.person_id, m.Membership.role).where(
                m.Membership.case_id == case_id, m.Membership.active.is_(True)
            )
        ).all()
        return {person: role for person, role in rows if role is not Role.COORDINATOR}
