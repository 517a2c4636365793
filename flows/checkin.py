"""How was the meeting? The day after each meeting the young person and the caregivers are
asked two short questions in private; each can be skipped, and words are optional.

The reminder kind `CheckinReminders` asks, from the tick, a day after a meeting started; its
button opens the `Checkin` sidetrack. Answers are stored per meeting and person
(storage/loop_repository.py, words encrypted) and reach the case's coordinators at once; the
follow-up report shows them over time (bot/followup_report.py).

```mermaid
stateDiagram-v2
    [*] --> felt
    felt --> heard: felt / skip
    felt --> [*]: (shown instead)
    heard --> words: heard / skip
    words --> [*]: no_words / skip / text
```
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from flows.conversation import ChoiceMade, Event, ReminderDue
from flows.domain import Role
from flows.engine import Notice, Transition
from flows.loop_ports import Felt, Heard, loop
from flows.reminder_ports import ReminderPorts
from flows.replies import Choice, Reply, say
from flows.sidetrack_roles import SidetrackRoles
from flows.steps import DONE, Step, StepFlow, Then, Turn, declared
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


# The step names are stored in conversation rows: never rename one.
FELT, HEARD, WORDS = "felt", "heard", "words"


def _felt(turn: Turn) -> Reply | Transition:
    """Asks how the meeting felt; on opening, finds the newest meeting not yet answered."""
    if "meeting_id" in turn.data:
        return say("meeting.checkin.felt", *FELT_CHOICES, SKIP)
    ctx = turn.ctx
    meeting = loop(ctx).checkin_meeting(
        ctx.actor.case_id, ctx.actor.person_id, ctx.now, ANSWER_WINDOW
    )
    if meeting is None:
        return turn.done(say("meeting.checkin.none"))
    return turn.go(FELT, meeting_id=meeting.id, meeting_at=meeting.starts_at.isoformat())


def _heard(turn: Turn) -> Reply:
    """Asks whether she felt heard."""
    return say("meeting.checkin.heard", *HEARD_CHOICES, SKIP)


def _words(turn: Turn) -> Reply:
    """Asks for a few words of her own, if she likes."""
    return say("meeting.checkin.words", NO_WORDS, max=WORDS_MAX_CHARS)


def _on_felt(turn: Turn) -> Transition:
    """Keeps how it felt (or nothing, skipped) and asks the next question."""
    felt = _picked(turn.choice, "felt:", Felt)
    if felt is None and turn.choice != SKIP.id:
        return turn.again(say("common.not_understood"))
    return turn.go(HEARD, **{**turn.data, "felt": felt.value if felt else None})


def _on_heard(turn: Turn) -> Transition:
    """Keeps whether she was heard (or nothing, skipped) and asks for words."""
    heard = _picked(turn.choice, "heard:", Heard)
    if heard is None and turn.choice != SKIP.id:
        return turn.again(say("common.not_understood"))
    return turn.go(WORDS, **{**turn.data, "heard": heard.value if heard else None})


def _on_words(turn: Turn) -> Transition:
    """Keeps her words (or none) and saves the check-in."""
    words: str | None = None
    if turn.text is not None:
        checked = clean_text(turn.text, WORDS_MAX_CHARS)
        if not isinstance(checked, CleanText):
            return turn.again(say(f"text.{checked.value}", max=WORDS_MAX_CHARS))
        words = checked.text
    return _save(turn, words)


def _save(turn: Turn, words: str | None) -> Transition:
    """Stores the check-in and tells the coordinators what was answered."""
    ctx, data = turn.ctx, turn.data
    meeting_id = int(data.get("meeting_id") or 0)
    felt = Felt(str(data["felt"])) if data.get("felt") else None
    heard = Heard(str(data["heard"])) if data.get("heard") else None
    port = loop(ctx)
    port.save_checkin(meeting_id, ctx.actor.person_id, felt, heard, words, ctx.now)
    if felt is None and heard is None and words is None:
        return turn.done(say("meeting.checkin.skipped"))
    families = ctx.ports.families
    meeting_at = data.get("meeting_at")
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
    return turn.done(say("meeting.checkin.thanks"), notices=notices)


def _picked(choice: str | None, prefix: str, kind: type[E]) -> E | None:
    """The answer a choice id names, or None."""
    if choice is None or not choice.startswith(prefix):
        return None
    value = choice.removeprefix(prefix)
    return kind(value) if value in {k.value for k in kind} else None


HELP = "meeting.checkin.help"
STEPS = (
    Step(
        FELT,
        show=_felt,
        choices={"felt:": Then(_on_felt, to=(HEARD,)), SKIP.id: Then(_on_felt, to=(HEARD,))},
        handovers=(DONE,),
        help=HELP,
    ),
    Step(
        HEARD,
        show=_heard,
        choices={"heard:": Then(_on_heard, to=(WORDS,)), SKIP.id: Then(_on_heard, to=(WORDS,))},
        help=HELP,
    ),
    Step(
        WORDS,
        show=_words,
        choices={NO_WORDS.id: Then(_on_words, to=(DONE,)), SKIP.id: Then(_on_words, to=(DONE,))},
        text=Then(_on_words, to=(DONE,)),
        help=HELP,
    ),
)


@declared
class Checkin(StepFlow):
    """The two questions after a meeting, and optional words."""

    def __init__(self) -> None:
        super().__init__(
            FLOW_NAME,
            STEPS,
            home_step=FELT,
            help_prefix="meeting.checkin.",
            guard=FOR_ROLES.turned_away,
        )

    def opens(self, event: Event) -> bool:
        """The button of the day-after notice opens the check-in."""
        return isinstance(event, ChoiceMade) and event.choice_id == OPEN_CHOICE


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
