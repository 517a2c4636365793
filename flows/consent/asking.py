"""Asking for consent: the honest explanation, a no, the young person's age, and SIP sharing.

A young person is asked their age only after they said yes, and only "under the limit or
not" is stored. Under the limit, the caregivers of the case are told (a notice each) and the
child waits for a yes (flows/consent/guardian.py). Someone who said no can still read what
the meeting is and when it is, and change their mind; nothing they type is stored.

Its steps are declared in `STEPS` at the bottom (flows/steps.py), and the diagram below is
generated from them (`python -m scripts.diagrams`). What the table does not draw: a typed
yes or no word ("ja", "nej tack") counts as the tap on explain, more and sip; "Språk /
Language" opens the language sidetrack before consent (flows/language.py, run by the engine)
and comes back to the question; `meeting` runs flows/meeting_info.py inside this flow (its
steps kept in the `inner` value), so the role's flow and its sidetracks stay closed; /mote
after a no opens it too (flows/consent/gate.py). A step that "starts again" asks the gate
what is needed now; its arrows name what that can be from there.

```mermaid
stateDiagram-v2
    [*] --> explain
    explain --> age: yes / text
    explain --> waiting: yes / text
    explain --> guardian: yes / text
    explain --> sip: yes / text
    explain --> [*]: yes / text
    explain --> declined: no / text
    explain --> more: more
    more --> age: yes / text
    more --> waiting: yes / text
    more --> guardian: yes / text
    more --> sip: yes / text
    more --> [*]: yes / text
    more --> declined: no / text
    more --> more: more
    declined --> explain: again
    declined --> about: about
    declined --> declined: about / meeting / otherwise
    declined --> meeting: meeting
    about --> declined: otherwise
    meeting --> declined: otherwise
    age --> waiting: text
    age --> sip: text
    age --> [*]: text
    waiting --> waiting: check / otherwise
    waiting --> sip: check / otherwise
    waiting --> [*]: check / otherwise
    sip --> [*]: yes / no / text / otherwise
```
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flows import language, meeting_info
from flows.consent.steps import (
    AFTER_YES,
    HELP,
    Gate,
    Step,
    consent_status,
    flow_state,
    gate_of,
    record,
    start_again,
    yes_no,
)
from flows.domain import ConsentScope, Role
from flows.engine import GATE_PASSED, FlowState, Notice, StateValue, StepContext, Transition
from flows.replies import Choice, Reply, say
from flows.steps import DONE, Go, Then, Turn
from flows.steps import Step as StepDef

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


def meeting_inner(data: Mapping[str, StateValue]) -> FlowState:
    """The meeting info's own state, kept in this flow's MEETING step."""
    step = str(data.get("inner") or meeting_info.Step.SHOWN.value)
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


def _yes(turn: Turn) -> Transition:
    """Records the yes; a young person is asked her age next, anyone else goes on."""
    ctx = turn.ctx
    record(ctx, ConsentScope.BOT, given=True)
    if ctx.actor.role is Role.YOUTH and consent_status(ctx).under_age_limit is None:
        return age(say("consent.thanks_ask_age"))
    return next_after_yes(gate_of(turn), ctx)


def _no(turn: Turn) -> Transition:
    """Records the no: nothing of theirs is stored."""
    record(turn.ctx, ConsentScope.BOT, given=False)
    return declined(turn.ctx)


def _typed(turn: Turn) -> Transition:
    """A typed yes or no word counts as the tap; any other text is not stored."""
    match yes_no(turn.event) if turn.event is not None else None:
        case "yes":
            return _yes(turn)
        case "no":
            return _no(turn)
    return _ask_again(turn)


def _ask_again(turn: Turn) -> Transition:
    """The question again in a few words: the long explanation is still on screen."""
    choices = EXPLAIN_CHOICES if turn.step == Step.EXPLAIN.value else EXPLAIN_CHOICES[::2]
    state = turn.flow.state(turn.step, **turn.data)
    return Transition(state, (say("consent.ask_again", *choices),))


def _about(turn: Turn) -> Transition:
    """What a samverkansmöte is, for a young person; anyone else sees the no again."""
    return about() if turn.ctx.actor.role is Role.YOUTH else declined(turn.ctx)


def _open_meeting(turn: Turn) -> Transition:
    """The meeting info from its start, kept inside this flow."""
    return meeting(MEETING_INFO.start(turn.ctx), turn.ctx)


def _in_meeting(turn: Turn) -> Transition:
    """The meeting info handles the event; its "Tillbaka" comes back to the no."""
    if turn.event is None:
        return turn.again()
    inner = meeting_inner(turn.data)
    return meeting(MEETING_INFO.handle(inner, turn.event, turn.ctx), turn.ctx)


def next_after_yes(gate: Gate, ctx: StepContext, *before: Reply) -> Transition:
    """Goes on to whatever is still missing, thanking the person."""
    after = gate.start(ctx)
    if after.state == GATE_PASSED:
        return Transition(GATE_PASSED, (*before, say("consent.thanks")), after.notices)
    return Transition(after.state, (*before, *after.replies), after.notices)


def _on_age(turn: Turn) -> Transition:
    """Reads an age or a birth year; stores only whether it is under the limit."""
    ctx, gate = turn.ctx, gate_of(turn)
    years = age_from(turn.text or "", ctx.now)
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


def _not_an_age(turn: Turn) -> Transition:
    """An age is written, not tapped."""
    return age(say("consent.age.invalid"))


def _on_sip(turn: Turn) -> Transition:
    """Records the answer about sharing between agencies (tapped, or typed as a word)."""
    answer = yes_no(turn.event) if turn.event is not None else None
    if answer not in ("yes", "no"):
        return sip(say("consent.choose"))
    record(turn.ctx, ConsentScope.SIP, given=answer == "yes")
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


# --- the steps' prompts, shown from the table (and by the gate's start) ---------------------


def _show_explain(turn: Turn) -> Transition:
    """The honest explanation, and the question."""
    return explain(gate_of(turn), turn.ctx)


def _show_more(turn: Turn) -> Transition:
    """The longer explanation."""
    return more(gate_of(turn))


def _show_declined(turn: Turn) -> Transition:
    """What someone who said no can still do."""
    return declined(turn.ctx)


def _show_about(turn: Turn) -> Transition:
    """What a samverkansmöte is."""
    return about()


def _show_meeting(turn: Turn) -> Transition:
    """The meeting info where it was."""
    return meeting(MEETING_INFO.resume(meeting_inner(turn.data), turn.ctx), turn.ctx)


def _show_age(turn: Turn) -> Transition:
    """The age question."""
    return age()


def _show_waiting(turn: Turn) -> Transition:
    """The child's wait for a caregiver's yes."""
    return waiting(gate_of(turn), turn.ctx)


def _show_sip(turn: Turn) -> Transition:
    """The question about sharing between agencies."""
    return sip()


# The explanation and its longer version take the same answers: yes, no (tapped or typed).
_ANSWERS: dict[str, Go | Then] = {
    "yes": Then(_yes, to=(Step.AGE.value, *AFTER_YES)),
    "no": Then(_no, to=(Step.DECLINED.value,)),
    "more": Go(Step.MORE.value),
}
_TYPED = Then(_typed, to=(Step.AGE.value, *AFTER_YES, Step.DECLINED.value))
_SIP = Then(_on_sip, to=(DONE,))
_CHECK = start_again(Step.WAITING.value, Step.SIP.value, DONE)

STEPS = (
    StepDef(
        Step.EXPLAIN.value,
        show=_show_explain,
        choices=_ANSWERS,
        text=_TYPED,
        otherwise=Then(_ask_again, to=()),
        help=HELP,
    ),
    StepDef(
        Step.MORE.value,
        show=_show_more,
        choices=_ANSWERS,
        text=_TYPED,
        otherwise=Then(_ask_again, to=()),
        help=HELP,
    ),
    StepDef(
        Step.DECLINED.value,
        show=_show_declined,
        choices={
            "again": Go(Step.EXPLAIN.value),
            "about": Then(_about, to=(Step.ABOUT.value, Step.DECLINED.value)),
            "meeting": Then(_open_meeting, to=(Step.MEETING.value, Step.DECLINED.value)),
        },
        # Anything they type is dropped, not stored: the no is shown again.
        otherwise=Go(Step.DECLINED.value),
        help=HELP,
    ),
    StepDef(
        Step.ABOUT.value,
        show=_show_about,
        # After a no, the gate starts at the no again.
        otherwise=start_again(Step.DECLINED.value),
        help=HELP,
    ),
    StepDef(
        Step.MEETING.value,
        show=_show_meeting,
        otherwise=Then(_in_meeting, to=(Step.DECLINED.value,)),
        help=HELP,
    ),
    StepDef(
        Step.AGE.value,
        show=_show_age,
        # Under the limit: the wait (caregivers told); over it: SIP, or through.
        text=Then(_on_age, to=(Step.WAITING.value, Step.SIP.value, DONE)),
        otherwise=Then(_not_an_age, to=()),
        help=HELP,
    ),
    StepDef(
        Step.WAITING.value,
        show=_show_waiting,
        # "Kolla": still waiting, or a caregiver said yes and SIP is asked (or was).
        choices={"check": _CHECK},
        otherwise=_CHECK,
        help=HELP,
    ),
    StepDef(
        Step.SIP.value,
        show=_show_sip,
        choices={"yes": _SIP, "no": _SIP},
        text=_SIP,
        otherwise=_SIP,
        help=HELP,
    ),
)
