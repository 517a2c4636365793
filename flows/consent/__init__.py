"""Consent (samtycke): explains the bot honestly and asks before anything personal is stored.

Split by concern; gate.py is the flow the engine runs and has the overview. Sharing between
agencies (SIP) is asked and recorded apart from consent to use the bot. Each module draws
its own steps; steps.py holds the words they share (step names are stored in rows).
"""

from flows.consent.gate import ConsentFlow
from flows.consent.steps import (
    DEFAULT_AGE_LIMIT,
    FLOW_NAME,
    PRIVACY_COMMANDS,
    SIP_ROLES,
    TEXT_VERSION,
    Step,
)

__all__ = [
    "DEFAULT_AGE_LIMIT",
    "FLOW_NAME",
    "PRIVACY_COMMANDS",
    "SIP_ROLES",
    "TEXT_VERSION",
    "ConsentFlow",
    "Step",
]
