"""/samtycke: what the person agreed to, and how to change it.

The status screen shows the person's consent to use the bot and to SIP sharing, and (for a
caregiver) each child they answer for. From it the person changes SIP sharing, gives or
withdraws consent to information exchange per organisation, or takes their own yes back;
after that they are offered erasure at once. A caregiver's buttons for a child are handled
by flows/consent/guardian.py.

Steps it owns: status, withdrawn, exchange.

```mermaid
stateDiagram-v2
    [*] --> status: /samtycke
    status --> sip: Ändra delning
    status --> withdrawn: Ta tillbaka
    status --> exchange: Vilka verksamheter
    exchange --> exchange: ja / nej per verksamhet
    exchange --> status: Klar
    withdrawn --> forget: Radera allt
    withdrawn --> explain: Behåll
    status --> guardian: Säg ja för barnet (vårdnadshavare)
    status --> [*]: Ta tillbaka ja för barnet (vårdnadshavare) / Tillbaka
```
"""

from __future__ import annotations

from flows.consent import asking, guardian, rights
from flows.consent.steps import (
    SIP_ROLES,
    Gate,
    Step,
    children,
    choice,
    consent_status,
    flow_state,
    requests,
)
from flows.conversation import Event
from flows.domain import CONSENTING_ROLES
from flows.engine import GATE_PASSED, StepContext, Transition
from flows.replies import Choice, Reply, say

# A choice on the exchange step: the organisation's id follows.
EXCHANGE_TOGGLE = "x:"


def status_or_explain(gate: Gate, ctx: StepContext) -> Transition:
    """/samtycke: what the person agreed to, and how to change it."""
    if ctx.actor.role not in CONSENTING_ROLES:
        return Transition(GATE_PASSED, (say("consent.at_work"),))
    status = consent_status(ctx)
    if status.bot is not True:
        # Someone who left the case is not asked to say yes to it again.
        return rights.rights() if ctx.actor.former else asking.explain(gate, ctx)
    waiting = requests(ctx)
    if waiting:
        # The notice told the caregiver to answer with /samtycke: the child comes first.
        return guardian.guardian(waiting[0].youth_person_id, waiting[0].youth_name)
    choices = [Choice("withdraw", "consent.status.withdraw")]
    if ctx.actor.role in SIP_ROLES and not ctx.actor.former:
        choices.insert(0, Choice("sip", "consent.status.sip"))
        # Samtycke till informationsutbyte per organisation, withdrawable one by one.
        choices.insert(1, Choice("exchange", "sharing.exchange.open"))
    kids = children(ctx)
    choices.extend(guardian.child_choices(kids))
    choices.append(Choice("back", "common.back"))
    reply = say(
        "consent.status",
        *choices,
        sip=status.sip,
        waiting=status.under_age_limit is True and status.guardian is not True,
        children=[{"name": c.youth_name, "given": c.given is True} for c in kids],
    )
    return Transition(flow_state(Step.STATUS), (reply,))


def on_status(gate: Gate, event: Event, ctx: StepContext) -> Transition:
    """Changes SIP sharing, withdraws consent (own, or a child's), or goes back."""
    chosen = choice(event) or ""
    if guardian.is_child_choice(chosen):
        return guardian.on_child(chosen, ctx) or status_or_explain(gate, ctx)
    match chosen:
        case "sip":
            return asking.sip()
        case "exchange":
            return exchange(ctx)
        case "withdraw":
            stopped = ctx.ports.privacy.withdraw(ctx.actor.person_id, ctx.actor.case_id, ctx.now)
            return withdrawn_offer(say("consent.withdrawn", stopped=stopped))
        case "back":
            return gate.start(ctx)
    return status_or_explain(gate, ctx)


def exchange(ctx: StepContext, *before: Reply) -> Transition:
    """Each organisation of the case, with whether it may read what the person shares."""
    consents = ctx.ports.sharing.exchange_consents(ctx.actor.person_id, ctx.actor.case_id)
    choices = [
        Choice(
            f"{EXCHANGE_TOGGLE}{c.organisation_id}",
            "sharing.exchange.org_yes" if c.in_effect else "sharing.exchange.org_no",
            {"name": c.name},
        )
        for c in consents
    ]
    reply = say("sharing.exchange", *choices, Choice("back", "sharing.choice.done"))
    return Transition(flow_state(Step.EXCHANGE), (*before, reply))


def on_exchange(gate: Gate, event: Event, ctx: StepContext) -> Transition:
    """Withdraws or gives the consent for the tapped organisation; at once."""
    chosen = choice(event) or ""
    if chosen.startswith(EXCHANGE_TOGGLE) and chosen[len(EXCHANGE_TOGGLE) :].isdigit():
        org = int(chosen[len(EXCHANGE_TOGGLE) :])
        sharing = ctx.ports.sharing
        current = {
            c.organisation_id: c.in_effect
            for c in sharing.exchange_consents(ctx.actor.person_id, ctx.actor.case_id)
        }
        if org in current:
            given = not current[org]
            sharing.set_exchange_consent(
                ctx.actor.person_id, ctx.actor.case_id, org, given, ctx.now
            )
            saved = "sharing.exchange.given" if given else "sharing.exchange.withdrawn"
            return exchange(ctx, say(saved))
        return exchange(ctx)
    return status_or_explain(gate, ctx)


def withdrawn_offer(*before: Reply) -> Transition:
    """After a withdrawal: offers to erase everything."""
    reply = say(
        "consent.withdrawn.offer",
        Choice("forget", "consent.withdrawn.forget"),
        Choice("keep", "consent.withdrawn.keep"),
    )
    return Transition(flow_state(Step.WITHDRAWN), (*before, reply))


def on_withdrawn(gate: Gate, event: Event, ctx: StepContext) -> Transition:
    """Erases everything if asked; otherwise whatever comes without consent now."""
    if choice(event) == "forget":
        return rights.forget(ctx)
    # Without consent now: declined, or (after leaving the case) the rights.
    return gate.start(ctx)
