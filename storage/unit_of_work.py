"""One transaction per handled event: every repository shares one session; only we commit."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from storage.access import AccessGate
from storage.coordinators_repository import CoordinationRepository, GuardedMembershipRepository
from storage.delivery_repository import LeaseRepository, ProcessRepository
from storage.families_repository import FamiliesRepository
from storage.matrix_repository import MatrixRepository
from storage.outbox_repository import InboxRepository, OutboxRepository
from storage.privacy_repository import PrivacyRepository
from storage.repositories import (
    AgendaRepository,
    AuditRepository,
    CaseAdminRepository,
    ConversationRepository,
    PreparationRepository,
)


class UnitOfWork:
    """A transaction with the repositories bound to it; rolls back unless committed."""

    session: Session

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __enter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self.gate = AccessGate(self.session)
        self.members = GuardedMembershipRepository(self.session)
        self.coordination = CoordinationRepository(self.session)
        self.preparation = PreparationRepository(self.session, self.gate)
        self.agenda = AgendaRepository(self.session, self.gate)
        self.privacy = PrivacyRepository(self.session, self.gate)
        self.conversations = ConversationRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.inbox = InboxRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.cases = CaseAdminRepository(self.session)
        self.matrix = MatrixRepository(self.session)
        self.families = FamiliesRepository(self.session)
        self.processes = ProcessRepository(self.session)
        self.leases = LeaseRepository(self.session)
        return self

    def commit(self) -> None:
        """Commits everything done in this unit of work at once."""
        self.session.commit()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.rollback()
        self.session.close()
