"""The privacy rights: /minadata (export) and /glommig (erasure), and the RIGHTS step.

Anyone can use these from anywhere, before or after saying yes. After a case closes, or a
person leaves it, their rights go on while their data is stored: the engine hands such a
former member to the consent flow alone, which offers only export, erasure and withdrawing
consent (the `rights` step). /minadata is no step: it sends the summary and the file, then
shows where the person was.

Its steps are declared in `STEPS` at the bottom (the diagram is generated from them).
/glommig opens `forget` from anywhere, and "Radera allt" after a withdrawal
(flows/consent/status.py); anything but "Ja, glöm mig" keeps everything.

```mermaid
stateDiagram-v2
    rights --> rights: otherwise
    forget --> [*]: forget_yes / otherwise
    forget --> rights: otherwise
    forget --> explain: otherwise
    forget --> declined: otherwise
    forget --> waiting: otherwise
    forget --> guardian: otherwise
    forget --> sip: otherwise
```
"""

from __future__ import annotations

from flows.consent.steps import FIRST_STEPS, HELP, Gate, Step, flow_state, gate_of, start_again
from flows.engine import FORGOTTEN, StepContext, Transition
from flows.replies import Attachment, Choice, Reply, say
from flows.steps import DONE, Then, Turn
from flows.steps import Step as StepDef


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


def _keep(turn: Turn) -> Transition:
    """Anything but a clear yes keeps it all; then whatever is needed now."""
    kept = gate_of(turn).start(turn.ctx)
    return Transition(kept.state, (say("privacy.forget.kept"), *kept.replies), kept.notices)


def _erase(turn: Turn) -> Transition:
    """Erases everything after a clear yes; the chat is a stranger's again."""
    ctx = turn.ctx
    removed = ctx.ports.privacy.erase(ctx.actor.person_id, ctx.now)
    reply = say(
        "privacy.forgotten",
        kinds={kind: n for kind, n in removed.counts if n},
        total=removed.total,
    )
    return Transition(FORGOTTEN, (reply,))


def _show_rights(turn: Turn) -> Transition:
    """What still works for a former member."""
    return rights()


def _show_forget(turn: Turn) -> Transition:
    """What will be erased, and the question."""
    return forget(turn.ctx)


STEPS = (
    # Only the privacy commands work here (the gate routes them); anything else: the rights.
    StepDef(
        Step.RIGHTS.value,
        show=_show_rights,
        otherwise=start_again(Step.RIGHTS.value),
        help=HELP,
    ),
    StepDef(
        Step.FORGET.value,
        show=_show_forget,
        choices={"forget_yes": Then(_erase, to=(DONE,))},
        otherwise=Then(_keep, to=FIRST_STEPS),
        help=HELP,
    ),
)
