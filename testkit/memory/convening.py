"""Convening in memory: meeting requests answered and people the family suggests
(flows/convening_port.py), as storage/convening_repository.py does behind the gate's rule 9:
only a case's coordinators read and answer its requests and decide its suggestions; only the
young person and the caregivers suggest someone."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flows.convening_port import OpenRequest, Suggestion, WaitingRequest
from flows.domain import AccessRefused, Role
from testkit.memory.coord_facts import RequestRecord, SuggestionRecord
from testkit.memory.coordination import coordinates, require_coordinator
from testkit.memory.world import World

# Who may suggest someone who matters: the young person and the caregivers.
SUGGESTING_ROLES = frozenset({Role.YOUTH, Role.CAREGIVER})


@dataclass
class MemoryConvening:
    """Implements flows.convening_port.ConveningPort on a World."""

    world: World

    # --- meeting requests ----------------------------------------------------------------

    def open_requests(self, coordinator_id: int) -> Sequence[OpenRequest]:
        """Unanswered requests of every open case this person coordinates, oldest first."""
        cases = self._coordinated(coordinator_id)
        return [
            self._request(r)
            for r in self._by_age(self.world.coord.requests.values())
            if r.case_id in cases and r.answered_at is None
        ]

    def open_request(self, request_id: int, coordinator_id: int) -> OpenRequest | None:
        """One unanswered request of a case this person coordinates; None otherwise."""
        record = self.world.coord.requests.get(request_id)
        if record is None or record.answered_at is not None:
            return None
        if record.case_id not in self._coordinated(coordinator_id):
            return None
        return self._request(record)

    def answer_request(
        self, request_id: int, coordinator_id: int, answer: str | None, now: datetime
    ) -> int | None:
        """Marks a request answered (words, or None for a booking); returns who asked."""
        record = self.world.coord.requests.get(request_id)
        if record is None or record.answered_at is not None:
            return None
        action = "answer" if answer is not None else "answer_by_booking"
        require_coordinator(self.world, coordinator_id, record.case_id, action)
        record.answered_at, record.answer = now, answer
        return record.requested_by

    def waiting_requests(self, asked_before: datetime) -> Sequence[WaitingRequest]:
        """Unanswered requests of open cases asked before this time, with the coordinators."""
        return [
            WaitingRequest(
                r.id,
                r.case_id,
                self.world.cases[r.case_id].reference,
                r.created_at,
                tuple(
                    sorted(
                        m.person_id
                        for m in self.world.members(r.case_id, frozenset({Role.COORDINATOR}))
                    )
                ),
            )
            for r in self._by_age(self.world.coord.requests.values())
            if r.answered_at is None
            and not self.world.cases[r.case_id].closed
            and r.created_at <= asked_before
        ]

    def still_waiting(self, request_ids: Sequence[int]) -> dict[int, str]:
        """Of these requests, the unanswered ones of open cases, with the case's reference."""
        found = {}
        for request_id in set(request_ids):
            record = self.world.coord.requests.get(request_id)
            if record is None or record.answered_at is not None:
                continue
            case = self.world.cases[record.case_id]
            if not case.closed:
                found[request_id] = case.reference
        return found

    # --- people who matter ---------------------------------------------------------------

    def suggest(self, case_id: int, person_id: int, name: str, relation: str, now: datetime) -> int:
        """Stores the young person's or a caregiver's suggestion; returns its id."""
        membership = self.world.membership(person_id, case_id)
        if (
            membership is None
            or not self.world.admitted(person_id, case_id)
            or membership.role not in SUGGESTING_ROLES
        ):
            raise AccessRefused("only the young person and caregivers suggest")
        record = SuggestionRecord(
            self.world.next_id("suggestion"), case_id, person_id, name, relation, now
        )
        self.world.coord.suggestions[record.id] = record
        self.world.coord.audit.append((person_id, case_id, "suggestion.create", record.id))
        return record.id

    def open_suggestions(self, coordinator_id: int) -> Sequence[Suggestion]:
        """Undecided suggestions of every open case this person coordinates, oldest first."""
        cases = self._coordinated(coordinator_id)
        return [
            self._suggestion(s)
            for s in sorted(
                self.world.coord.suggestions.values(), key=lambda s: (s.created_at, s.id)
            )
            if s.case_id in cases and s.decided_at is None
        ]

    def decide(
        self, suggestion_id: int, coordinator_id: int, approved: bool, now: datetime
    ) -> Suggestion | None:
        """Approves or declines an undecided suggestion (audited); None when not open."""
        record = self.world.coord.suggestions.get(suggestion_id)
        if record is None or record.decided_at is not None:
            return None
        action = "suggestion.approve" if approved else "suggestion.decline"
        require_coordinator(self.world, coordinator_id, record.case_id, action)
        record.decided_at, record.approved = now, approved
        return self._suggestion(record)

    # --- helpers -------------------------------------------------------------------------

    def _coordinated(self, person_id: int) -> set[int]:
        """The open cases this person is an active coordinator of."""
        return {
            m.case_id
            for m in self.world.memberships_of(person_id)
            if coordinates(self.world, person_id, m.case_id)
        }

    def _by_age(self, requests: Iterable[RequestRecord]) -> list[RequestRecord]:
        """Requests oldest first."""
        return sorted(requests, key=lambda r: (r.created_at, r.id))

    def _family_role(self, person_id: int | None, case_id: int) -> Role | None:
        """The role of who asked or suggested, if they are still a member (not staff)."""
        if person_id is None:
            return None
        membership = self.world.membership(person_id, case_id)
        if membership is None or membership.role is Role.COORDINATOR:
            return None
        return membership.role

    def _name(self, person_id: int | None) -> str | None:
        """A person's name, or None when they are gone."""
        person = None if person_id is None else self.world.people.get(person_id)
        return None if person is None else person.name

    def _request(self, record: RequestRecord) -> OpenRequest:
        """A request record as the coordinator sees it."""
        return OpenRequest(
            record.id,
            record.case_id,
            self.world.cases[record.case_id].reference,
            record.reason,
            record.created_at,
            record.requested_by,
            self._name(record.requested_by),
            self._family_role(record.requested_by, record.case_id),
        )

    def _suggestion(self, record: SuggestionRecord) -> Suggestion:
        """A suggestion record with who suggested it."""
        return Suggestion(
            record.id,
            record.case_id,
            self.world.cases[record.case_id].reference,
            record.name,
            record.relation,
            record.suggested_by,
            self._name(record.suggested_by),
            self._family_role(record.suggested_by, record.case_id),
            record.created_at,
        )
