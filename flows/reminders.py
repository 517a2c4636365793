"""Reminders as events: each kind finds what is due and decides what is said.

A reminder kind is one object: `due(ports, now)` gives a `ReminderDue` per recipient (ids and
times, a dedup key), `compose(due, ports, now)` the reply for it (text, buttons, audience).
`Reminders.remind` is the one way an event becomes a notice, so the tick (bot/scheduler.py)
only runs the kinds' `due`, hands each event to it and enqueues what comes back. Adding a kind
is adding its object to the list the deployment ticks (bot/cli.py). The families' kinds are
here, the coordinator side's in flows/coordinator_reminders.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from flows import meeting_info
from flows.conversation import ReminderDue
from flows.domain import PICTURE_ROLES, Role
from flows.engine import Notice
from flows.picture_loop import OPEN_CHOICE as PICTURE_CHOICE
from flows.reminder_ports import ReminderPorts
from flows.replies import Choice, ParamValue, Reply, say, to_family


@runtime_checkable
class ReminderKind(Protocol):
    """One kind of reminder: what is due at a time, and what is said for it.

    A kind whose `due` also writes marks through its ports (nudges' sent stages) says so with
    a class attribute `marks_what_it_sends = True`: the tick then commits its marks and its
    notices in one transaction (bot/scheduler.py).
    """

    @property
    def name(self) -> str:
        """Names the kind in its events and in log lines."""
        ...

    def due(self, ports: ReminderPorts, now: datetime) -> Iterable[ReminderDue]:
        """The reminders due at `now`, one per recipient, each with its dedup key."""
        ...

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply | None:
        """What is said for one due reminder (None: nothing after all)."""
        ...


class Reminders:
    """The reminder engine: finds an event's kind and lets it decide what is said."""

    def __init__(self, kinds: Iterable[ReminderKind]) -> None:
        self._kinds: dict[str, ReminderKind] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"two reminder kinds are named {kind.name}")
            self._kinds[kind.name] = kind

    def remind(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> tuple[Notice, ...]:
        """The notices for one due reminder, with its recipient, dedup key and timing."""
        kind = self._kinds.get(due.kind)
        if kind is None:
            raise LookupError(f"no reminder kind is named {due.kind}")
        reply = kind.compose(due, ports, now)
        if reply is None:
            return ()
        # The scheduler's delivery contract (bot/scheduler.py): late says how late, expired
        # is dropped.
        timing: dict[str, ParamValue] = {}
        if due.due_at is not None:
            timing["due_at"] = due.due_at
        if due.expires_at is not None:
            timing["expires_at"] = due.expires_at
        if timing:
            reply = replace(reply, params={**reply.params, **timing})
        notice = Notice(
            reply,
            person_id=due.person_id,
            chat=due.chat,
            dedup_key=due.dedup_key,
            about=due.about,
        )
        return (notice,)


# --- the families' reminders ------------------------------------------------------------

MEETING_ROLES = tuple(Role)


@dataclass(slots=True)
class MeetingReminders:
    """Reminds every member of a meeting `before` it starts (e.g. two days and two hours).

    In a family group chat the group gets one reminder; members not seen in a group get it
    privately. When the bot was down past an earlier reminder, only the latest due one is sent,
    so nobody gets "in two days" and "in two hours" at once.
    """

    before: Sequence[timedelta] = (timedelta(days=2), timedelta(hours=2))
    name: str = "meeting_reminders"

    def due(self, ports: ReminderPorts, now: datetime) -> Iterator[ReminderDue]:
        """The reminders due at `now`."""
        if not self.before:
            return
        reads = ports.reminders
        horizon = now + max(self.before)
        due: list[tuple[int, int, datetime, timedelta]] = []
        for meeting in reads.meetings_between(now, horizon):
            passed = [b for b in self.before if meeting.starts_at - b <= now]
            if passed:
                due.append((meeting.id, meeting.case_id, meeting.starts_at, min(passed)))
        # Everyone to remind of every meeting due, in a few queries (not three per meeting).
        reach = reads.recipients_of(
            {case_id for _, case_id, _, _ in due}, MEETING_ROLES, group_first=True
        )
        for meeting_id, case_id, starts_at, offset in due:
            # The start time is in the key: a meeting moved to a new time is reminded again.
            key = f"meeting-reminder:{meeting_id}:{starts_at.isoformat()}:{offset}"
            params = {"starts_at": starts_at}
            targets = reach[case_id]
            for person_id in targets.person_ids:
                yield ReminderDue(
                    self.name, f"{key}:{person_id}", person_id=person_id, params=params
                )
            for chat in targets.group_chats:
                yield ReminderDue(self.name, f"{key}:group", chat=chat, params=params)

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply:
        """Only when, and a button to the meeting info: fine for the family group too."""
        return to_family(
            say(
                "meeting.reminder",
                Choice(meeting_info.OPEN_CHOICE, "menu.meeting"),
                starts_at=due.params["starts_at"],
            )
        )


@dataclass(slots=True)
class PictureReminders:
    """Reminds whoever has not answered the newest shared picture, at most `max_reminders`.

    Reminder n falls due `after` × n from publishing; each has its own dedup key, so there are
    never more than `max_reminders` per person and version, whatever the ticks do. A reminder
    that could only be sent more than `after` late (the bot was down) is not sent: nobody is
    asked about a picture weeks after the meeting it was for. That bound is also what keeps a
    tick's work the window's pictures, not every picture ever published.
    """

    after: timedelta = timedelta(days=3)
    max_reminders: int = 1
    name: str = "picture_reminders"

    def due(self, ports: ReminderPorts, now: datetime) -> Iterator[ReminderDue]:
        """The reminders due at `now`."""
        if self.max_reminders <= 0:
            return
        reads = ports.reminders
        unanswered = reads.unanswered_pictures(
            published_after=now - self.after * (self.max_reminders + 1),
            published_before=now - self.after,
        )
        # A case has one newest picture, so its waiting members narrow its recipients.
        reach = reads.recipients_of(
            [w.case_id for w in unanswered],
            PICTURE_ROLES,
            group_first=False,
            only={w.case_id: frozenset(w.waiting) for w in unanswered},
        )
        for waiting in unanswered:
            picture = waiting.picture
            number = min(int((now - picture.published_at) / self.after), self.max_reminders)
            targets = reach[waiting.case_id]
            # The number keeps each reminder single.
            key = f"picture-reminder:{picture.id}"
            params = {"version": picture.version}
            for person_id in targets.person_ids:
                yield ReminderDue(
                    self.name, f"{key}:{person_id}:{number}", person_id=person_id, params=params
                )
            for chat in targets.group_chats:
                yield ReminderDue(self.name, f"{key}:group:{number}", chat=chat, params=params)

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply:
        """Says only that a version waits for answers: fine for the family group too."""
        button = Choice(PICTURE_CHOICE, "picture.open")
        return to_family(say("picture.reminder", button, version=due.params["version"]))
