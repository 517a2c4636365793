"""One transaction per handled event: every repository shares one session; only we commit."""

from __future__ import annotations

from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

# Registers the listener that never gives a meeting id out twice (SQLite reuses a top id).
import storage.meeting_ids  # noqa: F401
from storage.access import AccessGate

# The repositories are imported where first made, below: most of storage (and the flows
# ports it brings) is not needed before `samverkan run` polls (issue 26: start-up).
if TYPE_CHECKING:
    from flows.ports import Ports
    from flows.reminder_ports import ReminderPorts
    from storage.convening_repository import ConveningRepository
    from storage.coordinator_reminders_repository import CoordinatorReminderReads
    from storage.coordinators_repository import CoordinationRepository, GuardedMembershipRepository
    from storage.delivery_repository import LeaseRepository, ProcessRepository
    from storage.email_repository import EmailRepository
    from storage.families_repository import FamiliesRepository
    from storage.family_reports_repository import FamilyReportReads
    from storage.link_nonces_repository import LinkNonceRepository
    from storage.loop_repository import LoopRepository
    from storage.matrix_repository import MatrixRepository
    from storage.meeting_changes_repository import MeetingChangesRepository
    from storage.meeting_needs_repository import MeetingNeedsRepository
    from storage.meeting_notes_repository import MeetingNotesRepository
    from storage.outbox_repository import InboxRepository, OutboxRepository
    from storage.privacy_repository import PrivacyRepository
    from storage.reminders_repository import ReminderReads
    from storage.repositories import (
        AgendaRepository,
        AuditRepository,
        CaseAdminRepository,
        ConversationRepository,
        PreparationRepository,
    )
    from storage.sharing_repository import SharingRepository
    from storage.who_is_who_repository import WhoIsWhoRepository


