"""outbox.edits_message: a reply to a tap that may replace the tapped message (issue 26)

With taps every half second each answer waited a second behind the previous one in its chat
(Telegram's pacing of new messages). The answer to a tap in a private chat, when it is one
plain text with or without buttons, is now written with the id of the message that was
tapped, and the Telegram connector edits that message in place (an edit is not spaced like a
new message) when it is still the newest in the chat; otherwise it sends a new message as
before. Other platforms ignore it. Rows written before this migration have none and are sent
as new messages. Downgrade drops the column.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Adds the nullable outbox.edits_message."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("edits_message", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Drops outbox.edits_message."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("edits_message")
