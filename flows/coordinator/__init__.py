"""The coordinator's flow, split by concern; flow.py is the router and has the overview."""

from flows.coordinator.documents import (
    agenda_replies,
    agenda_reply,
    followup_replies,
    followup_reply_set,
)
from flows.coordinator.flow import STEPS, CoordinatorFlow
from flows.coordinator.invites import ORG_MAX_CHARS
from flows.coordinator.meetings import LINK_MAX_CHARS
from flows.coordinator.steps import FLOW_NAME, Step

__all__ = [
    "FLOW_NAME",
    "LINK_MAX_CHARS",
    "ORG_MAX_CHARS",
    "STEPS",
    "CoordinatorFlow",
    "Step",
    "agenda_replies",
    "agenda_reply",
    "followup_replies",
    "followup_reply_set",
]
