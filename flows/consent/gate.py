"""Consent (samtycke) as the gate before every role's flow: when it takes over, and where to.

The engine runs this flow after a successful join and before the role's flow, and whenever
consent is missing or withdrawn, a caregiver has a child waiting for their consent, or the
person uses a privacy command (/samtycke, /minadata, /glommig). This module decides which
step comes first and routes each event to the module that owns its step:

- `asking.py`: explain, more, declined, about, meeting, age, waiting, sip
- `guardian.py`: guardian (a caregiver's yes for a child under the age limit)
- `status.py`: status, withdrawn, exchange (/samtycke)
- `rights.py`: rights, forget (/minadata, /glommig; a former member's rights)

Steps it owns: none; it picks the first step and routes each event to its owner.

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

from dataclasses import dataclass

from flows.consent import asking, guardian, rights, status
from flows.consent.steps import (
    DEFAULT_AGE_LIMIT,
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
from flows.replies import Reply, say

MEETING_INFO = asking.MEETING_INFO


@dataclass(frozen=True, slots=True)
class ConsentFlow:
    """Asks for, shows and withdraws consent; exports and erases on request."""

    age_limit: int = DEFAULT_AGE_LIMIT
    # The data controller named in the explanation; empty: the catalogue's generic words.
    operator: str = ""
    name: str = FLOW_NAME

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

    @property
    def home(self) -> FlowState:
        """The consent question."""
        return FlowState(flow=FLOW_NAME, step=Step.EXPLAIN.value)

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
        """Shows the current step again."""
        match Step(state.step):
            case Step.MORE:
                return asking.more(self)
            case Step.AGE:
                return asking.age()
            case Step.SIP:
                return asking.sip()
            case Step.STATUS:
                return status.status_or_explain(self, ctx)
            case Step.EXCHANGE:
                return status.exchange(ctx)
            case Step.FORGET:
                return rights.forget(ctx)
            case Step.WITHDRAWN:
                return status.withdrawn_offer()
            case Step.ABOUT:
                return asking.about()
            case Step.MEETING:
                inner = asking.meeting_inner(state)
                return asking.meeting(MEETING_INFO.resume(inner, ctx), ctx)
        return self.start(ctx)

    def help(self, state: FlowState) -> Reply:
        """Explains what the person can do here, and the privacy commands."""
        return say("consent.help")

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Routes the event to the handler of the current step."""
        if isinstance(event, CommandIssued) and event.command in PRIVACY_COMMANDS:
            return self.enter(event, ctx)
        if event == CommandIssued(Command.MEETING) and said_no(ctx):
            return self.enter(event, ctx)
        if ctx.actor.former and Step(state.step) not in FORMER_STEPS:
            # A question asked while they were in the case is not answered for it any more.
            return self.start(ctx)
        match Step(state.step):
            case Step.EXPLAIN | Step.MORE:
                return asking.on_explain(self, state, event, ctx)
            case Step.DECLINED:
                return asking.on_declined(self, event, ctx)
            case Step.ABOUT | Step.WAITING:
                return self.start(ctx)
            case Step.MEETING:
                inner = asking.meeting_inner(state)
                return asking.meeting(MEETING_INFO.handle(inner, event, ctx), ctx)
            case Step.AGE:
                return asking.on_age(self, event, ctx)
            case Step.SIP:
                return asking.on_sip(event, ctx)
            case Step.GUARDIAN:
                return guardian.on_guardian(self, state, event, ctx)
            case Step.STATUS:
                return status.on_status(self, event, ctx)
            case Step.EXCHANGE:
                return status.on_exchange(self, event, ctx)
            case Step.WITHDRAWN:
                return status.on_withdrawn(self, event, ctx)
            case Step.FORGET:
                return rights.on_forget(self, event, ctx)
        return self.start(ctx)
