"""Operation gaps a person records for a location ("not working from ... to ..."): kept on the
camera's clock like its periods, removable (the row stays, marked removed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from shared.ecology.effort import Gap
from shared.people.errors import PeopleError
from shared.store.schema import operation_gaps
from shared.store.snapshot import Reader
from shared.store.writes import utc

LONGEST_REASON = 500


def add_gap(
    engine: Engine,
    project_id: int,
    location_id: int,
    start: datetime,
    end: datetime,
    reason: str,
    *,
    by: str,
    now: datetime,
) -> Gap:
    """Records a gap; PeopleError when it ends before it starts."""
    if end <= start:
        raise PeopleError("An operation gap ends after it starts.")
    reason = " ".join(reason.split())[:LONGEST_REASON] or "not working"
    with engine.begin() as conn:
        new_id = conn.execute(
            insert(operation_gaps)
            .returning(operation_gaps.c.id)
            .values(
                project_id=project_id,
                location_id=location_id,
                start=start,
                end=end,
                reason=reason,
                created_by=by,
                created_at=utc(now),
            )
        ).scalar_one()
    return Gap(start, end, reason, by, int(new_id))


def remove_gap(engine: Engine, project_id: int, gap_id: int, *, by: str, now: datetime) -> bool:
    """False when the project has no such gap (or it was removed already)."""
    with engine.begin() as conn:
        done = conn.execute(
            update(operation_gaps)
            .where(
                operation_gaps.c.id == gap_id,
                operation_gaps.c.project_id == project_id,
                operation_gaps.c.removed_at.is_(None),
            )
            .values(removed_by=by, removed_at=utc(now))
        )
    return done.rowcount == 1


def gaps_of(engine: Reader, project_id: int) -> dict[int, list[Gap]]:
    """location id -> the gaps people recorded there, in time order."""
    query = (
        select(operation_gaps)
        .where(operation_gaps.c.project_id == project_id, operation_gaps.c.removed_at.is_(None))
        .order_by(operation_gaps.c.start, operation_gaps.c.id)
    )
    found: dict[int, list[Gap]] = {}
    with engine.connect() as conn:
        for r in conn.execute(query):
            found.setdefault(r.location_id, []).append(
                Gap(r.start, r.end, r.reason, r.created_by, r.id)
            )
    return found
