"""Which flow each role talks to."""

from __future__ import annotations

from flows.coordinator import CoordinatorFlow
from flows.domain import Role
from flows.engine import Engine
from flows.member_home import MemberHome
from flows.professional import ProfessionalHome
from flows.youth_prep import YouthPreparation


def default_engine() -> Engine:
    """The engine with every flow that exists, by role."""
    return Engine(
        {
            Role.YOUTH: YouthPreparation(),
            Role.COORDINATOR: CoordinatorFlow(),
            Role.PROFESSIONAL: ProfessionalHome(),
        },
        fallback=MemberHome(),
    )
