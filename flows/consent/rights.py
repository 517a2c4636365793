"""The privacy rights: /minadata (export) and /glommig (erasure), and the RIGHTS step.

Anyone can use these from anywhere, before or after saying yes. After a case closes, or a
person leaves it, their rights go on while their data is stored: the engine hands such a
former member to the consent flow alone, which offers only export, erasure and withdrawing
consent (the `rights` step). /minadata is no step: it sends the summary and the file, then
shows where the person was.

Steps it owns: rights, forget.

```mermaid
stateDiagram-v2
    [*] --> rights: ärendet stängt / lämnat (bara /minadata, /glommig, /samtycke)
    rights --> rights: /minadata (sammanfattning och fil)
    [*] --> forget: /glommig
    withdrawn --> forget: Radera allt
    forget --> [*]: Ja, glöm mig (allt raderat)
    forget --> [*]: Nej (allt sparas)
```
"""

from __future__ import annotations

from flows.consent.steps import Gate, Step, choice, flow_state
from flows.conversation import Event
from flows.engine import FORGOTTEN, StepContext, Transition
from flows.replies import Attachment, Choice, Reply, say


def rights(*before: Reply) -> Transition:
    """Someone whose case closed or who left it: what still works while data is stored."""
    return Transition(flow_state(Step.RIGHTS), (*before, say("privacy.rights_only")))


def export(gate: Gate, ctx: StepContext) -> Transition:
    """/minadata: a readable summary, with everything as a JSON file."""
    summary = ctx.ports.privacy.data_summary(ctx.actor.person_id)
    reply = Reply(
        "privacy.export",
        params={
            "kinds": {kind: n for kind, n in summary.counts if n},
            "total": summary.total,
        },
        attachment=Attachment("personal_data", {"person_id": ctx.actor.person_id}),
    )
    if ctx.actor.former:
        return Transition(flow_state(Step.RIGHTS), (reply,))
    after = gate.start(ctx)
    return Transition(after.state, (reply, *after.replies), after.notices)


def forget(ctx: StepContext) -> Transition:
    """/glommig: says what will be erased, and asks to be sure."""
    summary = ctx.ports.privacy.data_summary(ctx.actor.person_id)
    reply = say(
        "privacy.forget.confirm",
        Choice("forget_yes", "privacy.forget.yes"),
        Choice("forget_no", "privacy.forget.no"),
        kinds={kind: n for kind, n in summary.counts if n},
    )
    return Transition(flow_state(Step.FORGET), (reply,))


def on_forget(gate: Gate, event: Event, ctx: StepContext) -> Transition:
    """Erases everything after a clear yes; anything else keeps it all."""
    if choice(event) != "forget_yes":
        kept = gate.start(ctx)
        return Transition(kept.state, (say("privacy.forget.kept"), *kept.replies), kept.notices)
    removed = ctx.ports.privacy.erase(ctx.actor.person_id, ctx.now)
    reply = say(
        "privacy.forgotten",
        kinds={kind: n for kind, n in removed.counts if n},
        total=removed.total,
    )
    return Transition(FORGOTTEN, (reply,))
