"""Meeting ids are never given out twice, on SQLite as on PostgreSQL.

A meeting's id is its calendar event's UID and part of the keys that make each notice and
reminder about it go out once. SQLite gives a new row the highest id + 1, so cancelling
(deleting) the newest meeting and booking another would reuse its id: the new meeting's
calendar file would update the cancelled event (and be ignored: its SEQUENCE is lower) and
its notices would be dropped as already sent. PostgreSQL's sequences never go back, so there
nothing is needed. Here each new meeting takes an id above the highest one ever given out,
kept in `id_high_water` (which also covers meetings deleted in bulk by retention).
"""

from __future__ import annotations

from sqlalchemy import Connection, event, func, insert, select, update
from sqlalchemy.orm import Mapper

from storage import models as m

TABLE = "meeting"


def next_meeting_id(connection: Connection) -> int:
    """The next id above every meeting id ever given out; records it as given out."""
    high = connection.scalar(select(m.IdHighWater.value).where(m.IdHighWater.table_name == TABLE))
    current = connection.scalar(select(func.max(m.Meeting.id))) or 0
    new_id = max(high or 0, current) + 1
    if high is None:
        connection.execute(insert(m.IdHighWater).values(table_name=TABLE, value=new_id))
    else:
        connection.execute(
            update(m.IdHighWater).where(m.IdHighWater.table_name == TABLE).values(value=new_id)
        )
    return new_id


@event.listens_for(m.Meeting, "before_insert")
def _never_reuse(mapper: Mapper[m.Meeting], connection: Connection, target: m.Meeting) -> None:
    """Gives a new meeting on SQLite an id no meeting ever had."""
    if connection.dialect.name == "sqlite" and target.id is None:
        target.id = next_meeting_id(connection)
