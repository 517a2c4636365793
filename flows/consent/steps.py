"""The consent flow's shared words: its steps, its states, its choices and what it reads.

Every module of the consent flow speaks through these; none of them owns a step here (each
module declares the steps it owns in its own `STEPS`, flows/steps.py). Step names are stored in
conversation rows, so a value never changes once released.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, runtime_checkable

from flows.conversation import ChoiceMade, Command, Event, TextMessage
from flows.domain import (
    CONSENTING_ROLES,
    ConsentScope,
    ConsentStatus,
    GuardianConsent,
    GuardianRequest,
    Role,
)
from flows.engine import FlowState, StepContext, Transition
from flows.steps import DONE, Then, Turn
from flows.text_rules import same_label

FLOW_NAME = "consent"
# Bumped whenever the explanation's meaning changes; recorded with every consent.
TEXT_VERSION = "2026-11-23.2"
DEFAULT_AGE_LIMIT = 13
PRIVACY_COMMANDS = {Command.CONSENT, Command.MY_DATA, Command.FORGET}
# Roles whose shared items can go to several agencies, so they are asked about SIP sharing.
SIP_ROLES = {Role.YOUTH, Role.CAREGIVER, Role.NETWORK}


class Step(StrEnum):
    """The steps of the consent flow."""

    EXPLAIN = "explain"
    MORE = "more"
    DECLINED = "declined"
    AGE = "age"
    WAITING = "waiting"
    SIP = "sip"
    GUARDIAN = "guardian"
    STATUS = "status"
    WITHDRAWN = "withdrawn"
    FORGET = "forget"
    RIGHTS = "rights"
    ABOUT = "about"
    MEETING = "meeting"
    EXCHANGE = "exchange"


# The steps of someone whose case closed or who left it: their rights, nothing else.
FORMER_STEPS = frozenset({Step.STATUS, Step.WITHDRAWN, Step.FORGET, Step.RIGHTS})

# Where the gate goes on after a yes: whatever is still missing, or through (DONE).
AFTER_YES = (Step.WAITING.value, Step.GUARDIAN.value, Step.SIP.value, DONE)
# Every step the gate's `start` may show first (the overview in flows/consent/gate.py).
FIRST_STEPS = (Step.RIGHTS.value, Step.EXPLAIN.value, Step.DECLINED.value, *AFTER_YES)
# Every step of the flow explains the same thing: what consent is, and the privacy commands.
HELP = "consent.help"

# Typed answers to a yes/no question, in both languages (compared as flows.text_rules.same_label
# reads a label, without the punctuation around them): people type "ja" rather than a button's
# words. Only the yes/no questions read them; anywhere else they are text as usual.
TYPED_YES = frozenset(
    {"ja", "japp", "jepp", "jo", "okej", "ok", "okey", "ja tack", "absolut", "visst", "gärna"}
    | {"yes", "yeah", "yep", "sure", "okay", "yes please"}
)
TYPED_NO = frozenset({"nej", "nä", "nää", "nope", "no", "nej tack", "no thanks", "no thank you"})


@runtime_checkable
class Gate(Protocol):
    """What the steps need of the consent flow: its settings and its way back to the start."""

    @property
    def age_limit(self) -> int:
        """Under this age a caregiver must say yes as well."""
        ...

    @property
    def operator(self) -> str:
        """The data controller named in the explanation ("" for the catalogue's words)."""
        ...

    def start(self, ctx: StepContext) -> Transition:
        """Shows what is needed now: the explanation, the wait, or a child's request."""
        ...


def flow_state(step: Step, **data: str | int | None) -> FlowState:
    """A state of this flow."""
    return FlowState(flow=FLOW_NAME, step=step.value, data=data)


def choice(event: Event) -> str | None:
    """The id of the choice made, or None for any other event."""
    return event.choice_id if isinstance(event, ChoiceMade) else None


def yes_no(event: Event) -> str | None:
    """The choice made, or "yes"/"no" for a typed yes or no word; None for anything else."""
    if isinstance(event, TextMessage):
        typed = same_label(event.text.strip(" .!?,"))
        if typed in TYPED_YES:
            return "yes"
        if typed in TYPED_NO:
            return "no"
    return choice(event)


def consent_status(ctx: StepContext) -> ConsentStatus:
    """This person's consents in this case."""
    return ctx.ports.privacy.consent(ctx.actor.person_id, ctx.actor.case_id)


def said_no(ctx: StepContext) -> bool:
    """True when the person's own answer in force is no (said no, or took a yes back)."""
    return ctx.actor.role in CONSENTING_ROLES and consent_status(ctx).bot is False


def requests(ctx: StepContext) -> tuple[GuardianRequest, ...]:
    """Children waiting for this caregiver (none for other roles)."""
    if ctx.actor.role is not Role.CAREGIVER:
        return ()
    return ctx.ports.privacy.guardian_requests(ctx.actor.person_id, ctx.actor.case_id)


def children(ctx: StepContext) -> tuple[GuardianConsent, ...]:
    """Children under the age limit this caregiver answers for (none for other roles)."""
    if ctx.actor.role is not Role.CAREGIVER:
        return ()
    return ctx.ports.privacy.guardian_consents(ctx.actor.person_id, ctx.actor.case_id)


def record(ctx: StepContext, scope: ConsentScope, *, given: bool) -> None:
    """Records the person's own answer against this text version."""
    ctx.ports.privacy.record_consent(
        ctx.actor.person_id, ctx.actor.case_id, scope, given, TEXT_VERSION, ctx.now
    )


def gate_of(turn: Turn) -> Gate:
    """The consent flow running this turn: its age limit, its operator and its start."""
    if not isinstance(turn.flow, Gate):  # only the consent flow runs the consent steps
        raise TypeError(f"{turn.flow.name} is not the consent gate")
    return turn.flow


def _start(turn: Turn) -> Transition:
    """Whatever is needed now, as the gate starts (after an answer, or a tap on "Kolla")."""
    return gate_of(turn).start(turn.ctx)


def start_again(*to: str) -> Then:
    """A step that hands back to the gate's start, naming the steps that start can show from
    there (what is still needed now), or DONE when nothing is."""
    return Then(_start, to=to)
