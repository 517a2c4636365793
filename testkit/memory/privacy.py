"""PrivacyPort in memory: consent, the age answer, withdrawal, export counts and erasure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from flows.domain import (
    ConsentScope,
    ConsentStatus,
    DataSummary,
    GuardianConsent,
    GuardianRequest,
    Role,
)
from testkit.memory.access import MemoryAccessRefused, roles
from testkit.memory.families import MemoryFamilies
from testkit.memory.preparation import MemoryPreparation
from testkit.memory.world import ConsentAnswer, World


@dataclass
class MemoryPrivacy:
    """Consent answers on the World; withdrawing stops the person's sharing at once."""

    world: World
    preparation: MemoryPreparation
    families: MemoryFamilies

    def consent(self, person_id: int, case_id: int) -> ConsentStatus:
        """Where this person's consents stand in this case."""
        return self.world.consent_status(person_id, case_id)

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
        """Adds a consent answer; older answers stay as the history."""
        self.world.consents.append(ConsentAnswer(person_id, case_id, scope, given, given_by, now))

    def record_age(self, person_id: int, under_limit: bool, age_limit: int, now: datetime) -> None:
        """Keeps only "under the limit or not"."""
        self.world.under_age[person_id] = under_limit

    def withdraw(self, person_id: int, case_id: int, now: datetime) -> int:
        """Revokes the person's own bot and SIP consent, then unshares every item at once."""
        for scope in ConsentScope:
            self.world.consents.append(ConsentAnswer(person_id, case_id, scope, False, None, now))
        return self._unshare(person_id, case_id)

    def guardian_requests(self, caregiver_id: int, case_id: int) -> tuple[GuardianRequest, ...]:
        """Children of the case under the age limit who said yes and wait for a caregiver."""
        return tuple(
            GuardianRequest(c.youth_person_id, c.youth_name)
            for c in self.guardian_consents(caregiver_id, case_id)
            if c.given is None
        )

    def guardian_consents(self, caregiver_id: int, case_id: int) -> tuple[GuardianConsent, ...]:
        """Children of the case under the age limit who said yes, with a caregiver's answer."""
        if Role.CAREGIVER not in roles(self.world, caregiver_id, case_id):
            return ()
        children: list[GuardianConsent] = []
        for youth in sorted(
            self.world.members(case_id, frozenset({Role.YOUTH})), key=lambda m: m.person_id
        ):
            if self.world.under_age.get(youth.person_id) is not True:
                continue
            status = self.world.consent_status(youth.person_id, case_id)
            if status.bot is True:
                children.append(
                    GuardianConsent(youth.person_id, youth.display_name, status.guardian)
                )
        return tuple(children)

    def withdraw_guardian_consent(
        self, youth_id: int, case_id: int, caregiver_id: int, now: datetime
    ) -> int:
        """A caregiver takes back the yes for a child: the child's sharing stops at once."""
        if youth_id not in {
            c.youth_person_id for c in self.guardian_consents(caregiver_id, case_id)
        }:
            raise MemoryAccessRefused("only a caregiver of the case answers for its children")
        self.world.consents.append(
            ConsentAnswer(youth_id, case_id, ConsentScope.BOT, False, caregiver_id, now)
        )
        return self._unshare(youth_id, case_id)

    def caregivers(self, case_id: int) -> tuple[int, ...]:
        """Person ids of the active caregivers of a case."""
        return tuple(
            sorted(m.person_id for m in self.world.members(case_id, frozenset({Role.CAREGIVER})))
        )

    def data_summary(self, person_id: int) -> DataSummary:
        """How many things of each kind are stored about the person."""
        counts: dict[str, int] = {}

        def count(kind: str, n: int) -> None:
            """Adds n things of a kind (none: not listed)."""
            if n:
                counts[kind] = counts.get(kind, 0) + n

        for item in self.preparation.items.values():
            if item.owner == person_id:
                count(item.kind.value, 1)
        count(
            "family_item", sum(s.item.author_id == person_id for s in self.families.items.values())
        )
        count("picture_response", sum(p == person_id for _, p in self.families.answers))
        count(
            "meeting_request",
            sum(r.requested_by == person_id for r in self.world.coord.requests.values()),
        )
        count("consent", sum(c.person_id == person_id for c in self.world.consents))
        count("age", int(person_id in self.world.under_age))
        count("membership", sum(m.person_id == person_id for m in self.world.memberships))
        count("account", sum(p == person_id for p in self.world.chat_users.values()))
        return DataSummary(tuple(sorted(counts.items())))

    def erase(self, person_id: int, now: datetime) -> DataSummary:
        """Erases everything about the person; returns what was removed."""
        removed = self.data_summary(person_id)
        self.preparation.items = {
            k: v for k, v in self.preparation.items.items() if v.owner != person_id
        }
        self.families.items = {
            k: v for k, v in self.families.items.items() if v.item.author_id != person_id
        }
        self.families.answers = {
            k: v for k, v in self.families.answers.items() if k[1] != person_id
        }
        self.world.coord.requests = {
            k: v for k, v in self.world.coord.requests.items() if v.requested_by != person_id
        }
        self.world.consents = [c for c in self.world.consents if c.person_id != person_id]
        self.world.under_age.pop(person_id, None)
        self.world.memberships = [m for m in self.world.memberships if m.person_id != person_id]
        self.world.chat_users = {k: p for k, p in self.world.chat_users.items() if p != person_id}
        self.world.chats = [(p, ref) for p, ref in self.world.chats if p != person_id]
        self.world.people.pop(person_id, None)
        return removed

    def _unshare(self, person_id: int, case_id: int) -> int:
        """Stops sharing every own item of the person in the case; how many were shared."""
        stopped = 0
        for item_id, item in list(self.preparation.items.items()):
            if (item.owner, item.case_id) == (person_id, case_id) and item.shared:
                self.preparation.items[item_id] = replace(item, shared=False)
                stopped += 1
        return stopped
