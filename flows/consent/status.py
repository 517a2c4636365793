"""/samtycke: what the person agreed to, and how to change it.

The status screen shows the person's consent to use the bot and to SIP sharing, and (for a
caregiver) each child they answer for. From it the person changes SIP sharing, gives or
withdraws consent to information exchange per organisation, or takes their own yes back;
after that they are offered erasure at once. A caregiver's buttons for a child are handled
by flows/consent/guardian.py.

Its steps are declared in `STEPS` at the bottom (the diagram is generated from them).
/samtycke opens `status` from anywhere (flows/consent/gate.py); without a yes in force it
shows the explanation instead (or, for a former member, the rights), and a child waiting for
this caregiver comes first.

```mermaid
stateDiagram-v2
    status --> sip: sip / back
    status --> exchange: exchange
    status --> withdrawn: withdraw
    status --> [*]: child_withdraw / back / (shown instead)
    status --> guardian: child_give / back / (shown instead)
    status --> rights: back / (shown instead)
    status --> waiting: back
    status --> status: otherwise
    status --> explain: (shown instead)
    exchange --> status: x / otherwise
    withdrawn --> forget: forget
    withdrawn --> declined: otherwise
    withdrawn --> rights: otherwise
```
"""

from __future__ import annotations

from flows.consent import asking, guardian, rights
from flows.consent.steps import (
    AFTER_YES,
    HELP,
    SIP_ROLES,
    Gate,
    Step,
    children,
    consent_status,
    flow_state,
    gate_of,
    requests,
    start_again,
)
from flows.domain import CONSENTING_ROLES
from flows.engine import GATE_PASSED, StepContext, Transition
from flows.replies import Choice, Reply, say
from flows.steps import DONE, Go, Then, Turn
from flows.steps import Step as StepDef

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


def _child(turn: Turn) -> Transition:
    """A caregiver's button for a child (flows/consent/guardian.py); a stale one shows the
    status again."""
    return guardian.on_child(turn.choice or "", turn.ctx) or _show_status(turn)


def _withdraw(turn: Turn) -> Transition:
    """Takes the person's own yes back (their sharing stops at once), and offers erasure."""
    ctx = turn.ctx
    stopped = ctx.ports.privacy.withdraw(ctx.actor.person_id, ctx.actor.case_id, ctx.now)
    return withdrawn_offer(say("consent.withdrawn", stopped=stopped))


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


def _toggle(turn: Turn) -> Transition:
    """Withdraws or gives the consent for the tapped organisation ("x:3"); at once."""
    ctx = turn.ctx
    org_id = (turn.choice or "")[len(EXCHANGE_TOGGLE) :]
    if not org_id.isdigit():
        return _show_status(turn)
    org = int(org_id)
    sharing = ctx.ports.sharing
    current = {
        c.organisation_id: c.in_effect
        for c in sharing.exchange_consents(ctx.actor.person_id, ctx.actor.case_id)
    }
    if org not in current:
        return exchange(ctx)
    given = not current[org]
    sharing.set_exchange_consent(ctx.actor.person_id, ctx.actor.case_id, org, given, ctx.now)
    saved = "sharing.exchange.given" if given else "sharing.exchange.withdrawn"
    return exchange(ctx, say(saved))


def withdrawn_offer(*before: Reply) -> Transition:
    """After a withdrawal: offers to erase everything."""
    reply = say(
        "consent.withdrawn.offer",
        Choice("forget", "consent.withdrawn.forget"),
        Choice("keep", "consent.withdrawn.keep"),
    )
    return Transition(flow_state(Step.WITHDRAWN), (*before, reply))


def _show_status(turn: Turn) -> Transition:
    """The status screen (or what comes first: a child's request, the explanation)."""
    return status_or_explain(gate_of(turn), turn.ctx)


def _show_exchange(turn: Turn) -> Transition:
    """Each organisation, with whether it may read what the person shares."""
    return exchange(turn.ctx)


def _show_withdrawn(turn: Turn) -> Transition:
    """The offer to erase everything."""
    return withdrawn_offer()


# What /samtycke shows instead of the status, when the person has no yes in force or a child
# is waiting (status_or_explain).
_INSTEAD = (DONE, Step.RIGHTS.value, Step.EXPLAIN.value, Step.GUARDIAN.value)
TO_STATUS = Go(Step.STATUS.value)

STEPS = (
    StepDef(
        Step.STATUS.value,
        show=_show_status,
        choices={
            "sip": Go(Step.SIP.value),
            "exchange": Go(Step.EXCHANGE.value),
            "withdraw": Then(_withdraw, to=(Step.WITHDRAWN.value,)),
            # A caregiver's buttons for each child: take the yes back, or give it.
            guardian.CHILD_WITHDRAW: Then(_child, to=(DONE,)),
            guardian.CHILD_GIVE: Then(_child, to=(Step.GUARDIAN.value,)),
            # Back: whatever is still needed now (a child, SIP), or the role's flow.
            "back": start_again(Step.RIGHTS.value, *AFTER_YES),
        },
        otherwise=TO_STATUS,
        handovers=_INSTEAD,
        help=HELP,
    ),
    StepDef(
        Step.EXCHANGE.value,
        show=_show_exchange,
        choices={EXCHANGE_TOGGLE: Then(_toggle, to=(Step.STATUS.value,))},
        # "Klar", and anything else: the status again.
        otherwise=TO_STATUS,
        help=HELP,
    ),
    StepDef(
        Step.WITHDRAWN.value,
        show=_show_withdrawn,
        choices={"forget": Go(Step.FORGET.value)},
        # Keeping it: whatever comes without consent now (declined, or the rights).
        otherwise=start_again(Step.DECLINED.value, Step.RIGHTS.value),
        help=HELP,
    ),
)
