"""Clock corrections: a person's "this period's camera clock was N hours off", kept per
deployment period (one card's deployment at a location) as a stack, the newest live one in
force. Undoing one brings back the one before it (or the camera's own clock). Every
survey-level reader adds the shift to the period's capture times (`shifted`); the stored
`media.captured` stays the camera's own, and the project export writes both."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, Select, insert, select, update

from shared.people.errors import PeopleError
from shared.store.schema import clock_corrections, deployment_periods, locations, media
from shared.store.writes import utc

LONGEST_SHIFT = timedelta(days=50 * 365)  # a clock reset to its factory year is a few years off
LONGEST_REASON = 500


def _in_project(project_id: int) -> Select[tuple[int]]:
    return (
        select(deployment_periods.c.id)
        .join(locations, locations.c.id == deployment_periods.c.location_id)
        .where(locations.c.project_id == project_id)
    )


def add_correction(
    engine: Engine,
    project_id: int,
    period_id: int,
    shift: timedelta,
    reason: str,
    *,
    by: str,
    now: datetime,
) -> int | None:
    """Stores a correction of whole seconds; its id, or None when the project has no such
    period. PeopleError for no shift or one beyond LONGEST_SHIFT."""
    seconds = int(shift.total_seconds())
    if seconds == 0:
        raise PeopleError("A clock correction moves the times: give a shift other than 0.")
    if abs(shift) > LONGEST_SHIFT:
        raise PeopleError("A clock correction is at most 50 years.")
    reason = " ".join(reason.split())[:LONGEST_REASON]
    with engine.begin() as conn:
        mine = _in_project(project_id).where(deployment_periods.c.id == period_id)
        if conn.execute(mine).first() is None:
            return None
        return int(
            conn.execute(
                insert(clock_corrections)
                .returning(clock_corrections.c.id)
                .values(
                    period_id=period_id,
                    shift_seconds=seconds,
                    reason=reason,
                    created_by=by,
                    created_at=utc(now),
                )
            ).scalar_one()
        )


def undo_correction(
    engine: Engine, project_id: int, period_id: int, *, by: str, now: datetime
) -> bool:
    """Undoes the period's newest live correction; False when it has none."""
    with engine.begin() as conn:
        newest = conn.execute(
            select(clock_corrections.c.id)
            .where(
                clock_corrections.c.period_id == period_id,
                clock_corrections.c.period_id.in_(_in_project(project_id)),
                clock_corrections.c.undone_at.is_(None),
            )
            .order_by(clock_corrections.c.id.desc())
            .limit(1)
        ).scalar()
        if newest is None:
            return False
        conn.execute(
            update(clock_corrections)
            .where(clock_corrections.c.id == newest)
            .values(undone_by=by, undone_at=utc(now))
        )
    return True


def clock_shifts(conn: Connection, period_ids: Iterable[int]) -> dict[int, timedelta]:
    """period id -> the shift in force, for the periods that have one."""
    wanted = list(period_ids)
    if not wanted:
        return {}
    rows = conn.execute(
        select(clock_corrections.c.period_id, clock_corrections.c.shift_seconds)
        .where(
            clock_corrections.c.period_id.in_(wanted),
            clock_corrections.c.undone_at.is_(None),
        )
        .order_by(clock_corrections.c.id)
    ).all()
    return {r.period_id: timedelta(seconds=r.shift_seconds) for r in rows}  # newest wins


def shifted(moment: datetime | None, shift: timedelta | None) -> datetime | None:
    return moment + shift if moment is not None and shift else moment


def shifted_files(
    conn: Connection, shifts: dict[int, timedelta]
) -> dict[tuple[str, str], timedelta]:
    """(job id, path) -> the shift of each file of a corrected period."""
    if not shifts:
        return {}
    rows = conn.execute(
        select(media.c.job_id, media.c.path, media.c.period_id).where(
            media.c.period_id.in_(list(shifts))
        )
    ).all()
    return {(r.job_id, r.path): shifts[r.period_id] for r in rows}
