"""One case as the journeys meet it: Alex (15), a caregiver, a network member, the
coordinator and a professional from BUP, with a meeting in a week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flows.domain import Role
from testkit.client import BotClient, FastBot
from testkit.memory.world import Case, Meeting, Organisation, Person


@dataclass
class Family:
    """The case, its people and the bot they talk to."""

    bot: FastBot
    case: Case
    bup: Organisation
    skola: Organisation
    meeting: Meeting
    coordinator: Person
    professional: Person

    def joined(self, code: str, user: str) -> BotClient:
        """A chat whose person has joined with this code (consent handled as the World says)."""
        client = self.bot.client(user)
        client.join(code)
        return client


def family(*, consent: bool = True) -> Family:
    """A case with invites YOUTH, CAREGIVER and NETWORK; staff already in it.

    `consent=False` starts with no consent given, so the consent gate asks first."""
    bot = FastBot()
    world = bot.world
    world.assume_consent = consent
    case = world.case("K-7")
    bup = world.organisation("BUP Norr", "bup", case.id)
    skola = world.organisation("Skolan", "skola", case.id)
    coordinator = world.person("Kim Samordnare", Role.COORDINATOR, case.id)
    professional = world.person("Pat Läkare", Role.PROFESSIONAL, case.id, organisation_id=bup.id)
    meeting = world.meeting(case.id, bot.clock.now + timedelta(days=7), 90)
    world.invite("YOUTH", case.id, Role.YOUTH, "Alex")
    world.invite("CAREGIVER", case.id, Role.CAREGIVER, "Robin")
    world.invite("NETWORK", case.id, Role.NETWORK, "Mormor Eva")
    return Family(bot, case, bup, skola, meeting, coordinator, professional)