class UnitOfWork:
    """A transaction with the repositories bound to it; rolls back unless committed.

    Repositories are made when first used: most units of work (marking one message sent,
    claiming a batch) touch one or two of them, and the access gate registers session
    listeners that every later statement would pay for. They all share the one session,
    so when one is made changes nothing about what it sees.
    """

    session: Session

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __enter__(self) -> UnitOfWork:
        # Entered again, it starts over: no repository of an earlier session is kept.
        sessions = self._sessions
        self.__dict__.clear()
        self._sessions = sessions
        self.session = self._sessions()
        return self

    @cached_property
    def gate(self) -> AccessGate:
        """The one access check of this transaction (its answers are cached per session)."""
        return AccessGate(self.session)

    @cached_property
    def members(self) -> GuardedMembershipRepository:
        """Membership, invites and coordinators' current case."""
        from storage.coordinators_repository import GuardedMembershipRepository

        return GuardedMembershipRepository(self.session)

    @cached_property
    def coordination(self) -> CoordinationRepository:
        """The coordinators' work on cases."""
        from storage.coordinators_repository import CoordinationRepository

        return CoordinationRepository(self.session, self.gate)

    @cached_property
    def meeting_changes(self) -> MeetingChangesRepository:
        """Meetings booked, moved and cancelled, and series kept ahead (issue 23)."""
        from storage.meeting_changes_repository import MeetingChangesRepository

        return MeetingChangesRepository(self.session, self.gate)

    @cached_property
    def convening(self) -> ConveningRepository:
        """Meeting requests answered in the chat and people the family suggests."""
        from storage.convening_repository import ConveningRepository

        return ConveningRepository(self.session, self.gate)

    @cached_property
    def preparation(self) -> PreparationRepository:
        """A member's preparation, behind the access gate."""
        from storage.repositories import PreparationRepository

        return PreparationRepository(self.session, self.gate)

    @cached_property
    def agenda(self) -> AgendaRepository:
        """What is shared with the meeting, behind the access gate."""
        from storage.repositories import AgendaRepository

        return AgendaRepository(self.session, self.gate)

    @cached_property
    def sharing(self) -> SharingRepository:
        """Sharing per reader and consent per organisation, behind the access gate."""
        from storage.sharing_repository import SharingRepository

        return SharingRepository(self.session, self.gate)

    @cached_property
    def privacy(self) -> PrivacyRepository:
        """Consent, export and erasure, behind the access gate."""
        from storage.privacy_repository import PrivacyRepository

        return PrivacyRepository(self.session, self.gate)

    @cached_property
    def conversations(self) -> ConversationRepository:
        """Conversation state with its version."""
        from storage.repositories import ConversationRepository

        return ConversationRepository(self.session)

    @cached_property
    def link_nonces(self) -> LinkNonceRepository:
        """Single use of the e-mail answer links."""
        from storage.link_nonces_repository import LinkNonceRepository

        return LinkNonceRepository(self.session)

    @cached_property
    def outbox(self) -> OutboxRepository:
        """Outgoing messages as rows."""
        from storage.outbox_repository import OutboxRepository

        return OutboxRepository(self.session)

    @cached_property
    def inbox(self) -> InboxRepository:
        """Inbound updates by platform id."""
        from storage.outbox_repository import InboxRepository

        return InboxRepository(self.session)

    @cached_property
    def audit(self) -> AuditRepository:
        """The audit trail."""
        from storage.repositories import AuditRepository

        return AuditRepository(self.session)

    @cached_property
    def cases(self) -> CaseAdminRepository:
        """Cases as the operator and the coordinator manage them."""
        from storage.repositories import CaseAdminRepository

        return CaseAdminRepository(self.session)

    @cached_property
    def matrix(self) -> MatrixRepository:
        """The Matrix adapter's rooms and sync position."""
        from storage.matrix_repository import MatrixRepository

        return MatrixRepository(self.session)

    @cached_property
    def email(self) -> EmailRepository:
        """E-mail addresses behind their opaque chat keys (bot/email/)."""
        from storage.email_repository import EmailRepository

        return EmailRepository(self.session)

    @cached_property
    def families(self) -> FamiliesRepository:
        """The families' side of a case."""
        from storage.families_repository import FamiliesRepository

        return FamiliesRepository(self.session, self.gate)

    @cached_property
    def loop(self) -> LoopRepository:
        """Check-in answers and answers to picture comments (flows.loop_ports.LoopPort)."""
        from storage.loop_repository import LoopRepository

        return LoopRepository(self.session, self.gate)

    @cached_property
    def who_is_who(self) -> WhoIsWhoRepository:
        """The case's organisations and people as "Vem är vem?" shows them, behind the gate."""
        from storage.who_is_who_repository import WhoIsWhoRepository

        return WhoIsWhoRepository(self.session, self.gate)

    @cached_property
    def meeting_needs(self) -> MeetingNeedsRepository:
        """Interpreter and other needs for the meeting, behind the access gate."""
        from storage.meeting_needs_repository import MeetingNeedsRepository

        return MeetingNeedsRepository(self.session, self.gate)

    @cached_property
    def meeting_notes(self) -> MeetingNotesRepository:
        """Notes from the meetings and the marks of shared questions, behind the gate."""
        from storage.meeting_notes_repository import MeetingNotesRepository

        return MeetingNotesRepository(self.session, self.gate)

    @cached_property
    def reminders(self) -> ReminderReads:
        """What reminder kinds read to find what is due (flows.reminder_ports.ReminderPorts)."""
        from storage.reminders_repository import ReminderReads

        return ReminderReads(self.families, self.gate)

    @cached_property
    def coordinator_reminders(self) -> CoordinatorReminderReads:
        """What the coordinator side's reminder kinds read and mark, kept for this transaction."""
        from storage.coordinator_reminders_repository import CoordinatorReminderReads

        return CoordinatorReminderReads(self.session, self.gate, self.coordination)

    @cached_property
    def family_reports(self) -> FamilyReportReads:
        """What the family's follow-up and the closing notices read, in this transaction."""
        from storage.family_reports_repository import FamilyReportReads

        return FamilyReportReads(self.session, self.gate, self.coordinator_reminders)

    @cached_property
    def processes(self) -> ProcessRepository:
        """Bot processes that share the database."""
        from storage.delivery_repository import ProcessRepository

        return ProcessRepository(self.session)

    @cached_property
    def leases(self) -> LeaseRepository:
        """Who polls which inbound channel."""
        from storage.delivery_repository import LeaseRepository

        return LeaseRepository(self.session)

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


def as_step_ports(uow: UnitOfWork) -> Ports:
    """The unit of work as a flow step's ports: mypy strict proves it has every port."""
    return uow


def as_reminder_ports(uow: UnitOfWork) -> ReminderPorts:
    """The unit of work as a reminder kind's ports: mypy strict proves it has every port."""
    return uow
