"""What the flows read and write about sharing per reader (implemented by storage)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from flows.domain import Agenda
from flows.sharing import ExchangeConsent, Readers, ShareTarget


class SharingPort(Protocol):
    """Readers of shared items, the agenda per reader, consent per organisation."""

    def share(
        self,
        target: ShareTarget,
        item_id: int,
        person_id: int,
        readers: Readers | None,
        now: datetime,
    ) -> bool:
        """Shares an own item with these readers (None: stops sharing it)."""
        ...

    def chosen_readers(self, target: ShareTarget, item_id: int, person_id: int) -> Readers | None:
        """The readers the owner chose for an own shared item (None: not shared or default)."""
        ...

    def default_readers(self, person_id: int, case_id: int) -> Readers:
        """The readers of the person's items when they choose none (first-contact answer)."""
        ...

    def organisations(self, case_id: int) -> tuple[tuple[int, str], ...]:
        """The organisations of a case (id, name) an owner may choose."""
        ...

    def exchange_consents(self, person_id: int, case_id: int) -> Sequence[ExchangeConsent]:
        """The person's consent to information exchange with each organisation of the case."""
        ...

    def exchange_consents_of_case(
        self, coordinator_id: int, case_id: int
    ) -> Sequence[tuple[str, Sequence[ExchangeConsent]]]:
        """For the coordinator: each family member's consent per organisation."""
        ...

    def set_exchange_consent(
        self, person_id: int, case_id: int, organisation_id: int, given: bool, now: datetime
    ) -> None:
        """Records a yes or a withdrawal for one organisation; it counts at once."""
        ...

    def agenda(self, case_id: int, now: datetime, reader: int | None = None) -> Agenda:
        """The next meeting's agenda as one reader may read it (None: everything shared)."""
        ...
