"""Asking for consent: the honest explanation, a no, the young person's age, and SIP sharing.

A young person is asked their age only after they said yes, and only "under the limit or
not" is stored. Under the limit, the caregivers of the case are told (a notice each) and the
child waits for a yes (flows/consent/guardian.py). Someone who said no can still read what
the meeting is and when it is, and change their mind; nothing they type is stored.

Steps it owns: explain, more, declined, about, meeting, age, waiting, sip.

```mermaid
stateDiagram-v2
    [*] --> explain: joined / no consent
    explain --> more: Berätta mer
    explain --> explain: Språk / Language (språkvalet, sedan frågan igen)
    more --> explain: Tillbaka
    explain --> declined: Nej tack
    declined --> explain: Jag har ändrat mig
    declined --> about: Vad är ett samverkansmöte? (ung person)
    about --> declined: Tillbaka
    declined --> meeting: När är mötet? eller /mote
    meeting --> declined: Tillbaka
    explain --> age: Ja (ung person)
    age --> age: inte en ålder
    age --> waiting: under gränsen
    waiting --> sip: vårdnadshavare sa ja
    age --> sip: över gränsen
    explain --> sip: Ja (vårdnadshavare, nätverk)
    explain --> [*]: Ja (personal)
    sip --> [*]: Ja / Nej
```
"""

from __future__ import annotations

from datetime import datetime

from flows import language, meeting_info
from flows.consent.steps import (
    Gate,
    Step,
    choice,
    consent_status,
    flow_state,
    record,
    yes_no,
)
from flows.conversation import Event, TextMessage
from flows.domain import ConsentScope, Role
from flows.engine import GATE_PASSED, FlowState, Notice, StepContext, Transition
from flows.replies import Choice, Reply, say

# Ages outside this range are typing mistakes, not ages of people in a case.
YOUNGEST, OLDEST = 5, 30

# What someone who said no can still do: read what the meeting is and when it is, and
# change their mind. Nothing they type is stored, so nothing of their preparation is offered.
ABOUT = Choice("about", "youth.menu.about")
MEETING = Choice("meeting", "menu.meeting")
AGAIN = Choice("again", "consent.declined.again")
BACK = Choice("back", "common.back")
MEETING_INFO = meeting_info.MeetingInformation()

EXPLAIN_CHOICES = (
    Choice("yes", "consent.explain.yes"),
    Choice("more", "consent.explain.more"),
    Choice("no", "consent.explain.no"),
    # Before anything is agreed: read it in your own language (flows/language.py).
    Choice(language.OPEN_CHOICE, "menu.language"),
)


def explain(gate: Gate, ctx: StepContext, *before: Reply) -> Transition:
    """The honest explanation, and the question."""
    reply = say(
        "consent.explain",
        *EXPLAIN_CHOICES,
        role=ctx.actor.role.value,
        platform=ctx.ref.platform,
        operator=gate.operator,
    )
    return Transition(flow_state(Step.EXPLAIN), (*before, reply))


def more(gate: Gate) -> Transition:
    """The longer explanation: rights, storage time, who runs the bot."""
    reply = say(
        "consent.more",
        Choice("yes", "consent.explain.yes"),
        Choice("no", "consent.explain.no"),
        # Before anything is agreed: read it in your own language (flows/language.py).
        Choice(language.OPEN_CHOICE, "menu.language"),
        operator=gate.operator,
    )
    return Transition(flow_state(Step.MORE), (reply,))


def declined(ctx: StepContext, *before: Reply) -> Transition:
    """Nothing is stored; the person can read about the meeting, or change their mind."""
    choices = (ABOUT, MEETING, AGAIN) if ctx.actor.role is Role.YOUTH else (MEETING, AGAIN)
    reply = say("consent.declined", *choices)
    return Transition(flow_state(Step.DECLINED), (*before, reply))


def about() -> Transition:
    """What a samverkansmöte is, for a young person who said no (the same plain words)."""
    return Transition(flow_state(Step.ABOUT), (say("youth.about", BACK),))


def meeting(shown: Transition, ctx: StepContext) -> Transition:
    """The meeting info for someone who said no: its steps are kept as this flow's (the
    role's flow and its sidetracks stay closed), and its "Tillbaka" comes back here."""
    if shown.state.flow != meeting_info.FLOW_NAME:
        after = declined(ctx)
        return Transition(after.state, (*shown.replies, *after.replies))
    return Transition(flow_state(Step.MEETING, inner=shown.state.step), shown.replies)


def meeting_inner(state: FlowState) -> FlowState:
    """The meeting info's own state, kept in this flow's MEETING step."""
    step = str(state.data.get("inner") or meeting_info.Step.SHOWN.value)
    return FlowState(meeting_info.FLOW_NAME, step)


