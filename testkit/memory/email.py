"""EmailSwitchPort in memory: a member reached by e-mail as well, or no longer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flows.conversation import ConversationRef
from flows.coordinator.invites import EMAIL_PLATFORM
from testkit.memory.world import World


@dataclass
class MemoryEmail:
    """E-mail addresses by chat key; each is an "email" chat of its person."""

    world: World
    addresses: dict[str, tuple[int, str]] = field(default_factory=dict)

    def key_for_person(self, person_id: int) -> str | None:
        """The chat key of the member's e-mail conversation, if there is one."""
        keys = [k for k, (p, _) in self.addresses.items() if p == person_id]
        return keys[-1] if keys else None

    def add_for_person(self, person_id: int, address: str, now: datetime) -> str:
        """Reaches the member by e-mail as well; the new chat key."""
        key = f"mail{self.world.next_id('email')}"
        self.addresses[key] = (person_id, address)
        self.world.bind_chat(ConversationRef(EMAIL_PLATFORM, key, key), person_id)
        return key

    def remove_for_person(self, person_id: int) -> int:
        """Stops reaching the member by e-mail; how many e-mail chats went."""
        keys = [k for k, (p, _) in self.addresses.items() if p == person_id]
        for key in keys:
            del self.addresses[key]
            self.world.chat_users.pop((EMAIL_PLATFORM, key), None)
        return len(keys)
