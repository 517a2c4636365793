"""How was the meeting? The day after each meeting the young person and the caregivers are
asked two short questions in private; each can be skipped, and words are optional.

The reminder kind `CheckinReminders` asks, from the tick, a day after a meeting started; its
button opens the `Checkin` sidetrack. Answers are stored per meeting and person
(storage/loop_repository.py, words encrypted) and reach the case's coordinators at once; the
follow-up report shows them over time (bot/followup_report.py).

```mermaid
stateDiagram-v2
    [*] --> felt: Svara (button of the day-after notice)
    felt --> heard: bra / både och / inte bra / hoppa över
    heard --> words: ja / lite / nej / hoppa över
    words --> [*]: egna ord / nej tack (sparas, samordnaren får se)
    felt --> [*]: inget möte att svara på
```
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from flows.conversation import ChoiceMade, Event, ReminderDue, TextMessage
from flows.domain import Role
from flows.engine import RETURN, FlowState, Notice, StateValue, StepContext, Transition
from flows.loop_ports import Felt, Heard, loop
from flows.reminder_ports import ReminderPorts
from flows.replies import Choice, Reply, say
from flows.sidetrack_roles import SidetrackRoles
from flows.text_rules import CleanText, clean_text

E = TypeVar("E", Felt, Heard)
FLOW_NAME = "checkin"
OPEN_CHOICE = "checkin:open"
WORDS_MAX_CHARS = 1000
# Who is asked: the young person and the caregivers (the gate's consent rule decides who of
# them may be reached at all).
ASKED_ROLES = (Role.YOUTH, Role.CAREGIVER)
# How long after a meeting it can still be answered from the button.
ANSWER_WINDOW = timedelta(days=7)
SKIP = Choice("skip", "meeting.checkin.skip")
NO_WORDS = Choice("no_words", "meeting.checkin.no_words")
FELT_CHOICES = tuple(Choice(f"felt:{f.value}", f"meeting.checkin.felt_{f.value}") for f in Felt)
HEARD_CHOICES = tuple(Choice(f"heard:{h.value}", f"meeting.checkin.heard_{h.value}") for h in Heard)
FOR_ROLES = SidetrackRoles(
    frozenset({Role.YOUTH, Role.CAREGIVER, Role.NETWORK}),
    {Role.COORDINATOR: "coord.not_here.checkin", Role.PROFESSIONAL: "pro.not_here.checkin"},
)


class Step(StrEnum):
    """The steps of the check-in."""

    FELT = "felt"
    HEARD = "heard"
    WORDS = "words"


def _state(step: Step, **data: StateValue) -> FlowState:
    """A state of this flow."""
    return FlowState(flow=FLOW_NAME, step=step.value, data=data)


@dataclass(frozen=True, slots=True)
class Checkin:
    """The two questions after a meeting, and optional words."""

    name: str = FLOW_NAME

    def opens(self, event: Event) -> bool:
        """The button of the day-after notice opens the check-in."""
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE

    @property
    def home(self) -> FlowState:
        """The first question."""
        return _state(Step.FELT)

    def start(self, ctx: StepContext) -> Transition:
        """Asks how the newest meeting not yet answered was."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        meeting = loop(ctx).checkin_meeting(
            ctx.actor.case_id, ctx.actor.person_id, ctx.now, ANSWER_WINDOW
        )
        if meeting is None:
            return Transition(RETURN, (say("meeting.checkin.none"),))
        state = _state(Step.FELT, meeting_id=meeting.id, meeting_at=meeting.starts_at.isoformat())
        return self._ask(state)

    def resume(self, state: FlowState, ctx: StepContext) -> Transition:
        """Asks the current question again."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        return self._ask(state)

    def help(self, state: FlowState) -> Reply:
        """Explains the current question."""
        return say("meeting.checkin.help")

    def handle(self, state: FlowState, event: Event, ctx: StepContext) -> Transition:
        """Keeps the answer of this step and asks the next, or saves at the end."""
        turned_away = FOR_ROLES.turned_away(ctx)
        if turned_away is not None:
            return turned_away
        choice = event.choice_id if isinstance(event, ChoiceMade) else None
        step = Step(state.step)
        if step is Step.FELT:
            felt = _picked(choice, "felt:", Felt)
            if felt is None and choice != SKIP.id:
                return self._ask(state, say("common.not_understood"))
            return self._ask(_next(state, Step.HEARD, felt=felt.value if felt else None))
        if step is Step.HEARD:
            heard = _picked(choice, "heard:", Heard)
            if heard is None and choice != SKIP.id:
                return self._ask(state, say("common.not_understood"))
            return self._ask(_next(state, Step.WORDS, heard=heard.value if heard else None))
        words: str | None = None
        if isinstance(event, TextMessage):
            checked = clean_text(event.text, WORDS_MAX_CHARS)
            if not isinstance(checked, CleanText):
                return self._ask(state, say(f"text.{checked.value}", max=WORDS_MAX_CHARS))
            words = checked.text
        elif choice not in (NO_WORDS.id, SKIP.id):
            return self._ask(state, say("common.not_understood"))
        return self._save(state, words, ctx)

    def _ask(self, state: FlowState, *before: Reply) -> Transition:
        """The question of the step, with its choices."""
        step = Step(state.step)
        if step is Step.FELT:
            reply = say("meeting.checkin.felt", *FELT_CHOICES, SKIP)
        elif step is Step.HEARD:
            reply = say("meeting.checkin.heard", *HEARD_CHOICES, SKIP)
        else:
            reply = say("meeting.checkin.words", NO_WORDS, max=WORDS_MAX_CHARS)
        return Transition(state, (*before, reply))

    def _save(self, state: FlowState, words: str | None, ctx: StepContext) -> Transition:
        """Stores the check-in and tells the coordinators what was answered."""
        meeting_id = int(state.data.get("meeting_id") or 0)
        felt = Felt(str(state.data["felt"])) if state.data.get("felt") else None
        heard = Heard(str(state.data["heard"])) if state.data.get("heard") else None
        port = loop(ctx)
        port.save_checkin(meeting_id, ctx.actor.person_id, felt, heard, words, ctx.now)
        if felt is None and heard is None and words is None:
            return Transition(RETURN, (say("meeting.checkin.skipped"),))
        families = ctx.ports.families
        meeting_at = state.data.get("meeting_at")
        alert = say(
            "alert.checkin",
            name=ctx.actor.display_name,
            role=ctx.actor.role.value,
            case=families.case_reference(ctx.actor.case_id),
            meeting_at=datetime.fromisoformat(str(meeting_at)) if meeting_at else None,
            felt=felt.value if felt else None,
            heard=heard.value if heard else None,
            words=words,
        )
        notices = tuple(
            Notice(
                alert,
                person_id=coordinator,
                dedup_key=f"checkin-told:{meeting_id}:{ctx.actor.person_id}:{ctx.now}",
                about=(ctx.actor.person_id,),  # their words: erased with them
            )
            for coordinator in families.coordinators(ctx.actor.case_id)
        )
        return Transition(RETURN, (say("meeting.checkin.thanks"),), notices)


def _picked(choice: str | None, prefix: str, kind: type[E]) -> E | None:
    """The answer a choice id names, or None."""
    if choice is None or not choice.startswith(prefix):
        return None
    value = choice.removeprefix(prefix)
    return kind(value) if value in {k.value for k in kind} else None


def _next(state: FlowState, step: Step, **data: StateValue) -> FlowState:
    """The next step, keeping what was answered so far."""
    return FlowState(flow=FLOW_NAME, step=step.value, data={**state.data, **data})


@dataclass(slots=True)
class CheckinReminders:
    """The day after a meeting, asks the young person and the caregivers how it was.

    Due `after` the meeting started, and no longer asked once `lasts` has passed since (the
    bot was down): nobody is asked about a meeting weeks ago. One per meeting and person.
    """

    after: timedelta = timedelta(days=1)
    lasts: timedelta = timedelta(days=3)
    name: str = "checkin_reminders"

    def due(self, ports: ReminderPorts, now: datetime) -> Iterator[ReminderDue]:
        """The check-ins due at `now`."""
        reads = ports.reminders
        meetings = reads.meetings_between(now - self.after - self.lasts, now - self.after)
        reach = reads.recipients_of(
            {meeting.case_id for meeting in meetings}, ASKED_ROLES, group_first=False
        )
        for meeting in meetings:
            due_at = meeting.starts_at + self.after
            for person_id in reach[meeting.case_id].person_ids:
                yield ReminderDue(
                    self.name,
                    f"checkin:{meeting.id}:{person_id}",
                    person_id=person_id,
                    params={"starts_at": meeting.starts_at},
                    due_at=due_at,
                    expires_at=due_at + self.lasts,
                )

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply:
        """Only when the meeting was, and a button: private, since the answers are personal."""
        return say(
            "meeting.checkin.ask",
            Choice(OPEN_CHOICE, "meeting.checkin.open"),
            starts_at=due.params["starts_at"],
        )
