"""A caregiver's consent for a child under the age limit.

A child under the limit waits (the `waiting` step of flows/consent/asking.py) until a
caregiver of the same case says yes, in their own chat. The caregiver can take that yes back
from /samtycke (flows/consent/status.py), and the child's sharing stops at once; or give it
after a no. The caregiver cannot erase the child's words: they are the child's, private even
from caregivers; only the child can, with /glommig. The child is told each answer.

Its step is declared in `STEPS` at the bottom (the diagram is generated from it). The
caregiver reaches it from the gate's start (a child waiting) or from /samtycke ("Säg ja för
barnet", flows/consent/status.py); a typed yes or no word counts as the tap; a child who is no
longer waiting (answered in another chat, or gone) is not asked about: the gate starts again.

```mermaid
stateDiagram-v2
    guardian --> guardian: yes / no / text / otherwise
    guardian --> sip: yes / no / text / otherwise
    guardian --> [*]: yes / no / text / otherwise
```
"""

from __future__ import annotations

from flows.consent.steps import (
    HELP,
    TEXT_VERSION,
    Step,
    children,
    flow_state,
    gate_of,
    yes_no,
)
from flows.domain import ConsentScope, GuardianConsent
from flows.engine import GATE_PASSED, Notice, StepContext, Transition
from flows.replies import Choice, Reply, say
from flows.steps import DONE, Then, Turn
from flows.steps import Step as StepDef

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


def _show_guardian(turn: Turn) -> Transition:
    """The question about the child this step is about."""
    return guardian(turn.number("youth"), turn.word("youth_name"))


def _on_guardian(turn: Turn) -> Transition:
    """Records a caregiver's answer for a child (tapped, or typed as a word), and tells the
    child; a child no longer waiting (answered meanwhile, or gone) is not asked about."""
    ctx, gate = turn.ctx, gate_of(turn)
    youth = turn.number("youth")
    name = turn.word("youth_name")
    answer = yes_no(turn.event) if turn.event is not None else None
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


# After the answer: the next child waiting, SIP for the caregiver, or through.
_ANSWER = Then(_on_guardian, to=(Step.GUARDIAN.value, Step.SIP.value, DONE))

STEPS = (
    StepDef(
        Step.GUARDIAN.value,
        show=_show_guardian,
        choices={YES.id: _ANSWER, NO.id: _ANSWER},
        text=_ANSWER,
        otherwise=_ANSWER,
        help=HELP,
    ),
)
