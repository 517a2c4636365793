"""The reminder kind of convening: a meeting request nobody has answered reminds the case's
coordinators after a number of working days ([reports] request_reminder_working_days).

Weekends are not working days: a request made on a Friday with two working days is due on
Tuesday at the same time. The event carries ids and times only; `compose` reads the case's
reference back and says nothing when the request was answered meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flows.convening_port import add_working_days, answer_button, convening
from flows.conversation import ReminderDue
from flows.coordinator_reminders import reminder_key
from flows.reminder_ports import ReminderPorts
from flows.replies import Reply

DEFAULT_WORKING_DAYS = 2


def _stockholm() -> ZoneInfo:
    """The default [bot] timezone."""
    return ZoneInfo("Europe/Stockholm")


@dataclass(frozen=True, slots=True)
class UnansweredRequests:
    """Reminds each coordinator, once, of a request left unanswered for N working days."""

    working_days: int = DEFAULT_WORKING_DAYS
    timezone: ZoneInfo = field(default_factory=_stockholm)
    name: str = "unanswered_requests"

    def due(self, ports: ReminderPorts, now: datetime) -> Iterator[ReminderDue]:
        """One event per coordinator per request whose working days have passed."""
        if self.working_days < 1:
            return
        # N working days are at least N calendar days: older requests are the only candidates.
        waiting = convening(ports).waiting_requests(now - timedelta(days=self.working_days))
        for request in waiting:
            # Working days are counted on the local calendar, where weekends are.
            asked = request.created_at.astimezone(self.timezone)
            due_at = add_working_days(asked, self.working_days)
            if due_at > now:
                continue
            for person_id in request.coordinators:
                yield ReminderDue(
                    self.name,
                    reminder_key("request-reminder", request.id, person_id),
                    person_id=person_id,
                    params={
                        "request": request.id,
                        "asked_at": request.created_at,
                        "days": self.working_days,
                    },
                    due_at=due_at,
                )

    def compose(self, due: ReminderDue, ports: ReminderPorts, now: datetime) -> Reply | None:
        """The case's reference and when it was asked, with the button to answer; nothing
        when it was answered meanwhile."""
        request_id = due.params["request"]
        if not isinstance(request_id, int):
            raise TypeError("request must be an int")
        reference = convening(ports).still_waiting([request_id]).get(request_id)
        if reference is None:
            return None
        return Reply(
            "convene.reminder",
            {"case": reference, "asked_at": due.params["asked_at"], "days": due.params["days"]},
            (answer_button(),),
        )
