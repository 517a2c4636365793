"""Consent (samtycke) as the gate before every role's flow: when it takes over, and where to.

The engine runs this flow after a successful join and before the role's flow, and whenever
consent is missing or withdrawn, a caregiver has a child waiting for their consent, or the
person uses a privacy command (/samtycke, /minadata, /glommig). This module decides which
step comes first and routes each event to the module that owns its step:

- `asking.py`: explain, more, declined, about, meeting, age, waiting, sip
- `guardian.py`: guardian (a caregiver's yes for a child under the age limit)
- `status.py`: status, withdrawn, exchange (/samtycke)
- `rights.py`: rights, forget (/minadata, /glommig; a former member's rights)

It declares no steps of its own: it picks the first step (below, by hand: it is code, not
a table), routes the privacy commands, and runs the steps the four modules declare.

```mermaid
stateDiagram-v2
    [*] --> rights: ärendet stängt / lämnat
    [*] --> explain: inget svar än
    [*] --> declined: sa nej (eller tog tillbaka sitt ja)
    [*] --> waiting: under åldersgränsen, ingen vårdnadshavare har sagt ja
    [*] --> guardian: ett barn väntar på mitt svar
    [*] --> sip: delning mellan verksamheter inte frågad (ung person, vårdnadshavare, nätverk)
    [*] --> status: /samtycke
    [*] --> forget: /glommig
    [*] --> [*]: samtycke finns (personal direkt), /minadata skickar filen
```
"""

from __future__ import annotations

from flows.consent import asking, guardian, rights, status
from flows.consent.steps import (
    DEFAULT_AGE_LIMIT,
    FIRST_STEPS,
    FLOW_NAME,
    FORMER_STEPS,
    PRIVACY_COMMANDS,
    SIP_ROLES,
    Step,
    consent_status,
    requests,
    said_no,
)
from flows.conversation import Command, CommandIssued, Event
from flows.domain import CONSENTING_ROLES
from flows.engine import GATE_PASSED, FlowState, StepContext, Transition
from flows.steps import StepFlow, declared

MEETING_INFO = asking.MEETING_INFO
# Steps shown again by asking the gate what is needed now: the answer may have come meanwhile
# (a caregiver said yes, the person said yes in another chat, the case closed).
RESUMED_BY_START = frozenset(
    {Step.EXPLAIN, Step.DECLINED, Step.WAITING, Step.GUARDIAN, Step.RIGHTS}
)
# Where the gate may take over from any step: a privacy command, /mote after a no, or the
# case closing (the overview above); the fast test client reads it from `leads`.
TAKEOVERS = frozenset({*FIRST_STEPS, Step.STATUS.value, Step.FORGET.value, Step.MEETING.value})


@declared
class ConsentFlow(StepFlow):
    """Asks for, shows and withdraws consent; exports and erases on request."""

    def __init__(self, age_limit: int = DEFAULT_AGE_LIMIT, operator: str = "") -> None:
        super().__init__(
            FLOW_NAME,
            (*asking.STEPS, *guardian.STEPS, *status.STEPS, *rights.STEPS),
            home_step=Step.EXPLAIN.value,
            help_prefix="consent.",
        )
        self.age_limit = age_limit
        # The data controller named in the explanation; empty: the catalogue's generic words.
        self.operator = operator

    def __eq__(self, other: object) -> bool:
        """Two gates are the same when their settings are (one per engine's configuration)."""
        if not isinstance(other, ConsentFlow):
            return NotImplemented
        return (self.age_limit, self.operator) == (other.age_limit, other.operator)

    def __hash__(self) -> int:
        """Hashed by its settings, as it compares."""
        return hash((self.age_limit, self.operator))

    def __repr__(self) -> str:
        """Its settings (the operator's name is configuration, not personal data)."""
        return f"ConsentFlow(age_limit={self.age_limit!r}, operator={self.operator!r})"

    def admits(self, event: Event, ctx: StepContext) -> bool:
        """Lets the role's flow go on only with consent and nothing waiting on this person."""
        if isinstance(event, CommandIssued) and event.command in PRIVACY_COMMANDS:
            return False
        if ctx.actor.role not in CONSENTING_ROLES:
            return True
        if not consent_status(ctx).effective:
            return False
        return not requests(ctx)

    def enter(self, event: Event, ctx: StepContext) -> Transition:
        """Takes over: a privacy command, a missing consent, or a child waiting for an answer."""
        if isinstance(event, CommandIssued):
            if event.command is Command.MY_DATA:
                return rights.export(self, ctx)
            if event.command is Command.FORGET:
                return rights.forget(ctx)
            if event.command is Command.CONSENT:
                return status.status_or_explain(self, ctx)
            if event.command is Command.MEETING and said_no(ctx):
                return asking.meeting(MEETING_INFO.start(ctx), ctx)
        return self.start(ctx)

    def start(self, ctx: StepContext) -> Transition:
        """Shows what is needed now: the explanation, the wait, or a child's request."""
        if ctx.actor.former:
            return rights.rights()
        if ctx.actor.role not in CONSENTING_ROLES:
            return Transition(GATE_PASSED, ())
        current = consent_status(ctx)
        if current.bot is None:
            return asking.explain(self, ctx)
        if current.bot is False:
            return asking.declined(ctx)
        if current.under_age_limit and current.guardian is not True:
            return asking.waiting(self, ctx)
        waiting = requests(ctx)
        if waiting:
            return guardian.guardian(waiting[0].youth_person_id, waiting[0].youth_name)
        if ctx.actor.role in SIP_ROLES and current.sip is None:
            return asking.sip()
        return Transition(GATE_PASSED, ())

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Shows the current step again (or what is needed now, for a question that may have
        been answered meanwhile)."""
        if state.step not in self.steps or state.step in RESUMED_BY_START:
            return self.start(ctx)
        return super().resume(state, ctx)

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Routes privacy commands itself; every other event goes by the current step's table."""
        if isinstance(event, CommandIssued) and event.command in PRIVACY_COMMANDS:
            return self.enter(event, ctx)
        if event == CommandIssued(Command.MEETING) and said_no(ctx):
            return self.enter(event, ctx)
        if state.step not in self.steps:
            return self.start(ctx)
        if ctx.actor.former and Step(state.step) not in FORMER_STEPS:
            # A question asked while they were in the case is not answered for it any more.
            return self.start(ctx)
        return super().handle(state, event, ctx)

    def leads(self, step: str) -> frozenset[str]:
        """The steps `step` may hand over to: its table's, and the gate's takeovers."""
        return super().leads(step) | TAKEOVERS
