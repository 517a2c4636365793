"""Implements the flows' PrivacyPort: consent records, the age answer, withdrawal, erasure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from flows.domain import (
    ConsentScope,
    ConsentStatus,
    DataSummary,
    GuardianConsent,
    GuardianRequest,
    Role,
)
from storage import erasure
from storage import models as m
from storage.access import AccessDenied, AccessGate


class PrivacyRepository:
    """Consent, age, withdrawal, export and erasure on one session; never commits."""

    def __init__(self, session: Session, gate: AccessGate) -> None:
        self._s = session
        self._gate = gate

    def consent(self, person_id: int, case_id: int) -> ConsentStatus:
        """Where this person's consents stand in this case."""
        return self._gate.consent(person_id, case_id)

    def record_consent(
        self,
        person_id: int,
        case_id: int,
        scope: ConsentScope,
        given: bool,
        text_version: str,
        now: datetime,
        given_by: int | None = None,
    ) -> None:
        """Adds a consent row; older rows stay as the history of answers."""
        self._s.add(
            m.Consent(
                person_id=person_id,
                case_id=case_id,
                scope=scope.value,
                text_version=text_version,
                given=given,
                recorded_at=now,
                given_by_id=given_by,
            )
        )
        self._s.flush()
        self._gate.audit(
            now, given_by or person_id, case_id, f"consent_{scope.value}", "person", person_id
        )

    def record_age(self, person_id: int, under_limit: bool, age_limit: int, now: datetime) -> None:
        """Keeps only "under the limit or not" and the limit in force."""
        row = self._s.get(m.AgeStatement, person_id)
        if row is None:
            self._s.add(
                m.AgeStatement(
                    person_id=person_id,
                    under_limit=under_limit,
                    age_limit=age_limit,
                    recorded_at=now,
                )
            )
        else:
            row.under_limit, row.age_limit, row.recorded_at = under_limit, age_limit, now
        self._s.flush()

    def withdraw(self, person_id: int, case_id: int, now: datetime) -> int:
        """Revokes bot and SIP consent, then unshares every item of the person at once."""
        self._s.execute(
            update(m.Consent)
            .where(
                m.Consent.person_id == person_id,
                m.Consent.case_id == case_id,
                m.Consent.revoked_at.is_(None),
                m.Consent.given_by_id.is_(None),
            )
            .values(revoked_at=now)
        )
        stopped = self._unshare(person_id, case_id)
        self._gate.audit(now, person_id, case_id, "consent_withdrawn", "person", person_id)
        self._s.flush()
        return stopped

    def withdraw_guardian_consent(
        self, youth_id: int, case_id: int, caregiver_id: int, now: datetime
    ) -> int:
        """Revokes every caregiver's yes for the child in this case, and unshares the child's
        items at once. One caregiver's no is enough: a child under the age limit may only
        use the bot with a caregiver's yes, and the one who took it back has not given it."""
        if youth_id not in {
            c.youth_person_id for c in self.guardian_consents(caregiver_id, case_id)
        }:
            raise AccessDenied("only a caregiver of the case answers for its children")
        self._s.execute(
            update(m.Consent)
            .where(
                m.Consent.person_id == youth_id,
                m.Consent.case_id == case_id,
                m.Consent.given_by_id.is_not(None),
                m.Consent.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        stopped = self._unshare(youth_id, case_id)
        self._gate.audit(
            now, caregiver_id, case_id, "guardian_consent_withdrawn", "person", youth_id
        )
        self._s.flush()
        return stopped

    def _unshare(self, person_id: int, case_id: int) -> int:
        """Stops sharing every item of the person in the case; returns how many were shared."""
        stopped = 0
        for model, author in (
            (m.Question, m.Question.author_id),
            (m.View, m.View.author_id),
            (m.Preference, m.Preference.person_id),
        ):
            result = self._s.execute(
                update(model)
                .where(author == person_id, model.case_id == case_id, model.shared.is_(True))
                .values(shared=False)
            )
            stopped += getattr(result, "rowcount", 0)
        return stopped

    def guardian_requests(self, caregiver_id: int, case_id: int) -> tuple[GuardianRequest, ...]:
        """Children of the case under the age limit who said yes and wait for a caregiver."""
        return tuple(
            GuardianRequest(child.youth_person_id, child.youth_name)
            for child in self.guardian_consents(caregiver_id, case_id)
            if child.given is None
        )

    def guardian_consents(self, caregiver_id: int, case_id: int) -> tuple[GuardianConsent, ...]:
        """Children of the case under the age limit who said yes, with a caregiver's answer."""
        if Role.CAREGIVER not in self._gate.roles(caregiver_id, case_id):
            return ()
        youth = self._s.execute(
            select(m.Person.id, m.Person.display_name)
            .join(m.Membership, m.Membership.person_id == m.Person.id)
            .join(m.AgeStatement, m.AgeStatement.person_id == m.Person.id)
            .where(
                m.Membership.case_id == case_id,
                m.Membership.role == Role.YOUTH,
                m.Membership.active.is_(True),
                m.AgeStatement.under_limit.is_(True),
            )
            .order_by(m.Person.id)
        ).all()
        children: list[GuardianConsent] = []
        for person_id, name in youth:
            status = self._gate.consent(person_id, case_id)
            if status.bot is True:
                children.append(GuardianConsent(person_id, name, status.guardian))
        return tuple(children)

    def caregivers(self, case_id: int) -> tuple[int, ...]:
        """Active caregivers of the case."""
        return tuple(
            self._s.scalars(
                select(m.Membership.person_id)
                .where(
                    m.Membership.case_id == case_id,
                    m.Membership.role == Role.CAREGIVER,
                    m.Membership.active.is_(True),
                )
                .order_by(m.Membership.person_id)
            )
        )

    def data_summary(self, person_id: int) -> DataSummary:
        """How much is stored about the person."""
        return erasure.summary(self._s, person_id)

    def erase(self, person_id: int, now: datetime) -> DataSummary:
        """Erases the person; after the commit, SQLite's WAL is checkpointed and truncated."""
        removed = erasure.erase(self._s, person_id, now)
        bind = self._s.get_bind()

        @event.listens_for(self._s, "after_commit", once=True)
        def _scrub(_session: Session) -> None:
            erasure.scrub(bind.engine)

        return removed
