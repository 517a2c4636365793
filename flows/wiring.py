"""Which flow each role talks to, the sidetracks every member can open, and the consent gate."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from flows.agenda_reading import AgendaReading
from flows.cannot_come import CannotCome
from flows.caregiver_prep import CaregiverPreparation
from flows.checkin import Checkin
from flows.consent import DEFAULT_AGE_LIMIT, ConsentFlow
from flows.convening import Convening
from flows.coordinator import CoordinatorFlow
from flows.domain import Role
from flows.engine import Engine
from flows.family_plan import FamilyPlan
from flows.help_now import HelpNow
from flows.language import LanguageChoice
from flows.meeting_info import MeetingInformation
from flows.meeting_needs import MeetingNeedsFlow
from flows.meeting_notes import MeetingNotesView
from flows.meeting_request import MeetingRequestFlow
from flows.member_home import MemberHome
from flows.people_who_matter import PeopleWhoMatter
from flows.picture_loop import PictureLoop
from flows.private_chat import PrivateChatOnly
from flows.professional import ProfessionalHome
from flows.youth_prep import YouthPreparation

DEFAULT_LOCALES = ("sv", "en")
DEFAULT_TIMEZONE = "Europe/Stockholm"  # the default of [bot] timezone (bot/config.py)


def default_engine(
    locales: Sequence[str] = DEFAULT_LOCALES,
    consent_age: int = DEFAULT_AGE_LIMIT,
    operator: str = "",
    timezone: str = DEFAULT_TIMEZONE,
    email_invites: bool = False,
) -> Engine:
    """The engine with every flow that exists, by role; `locales` are the languages offered.

    Consent comes before everything (flows/consent/): after joining, and whenever it is
    missing or withdrawn; young people under `consent_age` need a caregiver's yes too.
    `operator` is who runs the bot, named in the consent explanation. `timezone` ([bot]
    timezone) is where "15 dec 13.00" and "i morgon" are read for meetings and plan dates.
    `email_invites` ([email] enabled) lets a coordinator invite a professional by e-mail, and
    a professional choose reminders by e-mail in the chat.
    """
    zone = ZoneInfo(timezone)
    caregiver = CaregiverPreparation(timezone=zone)
    language = LanguageChoice(tuple(locales))
    return Engine(
        {
            # The young person's own words are never shown in a group chat (the adults read it).
            Role.YOUTH: PrivateChatOnly(
                YouthPreparation(), "youth.private_only", "youth.private_only_help"
            ),
            Role.CAREGIVER: caregiver,
            Role.NETWORK: caregiver,
            Role.COORDINATOR: CoordinatorFlow(timezone=zone, email_invites=email_invites),
            Role.PROFESSIONAL: ProfessionalHome(timezone=zone, email=email_invites),
        },
        fallback=MemberHome(),
        sidetracks=(
            MeetingInformation(),
            PictureLoop(),
            MeetingRequestFlow(),
            language,
            HelpNow(),
            FamilyPlan(timezone=zone),
            Checkin(),
            MeetingNeedsFlow(),
            MeetingNotesView(),
            Convening(),
            PeopleWhoMatter(),
            CannotCome(),
            AgendaReading(),
        ),
        gate=ConsentFlow(age_limit=consent_age, operator=operator),
        before_consent=(language,),
        guess_locale=language.guess,
    )
