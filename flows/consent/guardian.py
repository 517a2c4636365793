"""A caregiver's consent for a child under the age limit.

A child under the limit waits (the `waiting` step of flows/consent/asking.py) until a
caregiver of the same case says yes, in their own chat. The caregiver can take that yes back
from /samtycke (flows/consent/status.py), and the child's sharing stops at once; or give it
after a no. The caregiver cannot erase the child's words: they are the child's, private even
from caregivers; only the child can, with /glommig. The child is told each answer.

Steps it owns: guardian.

```mermaid
stateDiagram-v2
    [*] --> guardian: ett barn väntar på mitt svar (eller /samtycke)
    guardian --> guardian: inte ja eller nej
    guardian --> [*]: Ja / Nej (barnet får veta)
    status --> guardian: Säg ja för barnet (vårdnadshavare)
    status --> [*]: Ta tillbaka ja för barnet (delningen stoppas direkt)
```
"""

from __future__ import annotations

from flows.consent.steps import TEXT_VERSION, Gate, Step, children, flow_state, yes_no
from flows.conversation import Event
from flows.domain import ConsentScope, GuardianConsent
from flows.engine import GATE_PASSED, FlowState, Notice, StepContext, Transition
from flows.replies import Choice, Reply, say

YES = Choice("yes", "consent.yes")
NO = Choice("no", "consent.no")
# Choice ids on a caregiver's /samtycke screen, followed by the child's person id.
CHILD_WITHDRAW = "child_withdraw:"
CHILD_GIVE = "child_give:"


def guardian(youth_id: int, youth_name: str, *before: Reply) -> Transition:
    """Asks a caregiver to consent for a child under the age limit."""
    reply = say("consent.guardian", YES, NO, name=youth_name)
    return Transition(
        flow_state(Step.GUARDIAN, youth=youth_id, youth_name=youth_name), (*before, reply)
    )


def on_guardian(gate: Gate, state: FlowState, event: Event, ctx: StepContext) -> Transition:
    """Records a caregiver's answer for a child, and tells the child."""
    youth = int(state.data.get("youth") or 0)
    name = str(state.data.get("youth_name") or "")
    answer = yes_no(event)
    # Asked for the first time, or asked again from /samtycke after a no.
    waiting = {c.youth_person_id for c in children(ctx) if c.given is not True}
    if youth not in waiting:
        return gate.start(ctx)
    if answer not in ("yes", "no"):
        return guardian(youth, name, say("consent.choose"))
    given = answer == "yes"
    ctx.ports.privacy.record_consent(
        youth,
        ctx.actor.case_id,
        ConsentScope.BOT,
        given,
        TEXT_VERSION,
        ctx.now,
        given_by=ctx.actor.person_id,
    )
    notice = Notice(
        say(f"consent.guardian.told_{answer}"),
        person_id=youth,
        dedup_key=f"guardian-answer:{ctx.actor.case_id}:{youth}:{ctx.now.isoformat()}",
    )
    after = gate.start(ctx)
    replies = (say(f"consent.guardian.saved_{answer}", name=name), *after.replies)
    return Transition(after.state, replies, (notice, *after.notices))


def child_choices(kids: tuple[GuardianConsent, ...]) -> list[Choice]:
    """The /samtycke buttons for each child this caregiver answers for."""
    choices = []
    for child in kids:
        # A yes in force can be taken back; a no (or a yes taken back) can become a yes.
        action, label = (
            (CHILD_WITHDRAW, "consent.status.child_withdraw")
            if child.given is True
            else (CHILD_GIVE, "consent.status.child_give")
        )
        choices.append(
            Choice(f"{action}{child.youth_person_id}", label, {"name": child.youth_name})
        )
    return choices


def is_child_choice(choice_id: str) -> bool:
    """True for a /samtycke button about a child (take back, or give, the yes)."""
    return choice_id.startswith((CHILD_WITHDRAW, CHILD_GIVE))


def on_child(choice_id: str, ctx: StepContext) -> Transition | None:
    """A caregiver takes back the yes for a child (sharing stops at once), or gives it;
    None when there is nothing to do (a stale button): the caller shows /samtycke again."""
    prefix, _, person = choice_id.partition(":")
    child = {str(c.youth_person_id): c for c in children(ctx)}.get(person)
    if child is None:  # a stale button: the child left, or erased everything
        return None
    if f"{prefix}:" == CHILD_GIVE:
        if child.given is True:
            return None
        return guardian(child.youth_person_id, child.youth_name)
    if child.given is not True:
        return None
    stopped = ctx.ports.privacy.withdraw_guardian_consent(
        child.youth_person_id, ctx.actor.case_id, ctx.actor.person_id, ctx.now
    )
    told = Notice(
        say("consent.guardian.told_withdrawn"),
        person_id=child.youth_person_id,
        dedup_key=(
            f"guardian-withdrawn:{ctx.actor.case_id}:{child.youth_person_id}:{ctx.now.isoformat()}"
        ),
    )
    reply = say("consent.guardian.withdrawn", name=child.youth_name, stopped=stopped)
    return Transition(GATE_PASSED, (reply,), (told,))