def age(*before: Reply) -> Transition:
    """Asks the young person's age (or birth year)."""
    return Transition(flow_state(Step.AGE), (*before, say("consent.age")))


def waiting(gate: Gate, ctx: StepContext, *before: Reply) -> Transition:
    """A child waits for a caregiver's yes; says whether anyone has been asked."""
    asked = bool(ctx.ports.privacy.caregivers(ctx.actor.case_id))
    reply = say(
        "consent.waiting",
        Choice("check", "consent.waiting.check"),
        asked=asked,
        # A caregiver said no or took their yes back: nobody is being asked any more.
        said_no=consent_status(ctx).guardian is False,
        limit=gate.age_limit,
    )
    return Transition(flow_state(Step.WAITING), (*before, reply))


def sip(*before: Reply) -> Transition:
    """Asks whether what the person shares may go to every agency in the case."""
    reply = say(
        "consent.sip",
        Choice("yes", "consent.sip.yes"),
        Choice("no", "consent.sip.no"),
    )
    return Transition(flow_state(Step.SIP), (*before, reply))


def on_explain(gate: Gate, state: FlowState, event: Event, ctx: StepContext) -> Transition:
    """Records yes or no (tapped, or typed as a word); anything else is not stored, and the
    question is asked again in a few words: the long explanation is still on screen."""
    match yes_no(event):
        case "more":
            return more(gate)
        case "no":
            record(ctx, ConsentScope.BOT, given=False)
            return declined(ctx)
        case "yes":
            record(ctx, ConsentScope.BOT, given=True)
            if ctx.actor.role is Role.YOUTH and consent_status(ctx).under_age_limit is None:
                return age(say("consent.thanks_ask_age"))
            return next_after_yes(gate, ctx)
    choices = EXPLAIN_CHOICES if Step(state.step) is Step.EXPLAIN else EXPLAIN_CHOICES[::2]
    return Transition(state, (say("consent.ask_again", *choices),))


def on_declined(gate: Gate, event: Event, ctx: StepContext) -> Transition:
    """Opens the meeting explanation or the meeting info, or asks again; text is dropped."""
    match choice(event):
        case "again":
            return explain(gate, ctx)
        case "about" if ctx.actor.role is Role.YOUTH:
            return about()
        case "meeting":
            return meeting(MEETING_INFO.start(ctx), ctx)
    return declined(ctx)


def next_after_yes(gate: Gate, ctx: StepContext, *before: Reply) -> Transition:
    """Goes on to whatever is still missing, thanking the person."""
    after = gate.start(ctx)
    if after.state == GATE_PASSED:
        return Transition(GATE_PASSED, (*before, say("consent.thanks")), after.notices)
    return Transition(after.state, (*before, *after.replies), after.notices)


def on_age(gate: Gate, event: Event, ctx: StepContext) -> Transition:
    """Reads an age or a birth year; stores only whether it is under the limit."""
    if not isinstance(event, TextMessage):
        return age(say("consent.age.invalid"))
    years = age_from(event.text, ctx.now)
    if years is None:
        return age(say("consent.age.invalid"))
    under = years < gate.age_limit
    ctx.ports.privacy.record_age(ctx.actor.person_id, under, gate.age_limit, ctx.now)
    if not under:
        return next_after_yes(gate, ctx)
    notices = tuple(
        Notice(
            say("consent.guardian.notice", name=ctx.actor.display_name),
            person_id=caregiver,
            dedup_key=f"guardian-consent:{ctx.actor.case_id}:{ctx.actor.person_id}",
            about=(ctx.actor.person_id,),  # the child's name: erased with the child
        )
        for caregiver in ctx.ports.privacy.caregivers(ctx.actor.case_id)
    )
    shown = waiting(gate, ctx)
    return Transition(shown.state, shown.replies, notices)


def on_sip(event: Event, ctx: StepContext) -> Transition:
    """Records the answer about sharing between agencies."""
    answer = yes_no(event)
    if answer not in ("yes", "no"):
        return sip(say("consent.choose"))
    record(ctx, ConsentScope.SIP, given=answer == "yes")
    return Transition(GATE_PASSED, (say(f"consent.sip.saved_{answer}"),))


def age_from(text: str, now: datetime) -> int | None:
    """An age ("14", "14 år") or a birth year ("2012"), or None when it is neither."""
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    if not digits or len(digits) > 4 or len(text.strip()) > 20:
        return None
    number = int(digits)
    # A birth year: the age they turn this year, which errs towards "younger" (safer).
    years = now.year - number if len(digits) == 4 else number
    return years if YOUNGEST <= years <= OLDEST else None
