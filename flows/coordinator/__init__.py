"""The coordinator's flow, split by concern; flow.py composes it and has the overview."""

from flows.coordinator.documents import (
    agenda_replies,
    agenda_reply,
    followup_replies,
    followup_reply_set,
)
from flows.coordinator.flow import ALL_STEPS, CoordinatorFlow
from flows.coordinator.invites import ORG_MAX_CHARS
from flows.coordinator.meetings import LINK_MAX_CHARS
from flows.coordinator.steps import FLOW_NAME, StepName

# The stored step names (the older name of StepName).
Step = StepName
# The coordinator's own steps by stored name (the status steps are flows/action_status.py's).
STEPS = {StepName(s.name): s for s in ALL_STEPS if s.name in set(StepName)}

__all__ = [
    "FLOW_NAME",
    "LINK_MAX_CHARS",
    "ORG_MAX_CHARS",
    "STEPS",
    "CoordinatorFlow",
    "Step",
    "StepName",
    "agenda_replies",
    "agenda_reply",
    "followup_replies",
    "followup_reply_set",
]
