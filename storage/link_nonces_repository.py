"""Single use of the e-mail answer links, and who answers one (bot/email/answers.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from flows.domain import Actor, Role
from storage import models as m


class LinkNonceRepository:
    """The used nonces of answer links, on the unit of work's session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def is_used(self, nonce: str) -> bool:
        """True when a link with this nonce has already been answered."""
        return self._s.get(m.UsedLinkNonce, nonce) is not None

    def use(self, nonce: str, now: datetime, expires_at: datetime) -> None:
        """Records the nonce as used, in the transaction that applies the answer.

        Two answers of one link at the same moment both insert the nonce: the primary key
        lets one commit and the other fail with an IntegrityError (nothing of it is kept).
        """
        self._s.add(m.UsedLinkNonce(nonce=nonce, used_at=now, expires_at=expires_at))
        self._s.flush()

    def purge_expired(self, now: datetime) -> int:
        """Forgets the nonces of links that have expired (they are refused for that anyway)."""
        result = self._s.execute(delete(m.UsedLinkNonce).where(m.UsedLinkNonce.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)

    def actor_in_case(self, person_id: int, case_id: int) -> Actor | None:
        """The person as a member of this case (a coordinator's role first), or None.

        Only who they are in the case: whether they may read or change anything is still
        the access gate's answer, asked by the repositories the flow calls.
        """
        person = self._s.get(m.Person, person_id)
        if person is None:
            return None
        roles = self._s.scalars(
            select(m.Membership.role).where(
                m.Membership.person_id == person_id,
                m.Membership.case_id == case_id,
                m.Membership.active.is_(True),
            )
        ).all()
        if not roles:
            return None
        role = Role.COORDINATOR if Role.COORDINATOR in roles else roles[0]
        return Actor(person_id, case_id, role, person.display_name, person.locale)

    def locale_of(self, person_id: int) -> str | None:
        """The language the person reads, None for nobody."""
        return self._s.scalar(select(m.Person.locale).where(m.Person.id == person_id))
